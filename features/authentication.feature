# 401 for requests without a usable token, 403 for tokens that may not call the operation.
@auth
Feature: Authentication and authorization of API calls

  @auth_401_no_token_verify
  Scenario: Verify without an Authorization header
    Source: NV OAS responses.401 UNAUTHENTICATED; Commonalities design guide (401 for missing credentials); RFC 6750 §3 (WWW-Authenticate challenge: a SHOULD finding here)
    Given the header "Authorization" is removed
    And the request body is set to a valid request body
    When the request "phoneNumberVerify" is sent
    Then the response status code is 401
    And the response property "$.status" is 401
    And the response property "$.code" is "UNAUTHENTICATED"
    And the response property "$.message" contains a user friendly text
    And a 401 answer carries a Bearer "WWW-Authenticate" challenge

  @auth_401_invalid_token_verify
  Scenario: Verify with a token the provider never issued
    Source: NV OAS responses.401 UNAUTHENTICATED; RFC 6750 §3 (WWW-Authenticate challenge: a SHOULD finding here)
    Given the header "Authorization" is set to an invalid access token
    And the request body is set to a valid request body
    When the request "phoneNumberVerify" is sent
    Then the response status code is 401
    And the response property "$.status" is 401
    And the response property "$.code" is "UNAUTHENTICATED"
    And the response property "$.message" contains a user friendly text
    And a 401 answer carries a Bearer "WWW-Authenticate" challenge

  @auth_401_no_token_share
  Scenario: Share without an Authorization header
    Source: NV OAS responses.401 UNAUTHENTICATED; RFC 6750 §3 (WWW-Authenticate challenge: a SHOULD finding here)
    Given the header "Authorization" is removed
    When the request "phoneNumberShare" is sent
    Then the response status code is 401
    And the response property "$.code" is "UNAUTHENTICATED"
    And a 401 answer carries a Bearer "WWW-Authenticate" challenge

  @auth_401_invalid_token_share
  Scenario: Share with a token the provider never issued
    Source: NV OAS responses.401 UNAUTHENTICATED; RFC 6750 §3 (WWW-Authenticate challenge: a SHOULD finding here)
    Given the header "Authorization" is set to an invalid access token
    When the request "phoneNumberShare" is sent
    Then the response status code is 401
    And the response property "$.code" is "UNAUTHENTICATED"
    And a 401 answer carries a Bearer "WWW-Authenticate" challenge

  @auth_403_scope_verify
  Scenario: Verify with a token that lacks the verify scope
    Source: NV OAS security openId [number-verification:verify]; responses.403 PERMISSION_DENIED
    Given the header "Authorization" is set to an access token without the required scope
    And the request body is set to a valid request body
    When the request "phoneNumberVerify" is sent
    Then the response status code is 403
    And the response property "$.status" is 403
    And the response property "$.code" is "PERMISSION_DENIED"
    And the response property "$.message" contains a user friendly text

  @auth_403_scope_share
  Scenario: Share with a token that lacks the share scope
    Source: NV OAS security openId [number-verification:device-phone-number:read]; responses.403 PERMISSION_DENIED
    Given the header "Authorization" is set to an access token without the required scope
    When the request "phoneNumberShare" is sent
    Then the response status code is 403
    And the response property "$.code" is "PERMISSION_DENIED"

  @auth_403_not_network_verify
  Scenario: Verify with a token obtained without network-based authentication
    Source: NV OAS responses.403 NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK
    Given the header "Authorization" is set to a token for which neither Network-based nor SIM-based authentication was used
    And the request body is set to a valid request body
    When the request "phoneNumberVerify" is sent
    Then the response status code is 403
    And the response property "$.status" is 403
    And the response property "$.code" is "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK"
    And the response property "$.message" contains a user friendly text
