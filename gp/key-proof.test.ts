/** proveKeySet against the simulator: whatever the outcome, no EXTERNAL AUTHENTICATE and no failure counted. */
import { describe, expect, it } from 'vitest';
import { createSimulatedSe, DEFAULT_CENTRAL_SD_AID, DEFAULT_ISD_AID, defaultKeySet, defaultSeSpec, type SimulatedSe } from '../simulator/index.ts';
import { fromHex } from './bytes.ts';
import { openIssuerSession } from './issuer-session.ts';
import type { KeySet } from './keys.ts';
import { proveKeySet } from './key-proof.ts';
import type { Transmit } from './open-secure-channel.ts';

const h = fromHex;
const ISD = h(DEFAULT_ISD_AID);
const KEY = h('404142434445464748494A4B4C4D4E4F');
const OTHER = h('000102030405060708090A0B0C0D0E0F');

/** The transmit of a lab reader, and the INS of every command the card itself receives. */
function wire(se: SimulatedSe): { transmit: Transmit; sent: number[] } {
  const sent: number[] = [];
  const process = se.process.bind(se);
  se.process = (command) => {
    sent.push(command[1]);
    return process(command);
  };
  return { sent, transmit: async (c) => se.process(c) };
}

const keySet = (scp: '02' | '03', kvn: number, key: Uint8Array): KeySet => ({ scp, kvn, enc: key, mac: key, dek: key });

describe('proveKeySet', () => {
  for (const scp of ['03', '02'] as const) {
    const kvn = scp === '03' ? 0x30 : 0x20;
    const card = () => createSimulatedSe(defaultSeSpec({ isdKeys: defaultKeySet({ scp, kvn }), authFailureLimit: 1 }));

    it(`SCP${scp}: 'match' for the card's keys, 'card-cryptogram-mismatch' for others; neither authenticates`, async () => {
      const se = card();
      const w = wire(se);
      for (const [keys, expected] of [
        [keySet(scp, kvn, KEY), 'match'],
        [keySet(scp, kvn, OTHER), 'card-cryptogram-mismatch'],
      ] as const) {
        w.sent.length = 0;
        expect(await proveKeySet(w.transmit, ISD, keys)).toBe(expected);
        expect(w.sent).toEqual([0xa4, 0x50]);
        expect(se.inspect().auth).toMatchObject({ failures: 0, blocked: false });
      }
      // With a budget of one failure, the card is still fully usable afterwards.
      expect(se.inspect().lifeCycle).toBe('SECURED');
      const session = await openIssuerSession(w.transmit, ISD, { ...keySet(scp, kvn, KEY), i: 0x55, keyScheme: 'none' });
      expect(session.scp).toBe(scp);
    });
  }

  it('names what the card refused: an unknown SD (SELECT 6A82), an unknown key version (INITIALIZE UPDATE 6A88)', async () => {
    const se = createSimulatedSe(defaultSeSpec());
    expect(await proveKeySet(wire(se).transmit, h('F0000000000099'), keySet('03', 0x30, KEY))).toBe('refused SELECT 6A82');
    expect(await proveKeySet(wire(se).transmit, ISD, keySet('03', 0x31, KEY))).toBe('refused INITIALIZE UPDATE 6A88');
    expect(await proveKeySet(wire(se).transmit, ISD, keySet('03', 0x31, KEY), { kvn: 0 })).toBe('match');
  });

  it('proves the keys of another SD, and issuer keys diversified from a master', async () => {
    const se = createSimulatedSe(defaultSeSpec());
    const central: KeySet = { scp: '03', kvn: 0x30, enc: h('C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF'), mac: h('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF'), dek: h('E0E1E2E3E4E5E6E7E8E9EAEBECEDEEEF') };
    expect(await proveKeySet(wire(se).transmit, h(DEFAULT_CENTRAL_SD_AID), central)).toBe('match');
    expect(await proveKeySet(wire(se).transmit, h(DEFAULT_CENTRAL_SD_AID), { ...central, mac: central.enc })).toBe('card-cryptogram-mismatch');
    const wrongMaster = { scp: '03', i: 0x70, kvn: 0x30, keyScheme: 'kdf3', master: KEY } as const;
    expect(await proveKeySet(wire(se).transmit, ISD, wrongMaster)).toBe('card-cryptogram-mismatch');
    expect(se.inspect().auth.failures).toBe(0);
  });
});
