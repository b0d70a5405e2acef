import { afterEach, describe, expect, it } from 'vitest';
import type { CardChannel } from '../drivers/index.ts';
import { defaultFleet } from '../profiles/fleet.ts';
import type { SeSpec } from '../profiles/fleet-types.ts';
import { createSimulatedSe, type SimulatedSe } from '../simulator/index.ts';
import { cardViewOf } from '../simulator/index.ts';
import { describeContent, entryOf, FILLER_AID, fillMemory, harnessChannel, HarnessCardError, issuerOfSpec, keyProof, keysHeldBy, lockAsIssuer, removeFiller } from './lifecycle-card.ts';
import { keySetOf } from '../profiles/index.ts';

let channel: CardChannel | undefined;
afterEach(async () => {
  await channel?.close();
  channel = undefined;
});

function se1(): { spec: SeSpec; card: SimulatedSe } {
  const spec = defaultFleet().ses.find((s) => s.seId === 'se-1')!;
  return { spec, card: createSimulatedSe(spec) };
}

const BANKCO_SD = 'F042414E4B434F2E5344';
const transitPackage = { packageAid: 'F05452414E5349542E544B54', moduleAid: 'F05452414E5349542E544B542E41' };

describe('fillMemory / removeFiller', () => {
  it('leaves exactly the asked free memory, and gives it back', async () => {
    const { spec, card } = se1();
    channel = await harnessChannel(card);
    const before = card.inspect().memory.nonVolatile.free;
    await fillMemory(channel, issuerOfSpec(spec.card.isd), transitPackage, before, 300);
    const filled = card.inspect();
    expect(filled.memory.nonVolatile.free).toBe(300);
    expect(entryOf(filled, FILLER_AID)?.associatedSd).toBe(spec.card.isd.aid);
    await removeFiller(channel, issuerOfSpec(spec.card.isd));
    expect(card.inspect().memory.nonVolatile.free).toBe(before);
    expect(entryOf(card.inspect(), FILLER_AID)).toBeUndefined();
  });

  it('refuses to leave more than it can take', async () => {
    const { spec, card } = se1();
    channel = await harnessChannel(card);
    const free = card.inspect().memory.nonVolatile.free;
    await expect(fillMemory(channel, issuerOfSpec(spec.card.isd), transitPackage, free, free - 100)).rejects.toBeInstanceOf(HarnessCardError);
  });

  it('fails loudly when the issuer keys are wrong', async () => {
    const { spec, card } = se1();
    channel = await harnessChannel(card);
    const wrong = issuerOfSpec({ ...spec.card.isd, keys: { ...spec.card.isd.keys, enc: '00'.repeat(16) } });
    await expect(fillMemory(channel, wrong, transitPackage, card.inspect().memory.nonVolatile.free, 100)).rejects.toMatchObject({ kind: 'card-cryptogram-mismatch' });
    expect(card.inspect().auth.failures).toBe(0);
  });
});

describe('keyProof', () => {
  it('proves an SD key set and reports a card cryptogram mismatch with others, without EXTERNAL AUTHENTICATE', async () => {
    const { spec, card } = se1();
    channel = await harnessChannel(card);
    const bankKeys = spec.services!.find((s) => s.id === 'bankco-pay')!.spKeys!;
    expect(await keyProof(channel, BANKCO_SD, bankKeys)).toBe('match');
    expect(await keyProof(channel, BANKCO_SD, spec.centralSd.keys)).toBe('card-cryptogram-mismatch');
    expect(card.inspect().auth.failures).toBe(0);
    expect(card.inspect().session.secureChannel).toBeUndefined();
  });

  it('says so when the SD is not on the card', async () => {
    const { spec, card } = se1();
    channel = await harnessChannel(card);
    expect(await keyProof(channel, 'F000000000', spec.centralSd.keys)).toBe('refused SELECT 6A82');
  });
});

describe('entryOf / describeContent', () => {
  it('finds SDs and applications by AID in any case and lists the content', () => {
    const card = se1().card.inspect();
    expect(entryOf(card, BANKCO_SD.toLowerCase())?.kind).toBe('sd');
    expect(entryOf(card, 'F042414E4B434F2E5041592E31')?.associatedSd).toBe(BANKCO_SD);
    expect(entryOf(card, 'F0FF')).toBeUndefined();
    expect(describeContent(card)).toContain(`F042414E4B434F2E5041592E31 (app, SELECTABLE, under ${BANKCO_SD})`);
  });
});

describe('keysHeldBy', () => {
  it("accepts the SD's own keys and names what differs otherwise", async () => {
    const { spec, card } = se1();
    channel = await harnessChannel(card);
    const sd = entryOf(cardViewOf(card.inspect()), BANKCO_SD)!;
    const keys = keySetOf(spec.services!.find((s) => s.id === 'bankco-pay')!.spKeys!);
    expect(await keysHeldBy(channel, sd, keys)).toBeUndefined();
    expect(await keysHeldBy(channel, sd, { ...keys, kvn: keys.kvn + 1 })).toMatch(/holds key versions 48, not just 49/);
    expect(await keysHeldBy(channel, sd, { ...keys, mac: keys.enc })).toMatch(/key version 48: card-cryptogram-mismatch/);
    expect(await keysHeldBy(channel, { ...sd, keyVersions: [] }, keys)).toMatch(/holds key versions none/);
    expect(card.inspect().auth.failures).toBe(0);
  });
});

describe('lockAsIssuer', () => {
  it('locks an application from the ISD', async () => {
    const { spec, card } = se1();
    channel = await harnessChannel(card);
    await lockAsIssuer(channel, issuerOfSpec(spec.card.isd), 'F042414E4B434F2E5041592E31');
    expect(entryOf(card.inspect(), 'F042414E4B434F2E5041592E31')?.lifeCycle).toBe('LOCKED');
  });

  it('fails on an application the card does not have', async () => {
    const { spec, card } = se1();
    channel = await harnessChannel(card);
    await expect(lockAsIssuer(channel, issuerOfSpec(spec.card.isd), 'F0FFFFFFFF')).rejects.toThrow(/answered 6a88/);
  });
});
