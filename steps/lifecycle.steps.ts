/**
 * Service lifecycle steps: the SP's management requests (pre-personalize, update, suspend, resume, delete), the
 * states the central TSM reports, and what the card holds afterwards (read through its ISD, so real cards too).
 * Logic lives in harness/.
 */
import assert from 'node:assert/strict';
import { After, Before, defineParameterType, Given, Then, When, type DataTable } from '@cucumber/cucumber';
import type { CardView } from '../gp/index.ts';
import { HarnessError, subscribe } from '../trace/index.ts';
import type { DeleteServicesResponse, ServiceRecord } from '../tsm/index.ts';
import { describeContent, entryOf, fillMemory, installAsIssuer, keyProof, keysHeldBy, lockAsIssuer, removeFiller, externalAuthenticatesSince, requestsToReach, type ServiceAction, lifecycleOf, cardholderData, personalizeInOneConversation, secondService } from '../harness/index.ts';
import { markRequest, sendRequest } from './lifecycle-marks.ts';
import type { TsmWorld } from './world.ts';
import { keySetOf } from '../profiles/index.ts';

// "activates" has its own step (sp-tsm.steps.ts); these are the other management requests.
defineParameterType({ name: 'request', regexp: /pre-personalizes|updates|suspends|resumes|deletes/, transformer: (s) => s });

Before(function (this: TsmWorld) {
  const s = lifecycleOf(this);
  s.stopObserving = subscribe((e) => s.observe(e));
});

After(async function (this: TsmWorld) {
  const s = lifecycleOf(this);
  await s.close();
  if (s.restartable && this.tsm) await s.restartable.dispose(this);
});

/** The service the last lifecycle step named. */
function currentService(world: TsmWorld): ServiceRecord {
  const id = lifecycleOf(world).serviceId ?? world.conversationServiceId;
  assert.ok(id, 'no service was named yet in this scenario');
  return world.serviceRecord(id);
}

function centralSdAid(world: TsmWorld, seId: string): string {
  const se = world.fleet.ses.find((x) => x.seId === seId);
  assert.ok(se, `the fleet has no SE ${seId}`);
  return se.centralSd.aid;
}

/** The state the central TSM reports for a service, as the SP sees it (GetServiceState). */
async function reportedService(world: TsmWorld, sp: string, serviceId: string) {
  const seId = world.serviceRecord(serviceId).seId;
  const r = await world.sp(sp).getServiceState(serviceId, { seId });
  assert.equal(r.body.status, 'Executed-Success', `GetServiceState: ${r.body.reasonCode} ${r.body.message}`);
  return r.body as { serviceId: string; state: string; note?: string };
}

// ---- requests ----------------------------------------------------------------------------------------------

When('{sp} {request} its service {string}', async function (this: TsmWorld, sp: string, action: ServiceAction, serviceId: string) {
  await sendRequest(this, sp, action, serviceId);
});

When('{sp} {request} the service {string} of {sp}', async function (this: TsmWorld, sp: string, action: ServiceAction, serviceId: string, _owner: string) {
  await sendRequest(this, sp, action, serviceId);
});

When('{sp} deletes its services {string} and {string} with one request', async function (this: TsmWorld, sp: string, a: string, b: string) {
  markRequest(this, a);
  // One request is about one SE: the SP names the SE its first service is on.
  this.remember(await this.sp(sp).deleteServices([a, b], { seId: this.serviceRecord(a).seId }));
});

// ---- preconditions -----------------------------------------------------------------------------------------

Given(/^(\w+)'s service "([^"]+)" is on ([\w-]+), an? (eSE|UICC) reached through ([\w-]+)$/, async function (this: TsmWorld, sp: string, serviceId: string, seId: string, type: string, mno: string) {
  const record = this.serviceRecord(serviceId);
  assert.equal(record.seId, seId, `${serviceId} is on ${record.seId}, not ${seId}`);
  const r = await this.sp(sp).getSeData(seId);
  const data = r.body as { seType?: string; mno?: string };
  assert.equal(r.body.status, 'Executed-Success', `GetSEData: ${r.body.reasonCode} ${r.body.message}`);
  assert.deepEqual({ seType: data.seType, mno: data.mno }, { seType: type, mno }, `the central TSM describes ${seId} otherwise`);
  lifecycleOf(this).serviceId = serviceId;
});

Given('{sp}\'s service {string} is {string}', async function (this: TsmWorld, sp: string, serviceId: string, target: string) {
  const now = (await reportedService(this, sp, serviceId)).state;
  for (const action of requestsToReach(now as never, target as never)) {
    const r = await sendRequest(this, sp, action, serviceId);
    assert.equal(r.body.status, 'Executed-Success', `${sp} ${action} ${serviceId}: ${r.body.reasonCode} ${r.body.message}`);
  }
  assert.equal((await reportedService(this, sp, serviceId)).state, target);
  markRequest(this, serviceId);
});

