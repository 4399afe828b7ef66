# CAMARA Security and Interoperability Profile (ICM) rules for the authorization server, and the
# OAuth 2.0 / OIDC rules it builds on. Negative checks send one deviation each.
@security_profile
Feature: CAMARA security profile of the authorization server

  @pkce_wrong_verifier
  Scenario: A code_verifier that does not match the challenge is refused
    Source: RFC 7636 §4.6; CAMARA ICM "PKCE"
    Given the token request sends a code_verifier that does not match the challenge
    When the device requests authorization for the operation "phoneNumberVerify"
    And the backend exchanges the code at the token endpoint
    Then the token endpoint refuses the request with the error "invalid_grant"

  @pkce_plain @SHOULD
  Scenario: The plain PKCE method is refused
    Source: CAMARA ICM "PKCE" (S256); RFC 7636 §7.2
    Given the authorization request uses the PKCE method "plain"
    When the device requests authorization for the operation "phoneNumberVerify"
    Then the provider refuses the authorization request

  @code_reuse
  Scenario: An authorization code can be used once
    Source: RFC 6749 §4.1.2, §10.5; OpenID conformance suite oidcc-codereuse
    When the device requests authorization for the operation "phoneNumberVerify"
    And the backend exchanges the code at the token endpoint
    And the backend exchanges the same code again
    Then the token endpoint refuses the request with the error "invalid_grant"

  @code_expired
  Scenario: An expired authorization code is refused
    Source: RFC 6749 §4.1.2 (short lifetime), §5.2 invalid_grant
    Given the authorization request is made for the short-lived client
    When the device requests authorization for the operation "phoneNumberVerify"
    And the code's lifetime has passed
    And the backend exchanges the code at the token endpoint
    Then the token endpoint refuses the request with the error "invalid_grant"

  @code_bound_to_client
  Scenario: A code issued to one client is refused to another
    Source: RFC 6749 §4.1.3, §5.2 ("issued to another client"); CAMARA ICM Appendix A
    Given the token request authenticates as the other client
    When the device requests authorization for the operation "phoneNumberVerify"
    And the backend exchanges the code at the token endpoint
    Then the token endpoint refuses the request with the error "invalid_grant"

  @redirect_uri_unregistered
  Scenario: An unregistered redirect_uri is never redirected to
    Source: RFC 6749 §4.1.2.1; CAMARA ICM Appendix A ("MUST NOT redirect")
    Given the authorization request uses the redirect_uri "https://attacker.nvcert.invalid/callback"
    When the device requests authorization for the operation "phoneNumberVerify"
    Then the provider does not redirect to that redirect_uri

  @redirect_uri_mismatch_at_token
  Scenario: A token request with another redirect_uri is refused
    Source: RFC 6749 §4.1.3 (redirect_uri identical), §5.2 invalid_grant
    Given the token request uses the redirect_uri "https://client.nvcert.invalid/elsewhere"
    When the device requests authorization for the operation "phoneNumberVerify"
    And the backend exchanges the code at the token endpoint
    Then the token endpoint refuses the request with the error "invalid_grant"

  @client_assertion_expired
  Scenario: An expired client assertion is refused
    Source: CAMARA ICM "Client Authentication"; RFC 7523 §3 (exp)
    Given the client assertion expired 60 seconds ago
    When the device requests authorization for the operation "phoneNumberVerify"
    And the backend exchanges the code at the token endpoint
    Then the token endpoint refuses the request with the error "invalid_client"

  @client_assertion_lifetime
  Scenario: A client assertion valid for more than 300 seconds is refused
    Source: CAMARA ICM "Client Authentication" (exp − iat ≤ 300 s)
    Given the client assertion is valid for 600 seconds
    When the device requests authorization for the operation "phoneNumberVerify"
    And the backend exchanges the code at the token endpoint
    Then the token endpoint refuses the request with the error "invalid_client"

  @client_assertion_audience
  Scenario: A client assertion for another audience is refused
    Source: RFC 7523 §3 (aud); CAMARA ICM "Client Authentication"
    Given the client assertion is addressed to "https://other-as.nvcert.invalid/token"
    When the device requests authorization for the operation "phoneNumberVerify"
    And the backend exchanges the code at the token endpoint
    Then the token endpoint refuses the request with the error "invalid_client"

  @client_assertion_replay @SHOULD
  Scenario: A client assertion cannot be replayed
    Source: RFC 7523 §3 (jti); CAMARA ICM "Client Authentication"
    When the device requests authorization for the operation "phoneNumberVerify"
    And the backend exchanges the code at the token endpoint
    And the backend exchanges a new code with the same client assertion
    Then the token endpoint refuses the request with the error "invalid_client"

  @client_secret_refused @SHOULD
  Scenario: client_secret_basic is refused for a client registered for private_key_jwt
    Source: CAMARA ICM "Client Authentication" (one method, private_key_jwt)
    Given the token request authenticates with client_secret_basic as the other client
    When the device requests authorization for the operation "phoneNumberVerify"
    And the backend exchanges the code at the token endpoint
    Then the token endpoint refuses the request with the error "invalid_client"

  @authorize_unknown_parameter
  Scenario: An unknown authorization parameter is ignored
    Source: RFC 6749 §3.1 (unrecognized parameters MUST be ignored); OpenID conformance oidcc-ensure-request-with-unknown-parameter-succeeds
    Given the authorization request adds the parameter "nvcert_extra" with the value "foobar"
    When the device requests authorization for the operation "phoneNumberVerify"
    Then the provider redirects to the redirect_uri with a code and the state intact

  @authorize_acr_values
  Scenario: acr_values is ignored
    Source: CAMARA ICM ("CAMARA OpenId Providers MUST ignore the parameter acr_values")
    Given the authorization request adds the parameter "acr_values" with the value "urn:nvcert:loa:3"
    When the device requests authorization for the operation "phoneNumberVerify"
    Then the provider redirects to the redirect_uri with a code and the state intact

  @authorize_login_hint @SHOULD
  Scenario: An unsupported login_hint does not cause an error
    Source: CAMARA ICM (login_hint MAY be ignored; RECOMMENDED not to return an error)
    Given the authorization request adds the parameter "login_hint" with the value "ipport:192.0.2.1:5060"
    When the device requests authorization for the operation "phoneNumberVerify"
    Then the provider redirects to the redirect_uri with a code and the state intact

  @request_object_signed
  Scenario: A signed request object is accepted
    Source: CAMARA ICM "Signed Authentication Requests" ("the authorization server MUST support the handling of signed authentication requests"; aud: RECOMMENDED the authorization endpoint, MAY be the issuer); RFC 9101 §4 (aud SHOULD be the issuer)
    Given the authorization request is also sent as a signed request object addressed to the issuer, or to the authorization endpoint if that is refused
    When the device requests authorization for the operation "phoneNumberVerify"
    Then the provider redirects to the redirect_uri with a code and the state intact

  @request_object_issuer_audience @SHOULD
  Scenario: A signed request object addressed to the issuer is accepted
    Source: RFC 9101 §4 ("the value of aud should be the value of the authorization server (AS) issuer"); CAMARA ICM (the authorization server MAY accept the issuer as aud)
    Given the authorization request is also sent as a signed request object addressed to the issuer
    When the device requests authorization for the operation "phoneNumberVerify"
    Then the provider redirects to the redirect_uri with a code and the state intact

  @request_object_endpoint_audience @SHOULD
  Scenario: A signed request object addressed to the authorization endpoint is accepted
    Source: CAMARA ICM "Signed Authentication Requests" ("It is RECOMMENDED that the value of the aud field ... is the URL of the Authorization Endpoint")
    Given the authorization request is also sent as a signed request object addressed to the authorization endpoint
    When the device requests authorization for the operation "phoneNumberVerify"
    Then the provider redirects to the redirect_uri with a code and the state intact

  # The refusals below count only when the provider accepts a valid signed request object in the
  # same run: a provider refusing every request object would otherwise pass them all.
  @request_object_audience
  Scenario: A request object for another audience is refused
    Source: CAMARA ICM ("MUST check the value of the aud field and reject signed authentication requests if the value of the aud is not associated with the authorization server"); RFC 9101 §10.2
    Given the provider accepts a valid signed request object in this run
    And the signed request object is addressed to "https://other-as.nvcert.invalid/authorize"
    When the device requests authorization for the operation "phoneNumberVerify"
    Then the provider refuses the authorization request

  @request_object_expired
  Scenario: An expired request object is refused
    Source: CAMARA ICM (request object exp); RFC 9101 §6.3; RFC 7519 §4.1.4
    Given the provider accepts a valid signed request object in this run
    And the signed request object expired a minute ago
    When the device requests authorization for the operation "phoneNumberVerify"
    Then the provider refuses the authorization request

  @request_object_lifetime
  Scenario: A request object living longer than 300 seconds is refused
    Source: CAMARA ICM "Signed Authentication Requests" ("The request SHALL be rejected ... if the difference between the exp claim and iat claim is greater than 300 seconds")
    Given the provider accepts a valid signed request object in this run
    And the signed request object is valid for 600 seconds
    When the device requests authorization for the operation "phoneNumberVerify"
    Then the provider refuses the authorization request

  @request_object_iat_future
  Scenario: A request object issued in the future is refused
    Source: CAMARA ICM "Signed Authentication Requests" ("The request SHALL be rejected by the authorization server if the iat claim is later than the time of receipt")
    Given the provider accepts a valid signed request object in this run
    And the signed request object is issued 120 seconds in the future
    When the device requests authorization for the operation "phoneNumberVerify"
    Then the provider refuses the authorization request

  @dpop_tolerated
  Scenario: A DPoP proof does not make the token request fail
    Source: CAMARA ICM DPoP ("the AS MUST NOT return an error if it does not support DPoP"); RFC 9449
    Given the token request carries a DPoP proof
    When the device requests authorization for the operation "phoneNumberVerify"
    And the backend exchanges the code at the token endpoint
    Then the token endpoint issues tokens
