# Inputs outside the schema that the spec does not list one by one (Schemathesis-style checks).
@negative_inputs
Feature: Malformed requests

  @negative_malformed_json
  Scenario: A body that is not JSON is refused with INVALID_ARGUMENT
    Source: NV OAS requestBody (application/json); CAMARA Design Guide §3.1 (400 INVALID_ARGUMENT)
    Given the header "Authorization" is set to a valid access token
    And the header "Content-Type" is set to "application/json"
    And the request body is set to "{"phoneNumber": "+3460000"
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.code" is "INVALID_ARGUMENT"

  @negative_content_type @SHOULD
  Scenario: A body sent as text/plain is refused
    Source: NV OAS requestBody content (application/json only); CAMARA_common 415 UNSUPPORTED_MEDIA_TYPE
    Given the header "Authorization" is set to a valid access token
    And the header "Content-Type" is set to "text/plain"
    And the request body is set to a valid request body
    When the request "phoneNumberVerify" is sent
    Then the response status code is one of 400, 415

  @negative_wrong_method @SHOULD
  Scenario: A method the path does not offer is refused
    Source: RFC 9110 §15.5.6 (405); CAMARA_common 405 METHOD_NOT_ALLOWED
    Given the header "Authorization" is set to a valid access token
    When the request "phoneNumberShare" is sent with the method "DELETE"
    Then the response status code is one of 404, 405

  @negative_wrong_method_error_shape @SHOULD
  Scenario: A refused method is answered in CAMARA's error shape
    Source: CAMARA_common.yaml Generic404 (NOT_FOUND) and Generic405 (METHOD_NOT_ALLOWED), ErrorInfo {status, code, message}; CAMARA API Design Guide §3.2 (error responses)
    Given the header "Authorization" is set to a valid access token
    When the request "phoneNumberShare" is sent with the method "DELETE"
    Then a 404 or 405 answer is a CAMARA ErrorInfo with the code "NOT_FOUND" or "METHOD_NOT_ALLOWED"

  @negative_wrong_method_allow
  Scenario: A 405 answer names the methods the resource offers
    Source: RFC 9110 §15.5.6 ("The origin server MUST generate an Allow header field in a 405 response")
    Given the header "Authorization" is set to a valid access token
    When the request "phoneNumberShare" is sent with the method "DELETE"
    Then a 405 answer carries an "Allow" header
