/** The security level names the trace carries, read back; and the once-only unwrap of a wrapped exchange. */
import { describe, expect, it } from 'vitest';
import { defaultSeSpec, DEFAULT_ISD_AID, DEFAULT_KEY, DEFAULT_KVN, SimulatedSe } from '../simulator/index.ts';
import { encodeCommand, parseResponse } from './apdu.ts';
import { fromHex } from './bytes.ts';
import { getStatus, selectByAid } from './commands.ts';
import { openSecureChannel } from './open-secure-channel.ts';
import { parseSecurityLevel, SecureChannelError, securityLevelText, SECURITY_LEVEL_BITS, type WrappedExchange } from './secure-channel.ts';

describe('security level names', () => {
  it('names each bit of a level and reads the names back', () => {
    expect(securityLevelText(0x33)).toBe('C-MAC C-DECRYPTION R-MAC R-ENCRYPTION');
    expect(securityLevelText(0x01)).toBe('C-MAC');
    expect(securityLevelText(0)).toBe('none');
    for (let level = 0; level < 0x40; level++) {
      const known = level & SECURITY_LEVEL_BITS.reduce((m, b) => m | b.bit, 0);
      expect(parseSecurityLevel(securityLevelText(known))).toBe(known);
    }
  });

  it('reads the spellings older traces used, the level byte, and refuses other words', () => {
    expect(parseSecurityLevel('C-DEC C-MAC')).toBe(0x03);
    expect(parseSecurityLevel('C-MAC + R-MAC')).toBe(0x11);
    expect(parseSecurityLevel('33')).toBe(0x33);
    expect(parseSecurityLevel('C-MAC SIGNED')).toBeUndefined();
  });
});

describe('a wrapped exchange', () => {
  it('unwraps its response once: a second call returns the first result, other bytes are refused', async () => {
    const se = new SimulatedSe(defaultSeSpec({ seId: 'se-x' }));
    const transmit = async (c: Uint8Array) => se.process(c);
    const key = fromHex(DEFAULT_KEY);
    expect(parseResponse(await transmit(encodeCommand(selectByAid(fromHex(DEFAULT_ISD_AID))))).sw).toBe(0x9000);
    const seen: WrappedExchange[] = [];
    const sc = await openSecureChannel(
      async (c, x) => {
        if (x) seen.push(x);
        return transmit(c);
      },
      { keys: { kvn: DEFAULT_KVN, scp: '03', enc: key, mac: key, dek: key }, level: 0x33, sdAid: fromHex(DEFAULT_ISD_AID) },
    );
    expect(seen).toHaveLength(0); // the handshake is not a wrapped exchange
    const x = sc.exchange(getStatus({ subset: 'applications' }));
    expect(x).toMatchObject({ scp: '03', level: 0x33, macLength: 8 });
    expect(x.plain).toEqual(encodeCommand(getStatus({ subset: 'applications' })));
    const wire = await transmit(x.wire);
    const first = x.unwrap(wire);
    expect(first.sw).toBe(0x9000);
    // R-MAC chaining would make a second real unwrap fail; the exchange gives back the first result.
    expect(x.unwrap(wire)).toBe(first);
    expect(() => x.unwrap(Uint8Array.of(0x90, 0x00))).toThrow(SecureChannelError);
    // transmitSecure hands its exchange to transmit, and still unwraps the response exactly once.
    const r = await sc.transmitSecure(getStatus({ subset: 'applications' }));
    expect(r.sw).toBe(0x9000);
    expect(seen).toHaveLength(1);
    expect(seen[0].plain).toEqual(x.plain);
    expect(seen[0].wire).not.toEqual(x.wire); // a new MAC on the chained value
  });
});
