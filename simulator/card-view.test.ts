/**
 * The CardView conformance suite on both sources: the simulator's own view, and gp's readCardView through an
 * in-process channel with the ISD keys of the fleet — static SCP03, static SCP02, and keys diversified from a
 * master (emv on SCP02, kdf3 on SCP03). readCardView must deep-equal the simulator's view in every state.
 */
import { describe, expect, it } from 'vitest';
import { openChannel } from '../drivers/index.ts';
import { type CardView, diversify, fromHex, type IssuerKeys, openIssuerChannel, parseCommand, readCardView, toHex } from '../gp/index.ts';
import { defaultFleet, type KeySetSpec } from '../profiles/index.ts';
import { cardViewOf } from './card-view.ts';
import { type CardUnderTest, type CardViewSource, cardViewConformance, checkCardViewState } from './card-view.conformance.ts';
import { keyDiversificationData } from './channels.ts';
import { defaultKeySet, defaultSeSpec } from './default-card.ts';
import { createSimulatedSe } from './factory.ts';
import type { SimulatedSe } from './se.ts';

function issuerKeys(spec: KeySetSpec): IssuerKeys {
  return { scp: spec.scp, i: parseInt(spec.i ?? (spec.scp === '03' ? '70' : '55'), 16), kvn: spec.kvn, keyScheme: 'none', enc: fromHex(spec.enc), mac: fromHex(spec.mac), dek: fromHex(spec.dek) };
}

/** se-1 of the fleet with the ISD keeping Final Application, so that the ISD can still be selected when CARD_LOCKED. */
function fleetCard(): CardUnderTest {
  const spec = defaultFleet().ses.find((s) => s.seId === 'se-1')!;
  for (const sd of spec.card.securityDomains ?? []) sd.privileges = sd.privileges?.filter((p) => p !== 'FinalApplication');
  return { name: 'fleet se-1 (SCP03)', spec, isdKeys: issuerKeys(spec.card.isd.keys) };
}

/** The SCP02 card of profiles/examples/sim-scp02.json (i=55, KVN 20), with an SD that holds no keys. */
function scp02Card(): CardUnderTest {
  const isd = defaultKeySet({ scp: '02', kvn: 0x20, i: '55' });
  const spec = defaultSeSpec({ seId: 'se-scp02', isdKeys: isd, securityDomains: [{ aid: 'F0C0FFEE5D00FF', privileges: ['SecurityDomain'], lifeCycle: 'PERSONALIZED' }] });
  return { name: 'SCP02 i=55', spec, isdKeys: issuerKeys(isd) };
}

/** A card personalized with keys diversified from `master`; the reader gets only the master key. */
function diversifiedCard(scheme: 'emv' | 'kdf3', master: string): CardUnderTest {
  const scp = scheme === 'emv' ? '02' : '03';
  const probe = defaultSeSpec({ seId: `se-${scheme}` });
  const keys = diversify(scheme, fromHex(master), keyDiversificationData(createSimulatedSe(probe).toJSON()));
  const isd = defaultKeySet({ scp, kvn: 0x01, enc: toHex(keys.enc), mac: toHex(keys.mac), dek: toHex(keys.dek) });
  const spec = defaultSeSpec({ seId: `se-${scheme}`, isdKeys: isd });
  return { name: `${scheme}-diversified SCP${scp}`, spec, isdKeys: { scp, i: parseInt(isd.i!, 16), kvn: isd.kvn, keyScheme: scheme, master: fromHex(master) } };
}

const CARDS = [fleetCard(), scp02Card(), diversifiedCard('emv', '0123456789ABCDEFFEDCBA9876543210'), diversifiedCard('kdf3', '000102030405060708090A0B0C0D0E0F')];

const simulatorView: CardViewSource = { name: 'the simulator', view: async (se) => cardViewOf(se.inspect()) };

async function readOver(se: SimulatedSe, card: CardUnderTest, observe?: (command: Uint8Array, response: Uint8Array) => void): Promise<CardView> {
  const channel = await openChannel(`inproc:${se.seId}`, { endpoint: se, trace: false });
  const aid = fromHex(card.spec.card.isd.aid);
  const transmit = async (command: Uint8Array) => {
    const response = await channel.transmit(command);
    observe?.(command, response);
    return response;
  };
  try {
    return await readCardView(transmit, { aid, open: (tx) => openIssuerChannel(tx, aid, card.isdKeys) });
  } finally {
    await channel.close();
  }
}

const gpReader: CardViewSource = { name: 'readCardView over inproc', view: (se, card) => readOver(se, card) };

cardViewConformance(simulatorView, CARDS);
cardViewConformance(gpReader, CARDS, simulatorView);

describe('readCardView on the simulator', () => {
  it('pages GET STATUS with [next occurrence] when the registry does not fit one response', async () => {
    const sent: { p1: number; p2: number; sw: string }[] = [];
    const spying: CardViewSource = {
      name: 'spying reader',
      view: (se, card) => {
        sent.length = 0;
        return readOver(se, card, (c, r) => {
          const cmd = parseCommand(c);
          if (cmd.ins === 0xf2) sent.push({ p1: cmd.p1, p2: cmd.p2, sw: toHex(r.subarray(r.length - 2)) });
        });
      },
    };
    await checkCardViewState('many', CARDS[0], spying, simulatorView);
    const apps = sent.filter((s) => s.p1 === 0x40);
    expect(apps.length).toBeGreaterThan(2);
    expect(apps[0]).toEqual({ p1: 0x40, p2: 0x02, sw: '6310' });
    expect(apps.slice(1).every((s) => s.p2 === 0x03)).toBe(true);
    expect(apps[apps.length - 1].sw).toBe('9000');
  });

  it('leaves out the key versions of an SD that holds no keys (GET DATA E0 refused), like the simulator', async () => {
    const card = CARDS[1];
    const view = await checkCardViewState('fresh', card, gpReader, simulatorView);
    const keyless = view.securityDomains.find((s) => s.aid === 'F0C0FFEE5D00FF')!;
    expect(keyless).toBeDefined();
    expect('keyVersions' in keyless).toBe(false);
    expect(view.securityDomains.find((s) => s.aid !== keyless.aid)!.keyVersions).toEqual([0x30]);
  });
});

describe('the suite can fail', () => {
  const dropping: CardViewSource = {
    name: 'a reader that drops the last application',
    view: async (se, card) => {
      const v = await readOver(se, card);
      return { ...v, applications: v.applications.slice(0, -1) };
    },
  };
  const offByOne: CardViewSource = {
    name: 'a reader that miscounts free memory by one byte',
    view: async (se, card) => {
      const v = await readOver(se, card);
      return { ...v, freeNonVolatile: v.freeNonVolatile! - 1 };
    },
  };

  it('a view that drops an entry fails the state checks', async () => {
    await expect(checkCardViewState('many', CARDS[0], dropping)).rejects.toThrow();
  });

  it('a consistent error only the card can reveal fails the deep-equal proof', async () => {
    // Every relative check passes (the error is the same in every state)...
    await expect(checkCardViewState('installed', CARDS[0], offByOne)).resolves.toBeDefined();
    // ...but the simulator's own view of the same card disagrees.
    await expect(checkCardViewState('installed', CARDS[0], offByOne, simulatorView)).rejects.toThrow(/disagree/);
  });
});
