/** Shared fixtures of the simulator tests: a card with SCP02 or SCP03 key sets and a terminal on it. */
import type { KeySetSpec, SeSpec } from '../profiles/index.ts';
import { DEFAULT_CENTRAL_SD_AID, DEFAULT_ISD_AID, type DefaultSeOptions, defaultKeySet, defaultSeSpec } from './default-card.ts';
import { SimulatedSe, type SimulatedSeOptions } from './se.ts';
import { Terminal } from './terminal.ts';

export const ISD = DEFAULT_ISD_AID;
export const CENTRAL = DEFAULT_CENTRAL_SD_AID;

export interface Fixture {
  spec: SeSpec;
  se: SimulatedSe;
  t: Terminal;
  isdKeys: KeySetSpec;
  centralKeys: KeySetSpec;
}

export function keysFor(scp: '02' | '03', key = '404142434445464748494A4B4C4D4E4F', kvn?: number): KeySetSpec {
  return defaultKeySet({ scp, key, kvn: kvn ?? (scp === '03' ? 0x30 : 0x20) });
}

export function fixture(scp: '02' | '03', opts: DefaultSeOptions = {}, seOpts: SimulatedSeOptions = {}): Fixture {
  const isdKeys = opts.isdKeys ?? keysFor(scp);
  const centralKeys = opts.centralSd?.keys ?? keysFor(scp, 'C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF');
  const spec = defaultSeSpec({ ...opts, isdKeys, centralSd: { aid: opts.centralSd?.aid ?? CENTRAL, keys: centralKeys } });
  const se = new SimulatedSe(spec, seOpts);
  return { spec, se, t: new Terminal(se), isdKeys, centralKeys };
}
