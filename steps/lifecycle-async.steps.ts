/**
 * Asynchronous requests (callbacks over real HTTP, the SP event stream, GET /operations), repeated function call
 * identifiers and validity periods.
 */
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import type { Answer, OperationAccepted, TsmEvent } from '../tsm/index.ts';
import { markRequest, sendRequest } from './lifecycle-marks.ts';
import { CallbackReceiver, actionOfVerb, type RequestExtras, type ServiceAction, headerOf, lifecycleOf, tsmCommandsTo } from '../harness/index.ts';
import { InstallRole, Ins } from '../gp/index.ts';
import type { TsmWorld } from './world.ts';

Given("{sp} listens for the central TSM's callbacks", async function (this: TsmWorld, _sp: string) {
  const s = lifecycleOf(this);
  assert.equal(s.callbacks, undefined, 'the SP already listens');
  s.callbacks = await CallbackReceiver.start();
});

Given('{sp} follows its event stream', async function (this: TsmWorld, sp: string) {
  lifecycleOf(this).streams.set(sp, await this.sp(sp).openEvents());
});

function keepFirst(world: TsmWorld, id: string, answer: Answer): void {
  const s = lifecycleOf(world);
  if (!s.firstAnswers.has(id)) s.firstAnswers.set(id, answer);
}

/** The first answer to the identifier of the last request, which must have been a repeat. */
function firstAnswerOfRepeat(world: TsmWorld): Answer {
  const s = lifecycleOf(world);
  assert.ok(s.repeated, 'the last request was not a repeat of an earlier one');
  const first = s.firstAnswers.get(String(s.lastRequest?.extras.functionCallIdentifier));
  assert.ok(first, 'no first answer was kept for that function call identifier');
  return first;
}

async function inBackground(world: TsmWorld, sp: string, verb: string, serviceId: string, functionCallIdentifier?: string) {
  const s = lifecycleOf(world);
  const extras: RequestExtras = s.callbacks ? { callbackUrl: s.callbacks.url } : { respondAsync: true };
  if (functionCallIdentifier) extras.functionCallIdentifier = functionCallIdentifier;
  const r = await sendRequest(world, sp, actionOfVerb(verb), serviceId, extras);
  const id = (r.body as Partial<OperationAccepted>).operationId;
  if (r.httpStatus === 202 && id) s.operationId = id;
  if (functionCallIdentifier) keepFirst(world, functionCallIdentifier, r.body);
}

When('{sp} asks the central TSM to {word} its service {string} in the background', async function (this: TsmWorld, sp: string, verb: string, serviceId: string) {
  await inBackground(this, sp, verb, serviceId);
});

When(
  '{sp} asks the central TSM to {word} its service {string} in the background with the function call identifier {string}',
  async function (this: TsmWorld, sp: string, verb: string, serviceId: string, id: string) {
    await inBackground(this, sp, verb, serviceId, id);
  },
);

Then('the request is accepted with an operation id', function (this: TsmWorld) {
  const b = this.lastBody() as Partial<OperationAccepted>;
  assert.equal(this.last?.httpStatus, 202, `expected HTTP 202 (accepted), got ${this.last?.httpStatus}: ${JSON.stringify(b)}`);
  assert.equal(b.status, 'Executed-Success');
  assert.ok(typeof b.operationId === 'string' && b.operationId.length > 0, 'no operation id');
  assert.ok(b.state === 'accepted' || b.state === 'running', `operation state ${b.state}`);
});

function operationId(world: TsmWorld): string {
  const id = lifecycleOf(world).operationId;
  assert.ok(id, 'no request was accepted for background execution');
  return id;
}

Then("{sp}'s callback receives the result of that operation with status {string}", async function (this: TsmWorld, _sp: string, status: string) {
  const s = lifecycleOf(this);
  assert.ok(s.callbacks, 'the SP does not listen for callbacks');
  const id = operationId(this);
  const d = await s.callbacks.next((x) => x.body?.operationId === id);
  assert.equal(d.headers['x-operation-id'], id);
  const result = d.body?.result as { status?: string } | undefined;
  assert.ok(result, `the callback carries no result: ${d.raw}`);
  assert.equal(result.status, status, JSON.stringify(result));
  // What the callback carried is the answer the next checks look at.
  this.remember({ httpStatus: 200, body: result as never });
});

