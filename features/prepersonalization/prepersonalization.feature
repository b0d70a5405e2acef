@REQ-PAT-FIG4
Feature: The central TSM prepares a service provider's service on a secure element
  With one request a service provider (SP) asks the central TSM to prepare its service on a subscriber's secure
  element (SE). The central TSM checks that the SE has room for it and does not already hold the service's
  application (if it does, it refuses and creates nothing), creates the SP's security domain under its own
  central security domain with temporary keys, creates the service's application from the package it keeps
  pre-loaded on the SE, and hands the application over to the SP's security domain. The SP then replaces the
  temporary keys with keys only it knows: from then on the central TSM can still lock or remove the service with
  its own privileges, but can no longer enter the SP's security domain.

  Background:
    Given the built-in fleet of simulated secure elements

  @TP-PRE-001 @REQ-GPC-11.5 @REQ-GPC-11.8 @REQ-GPD-5.2 @REQ-GPC-11.10 @REQ-GPC-11.2
  Scenario: BankCo's service is prepared on a new phone; once BankCo holds its own keys, the central TSM can lock and remove the service but no longer enter BankCo's domain
    When BankCo pre-personalizes its service "bankco-pay3"
    Then the request succeeds
    And the response matches "state = 'installed' and sdAid = 'F042414E4B434F2E5344' and $exists(temporaryKeys)"
    And the card holds BankCo's security domain under the central security domain
    And BankCo's security domain holds the temporary keys the central TSM answered
    And the card holds the instance of "bankco-pay3" in BankCo's security domain, made from the package pre-loaded under the central security domain
    And the central TSM reports BankCo's service "bankco-pay3" as "installed"
    And the keys the central TSM holds open BankCo's security domain
    When BankCo begins a conversation to rotate the keys of its service "bankco-pay3"
    And BankCo replaces the keys of its security domain with a fresh key set over its own secure channel
    And BankCo ends the conversation
    Then the card holds BankCo's new key set in its security domain
    And the keys the central TSM holds no longer open BankCo's security domain
    When BankCo suspends its service "bankco-pay3"
    Then the request succeeds
    And the card shows the instance of "bankco-pay3" as locked
    When BankCo deletes its service "bankco-pay3"
    Then the request succeeds
    And the card no longer holds the instance of "bankco-pay3"
    And the card holds BankCo's new key set in its security domain

  @TP-PRE-002 @REQ-PAT-ELIGIBILITY
  Scenario: A phone without room for the service is refused with Insufficient Memory and nothing is created on it
    Given the card of BankCo's service "bankco-pay3" has only 1000 bytes of free memory left
    When BankCo pre-personalizes its service "bankco-pay3"
    Then the request fails with reason "4.8"
    And the response matches "$contains(message, '1000')"
    And the card holds no security domain of BankCo
    And the card no longer holds the instance of "bankco-pay3"
    And the central TSM reports BankCo's service "bankco-pay3" as "available"

  @TP-PRE-003 @REQ-GPC-11.5
  Scenario Outline: A service removed from the <type> <se> on <mno> is prepared again in the security domain BankCo already has there
    Given BankCo's service "<service>" is on <se>, an <type> reached through <mno>
    And BankCo's service "<service>" is "deleted"
    When BankCo pre-personalizes its service "<service>"
    Then the request succeeds
    And the response matches "state = 'installed' and $not($exists(temporaryKeys))"
    And BankCo's security domain keeps the keys BankCo had
    And the card holds the instance of "<service>" in BankCo's security domain, made from the package pre-loaded under the central security domain

    Examples:
      | service     | se   | type | mno   |
      | bankco-pay  | se-1 | eSE  | MNO-A |
      | bankco-pay2 | se-2 | UICC | MNO-B |

  @TP-PRE-004 @REQ-TSM-STATES
  Scenario: A service already on the card is not prepared a second time, and nothing is sent to the card
    When BankCo pre-personalizes its service "bankco-pay"
    Then the request fails with reason "3.8"
    And the response matches "$contains(message, 'installed')"
    And no command reached the card

  @TP-PRE-006 @REQ-TSM-STATES @REQ-GPC-11.5
  Scenario: An instance the issuer already put on the card is detected and nothing is created for the service
    Given the issuer has put the instance of "bankco-pay3" on the card itself
    When BankCo pre-personalizes its service "bankco-pay3"
    Then the request fails with reason "3.8"
    And the response matches "$contains(message, 'F042414E4B434F2E5041592E31') and $contains(message, 'nothing was created')"
    And the card holds no security domain of BankCo
    And the card still holds the instance of "bankco-pay3"
    And the central TSM reports BankCo's service "bankco-pay3" as "available"

  @TP-PRE-005 @REQ-MSG-ACCESS
  Scenario: A service provider cannot have another provider's service prepared
    When TransitCo pre-personalizes the service "bankco-pay3" of BankCo
    Then the request fails with reason "1.2"
    And no command reached the card
    And the central TSM reports BankCo's service "bankco-pay3" as "available"
