/**
 * The one suite every CardView source runs: the simulator's own view (cardViewOf) and gp's readCardView
 * through a channel. A card is walked through states an issuer produces — fresh; an application and a security
 * domain installed; both locked; both deleted; many applications (GET STATUS pages); the card locked — and at
 * each state the source's view is checked against what the issuer did and, given a reference source, must
 * deep-equal the reference's view of the same card. Import only from *.test.ts files.
 */
import { describe, expect, it } from 'vitest';
import {
  type CardView,
  type CardViewEntry,
  type CommandApdu,
  CardLifeCycle,
  decodePrivileges,
  deleteCardContent,
  encodeInstallParameters,
  expectSw,
  fromHex,
  insName,
  installForInstall,
  type IssuerKeys,
  openIssuerSession,
  setStatus,
} from '../gp/index.ts';
import { SD_MODULE_AID, SD_PACKAGE_AID, type SimulatedSeConfig } from './build.ts';
import { cardViewOf } from './card-view.ts';
import { createSimulatedSe } from './factory.ts';
import { Footprint } from './memory.ts';
import type { SimulatedSe } from './se.ts';

export interface CardUnderTest {
  name: string;
  /** The card's description; every state starts from a fresh card built from it. */
  spec: SimulatedSeConfig;
  /** The issuer's keys for the ISD (static, or a master key the issuer diversifies). */
  isdKeys: IssuerKeys;
}

export interface CardViewSource {
  name: string;
  view(se: SimulatedSe, card: CardUnderTest): Promise<CardView>;
}

export const CARD_VIEW_STATES = ['fresh', 'installed', 'locked', 'deleted', 'many', 'card-locked'] as const;
export type CardViewState = (typeof CARD_VIEW_STATES)[number];

const APP = 'F0C0FFEE0A0001';
const SD = 'F0C0FFEE5D0001';
const MANY = 12;
const manyAid = (k: number) => `F0C0FFEE0B${k.toString(16).padStart(4, '0').toUpperCase()}`;
const LOCK = 0x80;

/** An executable load file of the card's own description to install applications from. */
function appPackage(card: CardUnderTest): { aid: string; module: string } {
  const pkg = (card.spec.card.packages ?? []).find((p) => (p.applets ?? []).length > 0);
  if (!pkg) throw new Error(`${card.name}: the card description has no package with an applet to install from`);
  return { aid: pkg.aid.toUpperCase(), module: pkg.applets![0].toUpperCase() };
}

function install(pkg: { aid: string; module: string }, aid: string, privileges: string[]): CommandApdu {
  return installForInstall({ loadFileAid: fromHex(pkg.aid), moduleAid: fromHex(pkg.module), aid: fromHex(aid), privileges, parameters: encodeInstallParameters() });
}

/** Commands the issuer sends in one ISD session to go from the previous state to this one. */
function issuerCommands(state: CardViewState, card: CardUnderTest): CommandApdu[] {
  const pkg = appPackage(card);
  switch (state) {
    case 'fresh':
      return [];
    case 'installed':
      return [install(pkg, APP, []), install({ aid: SD_PACKAGE_AID, module: SD_MODULE_AID }, SD, ['security-domain'])];
    case 'locked':
      return [setStatus('application', LOCK, fromHex(APP)), setStatus('application', LOCK, fromHex(SD))];
    case 'deleted':
      return [deleteCardContent(fromHex(APP)), deleteCardContent(fromHex(SD))];
    case 'many':
      return Array.from({ length: MANY }, (_, k) => install(pkg, manyAid(k), []));
    case 'card-locked':
      return [setStatus('isd', CardLifeCycle.CARD_LOCKED)];
  }
}

async function actAsIssuer(se: SimulatedSe, card: CardUnderTest, commands: CommandApdu[]): Promise<void> {
  if (commands.length === 0) return;
  const session = await openIssuerSession(async (c) => se.process(c), fromHex(card.spec.card.isd.aid), card.isdKeys);
  for (const c of commands) expectSw((await session.transmitSecure(c)).sw, `issuer ${insName(c.ins)}`);
}

function find(list: CardViewEntry[], aid: string): CardViewEntry | undefined {
  return list.find((e) => e.aid === aid);
}

interface Walk {
  view: CardView;
  fresh: CardView;
  previous?: CardView;
  card: CardUnderTest;
  isd: string;
}

