@REQ-TSM-ASYNC
Feature: Long requests answer at once and report their result later; repeated or late requests do no harm
  A service provider (SP) may ask the central TSM to run a long request in the background. The central TSM then
  answers at once that it accepted the request, with an operation id, and reports the result later: by calling
  the SP back at the address the SP gave, on the SP's event stream, and to anyone who asks about the operation.
  An SP that sends the same request again with the same function call identifier gets the first answer back and
  nothing is done twice. A request that arrives after its validity period is answered Expired and nothing is done.

  Background:
    Given the built-in fleet of simulated secure elements

  @TP-ASYNC-001 @REQ-PAT-FIG4
  Scenario: BankCo learns the result of a pre-personalization run in the background through its callback and its event stream
    Given BankCo listens for the central TSM's callbacks
    And BankCo follows its event stream
    When BankCo asks the central TSM to pre-personalize its service "bankco-pay3" in the background
    Then the request is accepted with an operation id
    And BankCo's event stream reports its service "bankco-pay3" becoming "prepersonalizing"
    And BankCo's event stream reports its service "bankco-pay3" becoming "installed"
    And BankCo's event stream reports that operation done with status "Executed-Success"
    And BankCo's callback receives the result of that operation with status "Executed-Success"
    And the response matches "serviceId = 'bankco-pay3' and state = 'installed'"
    And the card holds the instance of "bankco-pay3" in BankCo's security domain, made from the package pre-loaded under the central security domain
    When BankCo asks the central TSM about that operation
    Then the request succeeds
    And the response matches "operation.state = 'done' and operation.result.status = 'Executed-Success' and operation.result.state = 'installed'"

  @TP-ASYNC-002 @REQ-PAT-FIG10 @REQ-PAT-ELIGIBILITY
  Scenario: An update run in the background that the card has no room for reports Insufficient Memory through the callback
    Given BankCo listens for the central TSM's callbacks
    And the new version of BankCo's service "bankco-pay" needs 4000 bytes of memory
    And the card of BankCo's service "bankco-pay" has only 100 bytes of free memory left
    When BankCo asks the central TSM to update its service "bankco-pay" in the background
    Then the request is accepted with an operation id
    And BankCo's callback receives the result of that operation with status "Failed"
    And the response matches "reasonCode = '4.8' and $contains(message, 'memory')"
    And the central TSM reports BankCo's service "bankco-pay" as "installed"
    And the card still holds the instance of "bankco-pay"

  @TP-ASYNC-003 @REQ-MSG-ACCESS
  Scenario: A service provider cannot read another provider's operation
    Given BankCo follows its event stream
    When BankCo asks the central TSM to suspend its service "bankco-pay" in the background
    And BankCo's event stream reports that operation done with status "Executed-Success"
    And TransitCo asks the central TSM about that operation
    Then the request fails with reason "1.2"

  @TP-IDEM-001 @REQ-MSG-IDEMPOTENCY
  Scenario: A deletion sent twice with the same function call identifier answers the first result and deletes once
    When BankCo deletes its service "bankco-pay" with the function call identifier "bankco-del-0001"
    Then the request succeeds
    When BankCo sends the same request again with the same function call identifier
    Then the answer is the first answer, word for word
    And the central TSM sent the card exactly one deletion
    And the central TSM reports BankCo's service "bankco-pay" as "deleted"

  @TP-IDEM-002 @REQ-MSG-IDEMPOTENCY @REQ-PAT-FIG4
  Scenario: A background pre-personalization sent twice with the same function call identifier runs once
    Given BankCo follows its event stream
    When BankCo asks the central TSM to pre-personalize its service "bankco-pay3" in the background with the function call identifier "bankco-pre-0001"
    Then the request is accepted with an operation id
    When BankCo sends the same request again with the same function call identifier
    Then the second acceptance names the same operation
    And BankCo's event stream reports that operation done with status "Executed-Success"
    And the central TSM sent the card exactly one extradition
    And the service "bankco-pay3" went through the states "available, prepersonalizing, installed"

  @TP-IDEM-003 @REQ-MSG-IDEMPOTENCY
  Scenario: A function call identifier used again for a different request is refused, and that request does nothing
    When BankCo suspends its service "bankco-pay" with the function call identifier "bankco-0002"
    Then the request succeeds
    When BankCo deletes its service "bankco-pay" with the function call identifier "bankco-0002"
    Then the request fails with reason "3.3"
    And no command reached the card
    And the card still holds the instance of "bankco-pay"

  @TP-EXP-001 @REQ-MSG-VALIDITY
  Scenario Outline: A request to <verb> a service that arrives after its validity period answers Expired and does nothing
    Given BankCo prepares a request to <verb> its service "<service>", valid for 60 seconds
    When 120 seconds pass before the request reaches the central TSM
    Then the response status is "Expired"
    And the response matches "reasonCode = '5.3'"
    And no command reached the card
    And the central TSM reports BankCo's service "<service>" as "<state>"

    Examples:
      | verb            | service     | state     |
      | delete          | bankco-pay  | installed |
      | update          | bankco-pay  | installed |
      | suspend         | bankco-pay  | installed |
      | pre-personalize | bankco-pay3 | available |

  @TP-EXP-002 @REQ-MSG-VALIDITY
  Scenario: A request that arrives within its validity period is executed
    Given BankCo prepares a request to delete its service "bankco-pay", valid for 60 seconds
    When 30 seconds pass before the request reaches the central TSM
    Then the request succeeds
    And the card no longer holds the instance of "bankco-pay"
