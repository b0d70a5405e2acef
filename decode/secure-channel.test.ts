/**
 * Decoding exchanges on a secure channel, from trace events a real run produces: the simulated SE answers
 * through the traced in-process driver while gp's SCP03 host (level 33: C-MAC, C-DECRYPTION, R-MAC,
 * R-ENCRYPTION) wraps the commands. The three cases the viewer used to misread: PUT KEY (its first data byte is
 * ciphertext, not the new key version), INSTALL [for personalization] (its fields are ciphertext, not "(empty)"),
 * and an R-ENCRYPTED GET STATUS response (ciphertext, not a malformed registry). Decoded once with the plain forms
 * the harness holds, and once as a party without keys sees them (plain forms removed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessChannel, secureTransmit, traced } from '../drivers/index.ts';
import {
  encodeCommand,
  fromHex,
  getData,
  getStatus,
  installForInstall,
  installForPersonalization,
  openSecureChannel,
  parseResponse,
  scp03PutKey,
  selectByAid,
  SecurityLevel,
  type OpenedSecureChannel,
} from '../gp/index.ts';
import { exchangeComment } from '../reports/pcapng.ts';
import { observeSample } from '../reports/evidence.ts';
import { defaultSeSpec, DEFAULT_CENTRAL_SD_AID, DEFAULT_ISD_AID, DEFAULT_KEY, DEFAULT_KVN, SimulatedSe } from '../simulator/index.ts';
import { subscribe, type TraceEvent } from '../trace/index.ts';
import { RowBuilder } from '../viewer/rows.ts';
import { EventStore, type EventDetail } from '../viewer/store.ts';

type Command = Extract<TraceEvent, { kind: 'apdu.command' }>;
type Response = Extract<TraceEvent, { kind: 'apdu.response' }>;

const LEVEL = SecurityLevel.CMAC | SecurityLevel.CDEC | SecurityLevel.RMAC | SecurityLevel.RENC;
const KEY = fromHex(DEFAULT_KEY);
const PACKAGE = 'F0504159000001';
const MODULE = 'F050415900000101';
const INSTANCE = 'F05041590000010199';
const NEXT = { enc: fromHex('11'.repeat(16)), mac: fromHex('22'.repeat(16)), dek: fromHex('33'.repeat(16)) };

let events: TraceEvent[] = [];

beforeAll(async () => {
  const se = new SimulatedSe(defaultSeSpec({ seId: 'se-sc' }));
  const channel = traced(new InProcessChannel(se), { from: 'harness', corr: { seId: 'se-sc' } });
  const stop = subscribe((e) => {
    if (e.corr.seId === 'se-sc') events.push(e);
  });
  try {
    expect(parseResponse(await channel.transmit(encodeCommand(selectByAid(fromHex(DEFAULT_ISD_AID))))).sw).toBe(0x9000);
    const sc: OpenedSecureChannel = await openSecureChannel(secureTransmit(channel), {
      keys: { kvn: DEFAULT_KVN, scp: '03', enc: KEY, mac: KEY, dek: KEY },
      level: LEVEL,
      sdAid: fromHex(DEFAULT_ISD_AID),
    });
    const ok = async (c: Parameters<OpenedSecureChannel['transmitSecure']>[0]) => {
      const r = await sc.transmitSecure(c);
      expect([0x9000, 0x6310], `${c.ins.toString(16)} answered ${r.sw.toString(16)}`).toContain(r.sw);
      return r;
    };
    await ok(getStatus({ subset: 'applications' }));
    await ok(getData(0x9f7f));
    await ok(installForInstall({ loadFileAid: fromHex(PACKAGE), moduleAid: fromHex(MODULE), aid: fromHex(INSTANCE) }));
    await ok(installForPersonalization(fromHex(INSTANCE)));
    // Replaces the key set 30 (P1 = 30, "key version 48"): the first data byte is the new version, 31.
    await ok(scp03PutKey(KEY, DEFAULT_KVN, DEFAULT_KVN + 1, NEXT));
  } finally {
    stop();
  }
});

afterAll(() => {
  events = [];
});

const commands = () => events.filter((e): e is Command => e.kind === 'apdu.command');
const responseOf = (c: Command) => events.find((e): e is Response => e.kind === 'apdu.response' && e.apduId === c.apduId)!;
/** The exchange whose plain command has this INS (and P1), wrapped on the channel. */
const wrapped = (ins: number, p1?: number) => {
  const c = commands().find((e) => e.plainHex && parseInt(e.plainHex.slice(2, 4), 16) === ins && (p1 === undefined || parseInt(e.plainHex.slice(4, 6), 16) === p1));
  if (!c) throw new Error(`no wrapped command with INS ${ins.toString(16)} in the trace`);
  return { command: c, response: responseOf(c) };
};

