/** MNO routing steps: which network carried a request, and networks going down and up. */
import assert from 'node:assert/strict';
import { Given, Then, When } from '@cucumber/cucumber';
import { lifecycleOf } from '../harness/index.ts';
import type { TsmWorld } from './world.ts';

function setNetwork(world: TsmWorld, mno: string, up: boolean): void {
  const gateway = world.tsm.gateway;
  assert.ok(gateway.network(mno), `no network ${mno} (${gateway.networks().map((n) => n.name).join(', ')})`);
  gateway.setUp(mno, up);
  lifecycleOf(world).mark();
  world.commandsAtEnd = world.commandsSent.length;
}

Given('the network of {word} is down', function (this: TsmWorld, mno: string) {
  setNetwork(this, mno, false);
});

When('the network of {word} is back up', function (this: TsmWorld, mno: string) {
  setNetwork(this, mno, true);
});

Then('every command of that request reached {word} through {word} over its {word} bearer', function (this: TsmWorld, seId: string, mno: string, bearer: string) {
  assert.ok(this.commandsAtEnd !== undefined, 'no request was marked');
  const commands = this.commandsSent.slice(this.commandsAtEnd);
  assert.ok(commands.length > 0, 'no command reached any card');
  const elsewhere = commands.filter((c) => c.corr.seId !== seId);
  assert.deepEqual(elsewhere.map((c) => `${c.corr.seId}: ${c.hex}`), [], `commands reached other SEs than ${seId}`);
  const hops = lifecycleOf(this).hopsSinceMark();
  assert.ok(hops.length > 0, 'no network hop was traced');
  const other = hops.filter((h) => h.mno !== mno || h.bearer !== bearer);
  assert.deepEqual(other, [], `hops over other networks than ${mno}/${bearer}`);
});
