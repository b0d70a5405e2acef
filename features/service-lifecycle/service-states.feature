@REQ-TSM-STATES
Feature: The central TSM keeps the state of every service and refuses what that state does not allow
  The central TSM tracks each service on each secure element (SE): available, being prepared, installed, activated,
  suspended, being updated, being deleted, deleted, failed. A request the state does not allow is refused with a
  reason that names the state, before anything is sent to the SE. The state is kept in a data directory, so it is
  the same after the central TSM restarts.

  Background:
    Given the built-in fleet of simulated secure elements

  @TP-STATE-001
  Scenario Outline: A service that is <state> cannot be <refused>, and nothing is sent to the card
    Given BankCo's service "<service>" is "<state>"
    When BankCo <request> its service "<service>"
    Then the request fails with reason "3.8"
    And the response matches "$contains(message, '<state>')"
    And no command reached the card
    And the central TSM reports BankCo's service "<service>" as "<state>"

    Examples:
      | service     | state     | request          | refused          |
      | bankco-pay  | installed | pre-personalizes | prepared again   |
      | bankco-pay  | installed | resumes          | resumed          |
      | bankco-pay  | activated | resumes          | resumed          |
      | bankco-pay  | suspended | suspends         | suspended again  |
      | bankco-pay  | deleted   | activates        | activated        |
      | bankco-pay  | deleted   | updates          | updated          |
      | bankco-pay  | deleted   | suspends         | suspended        |
      | bankco-pay  | deleted   | deletes          | deleted again    |
      | bankco-pay3 | available | activates        | activated        |
      | bankco-pay3 | available | updates          | updated          |
      | bankco-pay3 | available | suspends         | suspended        |

  @TP-STATE-002 @REQ-MSG-SENDSCRIPT
  Scenario: No conversation can be held with a suspended service
    Given BankCo's service "bankco-pay" is "suspended"
    When BankCo begins a conversation to personalize its service "bankco-pay"
    Then the request fails with reason "3.8"
    And the response matches "$contains(message, 'suspended')"
    And no command reached the card

  @TP-STATE-003 @REQ-TSM-PERSIST
  Scenario: A suspended service is still suspended after the central TSM restarts, and resumes to the state it had
    Given the central TSM keeps its service states in a data directory
    And BankCo's service "bankco-pay" is "activated"
    When BankCo suspends its service "bankco-pay"
    And the central TSM is restarted
    Then the central TSM reports BankCo's service "bankco-pay" as "suspended"
    And the card shows the instance of "bankco-pay" as locked
    When BankCo resumes its service "bankco-pay"
    Then the request succeeds
    And the response matches "state = 'activated'"
    And the central TSM reports BankCo's service "bankco-pay" as "activated"
    And the card shows the instance of "bankco-pay" as selectable
