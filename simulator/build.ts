/**
 * Builds the initial CardState of a simulated SE from its fleet-file description (the card part of SeSpec plus
 * the SE identity). Configuration mistakes raise SimulatorError with the offending path.
 */
import { fromHex, toHex, type Privilege, PrivilegeError, encodePrivileges, parsePrivilegeName } from '../gp/index.ts';
import type { CardSpec, KeySetSpec, SeType } from '../profiles/index.ts';
import { buildAtr, checkAtr } from './atr.ts';
import { buildCplc, CPLC_LENGTH } from './cplc.ts';
import { SimulatorError } from './errors.ts';
import { Footprint, freeNonVolatile, freeVolatile } from './memory.ts';
import { has, ISD_PRIVILEGES } from './registry.ts';
import { type CardState, type KeySetState, type CardEntry, AppLife, CardLife, LOADED, STATE_FORMAT } from './state.ts';

/** What a SimulatedSe is built from: the identity fields of SeSpec and its card. A SeSpec fits as is. */
export interface SimulatedSeConfig {
  seId: string;
  type?: SeType;
  cin: string;
  iin: string;
  /** The central SD; added under the ISD when the card's securityDomains do not list it. */
  centralSd?: { aid: string; keys: KeySetSpec };
  card: CardSpec;
}

/** GlobalPlatform Security Domain load file and module present on every card. */
export const SD_PACKAGE_AID = 'A0000001515350';
export const SD_MODULE_AID = 'A000000151535041';

/** Failed EXTERNAL AUTHENTICATEs before the card locks itself, when the profile does not say. */
export const DEFAULT_AUTH_FAILURE_LIMIT = 10;

/** Privileges of a central SD the profile mentions only in `centralSd`. */
export const DEFAULT_CENTRAL_SD_PRIVILEGES: Privilege[] = [
  'security-domain',
  'authorized-management',
  'global-delete',
  'global-lock',
  'global-registry',
  'card-lock',
];

const LIFE_NAMES = { INSTALLED: AppLife.INSTALLED, SELECTABLE: AppLife.SELECTABLE, PERSONALIZED: AppLife.PERSONALIZED } as const;

function hexField(value: string, path: string, min: number, max: number): string {
  let bytes: Uint8Array;
  try {
    bytes = fromHex(value);
  } catch (e) {
    throw new SimulatorError(`${path}: ${(e as Error).message}`);
  }
  if (bytes.length < min || bytes.length > max) throw new SimulatorError(`${path}: ${bytes.length} bytes, expected ${min}..${max}`);
  return toHex(bytes);
}

const aidField = (value: string, path: string) => hexField(value, path, 5, 16);

export function keySetFromSpec(spec: KeySetSpec, path: string): KeySetState {
  const scp = spec.scp;
  if (scp !== '02' && scp !== '03') throw new SimulatorError(`${path}.scp: "${scp}" is not "02" or "03"`);
  if (!Number.isInteger(spec.kvn) || spec.kvn < 1 || spec.kvn > 0xff) throw new SimulatorError(`${path}.kvn: ${spec.kvn} out of 1..255`);
  const i = spec.i !== undefined ? parseInt(hexField(spec.i, `${path}.i`, 1, 1), 16) : scp === '03' ? 0x70 : 0x55;
  const lengths = scp === '03' ? [16, 24, 32] : [16];
  const keys: Record<string, string> = {};
  (['enc', 'mac', 'dek'] as const).forEach((k, n) => {
    const v = hexField(spec[k], `${path}.${k}`, 1, 32);
    if (!lengths.includes(v.length / 2)) throw new SimulatorError(`${path}.${k}: ${v.length / 2}-byte key not valid for SCP${scp}`);
    keys[String(n + 1)] = v;
  });
  return { kvn: spec.kvn, scp, i, keyType: scp === '03' ? 0x88 : 0x80, keys, sequenceCounter: 0 };
}

function privilegesFromNames(names: string[] | undefined, path: string, fallback: Privilege[]): string {
  if (!names) return toHex(encodePrivileges(fallback));
  const parsed = names.map((n, k) => {
    try {
      return parsePrivilegeName(n);
    } catch (e) {
      if (e instanceof PrivilegeError) throw new SimulatorError(`${path}[${k}]: ${e.message}`);
      throw e;
    }
  });
  if (!parsed.includes('security-domain')) parsed.push('security-domain');
  try {
    return toHex(encodePrivileges(parsed));
  } catch (e) {
    if (e instanceof PrivilegeError) throw new SimulatorError(`${path}: ${e.message}`);
    throw e;
  }
}