Given('{sp} has personalized its service {string} with the cardholder data {string}', async function (this: TsmWorld, sp: string, serviceId: string, text: string) {
  const service = this.serviceRecord(serviceId);
  const data = cardholderData(text);
  await personalizeInOneConversation(this.sp(sp), service, this.keysFor(serviceId), data);
  // A simulated card shows what its instance stored; a real card's applet keeps it to itself (the SP's script succeeded).
  if (!this.cards.realCard) {
    const app = this.card(service.seId).applications.find((a) => a.aid === service.instanceAid);
    assert.ok(app?.storedHex.includes(Buffer.from(data).toString('hex').toUpperCase()), `the card did not store the data in ${service.instanceAid}`);
  }
  lifecycleOf(this).cardholderHex.push(Buffer.from(data).toString('hex').toUpperCase());
  this.cardholderData = data;
});

Given('the card of {sp}\'s service {string} has only {int} bytes of free memory left', async function (this: TsmWorld, _sp: string, serviceId: string, leave: number) {
  const service = this.serviceRecord(serviceId);
  const spec = this.fleet.ses.find((x) => x.seId === service.seId)!;
  const donor = (spec.card.packages ?? []).find((p) => p.aid !== service.packageAid && p.applets.length > 0);
  assert.ok(donor, `no other package on ${service.seId} to make the issuer's filler from`);
  const free = freeMemory(await this.view(service.seId));
  await this.withHarness(service.seId, (ch) => fillMemory(ch, this.issuer(service.seId), { packageAid: donor.aid, moduleAid: donor.applets[0] }, free, leave));
  assert.equal(freeMemory(await this.view(service.seId)), leave);
  lifecycleOf(this).serviceId = serviceId;
});

Given('the new version of {sp}\'s service {string} needs {int} bytes of memory', function (this: TsmWorld, _sp: string, serviceId: string, bytes: number) {
  const service = this.serviceRecord(serviceId);
  // The central TSM's operator registers the new version; the instance on the card keeps its own size.
  this.tsm.operator.setInstallSize(service.seId, serviceId, bytes);
});

When('the issuer frees the memory it took on the card', async function (this: TsmWorld) {
  const service = currentService(this);
  await this.withHarness(service.seId, (ch) => removeFiller(ch, this.issuer(service.seId)));
});

Given('the central TSM offers {sp} a second service {string} on {word} from the package of {string}', function (this: TsmWorld, sp: string, id: string, seId: string, baseId: string) {
  const base = this.tsm.operator.service(seId, baseId);
  assert.equal(base.serviceProvider, sp);
  this.tsm.operator.registerService(secondService(base, id, this.tsm.operator.services(seId)));
});

// ---- what the central TSM reports -------------------------------------------------------------------------

Then('the central TSM reports {sp}\'s service {string} as {string}', async function (this: TsmWorld, sp: string, serviceId: string, state: string) {
  const entry = await reportedService(this, sp, serviceId);
  assert.equal(entry.state, state, `${serviceId} is ${entry.state}${entry.note ? ` (${entry.note})` : ''}`);
});

Then('the central TSM reports {sp}\'s service {string} as {string}, noting {string}', async function (this: TsmWorld, sp: string, serviceId: string, state: string, text: string) {
  const entry = await reportedService(this, sp, serviceId);
  assert.equal(entry.state, state, `${serviceId} is ${entry.state}${entry.note ? ` (${entry.note})` : ''}`);
  assert.ok(entry.note?.includes(text), `the note on ${serviceId} is "${entry.note ?? ''}"`);
});

Then('the service {string} went through the states {string}', function (this: TsmWorld, serviceId: string, list: string) {
  const expected = list.split(',').map((x) => x.trim());
  assert.deepEqual(lifecycleOf(this).statesSinceMark(serviceId), expected);
});

Then('the service {string} kept its state', function (this: TsmWorld, serviceId: string) {
  assert.deepEqual(lifecycleOf(this).statesSinceMark(serviceId), [], `${serviceId} changed state`);
});

Then('the answer gives a result for each service:', function (this: TsmWorld, table: DataTable) {
  const results = (this.lastBody() as Partial<DeleteServicesResponse>).results ?? [];
  const got = results.map((r) => ({ service: r.serviceId, status: r.status, state: r.state }));
  assert.deepEqual(got, table.hashes());
});

// ---- what the card holds ------------------------------------------------------------------------------------

