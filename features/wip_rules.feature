# CAMARA NV main (unreleased, PR #226): rules for tokens carrying NV scopes. Opt-in with
# `--rule-set wip` (on by default when judging against the wip spec).
@rules_wip
Feature: Unreleased token rules of CAMARA main

  @wip_expires_in
  Scenario: Access tokens live at most 300 seconds
    Source: NV OAS (main) "Short-lived expiration: MUST not exceed 300 seconds"
    When the device requests authorization for the operation "phoneNumberVerify"
    And the backend exchanges the code at the token endpoint
    Then the token response expires_in is at most 300 seconds

  @wip_no_refresh_token
  Scenario: No refresh token is issued for NV scopes
    Source: NV OAS (main) "No refresh tokens"
    When the device requests authorization for the operation "phoneNumberVerify"
    And the backend exchanges the code at the token endpoint
    Then the token response carries no refresh token

  @wip_single_use_token
  Scenario: An access token serves one API call
    Source: NV OAS (main) "Single-use token: the access token MUST be restricted to a single API call"
    Given the header "Authorization" is set to a valid access token
    And the request body is set to a valid request body
    When the request "phoneNumberVerify" is sent
    Then the response status code is 200
    When the same request is sent again
    Then the response status code is 401
    And the response property "$.code" is "UNAUTHENTICATED"
