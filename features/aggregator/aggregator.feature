# Through an aggregator (channel partner): the app talks to the aggregator only; the aggregator's
# telco finder picks the operator serving the device, runs its own authorization-code flow with
# that operator, wraps the operator token in its own and forwards the API calls. These scenarios
# need a profile with an [aggregator] section (operators, and one device per line); with any other
# profile they are skipped. The standard NV scenarios run against the aggregator as against any
# provider.
@aggregator
Feature: Through an aggregator

  Background:
    Given the provider is an aggregator

  @aggregator_chain
  Scenario: The device leg crosses aggregator, operator, aggregator and app, and state survives
    Source: NV white paper, Annex – Detailed Flows, steps 4–12 (device redirected to the operator with the aggregator's callback, then to the app with the aggregator's code); RFC 6749 §4.1.2 (state: "the exact value received from the client")
    When the device of each line runs the authorization through the aggregator
    Then each device leg crosses the aggregator, an operator, the aggregator and the app within the allowed hosts
    And the state of each device leg survives the chain

  @aggregator_line_verify
  Scenario: Each line's number verifies true through its own operator, and another line's false
    Source: NV white paper, Annex – Detailed Flows, steps 2–5 (telco finder) and 21–30 (calls routed to the operator); NV OAS paths./verify.post (true for the token's line, false otherwise)
    When the device of each line obtains an access token from the aggregator
    Then each device leg went to its line's operator
    And each line's number verifies true with the line's aggregator token
    And another line's number verifies false with each line's aggregator token

  # SHOULD: the white paper describes an encrypted or reference token; no standard requires it.
  @aggregator_token_unreadable @SHOULD
  Scenario: The aggregator's token is not readable and does not carry the line's number
    Source: NV white paper, Annex – Detailed Flows, steps 13–16 (the aggregator's token wraps the operator token and routing information, encrypted so that nothing is exposed, or is a reference token)
    When the device of each line obtains an access token from the aggregator
    Then no line's aggregator token is readable or carries the line's number

  @aggregator_token_hides_operator_token @SHOULD
  Scenario: The aggregator's token does not carry the operator's token
    Source: NV white paper, Annex – Detailed Flows, steps 13–16 (the operator token is wrapped, encrypted so that nothing is exposed)
    Given an access token obtained from each line's operator directly
    When the device of each line obtains an access token from the aggregator
    Then no line's aggregator token carries anything of its operator's tokens

  @aggregator_operator_code_refused
  Scenario: An operator's code presented to the aggregator's token endpoint is refused
    Source: RFC 6749 §4.1.3 (the code must have been issued to the authenticated client) and §5.2 (invalid_grant); NV white paper, Annex – Detailed Flows, steps 9–12 (the operator's code is the aggregator's to redeem at the operator)
    When the device of the first line runs the authorization through the aggregator and stops at the operator's code
    And the app presents the operator's code at the aggregator's token endpoint
    Then the aggregator's token endpoint refuses it

  @aggregator_direct_operator_code_refused
  Scenario: A code the operator issued to the app directly is refused by the aggregator's token endpoint
    Source: RFC 6749 §4.1.3 (the code must have been issued to the authenticated client, by this server) and §5.2 (invalid_grant); NV white paper, Annex – Detailed Flows, steps 13–16 (the aggregator issues its own code and token; it redeems none for the app)
    When the device of the first line obtains a code from its operator directly
    And the app presents the operator's code at the aggregator's token endpoint
    Then the aggregator's token endpoint refuses it

  @aggregator_operator_token_refused
  Scenario: An operator's token presented to the aggregator's API is refused
    Source: NV OAS responses.401 (UNAUTHENTICATED); RFC 6750 §3.1 (invalid_token); NV white paper, Annex – Detailed Flows, steps 17–20 (the aggregator resolves the tokens it issued)
    Given an access token obtained from the first line's operator directly
    When the request "phoneNumberVerify" for the first line's number is sent to the aggregator with that token
    Then the response status code is 401
    And the response property "$.code" is "UNAUTHENTICATED"

  @aggregator_token_refused_by_operator
  Scenario: The aggregator's token is refused by the operator directly
    Source: NV OAS responses.401 (UNAUTHENTICATED); RFC 6750 §3.1 (invalid_token); NV white paper, Annex – Detailed Flows, steps 13–20 (the operator never issued the aggregator's token)
    Given an access token obtained from the aggregator for the first line
    When the request "phoneNumberVerify" for the first line's number is sent to its operator directly with that token
    Then the response status code is 401
    And the response property "$.code" is "UNAUTHENTICATED"

  @aggregator_forwarded_success
  Scenario: A forwarded answer keeps the CAMARA shape and the x-correlator
    Source: NV white paper, Annex – Detailed Flows, steps 21–30 (requests forwarded unchanged, answers returned); NV OAS paths./verify.post.responses.200; Commonalities design guide §5.8.5 (x-correlator echo)
    Given an access token obtained from the aggregator for the first line
    And the header "x-correlator" is set to "nvcert-aggregator-echo-1"
    When the request "phoneNumberVerify" for the first line's number is sent to the aggregator with that token
    Then the response status code is 200
    And the response property "$.devicePhoneNumberVerified" is true
    And the response header "x-correlator" has same value as the request header "x-correlator"

  @aggregator_forwarded_error
  Scenario: A forwarded error keeps the CAMARA ErrorInfo and the x-correlator
    Source: NV white paper, Annex – Detailed Flows, steps 21–30 (answers returned unchanged); NV OAS responses.400 (INVALID_ARGUMENT: a body naming no number); Commonalities design guide §5.8.5 (x-correlator echo on errors too)
    Given an access token obtained from the aggregator for the first line
    And the header "x-correlator" is set to "nvcert-aggregator-echo-2"
    When the request "phoneNumberVerify" with an empty object is sent to the aggregator with that token
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response header "x-correlator" has same value as the request header "x-correlator"

  @aggregator_unknown_device
  Scenario: A device no operator serves gets a documented error, not a 5xx
    Source: RFC 6749 §4.1.2.1 (errors are returned to the client by redirect: access_denied, server_error, temporarily_unavailable…); NV white paper, Annex – Detailed Flows, steps 2–3 (the telco finder resolves the device's operator)
    When a device no operator serves runs the authorization through the aggregator
    Then the aggregator answers with a documented error, not a 5xx
