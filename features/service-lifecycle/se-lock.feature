@destructive @REQ-GPC-5.1 @REQ-GPC-11.10 @REQ-TSM-SE-LOCK
Feature: A service provider has the secure element of a lost or stolen phone locked, and unlocked again
  A service provider (SP) whose customer reports a phone lost or stolen asks the central TSM to lock the phone's
  secure element (SE): the central TSM locks the whole card with its own privileges, and until the same SP asks
  for it to be unlocked, nothing more is done on that SE — no conversation, no service management, for any SP.

  Background:
    Given the built-in fleet of simulated secure elements

  @TP-SELOCK-001 @REQ-PAT-ROUTING
  Scenario Outline: BankCo has the <type> <se> locked and unlocked again, and the card follows
    Given BankCo's service "<service>" is on <se>, an <type> reached through <mno>
    When BankCo asks the central TSM to lock the secure element <se> because "device reported stolen"
    Then the request succeeds
    And the response matches "locked = true and cardLifeCycle = 'CARD_LOCKED' and lockedBy = 'BankCo'"
    And the card <se> is locked
    And the central TSM reports the secure element <se> as locked
    When BankCo suspends its service "<service>"
    Then the request fails with reason "3.8"
    And the response matches "$contains(message, 'locked')"
    And no command reached the card
    When TransitCo begins a conversation to personalize its service "<other>"
    Then the request fails with reason "3.8"
    And no command reached the card
    When BankCo asks the central TSM to unlock the secure element <se>
    Then the request succeeds
    And the response matches "locked = false and cardLifeCycle = 'SECURED'"
    And the card <se> is not locked
    And the central TSM reports the secure element <se> as not locked
    When BankCo suspends its service "<service>"
    Then the request succeeds
    And the card shows the instance of "<service>" as locked

    Examples:
      | service     | other             | se   | type | mno   |
      | bankco-pay  | transitco-ticket  | se-1 | eSE  | MNO-A |
      | bankco-pay2 | transitco-ticket2 | se-2 | UICC | MNO-B |

  @TP-SELOCK-002 @REQ-MSG-ACCESS
  Scenario: Only the service provider that had the secure element locked can have it unlocked
    Given BankCo has had the secure element se-1 locked
    When TransitCo asks the central TSM to unlock the secure element se-1
    Then the request fails with reason "1.2"
    And the response matches "$contains(message, 'BankCo')"
    And no command reached the card
    And the card se-1 is locked

  @TP-SELOCK-003 @REQ-MSG-ACCESS
  Scenario: A service provider with nothing on a secure element cannot have it locked
    When TransitCo asks the central TSM to lock the secure element se-3 because "device reported stolen"
    Then the request fails with reason "1.2"
    And no command reached the card
    And the card se-3 is not locked

  @TP-SELOCK-004 @REQ-TSM-STATES
  Scenario: A secure element already locked is not locked again, and one not locked is not unlocked
    Given BankCo has had the secure element se-1 locked
    When BankCo asks the central TSM to lock the secure element se-1 because "reported twice"
    Then the request fails with reason "3.8"
    And no command reached the card
    When BankCo asks the central TSM to unlock the secure element se-2
    Then the request fails with reason "3.8"
    And no command reached the card

  @TP-SELOCK-005 @REQ-TSM-PERSIST
  Scenario: A locked secure element is still locked after the central TSM restarts
    Given the central TSM keeps its service states in a data directory
    And BankCo has had the secure element se-1 locked
    When the central TSM is restarted
    Then the central TSM reports the secure element se-1 as locked
    When BankCo asks the central TSM to unlock the secure element se-1
    Then the request succeeds
    And the card se-1 is not locked
