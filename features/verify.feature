# POST /verify with the device's own number and with another one, plain and SHA-256 hashed.
@verify
Feature: Verify the device phone number

  Background:
    Given the header "Content-Type" is set to "application/json"
    And the header "Authorization" is set to a valid access token
    And the header "x-correlator" is set to a UUID value

  @verify_success_schema
  Scenario: A successful answer has the documented shape
    Source: NV OAS paths./verify.post.responses.200; Commonalities design guide §5.8.5 (x-correlator echo)
    Given the request body is set to a valid request body
    When the request "phoneNumberVerify" is sent
    Then the response status code is 200
    And the response header "Content-Type" is "application/json"
    And the response header "x-correlator" has same value as the request header "x-correlator"
    And the response body complies with the OAS schema at "#/components/schemas/NumberVerificationMatchResponse"

  @verify_plain_true
  Scenario: The device's own number in plain text is verified
    Source: NV OAS paths./verify.post (true when the number matches the token's line)
    Given the body property "$.phoneNumber" is set to the phone number identified by the access token
    When the request "phoneNumberVerify" is sent
    Then the response status code is 200
    And the response property "$.devicePhoneNumberVerified" == true

  @verify_plain_false
  Scenario: Another number in plain text is not verified
    Source: NV OAS paths./verify.post (false otherwise)
    Given the body property "$.phoneNumber" is set to a valid phone number different from the one identified by the access token
    When the request "phoneNumberVerify" is sent
    Then the response status code is 200
    And the response property "$.devicePhoneNumberVerified" == false

  @verify_hashed_true
  Scenario: The device's own number hashed with SHA-256 is verified
    Source: NV OAS NumberVerificationRequestBody.hashedPhoneNumber (SHA-256 of +E.164)
    Given the body property "$.hashedPhoneNumber" is set to the phone number identified by the access token, hashed in SHA-256 (in hexadecimal representation)
    When the request "phoneNumberVerify" is sent
    Then the response status code is 200
    And the response property "$.devicePhoneNumberVerified" == true

  @verify_hashed_upper_true
  Scenario: The hash is compared case-insensitively
    Source: NV OAS hashedPhoneNumber pattern ^[a-fA-F0-9]{64}$ (both cases allowed)
    Given the body property "$.hashedPhoneNumber" is set to the phone number identified by the access token, hashed in SHA-256 in upper-case hexadecimal
    When the request "phoneNumberVerify" is sent
    Then the response status code is 200
    And the response property "$.devicePhoneNumberVerified" == true

  @verify_hashed_false
  Scenario: Another number hashed with SHA-256 is not verified
    Source: NV OAS paths./verify.post
    Given the body property "$.hashedPhoneNumber" is set to a valid phone number different from the one identified by the access token, hashed in SHA-256 (in hexadecimal representation)
    When the request "phoneNumberVerify" is sent
    Then the response status code is 200
    And the response property "$.devicePhoneNumberVerified" == false
