@REQ-PAT-FIG3
Feature: A service provider manages its service on a secure element through the central TSM
  The TSM of a service provider (SP) reaches the secure element (SE) of a subscriber only through the central
  TSM, which finds the SE from the subscriber's phone number, picks the mobile network that reaches it and
  carries the SP's scripts. The SP keeps its own keys: the central TSM only carries what the SP protected.

  Background:
    Given the built-in fleet of simulated secure elements

  @ICS:put-key @ICS:contactless-activation @needs:card-internals
  @TP-FIG3-001 @REQ-GPC-11.8 @REQ-GPD-5.2 @REQ-GPD-6.2.8 @REQ-GPC-11.5 @REQ-GPC-11.11 @REQ-GPC-11.10
  Scenario: BankCo rotates its keys, personalizes and activates its payment service
    When BankCo asks for the secure element of subscriber "+33600000001" on "MNO-A"
    Then the request succeeds
    And the response matches "seId = 'se-1'"
    When BankCo reads the data of that secure element
    Then the request succeeds
    And the response matches "mno = 'MNO-A' and seType = 'eSE'"
    When BankCo begins a conversation to rotate the keys of its service "bankco-pay"
    Then the request succeeds
    And the response matches "bearer = 'http-admin' and maxApduCount >= 5 and timeToLiveSeconds > 0"
    When BankCo replaces the keys of its security domain with a fresh key set over its own secure channel
    And BankCo ends the conversation
    Then the card holds BankCo's new key set in its security domain
    And BankCo's previous keys no longer open its security domain
    When BankCo begins a conversation to personalize its service "bankco-pay"
    And BankCo personalizes its service with the cardholder data "holder=ALICE;pan=5413330089010012"
    And BankCo ends the conversation
    Then the card stores that cardholder data in BankCo's service instance
    When BankCo activates its service "bankco-pay"
    Then the request succeeds
    And the card shows BankCo's service instance as activated
