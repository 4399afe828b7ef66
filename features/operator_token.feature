# NV 2.0.0+: with a TS.43 operator token the device leg is replaced by CIBA (and, from 2.1.0, by
# the JWT bearer grant); the token is SIM-based, so the API must accept it.
@operator_token
Feature: Operator-token flows (CIBA and JWT bearer)

  @ciba_operator_token @since:2.0.0
  Scenario: CIBA with the device's operator token yields a token that verifies the number
    Source: NV OAS info "Authentication Request with a temporary token"; CAMARA ICM CIBA; OpenID CIBA Core §7, §10
    When the backend sends a CIBA authentication request for the operation "phoneNumberVerify" with the device's operator token
    Then the CIBA request is accepted with an auth_req_id
    When the backend polls the token endpoint as instructed until tokens are issued
    Then the token response carries a Bearer access token
    And the token response carries no refresh token
    Given the header "Authorization" is set to the access token from the token response
    And the body property "$.phoneNumber" is set to the phone number identified by the access token
    When the request "phoneNumberVerify" is sent
    Then the response status code is 200
    And the response property "$.devicePhoneNumberVerified" == true

  @ciba_unknown_login_hint @since:2.0.0
  Scenario: CIBA with an operator token the operator never issued is refused
    Source: CAMARA ICM Appendix A (bc-authorize: unknown_user_id)
    When the backend sends a CIBA authentication request for the operation "phoneNumberVerify" with the login_hint "operatortoken:nvcert-never-issued"
    Then the CIBA request is refused with the error "unknown_user_id"

  @ciba_tel_login_hint_not_network @since:2.0.0
  Scenario: A CIBA token for a tel: login hint is not network-based and the API refuses it
    Source: NV OAS responses.403 (USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK); NV OAS info "3-legged token … mobile network"
    When the backend sends a CIBA authentication request for the operation "phoneNumberVerify" with the login_hint "tel:+34600000001"
    Then the CIBA request is accepted with an auth_req_id
    When the backend polls the token endpoint as instructed until tokens are issued
    Given the header "Authorization" is set to the access token from the token response
    And the request body is set to a valid request body
    When the request "phoneNumberVerify" is sent
    Then the response status code is 403
    And the response property "$.code" is "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK"

  @ciba_early_poll @since:2.0.0 @SHOULD
  Scenario: A poll sooner than the interval is told to wait
    Source: OpenID CIBA Core §7.3 (client MUST wait interval), §11 (slow_down)
    When the backend sends a CIBA authentication request for the operation "phoneNumberShare" with the device's operator token
    And the backend polls the token endpoint at once
    Then the early poll is answered "slow_down" or "authorization_pending"

  @jwt_bearer_operator_token @since:2.1.0-rc.1
  Scenario: The JWT bearer grant with the device's operator token yields a token that shares the number
    Source: NV OAS info (JWT-Bearer with sub "operatortoken:…"); CAMARA ICM JWT bearer ("MUST NOT return refresh tokens"); RFC 7523 §2.1
    When the backend requests a token with a JWT bearer assertion for the operation "phoneNumberShare" with the device's operator token
    Then the token response carries a Bearer access token
    And the token response carries no refresh token
    Given the header "Authorization" is set to the access token from the token response
    When the request "phoneNumberShare" is sent
    Then the response status code is 200
    And the response property "$.devicePhoneNumber" is equal to the phone number associated with the access token

  @jwt_bearer_audience @since:2.1.0-rc.1
  Scenario: A JWT bearer assertion for another audience is refused
    Source: RFC 7523 §3 (aud); CAMARA ICM JWT bearer (invalid_grant)
    Given the JWT bearer assertion is addressed to "https://other-as.nvcert.invalid/token"
    When the backend requests a token with a JWT bearer assertion for the operation "phoneNumberVerify" with the device's operator token
    Then the token endpoint refuses the request with the error "invalid_grant"
