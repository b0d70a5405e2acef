/**
 * The persistent state of a simulated SE: everything a real card keeps across power cycles (GlobalPlatform
 * Registry, key sets, sequence counters, stored data, memory accounting, the authentication failure counter).
 * Plain JSON (hex strings, numbers) so a snapshot is `JSON.stringify` and a draft copy is `structuredClone`.
 * Session state (selected application, secure channel, chaining) is deliberately NOT here: it dies with power.
 */

import { cardLifeCycleName, CardLifeCycle, entryLifeCycleName, LoadFileLifeCycle, SecurityDomainLifeCycle } from '../gp/index.ts';

export const STATE_FORMAT = 'tsmlab.se-state/1';

/** Card life cycle (GPCS 2.3.1 Table 11-6), as gp codes it. */
export const CardLife = CardLifeCycle;

/** Application / SD life cycle (Tables 11-4, 11-5); LOCKED is b8 set on top of the previous state. */
export const AppLife = SecurityDomainLifeCycle;

/** Executable Load File life cycle (Table 11-3). */
export const LOADED = LoadFileLifeCycle.LOADED;

export type EntryKind = 'isd' | 'sd' | 'app';

export interface KeySetState {
  kvn: number;
  scp: '02' | '03';
  /** Implementation option i (e.g. 0x70 for SCP03, 0x55 for SCP02). */
  i: number;
  /** Key type of every key in the set: 0x88 AES, 0x80 DES (Table 11-16). */
  keyType: number;
  /** Key id → key value (hex). Ids 1, 2, 3 = ENC, MAC, DEK. */
  keys: Record<string, string>;
  /** SCP02 sequence counter / SCP03 pseudo-random challenge counter; persists like on a real card. */
  sequenceCounter: number;
}

/** One STORE DATA block as the target received it (plain, after secure messaging). */
export interface StoredBlock {
  p1: number;
  p2: number;
  /** 'dgi' | 'ber-tlv' | 'app' from P1 b5-b4. */
  format: 'dgi' | 'ber-tlv' | 'app';
  hex: string;
}

export interface MemoryClaim {
  /** Bytes effectively allocated to the entry (its footprint + stored data). */
  allocated: number;
  /** Reserved memory (D7/D8): charged to the card at install even if not used. */
  reserved: number;
  /** Memory quota (C7/C8): a cap on `allocated`; does not reduce what the card has available (§9.7). */
  quota?: number;
}

export interface CardEntry {
  aid: string;
  kind: EntryKind;
  lifeCycle: number;
  /** Three privilege bytes, hex (Table 11-7..11-9). */
  privileges: string;
  /** Associated SD AID. The ISD is associated with itself. */
  sd: string;
  packageAid?: string;
  moduleAid?: string;
  /** Install parameters given in tag C9 (hex), made known to the application. */
  installParams?: string;
  implicitSelection: number[];
  nv: MemoryClaim;
  volatile: MemoryClaim;
  /** SDs only. */
  keySets: KeySetState[];
  /** Personalization data the entry received through STORE DATA, in order. */
  stored: StoredBlock[];
  /** SD data objects (tag hex → value hex) set with STORE DATA in BER-TLV format: 42, 45, 66, 5F50... */
  dataObjects: Record<string, string>;
  /** Amendment C: contactless activation state when the card models it. */
  contactless?: 'activated' | 'deactivated';
}

export interface PackageEntry {
  aid: string;
  /** Version, hex (2 bytes major.minor for Java Card). */
  version?: string;
  modules: string[];
  sd: string;
  lifeCycle: number;
  /** Non-volatile bytes occupied. */
  nv: number;
  /** Load File Data Block hash (SHA-256, hex) when the package was loaded with LOAD. */
  hash?: string;
}

export interface CardState {
  format: typeof STATE_FORMAT;
  seId: string;
  type: 'eSE' | 'UICC';
  atr: string;
  iin: string;
  cin: string;
  /** 42 bytes CPLC (hex). */
  cplc: string;
  lifeCycle: number;
  memory: { nonVolatile: number; volatile: number };
  packages: PackageEntry[];
  /** GlobalPlatform Registry in registry order; the ISD first. */
  entries: CardEntry[];
  auth: { failures: number; limit: number; blocked: boolean };
}

export function isLocked(lifeCycle: number): boolean {
  return (lifeCycle & AppLife.LOCKED_BIT) !== 0;
}

export const cardLifeName = cardLifeCycleName;

export function appLifeName(lc: number, kind: EntryKind): string {
  return entryLifeCycleName(lc, kind === 'app' ? 'app' : 'sd');
}
