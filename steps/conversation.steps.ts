/** Conversation steps: begin, send scripts, end, and what reached the card. */
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { encodeCommand } from '../gp/index.ts';
import type { BeginConversationResponse, RequestedOperation } from '../tsm/index.ts';
import type { TsmWorld } from './world.ts';

async function begin(world: TsmWorld, sp: string, serviceId: string, operation: RequestedOperation) {
  const seId = world.seId ?? world.serviceRecord(serviceId).seId;
  const r = world.remember(await world.sp(sp).beginConversation({ seId, serviceId, requestedOperation: operation }));
  if (r.body.status === 'Executed-Success') {
    world.conversationId = (r.body as BeginConversationResponse).conversationId;
    world.conversation = r.body as never;
    world.conversationServiceId = serviceId;
    world.spChannel = undefined;
    world.seId = seId;
  }
  return r;
}

const operations: Record<string, RequestedOperation> = { 'rotate the keys of': 'rotate-keys', 'personalize': 'personalize' };

When(/^(\w+) begins a conversation to (rotate the keys of|personalize) its service "([^"]+)"$/, async function (this: TsmWorld, sp: string, what: string, serviceId: string) {
  await begin(this, sp, serviceId, operations[what]);
});

Given(/^(\w+) has begun a conversation to (rotate the keys of|personalize) its service "([^"]+)"$/, async function (this: TsmWorld, sp: string, what: string, serviceId: string) {
  const r = await begin(this, sp, serviceId, operations[what]);
  assert.equal(r.body.status, 'Executed-Success', `BeginConversation: ${r.body.reasonCode} ${r.body.message}`);
});

When('{sp} begins a conversation to personalize the service {string} of {sp}', async function (this: TsmWorld, sp: string, serviceId: string, _owner: string) {
  await begin(this, sp, serviceId, 'personalize');
});

async function end(world: TsmWorld, sp: string) {
  assert.ok(world.conversationId, 'no conversation was begun');
  const r = world.remember(await world.sp(sp).endConversation(world.conversationId));
  world.commandsAtEnd = world.commandsSent.length;
  return r;
}

When('{sp} ends the conversation', async function (this: TsmWorld, sp: string) {
  const r = await end(this, sp);
  assert.equal(r.body.status, 'Executed-Success', `EndConversation: ${r.body.reasonCode} ${r.body.message}`);
});

Given('{sp} has ended the conversation', async function (this: TsmWorld, sp: string) {
  const r = await end(this, sp);
  assert.equal(r.body.status, 'Executed-Success', `EndConversation: ${r.body.reasonCode} ${r.body.message}`);
});

When("the conversation's time to live passes", function (this: TsmWorld) {
  assert.ok(this.conversation, 'no conversation was begun');
  this.clock.advance((this.conversation.timeToLiveSeconds + 1) * 1000);
  this.commandsAtEnd = this.commandsSent.length;
});

/** GET DATA of the card image number: harmless, needs no secure channel. */
const readIdentity = () => encodeCommand({ cla: 0x80, ins: 0xca, p1: 0x00, p2: 0x45, le: 256 });

When("{sp} sends a script that reads the card's identity on that conversation", async function (this: TsmWorld, sp: string) {
  assert.ok(this.conversationId, 'no conversation was begun');
  this.remember(await this.sp(sp).sendScript(this.conversationId, [readIdentity()]));
});

When('{sp} sends a script one command longer than the conversation allows', async function (this: TsmWorld, sp: string) {
  assert.ok(this.conversation, 'no conversation was begun');
  const script = Array.from({ length: this.conversation.maxApduCount + 1 }, readIdentity);
  this.commandsAtEnd = this.commandsSent.length;
  this.remember(await this.sp(sp).sendScript(this.conversation.conversationId, script));
});

When('{sp} sends a script one byte larger than the conversation allows', async function (this: TsmWorld, sp: string) {
  assert.ok(this.conversation, 'no conversation was begun');
  const { maxScriptSize, maxApduCount, conversationId } = this.conversation;
  // Commands of at most 5 + 255 bytes, none shorter than 6, adding up to one byte over the limit.
  const sizes: number[] = [];
  for (let rest = maxScriptSize + 1; rest > 0; ) {
    let n = Math.min(260, rest);
    if (rest - n > 0 && rest - n < 6) n = rest - 6;
    sizes.push(n - 5);
    rest -= n;
  }
  assert.ok(sizes.length <= maxApduCount, `cannot exceed ${maxScriptSize} bytes within ${maxApduCount} commands`);
  const script = sizes.map((n) => encodeCommand({ cla: 0x80, ins: 0xe2, p1: 0x80, p2: 0x00, data: new Uint8Array(n) }));
  assert.equal(script.reduce((s, c) => s + c.length, 0), maxScriptSize + 1);
  this.commandsAtEnd = this.commandsSent.length;
  this.remember(await this.sp(sp).sendScript(conversationId, script));
});

Then(/^no command (?:of that script )?reached the card(?: after the conversation ended)?$/, function (this: TsmWorld) {
  assert.ok(this.commandsAtEnd !== undefined, 'no point in the scenario to count from');
  const late = this.commandsSent.slice(this.commandsAtEnd);
  assert.equal(late.length, 0, `${late.length} command(s) reached the card: ${late.map((e) => e.hex).join(', ')}`);
});