/** "1.0" → "0100"; hex ("0100") passes through. */
export function packageVersion(v: string | undefined, path: string): string | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d{1,3})\.(\d{1,3})$/.exec(v);
  if (m) return toHex(Uint8Array.of(Number(m[1]), Number(m[2])));
  return hexField(v, path, 1, 8);
}

export function newEntry(init: Pick<CardEntry, 'aid' | 'kind' | 'lifeCycle' | 'privileges' | 'sd'> & Partial<CardEntry>): CardEntry {
  const sd = init.kind !== 'app';
  return {
    implicitSelection: [],
    nv: { allocated: sd ? Footprint.sdNonVolatile : Footprint.appNonVolatile, reserved: 0 },
    volatile: { allocated: sd ? Footprint.sdVolatile : Footprint.appVolatile, reserved: 0 },
    keySets: [],
    stored: [],
    dataObjects: {},
    ...init,
  };
}

export function buildCardState(config: SimulatedSeConfig): CardState {
  const card = config.card;
  if (!config.seId) throw new SimulatorError('seId: missing');
  if (!card?.isd) throw new SimulatorError(`${config.seId}: card.isd missing`);
  const atr = card.atr !== undefined ? fromHexChecked(card.atr, 'card.atr') : buildAtr();
  checkAtr(atr);
  if (!(card.memory?.nonVolatile >= 0) || !(card.memory?.volatile >= 0)) throw new SimulatorError('card.memory: nonVolatile and volatile are required');
  const limit = card.authFailureLimit ?? DEFAULT_AUTH_FAILURE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new SimulatorError(`card.authFailureLimit: ${limit} must be a positive integer`);
  const cplc = buildCplc(config.seId, card.cplc);
  if (cplc.length !== CPLC_LENGTH) throw new SimulatorError('card.cplc: wrong length');

  const isdAid = aidField(card.isd.aid, 'card.isd.aid');
  const state: CardState = {
    format: STATE_FORMAT,
    seId: config.seId,
    type: config.type ?? 'eSE',
    atr: toHex(atr),
    iin: hexField(config.iin, 'iin', 1, 16),
    cin: hexField(config.cin, 'cin', 1, 16),
    cplc: toHex(cplc),
    lifeCycle: CardLife.SECURED,
    memory: { nonVolatile: card.memory.nonVolatile, volatile: card.memory.volatile },
    packages: [],
    entries: [
      newEntry({
        aid: isdAid,
        kind: 'isd',
        lifeCycle: CardLife.SECURED,
        privileges: toHex(encodePrivileges(ISD_PRIVILEGES)),
        sd: isdAid,
        keySets: [keySetFromSpec(card.isd.keys, 'card.isd.keys')],
      }),
    ],
    auth: { failures: 0, limit, blocked: false },
  };

  const sdSpecs = [...(card.securityDomains ?? [])];
  const central = config.centralSd;
  if (central) {
    const aid = aidField(central.aid, 'centralSd.aid');
    const listed = sdSpecs.find((s) => s.aid.toUpperCase() === aid);
    if (!listed) sdSpecs.unshift({ aid, keys: central.keys, privileges: DEFAULT_CENTRAL_SD_PRIVILEGES, lifeCycle: 'PERSONALIZED' });
    else if (!listed.keys) listed.keys = central.keys;
  }
  const sdAids = new Set([isdAid, ...sdSpecs.map((s, k) => aidField(s.aid, `card.securityDomains[${k}].aid`))]);
  if (sdAids.size !== sdSpecs.length + 1) throw new SimulatorError('card.securityDomains: duplicate AID');
  sdSpecs.forEach((s, k) => {
    const path = `card.securityDomains[${k}]`;
    const parent = s.parent ? aidField(s.parent, `${path}.parent`) : isdAid;
    if (!sdAids.has(parent)) throw new SimulatorError(`${path}.parent: ${parent} is not a security domain`);
    const lc = s.lifeCycle ?? 'PERSONALIZED';
    const entry = newEntry({
      aid: s.aid.toUpperCase(),
      kind: 'sd',
      lifeCycle: lc === 'LOCKED' ? AppLife.PERSONALIZED | AppLife.LOCKED_BIT : LIFE_NAMES[lc],
      privileges: privilegesFromNames(s.privileges, `${path}.privileges`, ['security-domain']),
      sd: parent,
      keySets: s.keys ? [keySetFromSpec(s.keys, `${path}.keys`)] : [],
    });
    entry.nv.allocated += Footprint.keySet * entry.keySets.length;
    state.entries.push(entry);
  });
  // Only one application holds Final Application at a time; the ISD has it unless another SD was given it (GPCS §6.6.1).
  const finals = state.entries.filter((e) => e.kind === 'sd' && has(e, 'final-application'));
  if (finals.length > 1) throw new SimulatorError(`card.securityDomains: ${finals.map((e) => e.aid).join(' and ')} both claim Final Application; only one may hold it`);
  if (finals.length === 1) state.entries[0].privileges = toHex(encodePrivileges(ISD_PRIVILEGES.filter((p) => p !== 'final-application')));
  // The platform's SD load file (ROM, no memory charged): SD instances are installed from it.
  state.packages.push({ aid: SD_PACKAGE_AID, version: '0100', modules: [SD_MODULE_AID], sd: isdAid, lifeCycle: LOADED, nv: 0 });
  // The pre-personalization flow instantiates from packages pre-loaded under the central SD.
  const pkgSd = central ? central.aid.toUpperCase() : isdAid;
  (card.packages ?? []).forEach((p, k) => {
    const path = `card.packages[${k}]`;
    const aid = aidField(p.aid, `${path}.aid`);
    if (state.packages.some((q) => q.aid === aid)) throw new SimulatorError(`${path}.aid: duplicate package ${aid}`);
    if (!(Number.isInteger(p.size) && p.size >= 0)) throw new SimulatorError(`${path}.size: must be a non-negative integer`);
    state.packages.push({
      aid,
      version: packageVersion(p.version, `${path}.version`),
      modules: (p.applets ?? []).map((a, j) => aidField(a, `${path}.applets[${j}]`)),
      sd: pkgSd,
      lifeCycle: LOADED,
      nv: p.size,
    });
  });
  (card.instances ?? []).forEach((s, k) => {
    const path = `card.instances[${k}]`;
    const aid = aidField(s.aid, `${path}.aid`);
    if (state.entries.some((e) => e.aid === aid)) throw new SimulatorError(`${path}.aid: ${aid} already registered`);
    const pkg = state.packages.find((p) => p.aid === s.packageAid.toUpperCase());
    if (!pkg) throw new SimulatorError(`${path}.packageAid: no package ${s.packageAid}`);
    const moduleAid = aidField(s.moduleAid, `${path}.moduleAid`);
    if (!pkg.modules.includes(moduleAid)) throw new SimulatorError(`${path}.moduleAid: ${moduleAid} is not in package ${pkg.aid}`);
    const sd = aidField(s.sd, `${path}.sd`);
    if (!sdAids.has(sd)) throw new SimulatorError(`${path}.sd: ${sd} is not a security domain`);
    const lc = s.lifeCycle ?? 'SELECTABLE';
    const entry = newEntry({
      aid,
      kind: 'app',
      lifeCycle: lc === 'LOCKED' ? AppLife.SELECTABLE | AppLife.LOCKED_BIT : LIFE_NAMES[lc],
      privileges: '000000',
      sd,
      packageAid: pkg.aid,
      moduleAid,
    });
    if (s.size !== undefined) entry.nv.allocated = s.size;
    state.entries.push(entry);
  });
  if (freeNonVolatile(state) < 0) throw new SimulatorError(`card.memory.nonVolatile: ${card.memory.nonVolatile} bytes cannot hold the pre-loaded content`);
  if (freeVolatile(state) < 0) throw new SimulatorError(`card.memory.volatile: ${card.memory.volatile} bytes cannot hold the pre-loaded content`);
  return state;
}

function fromHexChecked(hex: string, path: string): Uint8Array {
  try {
    return fromHex(hex);
  } catch (e) {
    throw new SimulatorError(`${path}: ${(e as Error).message}`);
  }
}
