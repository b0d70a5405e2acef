/**
 * A simulated SE that pads its SCP03 R-ENCRYPTION answers over several blocks, like the card in the field that
 * sent 11 bytes padded to 32: the host paths the harness uses on real cards (the Terminal, readCardView through
 * the issuer's channel at level 33) read it as they read any card.
 */
import { describe, expect, it } from 'vitest';
import { decodeCardRecognitionData, fromHex, openIssuerChannel, readCardView } from '../gp/index.ts';
import { cmd } from './testing-apdus.ts';
import { CENTRAL, ISD, fixture } from './test-fixtures.ts';

const apps = [{ aid: 'F050415900000101AA', packageAid: 'F0504159000001', moduleAid: 'F050415900000101', sd: CENTRAL, size: 16 }];

describe('R-ENCRYPTION padded over several blocks, from the simulated SE', () => {
  it('the wrapped answer really spans the extra blocks, and the Terminal unwraps it', () => {
    const { se, t, isdKeys } = fixture('03', { instances: apps }, { scp03ResponsePaddingBlocks: 4 });
    t.select(ISD);
    expect(t.open(isdKeys, 0x33)).toBe(0x9000);
    const wire = se.process(t.channel!.wrap(cmd.getData(0x66)));
    // 4 blocks of ciphertext and an 8-byte R-MAC, whatever the length of the card data.
    expect(wire.length).toBe(4 * 16 + 8 + 2);
    const plain = t.channel!.unwrap(wire);
    expect(plain.sw).toBe(0x9000);
    expect(decodeCardRecognitionData(plain.data).secureChannels).toContainEqual({ scp: 3, i: 0x70 });
    // Every later answer too, through Terminal.send.
    expect(t.ok(cmd.getStatus(0x80)).length).toBeGreaterThan(0);
  });

  it('readCardView at level 33 reads the card as it reads one that pads to one block', async () => {
    const views = [];
    for (const blocks of [0, 3]) {
      const { se, isdKeys } = fixture('03', { instances: apps }, { scp03ResponsePaddingBlocks: blocks });
      const keys = { scp: '03' as const, i: 0x70, kvn: isdKeys.kvn, keyScheme: 'none' as const, enc: fromHex(isdKeys.enc), mac: fromHex(isdKeys.mac), dek: fromHex(isdKeys.dek) };
      const transmit = async (c: Uint8Array) => se.process(c);
      views.push(await readCardView(transmit, { aid: fromHex(ISD), open: (tx) => openIssuerChannel(tx, fromHex(ISD), keys, 0x33) }));
    }
    expect(views[1]).toEqual(views[0]);
    expect(views[1].applications.map((a) => a.aid)).toContain(apps[0].aid);
  });

  it('refuses a padding option that is not a small whole number when the SE is built', () => {
    expect(() => fixture('03', {}, { scp03ResponsePaddingBlocks: 1.5 })).toThrow(/scp03ResponsePaddingBlocks must be a whole number 0\.\.16, got 1\.5/);
  });
});
