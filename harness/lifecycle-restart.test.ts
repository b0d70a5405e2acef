import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { CardChannel } from '../drivers/index.ts';
import { defaultFleet } from '../profiles/fleet.ts';
import { createSimulatedSe, type SimulatedSe } from '../simulator/index.ts';
import { inprocChannels, ManualClock, SpClient, SpClientError, startSpApi } from '../tsm/index.ts';
import { Freezer, RestartableTsm, type TsmHost } from './lifecycle-restart.ts';
import { simulatedTsm } from '../test/simulated-tsm.ts';

const INSTANCE = 'F042414E4B434F2E5041592E31';
const DELETE = 0xe4;

let host: TsmHost | undefined;
let life: RestartableTsm | undefined;

afterEach(async () => {
  if (host && life) await life.dispose(host);
  await host?.api.close();
  host = life = undefined;
});

async function startHost(): Promise<{ host: TsmHost; cards: Map<string, SimulatedSe> }> {
  const fleet = defaultFleet();
  const cards = new Map(fleet.ses.map((s) => [s.seId, createSimulatedSe(s)]));
  const channels = inprocChannels(cards.values());
  const clock = new ManualClock();
  const tsm = simulatedTsm({ fleet, channels, clock });
  const api = await startSpApi(tsm, { port: 0 });
  return { host: { fleet, cards: { channel: channels }, clock, tsm, api }, cards };
}

const stateOf = (h: TsmHost, seId: string, serviceId: string) => h.tsm.operator.service(seId, serviceId).state;

describe('RestartableTsm', () => {
  it('keeps service states across a clean restart, on the same API address', async () => {
    const started = await startHost();
    host = started.host;
    const url = host.api.url;
    life = await RestartableTsm.start(host);
    expect(host.api.url).toBe(url);
    const bank = new SpClient({ baseUrl: url, serviceProvider: 'BankCo' });
    expect((await bank.suspendService('bankco-pay')).body.status).toBe('Executed-Success');
    const before = host.tsm;
    await bank.getSeData('se-1');
    await life.restart(host);
    expect((await bank.getSeData('se-1')).body.status).toBe('Executed-Success');
    expect(host.tsm).not.toBe(before);
    expect(stateOf(host, 'se-1', 'bankco-pay')).toBe('suspended');
    expect((await bank.resumeService('bankco-pay')).body).toMatchObject({ status: 'Executed-Success', state: 'installed' });
    expect(JSON.parse(readFileSync(life.stateFile, 'utf8')).services.find((s: { id: string }) => s.id === 'bankco-pay').state).toBe('installed');
  });

  it('a crash right after the DELETE of an update leaves the SP without an answer and the service failed after the restart', async () => {
    const started = await startHost();
    host = started.host;
    life = await RestartableTsm.start(host);
    const bank = new SpClient({ baseUrl: host.api.url, serviceProvider: 'BankCo' });
    const frozen = life.freezer!.freezeAfter((c) => c[1] === DELETE);
    const answer = bank.updateService('bankco-pay').then(
      (r) => r,
      (e: unknown) => e,
    );
    await frozen;
    expect(stateOf(host, 'se-1', 'bankco-pay')).toBe('updating');
    // The instance is gone from the card: the crash came between the saga's steps.
    expect(started.cards.get('se-1')!.inspect().applications.some((a) => a.aid === INSTANCE)).toBe(false);
    await life.restartAfterCrash(host);
    expect(await answer).toBeInstanceOf(SpClientError);
    // Through the API: the restarted TSM answers once it has looked at the card.
    const seen = (await bank.getSeData('se-1')).body as { services?: { id: string; state: string; note?: string }[] };
    const svc = seen.services?.find((x) => x.id === 'bankco-pay');
    expect(svc?.state).toBe('failed');
    expect(svc?.note).toMatch(/interrupted/);
    expect((await bank.updateService('bankco-pay')).body).toMatchObject({ status: 'Executed-Success', state: 'installed' });
    expect(started.cards.get('se-1')!.inspect().applications.find((a) => a.aid === INSTANCE)?.lifeCycle).toBe('SELECTABLE');
  });

  it('refuses a crash restart when nothing crashed, and removes its directory when disposed', async () => {
    const started = await startHost();
    host = started.host;
    life = await RestartableTsm.start(host);
    await expect(life.restartAfterCrash(host)).rejects.toThrow(/not crashed/);
    const dir = life.dir;
    await life.dispose(host);
    life = undefined;
    expect(existsSync(dir)).toBe(false);
  });
});

describe('Freezer', () => {
  it('answers the trigger command, then never answers again on any channel', async () => {
    const fleet = defaultFleet();
    const cards = fleet.ses.map((s) => createSimulatedSe(s));
    const base = inprocChannels(cards);
    const underneath: CardChannel[] = [];
    const freezer = new Freezer(async (seId) => {
      const c = await base(seId);
      underneath.push(c);
      return c;
    });
    const ch = await freezer.channels('se-1');
    const frozen = freezer.freezeAfter((c) => c[1] === 0xca);
    const getData = Uint8Array.of(0x80, 0xca, 0x00, 0x66, 0x00);
    const r = await ch.transmit(getData);
    expect(r.length).toBeGreaterThanOrEqual(2);
    await frozen;
    expect(freezer.frozen).toBe(true);
    expect(freezer.lastCommand).toEqual(getData);
    const late = await Promise.race([ch.transmit(getData).then(() => 'answered'), new Promise((res) => setImmediate(() => res('silent')))]);
    expect(late).toBe('silent');
    // The dead process's handles are released: the channel underneath is closed, the frozen one stays silent.
    await freezer.releaseHandles();
    await expect(underneath[0].transmit(getData)).rejects.toThrow(/after close/);
  });
});

describe('Freezer.freezeBefore', () => {
  it('never sends the trigger command to the card', async () => {
    const fleet = defaultFleet();
    const cards = fleet.ses.map((s) => createSimulatedSe(s));
    const sent: number[] = [];
    const base = inprocChannels(cards);
    const freezer = new Freezer(async (seId) => {
      const c = await base(seId);
      return { ...c, transmit: (cmd, o) => (sent.push(cmd[1]), c.transmit(cmd, o)) } as CardChannel;
    });
    const ch = await freezer.channels('se-1');
    const frozen = freezer.freezeBefore((c) => c[1] === 0xca);
    await ch.transmit(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, 0x00));
    const answer = ch.transmit(Uint8Array.of(0x80, 0xca, 0x00, 0x66, 0x00)).then(() => 'answered');
    await frozen;
    expect(await Promise.race([answer, new Promise((res) => setImmediate(() => res('silent')))])).toBe('silent');
    expect(sent).toEqual([0xa4]);
  });
});
