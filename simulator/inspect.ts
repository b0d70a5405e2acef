/**
 * Inspection view of a simulated SE for tests and steps (never used by the central TSM): the registry with
 * life cycles, privileges and associations, memory figures, stored personalization data, and key sets as
 * KVN + check values only — key values never leave the card through this view.
 */
import { fromHex, toHex, keyCheckValue, type Privilege, decodePrivileges } from '../gp/index.ts';
import { cplcFields } from './cplc.ts';
import { freeNonVolatile, freeVolatile, usedNonVolatile, usedVolatile } from './memory.ts';
import type { Session } from './session.ts';
import { type CardState, type EntryKind, type StoredBlock, appLifeName, cardLifeName } from './state.ts';

export interface KeySetInfo {
  kvn: number;
  scp: '02' | '03';
  i: number;
  keyType: 'AES' | 'DES';
  /** Key id → check value (hex, 3 bytes). */
  kcv: Record<number, string>;
  sequenceCounter: number;
}

export interface EntryInfo {
  aid: string;
  kind: EntryKind;
  lifeCycle: string;
  lifeCycleByte: number;
  privileges: Privilege[];
  privilegesHex: string;
  associatedSd: string;
  packageAid?: string;
  moduleAid?: string;
  installParams?: string;
  implicitSelection: number[];
  memory: { nonVolatile: { allocated: number; reserved: number; quota?: number }; volatile: { allocated: number; reserved: number; quota?: number } };
  keySets: KeySetInfo[];
  /** STORE DATA blocks received, in order. */
  stored: StoredBlock[];
  /** Concatenation of every stored block (hex). */
  storedHex: string;
  dataObjects: Record<string, string>;
  /** Amendment C contactless availability, once set with SET STATUS '01'. */
  contactless?: 'activated' | 'deactivated';
}

export interface PackageInfo {
  aid: string;
  version?: string;
  lifeCycle: 'LOADED';
  modules: string[];
  associatedSd: string;
  nonVolatile: number;
  hash?: string;
}

export interface CardInspection {
  seId: string;
  type: 'eSE' | 'UICC';
  atr: string;
  iin: string;
  cin: string;
  cplc: Record<string, string>;
  lifeCycle: string;
  lifeCycleByte: number;
  auth: { failures: number; limit: number; blocked: boolean };
  memory: {
    nonVolatile: { total: number; used: number; free: number };
    volatile: { total: number; used: number; free: number };
  };
  isd: string;
  securityDomains: EntryInfo[];
  applications: EntryInfo[];
  packages: PackageInfo[];
  session: { selected: string; secureChannel?: { sd: string; scp: string; level?: number; kvn?: number }; personalizing?: string };
}

export function inspectCard(state: CardState, session: Session): CardInspection {
  const entries: EntryInfo[] = state.entries.map((e) => ({
    aid: e.aid,
    kind: e.kind,
    lifeCycle: e.kind === 'isd' ? cardLifeName(state.lifeCycle) : appLifeName(e.lifeCycle, e.kind),
    lifeCycleByte: e.kind === 'isd' ? state.lifeCycle : e.lifeCycle,
    privileges: decodePrivileges(fromHex(e.privileges)),
    privilegesHex: e.privileges,
    associatedSd: e.sd,
    packageAid: e.packageAid,
    moduleAid: e.moduleAid,
    installParams: e.installParams,
    implicitSelection: [...e.implicitSelection],
    memory: { nonVolatile: { ...e.nv }, volatile: { ...e.volatile } },
    keySets: e.keySets.map((ks) => ({
      kvn: ks.kvn,
      scp: ks.scp,
      i: ks.i,
      keyType: ks.keyType === 0x88 ? 'AES' : 'DES',
      kcv: Object.fromEntries(Object.entries(ks.keys).map(([id, v]) => [Number(id), toHex(keyCheckValue(fromHex(v), ks.keyType))])),
      sequenceCounter: ks.sequenceCounter,
    })),
    stored: e.stored.map((b) => ({ ...b })),
    storedHex: e.stored.map((b) => b.hex).join(''),
    dataObjects: { ...e.dataObjects },
    contactless: e.contactless,
  }));
  const ch = session.channel;
  return {
    seId: state.seId,
    type: state.type,
    atr: state.atr,
    iin: state.iin,
    cin: state.cin,
    cplc: cplcFields(fromHex(state.cplc)),
    lifeCycle: cardLifeName(state.lifeCycle),
    lifeCycleByte: state.lifeCycle,
    auth: { ...state.auth },
    memory: {
      nonVolatile: { total: state.memory.nonVolatile, used: usedNonVolatile(state), free: freeNonVolatile(state) },
      volatile: { total: state.memory.volatile, used: usedVolatile(state), free: freeVolatile(state) },
    },
    isd: entries.find((e) => e.kind === 'isd')!.aid,
    securityDomains: entries.filter((e) => e.kind !== 'app'),
    applications: entries.filter((e) => e.kind === 'app'),
    packages: state.packages.map((p) => ({
      aid: p.aid,
      version: p.version,
      lifeCycle: 'LOADED',
      modules: [...p.modules],
      associatedSd: p.sd,
      nonVolatile: p.nv,
      hash: p.hash,
    })),
    session: {
      selected: session.selected,
      secureChannel: ch && ch.sc.isOpen ? { sd: ch.sd, scp: ch.scp, level: ch.sc.level, kvn: ch.sc.kvn } : undefined,
      personalizing: session.perso?.target,
    },
  };
}
