/**
 * Card-side secure channels of an SD: SCP02 (gp Scp02Card) or SCP03 (gp Scp03Card), chosen by the key set that
 * INITIALIZE UPDATE names. Keys and sequence counters are read from and written to the state of the command
 * being processed (`session.live`), so counter updates commit with that command.
 */
import { fromHex, Scp02Card, type Scp02CardKeySet, Scp03Card, type Scp03CardKeySet } from '../gp/index.ts';
import { findEntry } from './registry.ts';
import type { OpenChannel, Session } from './session.ts';
import type { CardState, KeySetState } from './state.ts';

/** Key diversification data of INITIALIZE UPDATE: 10 bytes of the CPLC (fabrication date, serial, batch, module fabricator). */
export function keyDiversificationData(state: CardState): Uint8Array {
  return fromHex(state.cplc).slice(10, 20);
}

export function isComplete(ks: KeySetState): boolean {
  return ['1', '2', '3'].every((id) => typeof ks.keys[id] === 'string');
}

function liveKeySets(session: Session, sdAid: string): KeySetState[] {
  const state = session.live;
  if (!state) return [];
  return findEntry(state, sdAid)?.keySets ?? [];
}

/**
 * The SD's key sets of one protocol as gp's card side asks for them (by KVN, 0 for the first), read from the
 * live state, and where its sequence counter updates go.
 */
function keySetSource(session: Session, sdAid: string, scp: '02' | '03') {
  const sets = () => liveKeySets(session, sdAid).filter((k) => k.scp === scp);
  return {
    findKeySet(kvn: number): (Scp02CardKeySet & Scp03CardKeySet) | undefined {
      const complete = sets().filter(isComplete);
      const ks = kvn === 0 ? complete[0] : complete.find((k) => k.kvn === kvn);
      if (!ks) return undefined;
      return {
        kvn: ks.kvn,
        keys: { enc: fromHex(ks.keys['1']), mac: fromHex(ks.keys['2']), dek: fromHex(ks.keys['3']) },
        sequenceCounter: ks.sequenceCounter,
      };
    },
    onSequenceCounter(kvn: number, value: number): void {
      const ks = sets().find((k) => k.kvn === kvn);
      if (ks) ks.sequenceCounter = value;
    },
  };
}

/** How the card side of a channel behaves beyond its keys: challenges, and test-only answer shapes. */
export interface ChannelCardOptions {
  random?: (n: number) => Uint8Array;
  /** SCP03 only, for tests: see Scp03CardOptions.responsePaddingBlocks. */
  responsePaddingBlocks?: number;
}

export function createChannel(session: Session, state: CardState, sdAid: string, keySet: KeySetState, card: ChannelCardOptions = {}): OpenChannel {
  const options = { ...keySetSource(session, sdAid, keySet.scp), kdd: keyDiversificationData(state), aid: fromHex(sdAid), i: keySet.i, random: card.random };
  if (keySet.scp === '02') {
    const sc = new Scp02Card(options);
    return { sd: sdAid, scp: '02', sc, decryptKey: (block) => sc.decryptSensitive(block) };
  }
  const sc = new Scp03Card({ ...options, responsePaddingBlocks: card.responsePaddingBlocks });
  return { sd: sdAid, scp: '03', sc, decryptKey: (block) => sc.decryptSensitive(block) };
}
