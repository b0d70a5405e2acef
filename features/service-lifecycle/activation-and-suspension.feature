@REQ-GPC-5.1 @REQ-GPC-11.10
Feature: A service provider activates, suspends and resumes its service, and the secure element follows
  The central TSM activates a service on the contactless interface, suspends it by locking its application and
  resumes it by unlocking it, each time with its own keys through the network of the secure element's (SE's)
  operator. The application's life cycle state on the SE is checked after each step. When the SE itself refuses a
  command, the service provider gets a reason code and the SE's status word.

  Background:
    Given the built-in fleet of simulated secure elements

  @TP-LIFE-001 @REQ-TSM-STATES @REQ-PAT-ROUTING @needs:card-internals
  Scenario Outline: BankCo activates, suspends and resumes its service on the <type> <se> reached through <mno>
    Given BankCo's service "<service>" is on <se>, an <type> reached through <mno>
    When BankCo activates its service "<service>"
    Then the request succeeds
    And the card shows the instance of "<service>" as activated
    And the central TSM reports BankCo's service "<service>" as "activated"
    When BankCo suspends its service "<service>"
    Then the request succeeds
    And the card shows the instance of "<service>" as locked
    And the central TSM reports BankCo's service "<service>" as "suspended"
    When BankCo resumes its service "<service>"
    Then the request succeeds
    And the response matches "state = 'activated'"
    And the card shows the instance of "<service>" as selectable
    And the central TSM reports BankCo's service "<service>" as "activated"

    Examples:
      | service     | se   | type | mno   |
      | bankco-pay  | se-1 | eSE  | MNO-A |
      | bankco-pay2 | se-2 | UICC | MNO-B |

  @TP-LIFE-002 @REQ-TSM-CARD-REFUSAL
  Scenario: When the card refuses to lock an application the issuer already locked, BankCo is told why and the state does not change
    Given the issuer has locked the instance of "bankco-pay" on the card without the central TSM
    When BankCo suspends its service "bankco-pay"
    Then the request fails with reason "4.2"
    And the response matches "$contains(message, '6985')"
    And the central TSM reports BankCo's service "bankco-pay" as "installed"
    And the card shows the instance of "bankco-pay" as locked

  @TP-LIFE-003 @REQ-MSG-ACCESS
  Scenario: A service provider cannot suspend another provider's service
    When BankCo suspends the service "transitco-ticket" of TransitCo
    Then the request fails with reason "1.2"
    And no command reached the card
    And the card shows the instance of "transitco-ticket" as selectable
