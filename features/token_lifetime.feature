# Tokens that were valid once: expired ones are refused with 401 UNAUTHENTICATED.
@token_lifetime
Feature: Expired access tokens

  @auth_401_expired_token_verify
  Scenario: Verify with an access token whose lifetime has passed
    Source: NV OAS responses.401 (UNAUTHENTICATED); CAMARA ICM Appendix A (resource server); RFC 6750 §3 (WWW-Authenticate challenge: a SHOULD finding here)
    Given the header "Authorization" is set to an expired access token
    And the request body is set to a valid request body
    When the request "phoneNumberVerify" is sent
    Then the response status code is 401
    And the response property "$.status" is 401
    And the response property "$.code" is "UNAUTHENTICATED"
    And a 401 answer carries a Bearer "WWW-Authenticate" challenge

  @auth_401_expired_token_share
  Scenario: Share with an access token whose lifetime has passed
    Source: NV OAS responses.401 (UNAUTHENTICATED); RFC 6750 §3 (WWW-Authenticate challenge: a SHOULD finding here)
    Given the header "Authorization" is set to an expired access token
    When the request "phoneNumberShare" is sent
    Then the response status code is 401
    And the response property "$.code" is "UNAUTHENTICATED"
    And a 401 answer carries a Bearer "WWW-Authenticate" challenge
