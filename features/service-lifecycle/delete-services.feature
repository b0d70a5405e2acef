@REQ-PAT-CLAIM1 @REQ-GPC-11.2
Feature: A service provider deletes one or more of its services with one request
  One request names the services to delete on one secure element (SE). The central TSM checks every one of them
  first; then it deletes each service's application and its data on the SE and answers with one result per
  service. The service provider's security domain and its keys stay.

  Background:
    Given the built-in fleet of simulated secure elements

  @TP-DEL-001 @needs:card-internals
  Scenario: BankCo deletes two of its services on one phone with one request
    Given the central TSM offers BankCo a second service "bankco-wallet" on se-1 from the package of "bankco-pay"
    And BankCo's service "bankco-wallet" is "installed"
    And BankCo has personalized its service "bankco-pay" with the cardholder data "holder=ALICE;pan=5413330089010012"
    And BankCo has personalized its service "bankco-wallet" with the cardholder data "wallet=ALICE"
    When BankCo deletes its services "bankco-pay" and "bankco-wallet" with one request
    Then the request succeeds
    And the answer gives a result for each service:
      | service       | status           | state   |
      | bankco-pay    | Executed-Success | deleted |
      | bankco-wallet | Executed-Success | deleted |
    And the card no longer holds the instance of "bankco-pay"
    And the card no longer holds the instance of "bankco-wallet"
    And the card no longer holds any of that cardholder data
    And the card still holds the instance of "transitco-ticket"
    And BankCo's security domain keeps the keys BankCo had
    And the central TSM reports BankCo's service "bankco-wallet" as "deleted"

  @TP-DEL-002 @needs:card-internals
  Scenario Outline: BankCo deletes its service on the <type> <se> reached through <mno>
    Given BankCo's service "<service>" is on <se>, an <type> reached through <mno>
    And BankCo has personalized its service "<service>" with the cardholder data "holder=ALICE"
    When BankCo deletes its service "<service>"
    Then the request succeeds
    And the response matches "seId = '<se>' and results[0].serviceId = '<service>' and results[0].state = 'deleted'"
    And the card no longer holds the instance of "<service>"
    And the card no longer holds any of that cardholder data
    And the central TSM reports BankCo's service "<service>" as "deleted"

    Examples:
      | service     | se   | type | mno   |
      | bankco-pay  | se-1 | eSE  | MNO-A |
      | bankco-pay2 | se-2 | UICC | MNO-B |

  @TP-DEL-003 @REQ-MSG-ACCESS
  Scenario: A request that names another provider's service deletes nothing at all
    When BankCo deletes its services "bankco-pay" and "transitco-ticket" with one request
    Then the request fails with reason "1.2"
    And no command reached the card
    And the card still holds the instance of "bankco-pay"
    And the card still holds the instance of "transitco-ticket"

  @TP-DEL-004 @REQ-TSM-STATES
  Scenario: A request that names a service already deleted deletes nothing at all
    Given the central TSM offers BankCo a second service "bankco-wallet" on se-1 from the package of "bankco-pay"
    And BankCo's service "bankco-wallet" is "installed"
    And BankCo's service "bankco-wallet" is "deleted"
    When BankCo deletes its services "bankco-pay" and "bankco-wallet" with one request
    Then the request fails with reason "3.8"
    And the response matches "$contains(message, 'bankco-wallet')"
    And no command reached the card
    And the card still holds the instance of "bankco-pay"
