/**
 * SeAccess on the simulator: the network that reaches an SE, the central TSM's own session to its central SD,
 * and one piece of work per SE (a central session, or an open conversation until its time to live passes).
 */
import { describe, expect, it } from 'vitest';
import { defaultFleet } from '../profiles/fleet.ts';
import { createSimulatedSe, MnoNetworks } from '../simulator/index.ts';
import { inprocChannels } from './channels.ts';
import { ManualClock } from './clock.ts';
import { ConversationStore, type Conversation } from './conversation.ts';
import { Registry } from './registry.ts';
import { SeAccess } from './se-access.ts';
import { TsmError } from './status.ts';

const CENTRAL_SD = 'F043454E5452414C2E5344';

function setUp() {
  const fleet = defaultFleet();
  const registry = new Registry(fleet);
  const gateway = new MnoNetworks(fleet.mnos);
  const conversations = new ConversationStore();
  const clock = new ManualClock();
  const access = new SeAccess({ registry, gateway, channels: inprocChannels(fleet.ses.map((s) => createSimulatedSe(s))), conversations, clock });
  return { registry, gateway, conversations, clock, access };
}

const reason = async (p: Promise<unknown> | (() => unknown)) => {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(TsmError);
    return `${(e as TsmError).reasonCode}: ${(e as TsmError).message}`;
  }
  return 'no error';
};

function openConversation(seId: string, expiresAt: number): Conversation {
  return {
    id: 'conv-test',
    serviceProvider: 'BankCo',
    seId,
    mno: 'MNO-A',
    bearer: 'http-admin',
    serviceId: 'bankco-pay',
    targetAid: 'F000',
    requestedOperation: 'personalize',
    scriptFormat: 'apdu-hex',
    limits: { maxApduCount: 10, maxScriptSize: 1000 },
    createdAt: 0,
    expiresAt,
    state: 'open',
    scriptsExecuted: 0,
    apdusExecuted: 0,
    tail: Promise.resolve(),
  };
}

describe('SeAccess', () => {
  it("routes an SE through its operator's network, and refuses with 5.1 when that network is down", async () => {
    const { access, gateway } = setUp();
    expect(access.route('se-1').name).toBe('MNO-A');
    gateway.setUp('MNO-A', false);
    expect(await reason(() => access.route('se-1'))).toMatch(/^5\.1: SE se-1 is inaccessible: MNO-A is down/);
  });

  it('opens its own session to the central SD and holds the SE while it runs (3.7 for others)', async () => {
    const { access } = setUp();
    const network = access.route('se-1');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let sdAid = '';
    const first = access.withCentralSession('se-1', network, async (session) => {
      sdAid = session.sdAid;
      await held;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(access.isBusy('se-1')).toBe(true);
    expect(await reason(access.withCentralSession('se-1', network, async () => undefined))).toMatch(/^3\.7: SE se-1 is busy/);
    release();
    await first;
    expect(sdAid.toUpperCase()).toBe(CENTRAL_SD);
    expect(access.isBusy('se-1')).toBe(false);
    await access.withCentralSession('se-1', network, async () => undefined);
  });

  it('counts an open conversation as holding the SE until its time to live has passed', async () => {
    const { access, conversations, clock } = setUp();
    const c = openConversation('se-1', clock.now() + 1000);
    conversations.add(c);
    expect(await reason(access.withCentralSession('se-1', access.route('se-1'), async () => undefined))).toMatch(/^3\.7/);
    clock.advance(1001);
    expect(access.isBusy('se-1')).toBe(false);
    expect(c.state).toBe('expired');
  });

  it('refuses a locked SE (3.8, nothing sent) unless the work may run on a locked card', async () => {
    const { access, registry } = setUp();
    registry.setSeLock('se-1', { seId: 'se-1', lockedBy: 'BankCo', lockedAt: '2030-01-01T00:00:00.000Z' });
    let ran = 0;
    expect(await reason(access.withCentralSession('se-1', access.route('se-1'), async () => void ran++))).toMatch(/^3\.8: SE se-1 is locked/);
    expect(ran).toBe(0);
    await access.withCentralSession('se-1', access.route('se-1'), async () => void ran++, { whileLocked: true });
    expect(ran).toBe(1);
  });

  it('answers 5.1 when no channel reaches the SE', async () => {
    const fleet = defaultFleet();
    const access = new SeAccess({
      registry: new Registry(fleet),
      gateway: new MnoNetworks(fleet.mnos),
      channels: async (seId) => {
        throw new Error(`no reader holds ${seId}`);
      },
      conversations: new ConversationStore(),
      clock: new ManualClock(),
    });
    expect(await reason(access.open('se-2'))).toBe('5.1: SE se-2 is inaccessible: no reader holds se-2');
  });
});
