/** What the SP TSM does with its own keys through the central TSM, and what the card shows afterwards. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Given, Then, When } from '@cucumber/cucumber';
import { fromHex, installForPersonalization, SecureChannelError, SecurityLevel, SW, toHex, tlv, type KeySet } from '../gp/index.ts';
import { personalizationBlocks, type BeginConversationResponse } from '../tsm/index.ts';
import { keysHeldBy, externalAuthenticatesSince } from '../harness/index.ts';
import type { TsmWorld } from './world.ts';

/** Batched scripts: C-MAC + C-DECRYPTION, as OTA scripts are usually protected. */
const SCRIPT_LEVEL = SecurityLevel.CMAC | SecurityLevel.CDEC;
/** Key rotation: everything, responses included. */
const FULL_LEVEL = SCRIPT_LEVEL | SecurityLevel.RMAC | SecurityLevel.RENC;

function cardholderTlv(text: string, tag = 0xdf01): Uint8Array {
  return tlv(tag, new TextEncoder().encode(text));
}

async function ensureChannel(world: TsmWorld, sp: string, level: number) {
  if (world.spChannel) return world.spChannel;
  assert.ok(world.conversationId, 'no conversation was begun');
  const service = world.conversationService();
  world.spChannel = await world.spTsm(sp).openSecureChannel(world.conversationId, service.sdAid, world.keysFor(service.id), level);
  return world.spChannel;
}

When('{sp} replaces the keys of its security domain with a fresh key set over its own secure channel', async function (this: TsmWorld, sp: string) {
  const service = this.conversationService();
  const current = this.keysFor(service.id);
  const channel = await ensureChannel(this, sp, FULL_LEVEL);
  const next: KeySet = { kvn: current.kvn + 1, scp: '03', enc: randomBytes(16), mac: randomBytes(16), dek: randomBytes(16) };
  const r = await this.spTsm(sp).rotateKeys(this.conversationId!, channel, current, next);
  this.remember({ httpStatus: 200, body: r.answer });
  assert.equal(r.answer.status, 'Executed-Success', `PUT KEY: ${r.answer.reasonCode} ${r.answer.message}`);
  assert.equal(r.responses[0]?.sw, SW.OK, 'the card did not accept PUT KEY');
  this.previousSpKeys.set(service.sdAid, current);
  this.spKeys.set(service.sdAid, next);
});

Then("the card holds {sp}'s new key set in its security domain", async function (this: TsmWorld, _sp: string) {
  const service = this.conversationService();
  const keys = this.keysFor(service.id);
  const sd = (await this.view(service.seId)).securityDomains.find((x) => x.aid === service.sdAid);
  assert.ok(sd, `the card has no security domain ${service.sdAid}`);
  assert.deepEqual(sd.keyVersions, [keys.kvn], 'the SD should hold exactly the new key version');
  const why = await this.withHarness(service.seId, (ch) => keysHeldBy(ch, sd, keys));
  assert.equal(why, undefined, why);
});

Then("{sp}'s previous keys no longer open its security domain", async function (this: TsmWorld, sp: string) {
  const service = this.conversationService();
  const previous = this.previousSpKeys.get(service.sdAid);
  assert.ok(previous, 'the SP never rotated its keys');
  const begun = await this.sp(sp).beginConversation({ seId: service.seId, serviceId: service.id, requestedOperation: 'read' });
  assert.equal(begun.body.status, 'Executed-Success', `${begun.body.reasonCode} ${begun.body.message}`);
  const conversationId = (begun.body as BeginConversationResponse).conversationId;
  const since = this.commandsSent.length;
  // Asking for whatever key set the card has (KVN 0): the card cryptogram cannot match the old keys.
  const err = await this.spTsm(sp).openSecureChannel(conversationId, service.sdAid, { ...previous, kvn: 0 }, SCRIPT_LEVEL).catch((e) => e);
  assert.ok(err instanceof SecureChannelError && err.kind === 'card-cryptogram-mismatch', `expected a card cryptogram mismatch, got ${err}`);
  assert.deepEqual(externalAuthenticatesSince(this, since), [], 'no EXTERNAL AUTHENTICATE may reach the card with keys that failed the card cryptogram');
  await this.sp(sp).endConversation(conversationId);
});

