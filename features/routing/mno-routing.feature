@REQ-PAT-ROUTING
Feature: The central TSM reaches each secure element through its own operator's network
  The central TSM knows which mobile network operator (MNO) serves each secure element (SE) and sends its commands
  over that operator's network. When an operator's network is down, its SEs are reported inaccessible and nothing
  is sent to them; SEs of other operators are not affected.

  Background:
    Given the built-in fleet of simulated secure elements

  @TP-ROUTE-001
  Scenario Outline: Managing a service on the <type> <se> goes through <mno> over its <bearer> bearer
    Given BankCo's service "<service>" is on <se>, an <type> reached through <mno>
    When BankCo suspends its service "<service>"
    Then the request succeeds
    And every command of that request reached <se> through <mno> over its <bearer> bearer

    Examples:
      | service     | se   | type | mno   | bearer     |
      | bankco-pay  | se-1 | eSE  | MNO-A | http-admin |
      | bankco-pay2 | se-2 | UICC | MNO-B | sms        |

  @TP-ROUTE-002 @REQ-MSG-TRANSPORT
  Scenario: While MNO-B is down its secure element is inaccessible, and the secure elements of MNO-A are not affected
    Given the network of MNO-B is down
    When BankCo suspends its service "bankco-pay2"
    Then the request fails with reason "5.1"
    And the response matches "$contains(message, 'MNO-B')"
    And no command reached the card
    And the central TSM reports BankCo's service "bankco-pay2" as "installed"
    When BankCo suspends its service "bankco-pay"
    Then the request succeeds
    And every command of that request reached se-1 through MNO-A over its http-admin bearer
    When the network of MNO-B is back up
    And BankCo suspends its service "bankco-pay2"
    Then the request succeeds
    And every command of that request reached se-2 through MNO-B over its sms bearer

  @TP-ROUTE-003 @REQ-MSG-TRANSPORT
  Scenario Outline: While MNO-A is down, BankCo's request to <what> its service "<service>" answers Inaccessible and nothing is sent
    Given the network of MNO-A is down
    When BankCo <request> its service "<service>"
    Then the request fails with reason "5.1"
    And no command reached the card
    And the central TSM reports BankCo's service "<service>" as "<state>"

    Examples:
      | what            | request          | service     | state     |
      | pre-personalize | pre-personalizes | bankco-pay3 | available |
      | update          | updates          | bankco-pay  | installed |
      | delete          | deletes          | bankco-pay  | installed |
      | activate        | activates        | bankco-pay  | installed |

  @TP-ROUTE-004 @REQ-MSG-TRANSPORT @REQ-PAT-FIG3
  Scenario: No conversation begins with a secure element whose network is down
    Given the network of MNO-B is down
    When BankCo begins a conversation to personalize its service "bankco-pay2"
    Then the request fails with reason "5.1"
    And no command reached the card
