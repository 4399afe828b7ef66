# The OIDC authorization code flow of CAMARA ICM, with network-based authentication of the device.
@oidc
Feature: Authorization code flow with network-based authentication

  @oidc_discovery
  Scenario: The discovery document names the endpoints the flow needs
    When the discovery document is fetched
    Then the discovery document names an issuer, an authorization endpoint and a token endpoint
    And the discovery issuer is identical to the profile's issuer

  @oidc_device_leg
  Scenario: The device leg returns a code and the state intact
    When the device requests authorization for the operation "phoneNumberVerify"
    Then the provider redirects to the redirect_uri with a code and the state intact

  @oidc_long_state
  Scenario: A 128-character state comes back intact
    When the device requests authorization for the operation "phoneNumberShare" with a state of 128 characters
    Then the provider redirects to the redirect_uri with a code and the state intact

  @oidc_token_exchange
  Scenario: The backend exchanges the code for a Bearer access token
    When the device requests authorization for the operation "phoneNumberVerify"
    And the backend exchanges the code at the token endpoint
    Then the token response carries a Bearer access token
    And the token response forbids caching
