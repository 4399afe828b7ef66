# x-correlator: echoed when valid, 400 INVALID_ARGUMENT when it does not match the spec's pattern.
@correlator
Feature: Request correlation with x-correlator

  Background:
    Given the header "Authorization" is set to a valid access token

  @correlator_echo_error
  Scenario: The correlator is echoed on an error answer too
    Source: Commonalities design guide §5.8.5 ("MUST echo"); NV OAS components.headers.x-correlator
    Given the header "x-correlator" is set to "nvcert-echo-check-1"
    And the header "Content-Type" is set to "application/json"
    And the request body is set to "{}"
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response header "x-correlator" has same value as the request header "x-correlator"

  @correlator_invalid @since:1.1.0-rc.1
  Scenario: A correlator with characters outside the pattern is refused
    Source: Commonalities design guide §5.8.5 (pattern mismatch → 400 INVALID_ARGUMENT); NV OAS XCorrelator pattern
    Given the header "x-correlator" is set to "not allowed=value?"
    When the request "phoneNumberShare" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
