import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fleetSchema } from '../profiles/fleet-schema.ts';
import { defaultFleet } from '../profiles/fleet.ts';
import { canTransition, SERVICE_STATES } from './service-state.ts';
import { FileStore, MemoryStore, STORE_FORMAT, StoreError } from './store.ts';
import { inprocChannels } from './channels.ts';
import { createSimulatedSe } from '../simulator/index.ts';
import { simulatedTsm } from '../test/simulated-tsm.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'tsm-store-'));
  dirs.push(d);
  return d;
};
const noCard = async (): Promise<never> => {
  throw new Error('no card in this test');
};
const stores: FileStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});
const open = (dir: string) => {
  const s = new FileStore(dir);
  stores.push(s);
  return s;
};

describe('service state machine', () => {
  it('is the list the fleet schema accepts', () => {
    const svc = fleetSchema.properties.ses.items.properties.services.items.properties.state as { enum: string[] };
    expect(svc.enum).toEqual([...SERVICE_STATES]);
  });

  it('allows the saga steps and refuses shortcuts', () => {
    expect(canTransition('installed', 'activated')).toBe(true);
    expect(canTransition('installed', 'updating')).toBe(true);
    expect(canTransition('updating', 'installed')).toBe(true);
    expect(canTransition('deleted', 'activated')).toBe(false);
    expect(canTransition('available', 'activated')).toBe(false);
    expect(canTransition('updating', 'deleting')).toBe(false);
  });
});

describe('FileStore', () => {
  it('saves atomically and loads what it saved, leaving no temporary file', () => {
    const dir = tmp();
    const s = open(dir);
    expect(s.load()).toBeUndefined();
    s.save({ format: STORE_FORMAT, services: [{ id: 'x', seId: 'se-1', serviceProvider: 'BankCo', sdAid: 'F000000001', state: 'installed' }] });
    expect(s.load()!.services[0].id).toBe('x');
    expect(readdirSync(dir).sort()).toEqual(['tsm-state.json', 'tsm.lock']);
    s.close();
    expect(readdirSync(dir)).toEqual(['tsm-state.json']);
  });

  it('refuses a data directory another central TSM holds, naming its pid, until that one closes', () => {
    const dir = tmp();
    const first = open(dir);
    expect(readFileSync(path.join(dir, 'tsm.lock'), 'utf8').trim()).toBe(String(process.pid));
    expect(() => open(dir)).toThrow(StoreError);
    expect(() => open(dir)).toThrow(`${dir} is in use by another central TSM (pid ${process.pid})`);
    first.close();
    expect(() => open(dir)).not.toThrow();
  });

  it('is not kept off its directory by a pid file naming a live process: the flock decides', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'tsm.lock'), String(process.ppid));
    expect(() => open(dir)).not.toThrow();
    expect(readFileSync(path.join(dir, 'tsm.lock'), 'utf8').trim()).toBe(String(process.pid));
  });

  it('holds the lock against other processes (util-linux flock on the directory)', () => {
    const dir = tmp();
    const probe = () => spawnSync('flock', ['--nonblock', '--conflict-exit-code', '75', dir, 'true']).status;
    expect(probe()).toBe(0);
    const s = open(dir);
    expect(probe()).toBe(75);
    s.close();
    expect(probe()).toBe(0);
  });

  it('abandoned (a crash simulated in one process) frees the directory, keeps the pid file and writes nothing more', () => {
    const dir = tmp();
    const dead = new FileStore(dir);
    dead.abandon();
    expect(readFileSync(path.join(dir, 'tsm.lock'), 'utf8').trim()).toBe(String(process.pid));
    expect(() => dead.save({ format: STORE_FORMAT, services: [] })).toThrow(/store closed/);
    expect(() => open(dir)).not.toThrow();
  });

  it('removes the temporary files a killed TSM left, and nothing else', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'tsm-state.json.tmp-4242'), '');
    writeFileSync(path.join(dir, 'tsm-state.json.tmp-77'), '{"format":');
    writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    open(dir);
    expect(readdirSync(dir).sort()).toEqual(['notes.txt', 'tsm.lock']);
  });

  it('refuses a state file that is not one', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'tsm-state.json'), '{"format": "something-else", "services": []}');
    expect(() => open(dir).load()).toThrow(/not a TSM state of format/);
    const dir2 = tmp();
    writeFileSync(path.join(dir2, 'tsm-state.json'), '{"format": "tsmlab.tsm-st');
    expect(() => open(dir2).load()).toThrow(/not a readable TSM state/);
  });
});

