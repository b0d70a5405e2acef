@REQ-PAT-FIG3 @REQ-MSG-ACCESS
Feature: The central TSM tells service providers what they may not do, and why
  Every answer of the central TSM carries a status; a refusal also carries a reason code and a message a
  person can act on.

  Background:
    Given the built-in fleet of simulated secure elements

  @TP-API-001
  Scenario: An unknown subscriber is reported, not guessed
    When BankCo asks for the secure element of subscriber "+33699999999" on "MNO-A"
    Then the request fails with reason "3.9"

  @TP-API-002
  Scenario: A service provider cannot work on another provider's service
    When BankCo begins a conversation to personalize the service "transitco-ticket" of TransitCo
    Then the request fails with reason "1.2"
    And the response matches "$contains(message, 'TransitCo') or $contains(message, 'transitco-ticket')"

  @TP-API-003 @needs:card-internals
  Scenario: A service provider cannot activate another provider's service
    When BankCo activates the service "transitco-ticket" of TransitCo
    Then the request fails with reason "1.2"
    And TransitCo's service instance is not activated on the card

  @TP-API-004 @REQ-MSG-FORMAT
  Scenario: A malformed request is refused with a format reason
    When BankCo sends the central TSM a request that is not valid JSON
    Then the request fails with reason "2.1"
