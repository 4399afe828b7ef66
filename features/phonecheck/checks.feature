# The PhoneCheck family (IDlayr PhoneCheck v0.1): a check created by the server, completed by
# the device requesting its check_url over mobile data (following every redirect), and read back.
@phonecheck @phonecheck_checks
Feature: PhoneCheck checks

  Background:
    Given a PhoneCheck access token

  @phonecheck_create_shape
  Scenario: A created check is ACCEPTED with its check_id, ttl and check_url
    Source: IDlayr PhoneCheck Integration Guide v0.1, step 3 (POST /phone_check/v0.1/checks; check_id, status "ACCEPTED", ttl, _links.check_url.href, "a sub-resource /redirect of the PhoneCheck resource")
    When a PhoneCheck is created for the device's phone number
    Then the check is ACCEPTED with a check_id, a ttl and a check_url
    And the check_url is under the API host

  @phonecheck_device_leg
  Scenario: The check_url completes over the device leg
    Source: IDlayr PhoneCheck Integration Guide v0.1, step 5 (GET check_url over mobile data, following all redirects)
    Given a PhoneCheck is created for the device's phone number
    When the device requests the check_url over its data session
    Then the device leg completes

  @phonecheck_match_true
  Scenario: The device's own number matches
    Source: IDlayr PhoneCheck Integration Guide v0.1, step 7 (GET /phone_check/v0.1/checks/{check_id}: status "COMPLETED", "match": true)
    Given a PhoneCheck is created for the device's phone number
    When the device requests the check_url over its data session
    Then the device leg completes
    When the PhoneCheck is read
    Then the response status code is 200
    And the check is COMPLETED with match true

  @phonecheck_match_false
  Scenario: Another number does not match
    Source: IDlayr PhoneCheck Integration Guide v0.1 (the match is between the number the operator identifies for the data session and the number checked)
    Given a PhoneCheck is created for another phone number
    When the device requests the check_url over its data session
    Then the device leg completes
    When the PhoneCheck is read
    Then the check is COMPLETED with match false

  @phonecheck_before_device_leg
  Scenario: A check read before its device leg is not COMPLETED
    Source: IDlayr PhoneCheck Integration Guide v0.1, steps 3 and 7 (ACCEPTED when created; COMPLETED once the device's request has completed)
    Given a PhoneCheck is created for the device's phone number
    When the PhoneCheck is read
    Then the response status code is 200
    And the check is not COMPLETED before the device leg

  @phonecheck_expired
  Scenario: A check past its ttl cannot complete
    Source: IDlayr PhoneCheck Integration Guide v0.1, step 3 ("ttl": the check's lifetime in seconds; what happens after it is left open: specs/dialects/idlayr-phonecheck-v0.1.yaml)
    Given a PhoneCheck is created for the device's phone number
    When the check's ttl has passed
    And the device requests the check_url over its data session
    And the PhoneCheck is read
    Then the check is not COMPLETED past its ttl

  @phonecheck_single_use
  Scenario: The check_url is single-use
    Source: IDlayr PhoneCheck Integration Guide v0.1, step 5 (one data session per check resolves its match); nvcert's reading, marked open in specs/dialects/idlayr-phonecheck-v0.1.yaml
    Given a PhoneCheck is created for the device's phone number
    When the device requests the check_url over its data session
    Then the device leg completes
    When the device requests the check_url over its data session
    Then the device leg is refused as the check_url was already used

  @phonecheck_other_client
  Scenario: Another client cannot read the check
    Source: IDlayr PhoneCheck Integration Guide v0.1, step 7 (the result is read with the access token of the server that created the check)
    Given a PhoneCheck is created for the device's phone number
    And a PhoneCheck access token of the other client
    When the PhoneCheck is read
    Then the PhoneCheck request is refused with HTTP 404