When('{sp} personalizes its service with the cardholder data {string}', async function (this: TsmWorld, sp: string, data: string) {
  const service = this.conversationService();
  const channel = await ensureChannel(this, sp, SCRIPT_LEVEL);
  this.cardholderData = cardholderTlv(data);
  const r = await this.spTsm(sp).personalize(this.conversationId!, channel, service.instanceAid!, [this.cardholderData]);
  this.remember({ httpStatus: 200, body: r.answer });
  assert.equal(r.answer.status, 'Executed-Success', `personalization: ${r.answer.reasonCode} ${r.answer.message}`);
});

Then("the card stores that cardholder data in {sp}'s service instance", function (this: TsmWorld, _sp: string) {
  const service = this.conversationService();
  const app = this.card(service.seId).applications.find((a) => a.aid === service.instanceAid);
  assert.ok(app, `the card has no instance ${service.instanceAid}`);
  assert.ok(this.cardholderData, 'no cardholder data was sent');
  assert.equal(app.storedHex, toHex(this.cardholderData));
});

Given('{sp} has opened its own secure channel to its security domain in that conversation', async function (this: TsmWorld, sp: string) {
  const channel = await ensureChannel(this, sp, SCRIPT_LEVEL);
  assert.equal(channel.level, SCRIPT_LEVEL);
});

const BLOCKS = ['first', 'second', 'third'].map((w, i) => cardholderTlv(`${w} block`, 0xdf01 + i));

When('{sp} sends a personalization script whose second of three data blocks the card rejects', async function (this: TsmWorld, sp: string) {
  const service = this.conversationService();
  const channel = await ensureChannel(this, sp, SCRIPT_LEVEL);
  const tsm = this.spTsm(sp);
  
  const [first, second, third] = personalizationBlocks(BLOCKS);
  // RFU bits in P1: the card must reject this block (6A86).
  const rejected = { ...second, p1: second.p1 | 0x06 };
  const r = await tsm.sendSecureScript(this.conversationId!, channel, [installForPersonalization(fromHex(service.instanceAid!)), first, rejected, third]);
  this.remember({ httpStatus: 200, body: r.answer });
});

Then('the response says the command at index {int} failed', function (this: TsmWorld, index: number) {
  const b = this.lastBody() as { status: string; failedApduIndex?: number; responseApdus?: string[] };
  assert.equal(b.status, 'Failed');
  assert.equal(b.failedApduIndex, index);
  assert.equal(b.responseApdus?.length, index + 1, 'responses should stop at the failed command');
});

Then(/^the card (stores|does not store) the (first|third) data block(?: in (\w+)'s service instance)?$/, function (this: TsmWorld, verb: string, which: string, _sp?: string) {
  const service = this.conversationService();
  const app = this.card(service.seId).applications.find((a) => a.aid === service.instanceAid);
  assert.ok(app, `the card has no instance ${service.instanceAid}`);
  const block = toHex(BLOCKS[which === 'first' ? 0 : 2]);
  assert.equal(app.storedHex.includes(block), verb === 'stores', `instance data: ${app.storedHex || '(none)'}`);
});

When('{sp} activates its service {string}', async function (this: TsmWorld, sp: string, serviceId: string) {
  this.remember(await this.sp(sp).activateService(serviceId));
});

When('{sp} activates the service {string} of {sp}', async function (this: TsmWorld, sp: string, serviceId: string, _owner: string) {
  this.remember(await this.sp(sp).activateService(serviceId));
});

Then("the card shows {sp}'s service instance as activated", function (this: TsmWorld, _sp: string) {
  const service = this.conversationService();
  const app = this.card(service.seId).applications.find((a) => a.aid === service.instanceAid);
  assert.equal(app?.contactless, 'activated', `contactless state of ${service.instanceAid}: ${app?.contactless ?? 'never set'}`);
});

Then("{sp}'s service instance is not activated on the card", function (this: TsmWorld, sp: string) {
  const services = this.fleet.ses.flatMap((se) => (se.services ?? []).map((s) => ({ ...s, seId: se.seId }))).filter((s) => s.serviceProvider === sp);
  assert.ok(services.length > 0, `${sp} has no service in the fleet`);
  for (const s of services) {
    const app = this.card(s.seId).applications.find((a) => a.aid === s.instanceAid);
    assert.ok(app, `the card has no instance ${s.instanceAid}`);
    assert.notEqual(app.contactless, 'activated', `${s.instanceAid} was activated`);
  }
});
