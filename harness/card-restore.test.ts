/** Putting a card back the way the run found it, planned from two views and carried out as the issuer on a simulated card. */
import { afterEach, describe, expect, it } from 'vitest';
import type { CardChannel } from '../drivers/index.ts';
import { deleteCardContent, fromHex, openIssuerSession } from '../gp/index.ts';
import { defaultFleet } from '../profiles/fleet.ts';
import { cardViewOf, createSimulatedSe } from '../simulator/index.ts';
import { applyRestore, cardDifferences, planRestore } from './card-restore.ts';
import { FILLER_AID, fillMemory, harnessChannel, issuerOfSpec, lockAsIssuer } from './lifecycle-card.ts';

const BANKCO_INSTANCE = 'F042414E4B434F2E5041592E31';
const transitPackage = { packageAid: 'F05452414E5349542E544B54', moduleAid: 'F05452414E5349542E544B542E41' };

let channel: CardChannel | undefined;
afterEach(async () => {
  await channel?.close();
  channel = undefined;
});

function se1() {
  const spec = defaultFleet().ses.find((s) => s.seId === 'se-1')!;
  const card = createSimulatedSe(spec);
  return { card, issuer: issuerOfSpec(spec.card.isd) };
}

describe('putting a card back', () => {
  it('deletes what was added and unlocks what was locked', async () => {
    const { card, issuer } = se1();
    channel = await harnessChannel(card);
    const baseline = cardViewOf(card.inspect());
    await fillMemory(channel, issuer, transitPackage, baseline.freeNonVolatile!, 2000);
    await lockAsIssuer(channel, issuer, BANKCO_INSTANCE);

    const changed = cardViewOf(card.inspect());
    expect(cardDifferences(baseline, changed)).toEqual([
      `${BANKCO_INSTANCE} is LOCKED, was SELECTABLE`,
      `application ${FILLER_AID} was added`,
    ]);
    const plan = planRestore(baseline, changed);
    expect(plan).toEqual([
      { kind: 'delete', aid: FILLER_AID, what: `application ${FILLER_AID}` },
      { kind: 'unlock', aid: BANKCO_INSTANCE, what: `application ${BANKCO_INSTANCE}` },
    ]);
    const again = await openIssuerSession((c) => channel!.transmit(c), fromHex(issuer.aid), issuer.keys);
    expect(await applyRestore(again, plan, issuer.aid)).toEqual([]);
    expect(cardDifferences(baseline, cardViewOf(card.inspect()))).toEqual([]);
    expect(card.inspect().memory.nonVolatile.free).toBe(baseline.freeNonVolatile);
  });

  it('installs a deleted application again from its load file and hands it back to its security domain', async () => {
    const { card, issuer } = se1();
    channel = await harnessChannel(card);
    const baseline = cardViewOf(card.inspect());
    const session = await openIssuerSession((c) => channel!.transmit(c), fromHex(issuer.aid), issuer.keys);
    expect((await session.transmitSecure(deleteCardContent(fromHex(BANKCO_INSTANCE)))).sw).toBe(0x9000);
    const now = cardViewOf(card.inspect());
    expect(cardDifferences(baseline, now)).toEqual([`application ${BANKCO_INSTANCE} is gone`]);
    const plan = planRestore(baseline, now);
    expect(plan).toEqual([
      { kind: 'reinstall', aid: BANKCO_INSTANCE, what: `application ${BANKCO_INSTANCE}`, packageAid: 'F042414E4B434F2E504159', moduleAid: 'F042414E4B434F2E5041592E41', privilegesHex: '000000', associatedSd: 'F042414E4B434F2E5344' },
    ]);
    expect(await applyRestore(session, plan, issuer.aid)).toEqual([]);
    expect(cardDifferences(baseline, cardViewOf(card.inspect()))).toEqual([]);
  });

  it('says what it cannot put back, and what the card refused', async () => {
    const { card, issuer } = se1();
    channel = await harnessChannel(card);
    const baseline = cardViewOf(card.inspect());
    const session = await openIssuerSession((c) => channel!.transmit(c), fromHex(issuer.aid), issuer.keys);
    const sd = 'F05452414E5349542E5344';
    expect((await session.transmitSecure(deleteCardContent(fromHex(sd), { related: true }))).sw).toBe(0x9000);
    const now = cardViewOf(card.inspect());
    expect(cardDifferences(baseline, now)).toContain(`security domain ${sd} is gone`);
    // The application's security domain (and its keys) cannot be made again: nothing is planned for either.
    expect(cardDifferences(baseline, now)).toContain('application F05452414E5349542E544B542E31 is gone');
    expect(planRestore(baseline, now)).toEqual([]);
    expect(await applyRestore(session, [{ kind: 'delete', aid: 'F0FFFFFFFF', what: 'application F0FFFFFFFF' }], issuer.aid)).toEqual(['DELETE of application F0FFFFFFFF answered 6A88']);
  });

  it('unlocks a locked card first, deletes a security domain the scenario added after its applications, and the deeper domains first', () => {
    const entry = (aid: string, kind: 'sd' | 'app', associatedSd: string) => ({ aid, kind, lifeCycle: 'SELECTABLE', lifeCycleByte: 7, associatedSd, privilegesHex: kind === 'sd' ? '800000' : '000000' });
    const base = { isd: 'A0', lifeCycle: 'SECURED', lifeCycleByte: 0x0f, securityDomains: [], applications: [], packages: [] };
    const now = {
      ...base,
      lifeCycle: 'CARD_LOCKED',
      securityDomains: [entry('F001', 'sd', 'A0'), entry('F002', 'sd', 'F001')],
      applications: [entry('F0A1', 'app', 'F002')],
      packages: [{ aid: 'F0B1', associatedSd: 'A0', modules: [] }],
    };
    expect(planRestore(base, now).map((a) => (a.kind === 'delete' ? a.aid : a.kind))).toEqual(['unlock-card', 'F0A1', 'F002', 'F001', 'F0B1']);
    expect(cardDifferences(base, now)[0]).toBe('the card is CARD_LOCKED, was SECURED');
  });
});
