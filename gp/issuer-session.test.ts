/** Issuer sessions against the simulator (the card double): static keys, SCP02 with its i, keys diversified per card. */
import { describe, expect, it } from 'vitest';
import type { ResolvedCardKeys } from '../profiles/index.ts';
import { createSimulatedSe, DEFAULT_ISD_AID, defaultKeySet, defaultSeSpec, type SimulatedSe } from '../simulator/index.ts';
import { encodeCommand, parseCommand, parseResponse } from './apdu.ts';
import { fromHex, toHex } from './bytes.ts';
import { getStatus, initializeUpdate, selectByAid } from './commands.ts';
import { diversify, type DiversificationScheme } from './diversify.ts';
import { type IssuerKeys, issuerHostFactory, openIssuerSession } from './issuer-session.ts';
import { openSecureChannel, type Transmit } from './open-secure-channel.ts';
import { SecureChannelError, SecurityLevel } from './secure-channel.ts';
import { CardError } from './sw.ts';

const h = fromHex;
const ISD = h(DEFAULT_ISD_AID);
const KEY = '404142434445464748494A4B4C4D4E4F';

/** Transmit onto the card, recording the INS of every command sent. */
function wire(se: SimulatedSe): { transmit: Transmit; sent: number[] } {
  const sent: number[] = [];
  return {
    sent,
    transmit: async (c) => {
      sent.push(parseCommand(c).ins);
      return se.process(c);
    },
  };
}

/** The KDD this card answers in INITIALIZE UPDATE (any keys will do to ask). */
function kddOf(seId: string): Uint8Array {
  const se = createSimulatedSe(defaultSeSpec({ seId }));
  se.process(encodeCommand(selectByAid(ISD)));
  return parseResponse(se.process(encodeCommand(initializeUpdate(0, new Uint8Array(8))))).data.slice(0, 10);
}

/** A card personalized with ISD keys diversified from `master`, and the issuer keys naming only the master. */
function diversifiedCard(scheme: DiversificationScheme, scp: '02' | '03', master: Uint8Array): { se: SimulatedSe; keys: IssuerKeys } {
  const seId = `se-${scheme}-${scp}`;
  const k = diversify(scheme, master, kddOf(seId));
  const isd = defaultKeySet({ scp, kvn: 0x01, enc: toHex(k.enc), mac: toHex(k.mac), dek: toHex(k.dek) });
  const se = createSimulatedSe(defaultSeSpec({ seId, isdKeys: isd }));
  return { se, keys: { scp, i: parseInt(isd.i!, 16), kvn: isd.kvn, keyScheme: scheme, master } };
}

async function getStatusSw(session: Awaited<ReturnType<typeof openIssuerSession>>): Promise<number> {
  return (await session.transmitSecure(getStatus({ subset: 'isd' }))).sw;
}

