# GET /device-phone-number returns the number of the line the token was issued for.
@share
Feature: Share the device phone number

  Background:
    Given the header "Authorization" is set to a valid access token
    And the header "x-correlator" is set to a UUID value

  @share_success
  Scenario: The device's number is returned in the documented shape
    Source: NV OAS paths./device-phone-number.get.responses.200
    When the request "phoneNumberShare" is sent
    Then the response status code is 200
    And the response header "Content-Type" is "application/json"
    And the response header "x-correlator" has same value as the request header "x-correlator"
    And the response body complies with the OAS schema at "#/components/schemas/NumberVerificationShareResponse"
    And the response property "$.devicePhoneNumber" is equal to the phone number associated with the access token