function stream(world: TsmWorld, sp: string) {
  const st = lifecycleOf(world).streams.get(sp);
  assert.ok(st, `${sp} does not follow its event stream`);
  return st;
}

Then("{sp}'s event stream reports that operation done with status {string}", async function (this: TsmWorld, sp: string, status: string) {
  const id = operationId(this);
  const e = (await stream(this, sp).next((x: TsmEvent) => x.type === 'operation' && x.operationId === id && x.state === 'done')) as Extract<TsmEvent, { type: 'operation' }>;
  assert.equal(e.result?.status, status, JSON.stringify(e.result));
});

Then("{sp}'s event stream reports its service {string} becoming {string}", async function (this: TsmWorld, sp: string, serviceId: string, state: string) {
  const e = await stream(this, sp).next((x: TsmEvent) => x.type === 'service-state' && x.serviceId === serviceId && x.to === state);
  assert.equal(e.serviceProvider, sp);
});

When('{sp} asks the central TSM about that operation', async function (this: TsmWorld, sp: string) {
  this.remember(await this.sp(sp).getOperation(operationId(this)));
});

When('{sp} {request} its service {string} with the function call identifier {string}', async function (this: TsmWorld, sp: string, action: ServiceAction, serviceId: string, id: string) {
  const r = await sendRequest(this, sp, action, serviceId, { functionCallIdentifier: id });
  keepFirst(this, id, r.body);
});

When('{sp} sends the same request again with the same function call identifier', async function (this: TsmWorld, sp: string) {
  const s = lifecycleOf(this);
  const last = s.lastRequest;
  assert.ok(last && last.extras.functionCallIdentifier, 'no request with a function call identifier was sent');
  assert.equal(last.sp, sp);
  await sendRequest(this, sp, last.action as ServiceAction, last.serviceId, last.extras);
  s.repeated = true;
});

Then('the answer is the first answer, word for word', function (this: TsmWorld) {
  assert.deepEqual(this.lastBody(), firstAnswerOfRepeat(this));
});

Then('the second acceptance names the same operation', function (this: TsmWorld) {
  const first = firstAnswerOfRepeat(this) as Partial<OperationAccepted>;
  const again = this.lastBody() as Partial<OperationAccepted>;
  assert.ok(first.operationId, 'the first request was not accepted with an operation id');
  assert.equal(again.operationId, first.operationId);
});

const WIRE: Record<string, { ins: number; p1?: number }> = {
  deletion: { ins: Ins.DELETE },
  extradition: { ins: Ins.INSTALL, p1: InstallRole.EXTRADITION },
};

Then('the central TSM sent the card exactly one {word}', function (this: TsmWorld, what: string) {
  const w = WIRE[what];
  assert.ok(w, `no way to recognise a ${what} on the wire (${Object.keys(WIRE).join(', ')})`);
  const seId = this.serviceRecord(lifecycleOf(this).serviceId!).seId;
  const sent = tsmCommandsTo(this.commandsSent, seId, w.ins).filter((c) => w.p1 === undefined || headerOf(c).p1 === w.p1);
  assert.equal(sent.length, 1, `${sent.length} ${what}(s) reached ${seId}: ${sent.map((c) => c.hex.slice(0, 16)).join(', ')}`);
});

Given('{sp} prepares a request to {word} its service {string}, valid for {int} seconds', function (this: TsmWorld, sp: string, verb: string, serviceId: string, seconds: number) {
  const s = lifecycleOf(this);
  s.lastRequest = {
    sp,
    action: actionOfVerb(verb),
    serviceId,
    extras: { requestTimestamp: new Date(this.clock.now()).toISOString(), validityPeriod: seconds },
  };
});

When('{int} seconds pass before the request reaches the central TSM', async function (this: TsmWorld, seconds: number) {
  const prepared = lifecycleOf(this).lastRequest;
  assert.ok(prepared, 'no request was prepared');
  this.clock.advance(seconds * 1000);
  markRequest(this, prepared.serviceId);
  await sendRequest(this, prepared.sp, prepared.action as ServiceAction, prepared.serviceId, prepared.extras);
});