describe('openIssuerSession', () => {
  it('opens SCP03 with static keys at C-MAC by default, and at the level asked', async () => {
    const keys: IssuerKeys = { scp: '03', i: 0x70, kvn: 0x30, keyScheme: 'none', enc: h(KEY), mac: h(KEY), dek: h(KEY) };
    const se = createSimulatedSe(defaultSeSpec());
    const s = await openIssuerSession(wire(se).transmit, ISD, keys);
    expect(s.scp).toBe('03');
    expect(s.level).toBe(SecurityLevel.CMAC);
    expect(await getStatusSw(s)).toBe(0x9000);
    const s3 = await openIssuerSession(wire(se).transmit, ISD, keys, 0x33);
    expect(s3.level).toBe(0x33);
    expect(await getStatusSw(s3)).toBe(0x9000);
  });

  it('opens SCP02 with the i parameter of the keys', async () => {
    const isd = defaultKeySet({ scp: '02', kvn: 0x20, i: '15' });
    const se = createSimulatedSe(defaultSeSpec({ isdKeys: isd }));
    const s = await openIssuerSession(wire(se).transmit, ISD, { scp: '02', i: 0x15, kvn: 0x20, keyScheme: 'none', enc: h(KEY), mac: h(KEY), dek: h(KEY) });
    expect(s.scp).toBe('02');
    expect(await getStatusSw(s)).toBe(0x9000);
  });

  for (const [scheme, scp, master] of [
    ['emv', '02', '0123456789ABCDEFFEDCBA9876543210'],
    ['visa2', '02', '00112233445566778899AABBCCDDEEFF'],
    ['kdf3', '03', '000102030405060708090A0B0C0D0E0F'],
  ] as const) {
    it(`derives ${scheme} keys from the KDD of the card's INITIALIZE UPDATE response (SCP${scp})`, async () => {
      const { se, keys } = diversifiedCard(scheme, scp, h(master));
      const s = await openIssuerSession(wire(se).transmit, ISD, keys);
      expect(await getStatusSw(s)).toBe(0x9000);
    });
  }

  it('with a wrong master key, stops at the card cryptogram: no EXTERNAL AUTHENTICATE, no failure counted', async () => {
    const { se, keys } = diversifiedCard('emv', '02', h('0123456789ABCDEFFEDCBA9876543210'));
    const w = wire(se);
    const err = await openIssuerSession(w.transmit, ISD, { ...keys, master: h('11'.repeat(16)) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecureChannelError);
    expect((err as SecureChannelError).kind).toBe('card-cryptogram-mismatch');
    expect(w.sent).toEqual([0xa4, 0x50]);
    expect(se.inspect().auth.failures).toBe(0);
  });

  it('refuses unusable keys before sending anything', async () => {
    const se = createSimulatedSe(defaultSeSpec());
    const cases: [IssuerKeys, RegExp][] = [
      [{ scp: '03', i: 0x70, kvn: 1, keyScheme: 'emv', master: h(KEY + KEY) }, /emv needs a 16-byte 3DES master key/],
      [{ scp: '03', i: 0x70, kvn: 1, keyScheme: 'kdf3' }, /needs a master key/],
      [{ scp: '03', i: 0x70, kvn: 1, keyScheme: 'none', enc: h(KEY), mac: h(KEY) }, /without dek/],
      [{ scp: '02', i: 0x70, kvn: 1, keyScheme: 'none', enc: h(KEY), mac: h(KEY), dek: h(KEY) }, /i=70 not supported/],
    ];
    for (const [keys, message] of cases) {
      const w = wire(se);
      await expect(openIssuerSession(w.transmit, ISD, keys)).rejects.toThrow(message);
      expect(w.sent).toEqual([]);
    }
  });

  it('answers a refused SELECT with CardError', async () => {
    const se = createSimulatedSe(defaultSeSpec());
    const keys: IssuerKeys = { scp: '03', i: 0x70, kvn: 0x30, keyScheme: 'none', enc: h(KEY), mac: h(KEY), dek: h(KEY) };
    const err = await openIssuerSession(wire(se).transmit, h('F0000000000099'), keys).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CardError);
    expect((err as CardError).sw).toBe(0x6a82);
  });

  it('takes the keys a card profile resolves to, as they are', async () => {
    const resolved: ResolvedCardKeys = { scp: '03', i: 0x70, kvn: 0x30, keyScheme: 'none', enc: h(KEY), mac: h(KEY), dek: h(KEY), references: { enc: 'env:ENC' } };
    const se = createSimulatedSe(defaultSeSpec());
    const s = await openIssuerSession(wire(se).transmit, ISD, resolved);
    expect(await getStatusSw(s)).toBe(0x9000);
  });
});

describe('issuerHostFactory', () => {
  it('plugs into openSecureChannel; the KeySet it is handed serves only the KVN', async () => {
    const { se, keys } = diversifiedCard('kdf3', '03', h('000102030405060708090A0B0C0D0E0F'));
    const w = wire(se);
    await w.transmit(encodeCommand(selectByAid(ISD)));
    const blank = new Uint8Array(16);
    const s = await openSecureChannel(w.transmit, { keys: { kvn: keys.kvn, scp: '03', enc: blank, mac: blank, dek: blank }, level: SecurityLevel.CMAC, sdAid: ISD, hostFactory: issuerHostFactory(keys) });
    expect(await getStatusSw(s)).toBe(0x9000);
  });
});
