/** SP API steps: the SP TSM's requests to the central TSM and the generic checks on its answers. */
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { assertMatches } from '../harness/index.ts';
import type { TsmWorld } from './world.ts';

Given('the built-in fleet of simulated secure elements', async function (this: TsmWorld) {
  await this.start();
});

When('{sp} asks for the secure element of subscriber {string} on {string}', async function (this: TsmWorld, sp: string, msisdn: string, mno: string) {
  const r = this.remember(await this.sp(sp).getSeIdByMsi(msisdn, mno));
  if ('seId' in r.body) this.seId = r.body.seId as string;
});

When('{sp} reads the data of that secure element', async function (this: TsmWorld, sp: string) {
  assert.ok(this.seId, 'no secure element was looked up before');
  this.remember(await this.sp(sp).getSeData(this.seId));
});

When('{sp} sends the central TSM a request that is not valid JSON', async function (this: TsmWorld, sp: string) {
  this.remember(await this.sp(sp).raw('POST', '/conversations', '{"serviceId": "bankco-pay",'));
});

Then('the request succeeds', function (this: TsmWorld) {
  const b = this.lastBody();
  assert.equal(b.status, 'Executed-Success', `expected Executed-Success, got ${b.status} ${b.reasonCode ?? ''}: ${b.message ?? ''}`);
});

Then('the request fails with reason {string}', function (this: TsmWorld, reason: string) {
  const b = this.lastBody();
  assert.equal(b.status, 'Failed', `expected Failed ${reason}, got ${b.status} ${b.reasonCode ?? ''}: ${b.message ?? ''}`);
  assert.equal(b.reasonCode, reason, `expected reason ${reason}, got ${b.reasonCode}: ${b.message ?? ''}`);
  assert.ok(typeof b.message === 'string' && b.message.length > 0, 'a refusal must carry a message a person can act on');
});

Then('the response status is {string}', function (this: TsmWorld, status: string) {
  const b = this.lastBody();
  assert.equal(b.status, status, `expected ${status}, got ${b.status} ${b.reasonCode ?? ''}: ${b.message ?? ''}`);
});

Then('the response matches {string}', async function (this: TsmWorld, expression: string) {
  await assertMatches(expression, this.lastBody());
});
