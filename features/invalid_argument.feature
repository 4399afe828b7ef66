# Request bodies the schema or the operation's rules refuse: 400 INVALID_ARGUMENT in ErrorInfo shape.
@invalid_argument
Feature: Invalid arguments to verify

  Background:
    Given the header "Content-Type" is set to "application/json"
    And the header "Authorization" is set to a valid access token

  @invalid_argument_no_body
  Scenario: No request body
    Source: NV OAS requestBody required; responses.400 INVALID_ARGUMENT
    Given the request body is not included
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  @invalid_argument_empty_object
  Scenario: An empty object (minProperties 1)
    Source: NV OAS NumberVerificationRequestBody minProperties 1
    Given the request body is set to "{}"
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  @invalid_argument_both_fields
  Scenario: Both the plain and the hashed number (maxProperties 1)
    Source: NV OAS NumberVerificationRequestBody maxProperties 1 ("only one of the plain or hashed formats")
    Given the body property "$.phoneNumber" is set to the phone number identified by the access token
    And the body property "$.hashedPhoneNumber" is set to the phone number identified by the access token, hashed in SHA-256 (in hexadecimal representation)
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  @invalid_argument_unknown_property
  Scenario: Only a property that is neither phoneNumber nor hashedPhoneNumber
    Source: NV test definitions phoneNumberVerify 400.3; NV OAS operation description
    Given the request body property "$.additionalProperty" is set to "foo_value"
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  @invalid_argument_phone_pattern @since:1.0.0-rc.1
  Scenario Outline: A phone number that does not match the E.164 pattern: <value>
    Source: NV OAS phoneNumber pattern ^\+[1-9][0-9]{4,14}$
    Given the request body property "$.phoneNumber" is set to "<value>"
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.code" is "INVALID_ARGUMENT"

    Examples:
      | value              |
      | 34600000001        |
      | +0034600000001     |
      | +34 600 000 001    |
      | +1234              |

  @invalid_argument_hash_pattern @since:2.1.0-rc.1
  Scenario: A hashed number that is not 64 hexadecimal characters
    Source: NV OAS hashedPhoneNumber pattern ^[a-fA-F0-9]{64}$ (from 2.1.0-rc.1)
    Given the request body property "$.hashedPhoneNumber" is set to "not-a-sha256-hash"
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
