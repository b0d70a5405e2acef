import { describe, expect, it } from 'vitest';
import { fromHex } from '../gp/index.ts';
import { DriverError } from './channel.ts';
import { newSimulatedSe, runChannelConformance } from './channel.conformance.ts';
import { InProcessChannel } from './inproc.ts';
import { openChannel } from './open.ts';

const card = (seId: string) => newSimulatedSe(seId).se;

runChannelConformance('in-process', async () => {
  const { se, isdAid, isdKeys } = newSimulatedSe('se-1');
  const channel = new InProcessChannel(se);
  return { channel, se, isdAid, isdKeys, dispose: () => channel.close() };
});

describe('InProcessChannel', () => {
  it('times out when the card answers slower than the deadline, without the card acting on the command', async () => {
    const se = card('se-1');
    let seen = 0;
    const process = se.process.bind(se);
    se.process = (c) => (seen++, process(c));
    const ch = new InProcessChannel(se, { latencyMs: 200 });
    const e = await ch.transmit(fromHex('80CA9F7F00'), { timeoutMs: 20 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DriverError);
    expect((e as DriverError).kind).toBe('timeout');
    await new Promise((r) => setTimeout(r, 250));
    expect(seen).toBe(0);
  });

  it('never answers in the same tick: the card sees the command on a later turn of the event loop', async () => {
    const se = card('se-1');
    let seen = 0;
    const process = se.process.bind(se);
    se.process = (c) => (seen++, process(c));
    const ch = new InProcessChannel(se);
    let settled = false;
    const answer = ch.transmit(fromHex('80CA9F7F00')).then(() => (settled = true));
    expect(seen).toBe(0);
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(settled).toBe(false);
    await answer;
    expect(seen).toBe(1);
  });

  it('an exchange aborted before its turn never reaches the card', async () => {
    const se = card('se-1');
    let seen = 0;
    const process = se.process.bind(se);
    se.process = (c) => (seen++, process(c));
    const ch = new InProcessChannel(se);
    const abort = new AbortController();
    const pending = ch.transmit(fromHex('80CA9F7F00'), { signal: abort.signal }).catch((x: unknown) => x);
    abort.abort();
    expect(await pending).toBeInstanceOf(DriverError);
    await new Promise((r) => setImmediate(r));
    expect(seen).toBe(0);
  });

  it('is what openChannel("inproc:<seId>") gives, and names a missing SE', async () => {
    const a = card('se-a');
    const b = card('se-b');
    const ch = await openChannel('inproc:se-b', { endpoints: [a, b], trace: false });
    expect(ch).toBeInstanceOf(InProcessChannel);
    expect(ch.name).toBe('inproc:se-b');
    const e = await openChannel('inproc:se-c', { endpoints: [a, b] }).catch((x: unknown) => x);
    expect((e as DriverError).kind).toBe('unavailable');
    expect((e as Error).message).toContain('se-c');
  });
});
