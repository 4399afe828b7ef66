# The PhoneCheck family (IDlayr PhoneCheck v0.1): the client-credentials token the application
# server gets before it creates checks. Runs only when the profile's dialect is
# idlayr-phonecheck-v0.1.
@phonecheck @phonecheck_token
Feature: PhoneCheck access token

  @phonecheck_token_bearer
  Scenario: A client-credentials token for phone_check is a bearer token
    Source: IDlayr PhoneCheck Integration Guide v0.1, step 3 (POST /oauth2/v1/token, HTTP Basic, grant_type=client_credentials&scope=phone_check; "token_type": "bearer"); RFC 6749 §4.4
    When a PhoneCheck access token is requested with the scope "phone_check"
    Then a PhoneCheck access token is issued
    And the PhoneCheck token is a bearer token

  @phonecheck_token_scope @SHOULD
  Scenario: The token answer names the scope granted
    Source: IDlayr PhoneCheck Integration Guide v0.1, step 3 (answer "scope": "phone_check"); RFC 6749 §5.1 (scope OPTIONAL when identical to the request)
    When a PhoneCheck access token is requested with the scope "phone_check"
    Then a PhoneCheck access token is issued
    And the PhoneCheck token names the scope "phone_check"

  @phonecheck_token_expiry @SHOULD
  Scenario: The token answer says when the token expires
    Source: IDlayr PhoneCheck Integration Guide v0.1, step 3 (answer "expires_in": 3600); RFC 6749 §5.1 (expires_in RECOMMENDED)
    When a PhoneCheck access token is requested with the scope "phone_check"
    Then a PhoneCheck access token is issued
    And the PhoneCheck token says when it expires