Then('the card holds {sp}\'s security domain under the central security domain', async function (this: TsmWorld, sp: string) {
  const service = currentService(this);
  assert.equal(service.serviceProvider, sp);
  const card = await this.view(service.seId);
  const sd = entryOf(card, service.sdAid);
  assert.ok(sd && sd.kind === 'sd', `no security domain ${service.sdAid} on ${service.seId}: ${describeContent(card)}`);
  assert.equal(sd.associatedSd, centralSdAid(this, service.seId), `${service.sdAid} is associated with ${sd.associatedSd}`);
  assert.equal(sd.lifeCycle, 'PERSONALIZED');
});

Then('the card holds no security domain of {sp}', async function (this: TsmWorld, sp: string) {
  const service = currentService(this);
  const card = await this.view(service.seId);
  const sds = this.tsm.operator.services(service.seId).filter((x) => x.serviceProvider === sp).map((x) => x.sdAid);
  const found = sds.filter((aid) => entryOf(card, aid));
  assert.deepEqual(found, [], `the card holds ${sp}'s ${found.join(', ')}`);
});

Then('{sp}\'s security domain holds the temporary keys the central TSM answered', async function (this: TsmWorld, _sp: string) {
  const service = currentService(this);
  const temporary = lifecycleOf(this).temporaryKeys.get(service.id);
  assert.ok(temporary, 'the central TSM answered no temporary keys');
  const sd = entryOf(await this.view(service.seId), service.sdAid);
  assert.ok(sd, `no security domain ${service.sdAid}`);
  const why = await this.withHarness(service.seId, (ch) => keysHeldBy(ch, sd, keySetOf(temporary)));
  assert.equal(why, undefined, why);
});

Then('{sp}\'s security domain keeps the keys {sp} had', async function (this: TsmWorld, _sp: string, _owner: string) {
  const service = currentService(this);
  const before = lifecycleOf(this).keysBefore;
  assert.ok(before, `the SP held no keys for ${service.sdAid} before the request`);
  const sd = entryOf(await this.view(service.seId), service.sdAid);
  assert.ok(sd, `no security domain ${service.sdAid}`);
  const why = await this.withHarness(service.seId, (ch) => keysHeldBy(ch, sd, before));
  assert.equal(why, undefined, why);
});

Then('the card holds the instance of {string} in {sp}\'s security domain, made from the package pre-loaded under the central security domain', async function (this: TsmWorld, serviceId: string, _sp: string) {
  const service = this.serviceRecord(serviceId);
  const card = await this.view(service.seId);
  const app = entryOf(card, service.instanceAid!);
  assert.ok(app && app.kind === 'app', `no instance ${service.instanceAid} on ${service.seId}: ${describeContent(card)}`);
  assert.equal(app.associatedSd, service.sdAid, `${service.instanceAid} is associated with ${app.associatedSd}`);
  assert.equal(app.packageAid, service.packageAid);
  assert.equal(app.lifeCycle, 'SELECTABLE');
  const pkg = card.packages.find((p) => p.aid === service.packageAid);
  assert.equal(pkg?.associatedSd, centralSdAid(this, service.seId), `package ${service.packageAid} is under ${pkg?.associatedSd}`);
});

Then(/^the card (no longer|still) holds the instance of "([^"]+)"$/, async function (this: TsmWorld, which: string, serviceId: string) {
  const service = this.serviceRecord(serviceId);
  const card = await this.view(service.seId);
  const present = entryOf(card, service.instanceAid!) !== undefined;
  assert.equal(present, which === 'still', `${service.instanceAid} on ${service.seId}: ${describeContent(card)}`);
});

const CARD_VIEWS: Record<string, (app: { lifeCycle: string; contactless?: string }) => boolean> = {
  locked: (a) => a.lifeCycle === 'LOCKED',
  selectable: (a) => a.lifeCycle === 'SELECTABLE',
  activated: (a) => a.contactless === 'activated',
};

Then('the card shows the instance of {string} as {word}', async function (this: TsmWorld, serviceId: string, view: string) {
  const service = this.serviceRecord(serviceId);
  // Contactless availability is inside the card (no GET STATUS shows it): only a simulated card tells.
  const card = view === 'activated' ? this.card(service.seId) : await this.view(service.seId);
  const app = entryOf<{ aid: string; kind: string; lifeCycle: string; associatedSd: string; contactless?: string }>(card, service.instanceAid!);
  assert.ok(app, `no instance ${service.instanceAid} on ${service.seId}`);
  const check = CARD_VIEWS[view];
  assert.ok(check, `no way to see "${view}" on the card (${Object.keys(CARD_VIEWS).join(', ')})`);
  assert.ok(check(app), `${service.instanceAid} is ${app.lifeCycle}, contactless ${app.contactless ?? 'never set'}`);
});

