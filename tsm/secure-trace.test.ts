/**
 * The trace of a run holds the plain form of every exchange the harness can decrypt: the central TSM's own
 * channels (central SD, the SP SD it creates during pre-personalization) and the SP TSM's channel, whose script
 * the central TSM relays without keys. Driven as the features drive it: the SP client over real HTTP, the central
 * TSM reaching simulated SEs through the MNO network and the traced driver.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromHex, parseSecurityLevel, SecurityLevel, type KeySet } from '../gp/index.ts';
import { defaultFleet, type Fleet } from '../profiles/fleet.ts';
import { createSimulatedSe } from '../simulator/index.ts';
import { subscribe, type TraceEvent } from '../trace/index.ts';
import { protectionOf, readableCommandHex } from '../decode/index.ts';
import type { BeginConversationResponse } from './api-types.ts';
import { inprocChannels } from './channels.ts';
import { startSpApi, type SpApiServer } from './http.ts';
import { SpClient } from './sp-client.ts';
import { SpTsm } from './sp-tsm.ts';
import { simulatedTsm, type SimulatedTsm } from '../test/simulated-tsm.ts';

type Command = Extract<TraceEvent, { kind: 'apdu.command' }>;
type Response = Extract<TraceEvent, { kind: 'apdu.response' }>;

let fleet: Fleet;
let tsm: SimulatedTsm;
let api: SpApiServer;
let events: TraceEvent[];
let stop: () => void;

beforeEach(async () => {
  fleet = defaultFleet();
  tsm = simulatedTsm({ fleet, channels: inprocChannels(fleet.ses.map((s) => createSimulatedSe(s))) });
  api = await startSpApi(tsm);
  events = [];
  stop = subscribe((e) => events.push(e));
});

afterEach(async () => {
  stop();
  await tsm.close();
  await api.close();
});

const FULL = SecurityLevel.CMAC | SecurityLevel.CDEC | SecurityLevel.RMAC | SecurityLevel.RENC;

function exchanges(): { command: Command; response?: Response }[] {
  const responses = new Map(events.filter((e): e is Response => e.kind === 'apdu.response').map((r) => [r.apduId, r]));
  return events.filter((e): e is Command => e.kind === 'apdu.command').map((command) => ({ command, response: responses.get(command.apduId) }));
}

/** INS of the plain command, hex. */
const insOf = (c: Command) => (c.plainHex ?? c.hex).slice(2, 4);

describe('the trace of the central TSM and an SP TSM on secure channels', () => {
  it('gives every wrapped exchange its level, its plain command and its plain response', async () => {
    const bank = new SpTsm(new SpClient({ baseUrl: api.url, serviceProvider: 'BankCo' }));
    // The central TSM's own channels: central SD, then the SP SD it creates with temporary keys.
    const pre = await bank.client.prepersonalize('bankco-pay3', {});
    expect(pre.body.status, pre.body.message).toBe('Executed-Success');
    // The SP's own channel, relayed through a conversation.
    const service = fleet.ses[0].services!.find((s) => s.id === 'bankco-pay')!;
    const k = service.spKeys!;
    const keys: KeySet = { kvn: k.kvn, scp: k.scp, enc: fromHex(k.enc), mac: fromHex(k.mac), dek: fromHex(k.dek) };
    const begun = await bank.client.beginConversation({ seId: 'se-1', serviceId: 'bankco-pay', requestedOperation: 'personalize' });
    expect(begun.body.status, begun.body.message).toBe('Executed-Success');
    const conversation = (begun.body as BeginConversationResponse).conversationId;
    const channel = await bank.openSecureChannel(conversation, service.sdAid, keys, FULL);
    const r = await bank.personalize(conversation, channel, service.instanceAid!, [fromHex('DF0103414C49')]);
    expect(r.answer.status, r.answer.message).toBe('Executed-Success');

    const all = exchanges();
    const wrapped = all.filter((x) => protectionOf(x.command.secureChannel, x.command.hex));
    expect(wrapped.length).toBeGreaterThan(5);
    for (const { command, response } of wrapped) {
      const what = `${command.apduId} ${command.hex.slice(0, 10)} (${command.from})`;
      expect(command.secureChannel, `${what}: no secure channel recorded`).toBeDefined();
      expect(parseSecurityLevel(command.secureChannel!.level), what).toBeGreaterThan(0);
      expect(command.plainHex, `${what}: no plain command`).toBeDefined();
      expect(response, `${what}: no response`).toBeDefined();
      expect(response!.plainHex, `${what}: no plain response`).toBeDefined();
      expect(response!.unwrapError).toBeUndefined();
    }
    // Nothing the harness sent is unreadable: every command either is in clear or has its plain form.
    for (const { command } of all) expect(readableCommandHex(command), command.hex).toBeDefined();

    // Both kinds of channel are there: the central TSM's (an INSTALL [for install]) and the SP's, relayed in the
    // conversation at the full level (its STORE DATA, R-ENCRYPTED answers and all).
    expect(wrapped.some((x) => insOf(x.command) === 'E6' && x.command.plainHex!.slice(4, 6) === '0C')).toBe(true);
    const sp = wrapped.filter((x) => x.command.corr.conversationId === conversation && insOf(x.command) === 'E2');
    expect(sp.length).toBe(1);
    expect(sp[0].command.secureChannel!.level).toBe('C-MAC C-DECRYPTION R-MAC R-ENCRYPTION');
    expect(sp[0].command.plainHex).toContain('DF0103414C49');
  });
});