/** What each state must show, from what the issuer did (not from the card's inspection). */
const CHECKS: Record<CardViewState, (w: Walk) => void> = {
  fresh({ view, card, isd }) {
    const c = card.spec.card;
    expect(view.isd).toBe(isd);
    expect(view).toMatchObject({ lifeCycle: 'SECURED', lifeCycleByte: CardLifeCycle.SECURED });
    const sds = new Set([...(c.securityDomains ?? []).map((s) => s.aid.toUpperCase()), ...(card.spec.centralSd ? [card.spec.centralSd.aid.toUpperCase()] : [])]);
    expect(view.securityDomains.map((e) => e.aid).sort()).toEqual([...sds].sort());
    expect(view.applications.map((e) => e.aid).sort()).toEqual((c.instances ?? []).map((i) => i.aid.toUpperCase()).sort());
    expect(view.packages.map((p) => p.aid).sort()).toEqual([SD_PACKAGE_AID, ...(c.packages ?? []).map((p) => p.aid.toUpperCase())].sort());
    expect(view.packages.find((p) => p.aid === SD_PACKAGE_AID)).toMatchObject({ modules: [SD_MODULE_AID], associatedSd: isd });
    for (const sd of view.securityDomains) {
      expect(sd.kind).toBe('sd');
      expect(parseInt(sd.privilegesHex.slice(0, 2), 16) & 0x80).toBe(0x80);
    }
    expect(view.applications.every((a) => a.kind === 'app')).toBe(true);
    expect(view.freeNonVolatile).toBeGreaterThan(0);
  },
  installed({ view, previous, card, isd }) {
    const pkg = appPackage(card);
    expect(find(view.applications, APP)).toStrictEqual({ aid: APP, kind: 'app', lifeCycle: 'SELECTABLE', lifeCycleByte: 0x07, associatedSd: isd, packageAid: pkg.aid, privilegesHex: '000000' });
    // A new SD starts with a copy of its installer's key set (the ISD's).
    expect(find(view.securityDomains, SD)).toStrictEqual({
      aid: SD,
      kind: 'sd',
      lifeCycle: 'SELECTABLE',
      lifeCycleByte: 0x07,
      associatedSd: isd,
      packageAid: SD_PACKAGE_AID,
      privilegesHex: '800000',
      keyVersions: [card.isdKeys.kvn],
    });
    const charged = Footprint.appNonVolatile + Footprint.sdNonVolatile + Footprint.keySet;
    expect(view.freeNonVolatile).toBe(previous!.freeNonVolatile! - charged);
  },
  locked({ view }) {
    expect(find(view.applications, APP)).toMatchObject({ lifeCycle: 'LOCKED', lifeCycleByte: 0x87 });
    const sd = find(view.securityDomains, SD);
    expect(sd).toMatchObject({ lifeCycle: 'LOCKED', lifeCycleByte: 0x87 });
    // SELECT skips a locked SD, so its key information cannot be read.
    expect(sd!.keyVersions).toBeUndefined();
  },
  deleted({ view, fresh }) {
    expect(find(view.applications, APP)).toBeUndefined();
    expect(find(view.securityDomains, SD)).toBeUndefined();
    expect(view.freeNonVolatile).toBe(fresh.freeNonVolatile);
    expect(view.applications).toStrictEqual(fresh.applications);
    expect(view.securityDomains).toStrictEqual(fresh.securityDomains);
  },
  many({ view, fresh }) {
    const added = view.applications.slice(fresh.applications.length);
    expect(added.map((a) => a.aid)).toEqual(Array.from({ length: MANY }, (_, k) => manyAid(k)));
    expect(added.every((a) => a.lifeCycle === 'SELECTABLE')).toBe(true);
    expect(view.freeNonVolatile).toBe(fresh.freeNonVolatile! - MANY * Footprint.appNonVolatile);
  },
  'card-locked'({ view, previous }) {
    expect(view).toMatchObject({ lifeCycle: 'CARD_LOCKED', lifeCycleByte: CardLifeCycle.CARD_LOCKED });
    expect(view.applications).toStrictEqual(previous!.applications);
    // Only the Final Application may be selected now; no other SD answers GET DATA 'E0'.
    for (const sd of view.securityDomains) {
      if (!decodePrivileges(fromHex(sd.privilegesHex)).includes('final-application')) expect(sd.keyVersions).toBeUndefined();
    }
  },
};

/**
 * Walks a fresh card of `card` up to `state` reading the source's view at each step, then checks `state`;
 * with a reference, the source's view of `state` must deep-equal the reference's. Throws on any failure.
 */
export async function checkCardViewState(state: CardViewState, card: CardUnderTest, source: CardViewSource, reference?: CardViewSource): Promise<CardView> {
  const se = createSimulatedSe(card.spec);
  const isd = card.spec.card.isd.aid.toUpperCase();
  let fresh: CardView | undefined;
  let previous: CardView | undefined;
  for (const step of CARD_VIEW_STATES.slice(0, CARD_VIEW_STATES.indexOf(state) + 1)) {
    await actAsIssuer(se, card, issuerCommands(step, card));
    const before = cardViewOf(se.inspect());
    const view = await source.view(se, card);
    // Reading is not writing: the card holds exactly what it held before the source looked.
    expect(cardViewOf(se.inspect()), `${source.name} changed the card while reading it`).toStrictEqual(before);
    fresh ??= view;
    if (step === state) {
      CHECKS[state]({ view, fresh, previous, card, isd });
      if (reference) expect(view, `${source.name} and ${reference.name} disagree about ${card.name} (${state})`).toStrictEqual(await reference.view(se, card));
      return view;
    }
    previous = view;
  }
  throw new Error(`unknown state ${state}`);
}

/** Registers the suite for `source` on each card; with `reference`, every state is also a deep-equal proof. */
export function cardViewConformance(source: CardViewSource, cards: CardUnderTest[], reference?: CardViewSource): void {
  describe(`CardView conformance: ${source.name}${reference ? ` (against ${reference.name})` : ''}`, () => {
    for (const card of cards) {
      for (const state of CARD_VIEW_STATES) {
        it(`${card.name}: ${state}`, async () => {
          await checkCardViewState(state, card, source, reference);
        });
      }
    }
  });
}