/** The viewer's details for an exchange, as the server serves them; `keys: false` drops the plain forms first. */
function details(ex: { command: Command; response: Response }, keys = true): { cmd: EventDetail; resp: EventDetail } {
  const strip = <T extends Command | Response>(e: T): T => {
    if (keys) return e;
    const { plainHex: _p, ...rest } = e;
    return rest as T;
  };
  const store = new EventStore();
  const i = store.add(strip(ex.command)).i;
  const j = store.add(strip(ex.response)).i;
  return { cmd: store.detail(i)!, resp: store.detail(j)! };
}

const labels = (fields?: { label: string }[]) => (fields ?? []).map((f) => f.label);

describe('the trace of a secure channel', () => {
  it('carries the level on every wrapped exchange, and the plain command and response where the keys are held', () => {
    const all = commands();
    const ea = all.findIndex((c) => c.hex.slice(2, 4) === '82');
    expect(ea).toBeGreaterThan(0);
    const after = all.slice(ea + 1);
    expect(after).toHaveLength(5);
    for (const c of after) {
      expect(c.secureChannel).toEqual({ scp: 'SCP03', level: 'C-MAC C-DECRYPTION R-MAC R-ENCRYPTION', macLength: 8 });
      expect(c.plainHex).toMatch(/^80/);
      expect(c.hex).toMatch(/^84/);
      const r = responseOf(c);
      expect(r.secureChannel).toEqual(c.secureChannel);
      expect(r.plainHex, `plain response of ${c.plainHex}`).toMatch(/^([0-9A-F]{2})*(9000|6310)$/);
      expect(r.plainHex).not.toBe(r.hex);
    }
    // The handshake itself is not wrapped: no level, no plain form.
    for (const c of all.slice(0, ea + 1)) expect(c.secureChannel).toBeUndefined();
  });
});

describe('PUT KEY on the wire', () => {
  it('labels ciphered data and the C-MAC, and reads the new key version only from the plain command', () => {
    const { cmd } = details(wrapped(0xd8));
    expect(cmd.command!.name).toBe('PUT KEY');
    expect(cmd.command!.p1Meaning).toMatch(/^key version 48/);
    expect(labels(cmd.command!.fields)).toEqual([expect.stringMatching(/^ciphered data \(\d+ bytes\)$/), 'C-MAC (8 bytes)']);
    expect(cmd.command!.protection).toBe('SCP03 C-MAC C-DECRYPTION R-MAC R-ENCRYPTION');
    expect(cmd.command!.tlv).toBeUndefined();
    const kvn = cmd.plainCommand!.fields!.find((f) => f.label === 'New key version number');
    expect(kvn?.hex).toBe('31');
  });

  it('without the keys, decodes the same wire bytes the same way and invents no plain command', () => {
    const { cmd } = details(wrapped(0xd8), false);
    expect(cmd.plainCommand).toBeUndefined();
    expect(labels(cmd.command!.fields)).not.toContain('New key version number');
    expect(labels(cmd.command!.fields)).toContain('C-MAC (8 bytes)');
  });
});

describe('INSTALL [for personalization] on the wire', () => {
  it('shows ciphered data and the C-MAC, not "(empty)" fields; the plain command names the application', () => {
    for (const keys of [true, false]) {
      const { cmd } = details(wrapped(0xe6, 0x20), keys);
      expect(cmd.command!.name).toBe('INSTALL [for personalization]');
      expect(labels(cmd.command!.fields)).toEqual([expect.stringMatching(/^ciphered data \(\d+ bytes\)$/), 'C-MAC (8 bytes)']);
      if (keys) expect(cmd.plainCommand!.fields!.find((f) => f.label === 'Application AID')?.hex).toBe(INSTANCE);
      else expect(cmd.plainCommand).toBeUndefined();
    }
  });
});

