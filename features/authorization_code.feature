# The OIDC authorization code flow of CAMARA ICM, with network-based authentication of the device.
@oidc
Feature: Authorization code flow with network-based authentication

  @oidc_discovery
  Scenario: The discovery document names the endpoints the flow needs
    Source: OpenID Connect Discovery 1.0 §3, §4.2 (application/json), §4.3; NV OAS securitySchemes.openId.openIdConnectUrl
    When the discovery document is fetched
    Then the discovery document names an issuer, an authorization endpoint and a token endpoint
    And the discovery document is served as application/json
    And the discovery issuer is identical to the profile's issuer

  @oidc_discovery_private_key_jwt
  Scenario: The token endpoint offers private_key_jwt
    Source: CAMARA ICM "Client Authentication" (private_key_jwt MUST); OpenID Connect Discovery 1.0 §3
    When the discovery document is fetched
    Then the discovery document lists "private_key_jwt" in "token_endpoint_auth_methods_supported"

  @oidc_jwks
  Scenario: The JWKS holds the provider's signing key
    Source: OpenID Connect Discovery 1.0 §3 (jwks_uri REQUIRED); RFC 7517 §5
    When the discovery document is fetched
    Then the provider's JWKS holds a signing key

  @oidc_device_leg
  Scenario: The device leg returns a code and the state intact
    Source: RFC 6749 §4.1.2; CAMARA ICM "CSRF protection" (state)
    When the device requests authorization for the operation "phoneNumberVerify"
    Then the provider redirects to the redirect_uri with a code and the state intact

  @oidc_long_state
  Scenario: A 128-character state comes back intact
    Source: RFC 6749 §4.1.2 (state returned exactly); OpenID FAPI2 conformance long-state test
    When the device requests authorization for the operation "phoneNumberShare" with a state of 128 characters
    Then the provider redirects to the redirect_uri with a code and the state intact

  @oidc_token_exchange
  Scenario: The backend exchanges the code for a Bearer access token
    Source: RFC 6749 §4.1.3, §5.1 (application/json, no-store); RFC 6750
    When the device requests authorization for the operation "phoneNumberVerify"
    And the backend exchanges the code at the token endpoint
    Then the token response carries a Bearer access token
    And the token response is served as application/json
    And the token response forbids caching

  @oidc_id_token
  Scenario: The id_token is signed, addressed to the client and carries the nonce
    Source: OpenID Connect Core 1.0 §3.1.3.7; CAMARA ICM "ID Token"
    When the device requests authorization for the operation "phoneNumberVerify"
    And the backend exchanges the code at the token endpoint
    Then the id_token is signed by a key of the JWKS, names the issuer and the client, and carries the nonce