Then('the instance of {string} holds no cardholder data', function (this: TsmWorld, serviceId: string) {
  const service = this.serviceRecord(serviceId);
  const app = entryOf(this.card(service.seId), service.instanceAid!);
  assert.ok(app, `no instance ${service.instanceAid}`);
  assert.equal(app.storedHex, '', `${service.instanceAid} still holds ${app.storedHex}`);
});

Then('the card no longer holds any of that cardholder data', function (this: TsmWorld) {
  const s = lifecycleOf(this);
  assert.ok(s.cardholderHex.length > 0, 'no cardholder data was written in this scenario');
  const card = this.card(currentService(this).seId);
  for (const app of card.applications) {
    for (const hex of s.cardholderHex) assert.ok(!app.storedHex.includes(hex), `${app.aid} still holds ${hex}`);
  }
});

Then('no application was left under the central security domain', async function (this: TsmWorld) {
  const service = currentService(this);
  const central = centralSdAid(this, service.seId);
  const left = (await this.view(service.seId)).applications.filter((a) => a.associatedSd === central);
  assert.deepEqual(left.map((a) => a.aid), []);
});

Then(/^the keys the central TSM holds (open|no longer open) (\w+)'s security domain$/, async function (this: TsmWorld, which: string, _sp: string) {
  const service = currentService(this);
  const held = [{ name: 'its central SD keys', keys: this.fleet.ses.find((x) => x.seId === service.seId)!.centralSd.keys }];
  const temporary = lifecycleOf(this).temporaryKeys.get(service.id);
  if (temporary) held.push({ name: 'the temporary keys it created', keys: temporary });
  const since = this.commandsSent.length;
  const outcomes: string[] = [];
  await this.withHarness(service.seId, async (ch) => {
    for (const h of held) outcomes.push(`${h.name}: ${await keyProof(ch, service.sdAid, h.keys)}`);
  });
  const opened = outcomes.filter((o) => o.endsWith(': match'));
  if (which === 'open') assert.ok(opened.length > 0, `none opens ${service.sdAid}: ${outcomes.join('; ')}`);
  else {
    assert.deepEqual(opened, [], `still open ${service.sdAid}`);
    assert.ok(outcomes.every((o) => o.endsWith('card-cryptogram-mismatch')), outcomes.join('; '));
  }
  assert.deepEqual(externalAuthenticatesSince(this, since), [], 'trying keys must not spend the card authentication budget');
});

Given('the issuer has put the instance of {string} on the card itself', async function (this: TsmWorld, serviceId: string) {
  const service = this.serviceRecord(serviceId);
  const issuer = this.issuer(service.seId);
  await this.withHarness(service.seId, (ch) => installAsIssuer(ch, issuer, { packageAid: service.packageAid!, moduleAid: service.moduleAid!, aid: service.instanceAid! }));
  assert.equal(entryOf(await this.view(service.seId), service.instanceAid!)?.associatedSd, issuer.aid.toUpperCase());
  lifecycleOf(this).serviceId = serviceId;
});

Given('the issuer has locked the instance of {string} on the card without the central TSM', async function (this: TsmWorld, serviceId: string) {
  const service = this.serviceRecord(serviceId);
  await this.withHarness(service.seId, (ch) => lockAsIssuer(ch, this.issuer(service.seId), service.instanceAid!));
  assert.equal(entryOf(await this.view(service.seId), service.instanceAid!)?.lifeCycle, 'LOCKED');
  markRequest(this, serviceId);
});

Then('the card holds the instance of {string} under the central security domain, not yet handed over', async function (this: TsmWorld, serviceId: string) {
  const service = this.serviceRecord(serviceId);
  const app = entryOf(await this.view(service.seId), service.instanceAid!);
  assert.ok(app, `no instance ${service.instanceAid} on ${service.seId}`);
  assert.equal(app.associatedSd, centralSdAid(this, service.seId));
});

Then('the instance of {string} still holds that cardholder data', function (this: TsmWorld, serviceId: string) {
  const service = this.serviceRecord(serviceId);
  const written = lifecycleOf(this).cardholderHex;
  assert.ok(written.length > 0, 'no cardholder data was written in this scenario');
  const app = entryOf(this.card(service.seId), service.instanceAid!);
  assert.ok(app, `no instance ${service.instanceAid}`);
  for (const hex of written) assert.ok(app.storedHex.includes(hex), `${service.instanceAid} holds ${app.storedHex || 'nothing'}, not ${hex}`);
});

/** Free non-volatile memory as the card reports it (GET DATA 'FF21'). */
function freeMemory(view: CardView): number {
  if (view.freeNonVolatile === undefined) throw new HarnessError("the card does not report its free memory (GET DATA 'FF21' extended card resources)");
  return view.freeNonVolatile;
}