describe('GET STATUS response under R-ENCRYPTION', () => {
  it('is ciphered data and an R-MAC, never a malformed registry; the plain response lists the registry', () => {
    const { resp } = details(wrapped(0xf2));
    const wire = resp.response!;
    expect(wire.error).toBeUndefined();
    expect(wire.registry).toBeUndefined();
    expect(wire.tlv).toBeUndefined();
    expect(labels(wire.fields)).toEqual([expect.stringMatching(/^ciphered data \(\d+ bytes\)$/), 'R-MAC (8 bytes)']);
    expect(resp.plainResponse!.registry!.map((e) => e.aid)).toContain(DEFAULT_CENTRAL_SD_AID);
    expect(resp.plainResponse!.error).toBeUndefined();

    const bare = details(wrapped(0xf2), false).resp;
    expect(bare.plainResponse).toBeUndefined();
    expect(bare.response!.registry).toBeUndefined();
    expect(bare.response!.error).toBeUndefined();
    expect(labels(bare.response!.fields)).toContain('R-MAC (8 bytes)');
  });
});

describe('an old trace: wrapped bytes, no level recorded', () => {
  it('is read as secure messaging of unknown level and not parsed', () => {
    const { command, response } = wrapped(0xd8);
    const { secureChannel: _c, plainHex: _p, ...bareCommand } = command;
    const { secureChannel: _r, plainHex: _q, ...bareResponse } = response;
    const store = new EventStore();
    const i = store.add(bareCommand as Command).i;
    const j = store.add(bareResponse as Response).i;
    expect(labels(store.detail(i)!.command!.fields)).toEqual([expect.stringMatching(/^wrapped data \(\d+ bytes\)$/)]);
    expect(store.detail(i)!.command!.protection).toBe('secure messaging, level not recorded');
    const r = store.detail(j)!.response!;
    expect(labels(r.fields)).toEqual([expect.stringMatching(/^wrapped data \(\d+ bytes\)$/)]);
  });
});

describe('rows, pcapng comments and the sample identity', () => {
  it('marks both halves of a wrapped exchange with the level, and the plain form when known', () => {
    const ex = wrapped(0xf2);
    const rows = new RowBuilder();
    const c = rows.build(ex.command, 0);
    const r = rows.build(ex.response, 1);
    expect(c.scp).toBe('SCP03 C-MAC C-DECRYPTION R-MAC R-ENCRYPTION');
    expect(r.scp).toBe(c.scp);
    expect(c.plain && r.plain).toBe(true);
    expect(c.label).toBe('GET STATUS applications and Security Domains');
    const { plainHex: _p, ...noKeys } = ex.command;
    expect(new RowBuilder().build(noKeys as Command, 0).plain).toBeUndefined();
  });

  it('says in the pcapng comment what the wire bytes are and what the plain command was', () => {
    const text = exchangeComment(wrapped(0xd8));
    expect(text).toContain('secure channel: SCP03 C-MAC C-DECRYPTION R-MAC R-ENCRYPTION');
    expect(text).toMatch(/plain command: PUT KEY 80D83081/);
    expect(text).toMatch(/command data on the wire: ciphered data \(\d+ bytes\) \+ C-MAC \(8 bytes\)/);
    expect(text).toMatch(/response data on the wire: ciphered data \(\d+ bytes\) \+ R-MAC \(8 bytes\)/);
    const { plainHex: _p, ...noKeys } = wrapped(0xd8).command;
    expect(exchangeComment({ command: noKeys as Command })).toContain('plain command: not known (no keys held)');
  });

  it('learns the CPLC from the plain response only, never from ciphertext', () => {
    const ex = wrapped(0xca);
    const withKeys: Parameters<typeof observeSample>[0] = { seIds: [] };
    observeSample(withKeys, ex);
    expect(withKeys.cplc).toMatch(/^[0-9A-F]{84}$/);
    const { plainHex: _p, ...cipherOnly } = ex.response;
    const without: Parameters<typeof observeSample>[0] = { seIds: [] };
    observeSample(without, { command: ex.command, response: cipherOnly as Response });
    expect(without.cplc).toBeUndefined();
  });
});
