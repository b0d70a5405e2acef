@REQ-PAT-FIG3
Feature: The central TSM enforces the rules of a conversation
  A conversation is the central TSM's promise to carry an SP's scripts to one SE for a limited time, within the
  limits of the mobile network that reaches it. Outside those rules nothing reaches the card.

  Background:
    Given the built-in fleet of simulated secure elements

  @TP-CONV-001 @REQ-MSG-SENDSCRIPT
  Scenario: A script sent on an ended conversation is refused and never reaches the card
    Given BankCo has begun a conversation to personalize its service "bankco-pay"
    And BankCo has ended the conversation
    When BankCo sends a script that reads the card's identity on that conversation
    Then the request fails with reason "3.8"
    And no command reached the card after the conversation ended

  @TP-CONV-002 @REQ-MSG-TTL
  Scenario: A conversation used past its time to live answers Expired
    Given BankCo has begun a conversation to personalize its service "bankco-pay"
    When the conversation's time to live passes
    And BankCo sends a script that reads the card's identity on that conversation
    Then the response status is "Expired"
    And no command reached the card after the conversation ended

  @TP-CONV-003 @REQ-MSG-LIMITS
  Scenario: A script with more commands than the network allows is refused whole
    Given BankCo has begun a conversation to personalize its service "bankco-pay"
    When BankCo sends a script one command longer than the conversation allows
    Then the request fails with reason "2.5"
    And no command of that script reached the card

  @TP-CONV-004 @REQ-MSG-LIMITS
  Scenario: A script larger than the network's maximum script size is refused whole
    Given BankCo has begun a conversation to personalize its service "bankco-pay"
    When BankCo sends a script one byte larger than the conversation allows
    Then the request fails with reason "2.5"
    And no command of that script reached the card

  @needs:card-internals
  @TP-CONV-005 @REQ-MSG-SENDSCRIPT @REQ-GPC-11.11
  Scenario: Execution stops at the first failing command of a script
    Given BankCo has begun a conversation to personalize its service "bankco-pay"
    And BankCo has opened its own secure channel to its security domain in that conversation
    When BankCo sends a personalization script whose second of three data blocks the card rejects
    Then the response says the command at index 2 failed
    And the card stores the first data block in BankCo's service instance
    And the card does not store the third data block

  @TP-CONV-006 @REQ-PAT-ROUTING
  Scenario Outline: The central TSM reaches each secure element through its own operator's network
    When BankCo asks for the secure element of subscriber "<msisdn>" on "<mno>"
    And BankCo reads the data of that secure element
    Then the response matches "mno = '<mno>' and seType = '<type>'"
    When BankCo begins a conversation to personalize its service "<service>"
    Then the response matches "bearer = '<bearer>'"

    Examples:
      | msisdn       | mno   | type | bearer     | service     |
      | +33600000001 | MNO-A | eSE  | http-admin | bankco-pay  |
      | +33700000002 | MNO-B | UICC | sms        | bankco-pay2 |
