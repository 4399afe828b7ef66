# The PhoneCheck family (IDlayr PhoneCheck v0.1): requests the API must refuse. The guide shows
# no error answer; the statuses are HTTP's and RFC 6750's (a different refusal is a warning, a
# success a failure), the body is judged against specs/dialects/idlayr-phonecheck-v0.1.yaml.
@phonecheck @phonecheck_errors
Feature: PhoneCheck refusals

  @phonecheck_401_missing_token
  Scenario: A check requested without an access token is refused with 401
    Source: IDlayr PhoneCheck Integration Guide v0.1, step 3 ("Authorization: Bearer {access_token}"); RFC 6750 §3.1
    Given no PhoneCheck access token
    When a PhoneCheck is requested for the device's phone number
    Then the PhoneCheck request is refused with HTTP 401

  @phonecheck_403_wrong_scope
  Scenario: A token without the phone_check scope is refused with 403
    Source: IDlayr PhoneCheck Integration Guide v0.1, step 3 (the scope "instructs ... the created Access Token should have permissions to use PhoneCheck resources"); RFC 6750 §3.1 (insufficient_scope)
    Given a PhoneCheck access token with the scope "coverage"
    When a PhoneCheck is requested for the device's phone number
    Then the PhoneCheck request is refused with HTTP 403

  @phonecheck_404_unknown_check
  Scenario: An unknown check_id is refused with 404
    Source: IDlayr PhoneCheck Integration Guide v0.1, step 7 (GET /phone_check/v0.1/checks/{check_id}); RFC 9110 §15.5.5
    Given a PhoneCheck access token
    When a PhoneCheck that does not exist is read
    Then the PhoneCheck request is refused with HTTP 404

  @phonecheck_400_bad_number
  Scenario: A phone_number that is not E.164 is refused with 400
    Source: IDlayr PhoneCheck Integration Guide v0.1, step 3 ("an E.164 formatted phone number": country code, then the number without its leading 0); RFC 9110 §15.5.1
    Given a PhoneCheck access token
    When a PhoneCheck is requested with the phone_number "07700 900000"
    Then the PhoneCheck request is refused with HTTP 400
