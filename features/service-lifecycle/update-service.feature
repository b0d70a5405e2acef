@REQ-PAT-FIG10
Feature: The central TSM updates a service on a secure element
  When a service provider (SP) asks for an update of its service, the central TSM checks that the secure element
  (SE) has room for the new application once the current one is removed (if not, it refuses and changes
  nothing), marks the service as updating, removes the service's application and its data from the SE, installs it, hands it over to the SP's security domain and marks the service installed.
  The SP then personalizes the new application with its own keys, which the update never touches. If the central
  TSM is stopped half-way, it finds the interrupted update when it starts again and says so; the SP can update
  again from there.

  Background:
    Given the built-in fleet of simulated secure elements

  @TP-UPD-001 @REQ-GPC-11.2 @REQ-GPC-11.5 @REQ-GPC-11.11 @needs:card-internals
  Scenario Outline: BankCo updates its service on the <type> <se> reached through <mno>, then personalizes the new application
    Given BankCo's service "<service>" is on <se>, an <type> reached through <mno>
    And BankCo has personalized its service "<service>" with the cardholder data "holder=ALICE"
    When BankCo updates its service "<service>"
    Then the request succeeds
    And the response matches "state = 'installed' and freeNonVolatile > 0"
    And the service "<service>" went through the states "installed, updating, installed"
    And the card holds the instance of "<service>" in BankCo's security domain, made from the package pre-loaded under the central security domain
    And the instance of "<service>" holds no cardholder data
    And BankCo's security domain keeps the keys BankCo had
    When BankCo begins a conversation to personalize its service "<service>"
    And BankCo personalizes its service with the cardholder data "holder=BOB"
    And BankCo ends the conversation
    Then the card stores that cardholder data in BankCo's service instance

    Examples:
      | service     | se   | type | mno   |
      | bankco-pay  | se-1 | eSE  | MNO-A |
      | bankco-pay2 | se-2 | UICC | MNO-B |

  @TP-UPD-002 @REQ-PAT-ELIGIBILITY @needs:card-internals
  Scenario: An update the card has no room for is refused with Insufficient Memory before anything is removed, and succeeds once room is made
    Given BankCo has personalized its service "bankco-pay" with the cardholder data "holder=ALICE"
    And the new version of BankCo's service "bankco-pay" needs 4000 bytes of memory
    And the card of BankCo's service "bankco-pay" has only 100 bytes of free memory left
    When BankCo updates its service "bankco-pay"
    Then the request fails with reason "4.8"
    And the response matches "$contains(message, 'memory') and $contains(message, 'nothing was changed')"
    And the service "bankco-pay" kept its state
    And the central TSM reports BankCo's service "bankco-pay" as "installed"
    And the card holds the instance of "bankco-pay" in BankCo's security domain, made from the package pre-loaded under the central security domain
    And the instance of "bankco-pay" still holds that cardholder data
    And no application was left under the central security domain
    And BankCo's security domain keeps the keys BankCo had
    When the issuer frees the memory it took on the card
    And BankCo updates its service "bankco-pay"
    Then the request succeeds
    And the service "bankco-pay" went through the states "installed, updating, installed"
    And the card holds the instance of "bankco-pay" in BankCo's security domain, made from the package pre-loaded under the central security domain
    And the instance of "bankco-pay" holds no cardholder data

  @TP-UPD-003 @REQ-TSM-RECOVERY @REQ-TSM-PERSIST
  Scenario: The central TSM stopped in the middle of an update finds it interrupted when it starts again, and BankCo updates again
    Given the central TSM keeps its service states in a data directory
    When the central TSM stops right after removing the application during BankCo's update of "bankco-pay"
    And the central TSM is started again on the same data directory
    Then BankCo never got an answer to that update
    And the central TSM reports BankCo's service "bankco-pay" as "failed", noting "interrupted while updating"
    And the card no longer holds the instance of "bankco-pay"
    And no application was left under the central security domain
    When BankCo updates its service "bankco-pay"
    Then the request succeeds
    And the card holds the instance of "bankco-pay" in BankCo's security domain, made from the package pre-loaded under the central security domain

  @TP-UPD-005 @REQ-TSM-RECOVERY @REQ-TSM-PERSIST @needs:card-internals
  Scenario: The central TSM stopped just before removing the application finds nothing changed when it starts again
    Given the central TSM keeps its service states in a data directory
    And BankCo has personalized its service "bankco-pay" with the cardholder data "holder=ALICE"
    When the central TSM stops just before removing the application during BankCo's update of "bankco-pay"
    And the central TSM is started again on the same data directory
    Then BankCo never got an answer to that update
    And the central TSM reports BankCo's service "bankco-pay" as "installed", noting "nothing changed"
    And the instance of "bankco-pay" still holds that cardholder data

  @TP-UPD-006 @REQ-TSM-RECOVERY @REQ-TSM-PERSIST
  Scenario: The central TSM stopped right after installing the new application finishes the update when it starts again
    Given the central TSM keeps its service states in a data directory
    When the central TSM stops right after installing the new application during BankCo's update of "bankco-pay"
    Then the card holds the instance of "bankco-pay" under the central security domain, not yet handed over
    When the central TSM is started again on the same data directory
    Then BankCo never got an answer to that update
    And the central TSM reports BankCo's service "bankco-pay" as "installed", noting "resumed at restart"
    And the card holds the instance of "bankco-pay" in BankCo's security domain, made from the package pre-loaded under the central security domain
    And no application was left under the central security domain

  @TP-UPD-007 @REQ-TSM-RECOVERY @REQ-MSG-IDEMPOTENCY
  Scenario: An update the central TSM was running when it stopped is not run again when BankCo repeats it with the same function call identifier
    Given the central TSM keeps its service states in a data directory
    When the central TSM stops right after removing the application during BankCo's update of "bankco-pay"
    And the central TSM is started again on the same data directory
    Then the central TSM reports BankCo's service "bankco-pay" as "failed"
    When BankCo sends the same request again with the same function call identifier
    Then the request fails with reason "5.4"
    And the response matches "$contains(message, 'interrupted')"
    And no command reached the card
    And the central TSM reports BankCo's service "bankco-pay" as "failed"

  @TP-UPD-004 @REQ-MSG-ACCESS
  Scenario: A service provider cannot update another provider's service
    When TransitCo updates the service "bankco-pay" of BankCo
    Then the request fails with reason "1.2"
    And no command reached the card
    And the card still holds the instance of "bankco-pay"