describe('central TSM restart', () => {
  it('keeps service states across a restart and marks a saga it finds half-way as failed', async () => {
    const dir = tmp();
    const first = simulatedTsm({ fleet: defaultFleet(), channels: noCard, store: open(dir) });
    const saved = first.registry.allServices();
    await first.close();
    // What a crash in the middle of an update would leave behind.
    const state = JSON.parse(readFileSync(path.join(dir, 'tsm-state.json'), 'utf8'));
    expect(state.services).toEqual(saved);
    state.services.find((s: { id: string }) => s.id === 'bankco-pay').state = 'updating';
    state.services.find((s: { id: string }) => s.id === 'transitco-ticket').state = 'activated';
    writeFileSync(path.join(dir, 'tsm-state.json'), JSON.stringify(state));

    const second = simulatedTsm({ fleet: defaultFleet(), channels: noCard, store: open(dir) });
    const bank = second.registry.service('se-1', 'bankco-pay');
    expect(bank.state).toBe('failed');
    expect(bank.note).toMatch(/interrupted while updating/);
    expect(second.registry.service('se-1', 'transitco-ticket').state).toBe('activated');
    const refused = await second
      .beginConversation({ serviceProvider: 'BankCo' }, { seId: 'se-1', serviceId: 'bankco-pay', requestedOperation: 'personalize' })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 'Failed', reasonCode: '3.8' });
    await second.close();
    // The recovery itself was persisted.
    expect(JSON.parse(readFileSync(path.join(dir, 'tsm-state.json'), 'utf8')).services.find((s: { id: string }) => s.id === 'bankco-pay').state).toBe('failed');
  });
});

describe('central TSM restart with a recorded update saga', () => {
  /** The state a stop right after "updating" (step DELETE recorded, nothing sent yet) leaves behind. */
  function stoppedBeforeDelete() {
    const store = new MemoryStore();
    // A first TSM writes the fleet's states to the store.
    simulatedTsm({ fleet: defaultFleet(), channels: noCard, store });
    const saved = store.load()!;
    const svc = saved.services.find((s) => s.seId === 'se-1' && s.id === 'bankco-pay')!;
    const before = svc.state;
    svc.state = 'updating';
    saved.sagas = [{ saga: 'update', seId: 'se-1', serviceId: 'bankco-pay', step: 'delete', from: before as 'installed', at: 0 }];
    store.save(saved);
    return { store, before };
  }

  it('finds the instance still under the SP SD when the DELETE never ran, and returns the service to its state before', async () => {
    const { store, before } = stoppedBeforeDelete();
    const fleet = defaultFleet();
    const card = createSimulatedSe(fleet.ses.find((s) => s.seId === 'se-1')!);
    const tsm = simulatedTsm({ fleet, channels: inprocChannels([card]), store });
    const answer = await tsm.getSeData({ serviceProvider: 'BankCo' }, { seId: 'se-1' });
    const svc = answer.services.find((s) => s.id === 'bankco-pay')!;
    expect(svc.state).toBe(before);
    expect(svc.note).toMatch(/^interrupted while updating at the delete step: the card had not deleted the instance/);
    await tsm.close();
    expect(store.load()!.sagas).toBeUndefined();
  });

  it('marks the service failed when the card cannot be inspected at start-up', async () => {
    const { store } = stoppedBeforeDelete();
    const tsm = simulatedTsm({ fleet: defaultFleet(), channels: noCard, store });
    const answer = await tsm.getSeData({ serviceProvider: 'BankCo' }, { seId: 'se-1' });
    const svc = answer.services.find((s) => s.id === 'bankco-pay')!;
    expect(svc.state).toBe('failed');
    expect(svc.note).toMatch(/could not be inspected at restart/);
    await tsm.close();
  });
});
