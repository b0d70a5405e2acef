/**
 * Card profiles: the ICS (what a card claims) and IXIT (how tests reach it) of one sample, validated against
 * card-profile.schema.json with errors that name the JSON path, then cross-checked. Keys appear only as
 * references (env:NAME, file:path#/pointer) and are resolved at run time; the profile's SHA-256 goes into
 * reports. Also: ATR (masked) and CPLC matching, the ICS feature list for @ICS: tags.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { CPLC_SIZE, decodeCplc, parseTlv, TlvError } from '../gp/index.ts';

export type ScpVersion = '02' | '03';
export type KeyScheme = 'none' | 'emv' | 'visa2' | 'kdf3';
export type KeyRole = 'enc' | 'mac' | 'dek' | 'master';

export interface CardProfile {
  $schema?: string;
  profile: string;
  description?: string;
  ics: {
    gpVersion: string;
    javaCardVersion?: string;
    secureChannels: { scp: ScpVersion; i: string[] }[];
    features: string[];
  };
  ixit: {
    isdAid: string;
    centralSdAid?: string;
    atr: { value: string; mask?: string };
    cplc?: Partial<Record<CplcFieldName, string>>;
    /** The fleet SE this card stands for (default: matched by ISD and central SD AIDs). */
    seId?: string;
    reader?: string;
    secureChannel: { scp: ScpVersion; i: string; keyScheme: KeyScheme; kvn: number };
    keys: Partial<Record<KeyRole, string>>;
    blockSize?: number;
    authBudget?: number;
    sacrificial?: boolean;
  };
}

export interface LoadedCardProfile {
  profile: CardProfile;
  /** File name (or the name given) for messages. */
  source: string;
  /** Directory file: key references are relative to. */
  dir: string;
  /** SHA-256 of the profile file's bytes (hex, lower case): `sha256sum` gives the same. */
  sha256: string;
  /** Findings that do not stop a run (e.g. a feature name no suite uses yet). */
  warnings: string[];
}

/** A profile that cannot be used; `problems` lists every finding as "source: /json/path message". */
export class ProfileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join('\n  ')}`);
    this.name = 'ProfileError';
  }
}

/** Failed-authentication budget when the profile does not say. */
export const DEFAULT_AUTH_BUDGET = 3;

/** Feature names the suites know; others are accepted with a warning (a typo would deselect scenarios silently). */
export const KNOWN_FEATURES = [
  'extended-length',
  'cap-loading',
  'contactless-activation',
  'delegated-management',
  'authorized-management',
  'dap-verification',
  'mandated-dap',
  'logical-channels',
  'get-status-registry-data',
  'get-status-legacy',
  'get-data-2f00',
  'extended-card-resources',
  'extradition',
  'put-key',
  'card-lock',
  'card-terminate',
  'memory-quota',
  'rmac',
  'c-decryption',
  'uicc',
  'ese',
] as const;

/** A CPLC field name of gp's CPLC layout (GET DATA '9F7F'); the schema lists the ones a profile may name. */
export type CplcFieldName = string;

const schemaText = readFileSync(new URL('./card-profile.schema.json', import.meta.url), 'utf8');
export const cardProfileSchema = JSON.parse(schemaText) as Record<string, unknown>;

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile<CardProfile>(cardProfileSchema);

const looksLikeKeyValue = (v: unknown) => typeof v === 'string' && /^(?:[0-9A-Fa-f]{2}\s?){8,}$/.test(v.trim());

function describe(e: ErrorObject, data: unknown): string {
  const at = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') {
    return `unknown field ${e.instancePath}/${(e.params as { additionalProperty: string }).additionalProperty}`;
  }
  if (e.keyword === 'required') return `missing field ${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}`;
  if (e.keyword === 'pattern' && /^\/ixit\/keys\//.test(e.instancePath)) {
    const value = valueAt(data, e.instancePath);
    if (looksLikeKeyValue(value)) {
      return (
        `${at}: inline key values are not allowed — profiles are shared, hashed into reports and kept in version ` +
        'control, so a key written here leaks; give a reference instead: env:NAME or file:path#/json/pointer'
      );
    }
    return `${at} must be a key reference: env:NAME or file:path#/json/pointer`;
  }
  if (e.keyword === 'pattern') return `${at} has an invalid format (must match ${(e.params as { pattern: string }).pattern})`;
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ');
    return `${at} must be one of ${allowed}`;
  }
  return `${at} ${e.message ?? 'is invalid'}`;
}

function valueAt(data: unknown, pointer: string): unknown {
  let cur: unknown = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function crossCheck(p: CardProfile): { problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const sc = p.ixit.secureChannel;
  const keys = p.ixit.keys;
  if (sc.keyScheme === 'none') {
    for (const role of ['enc', 'mac', 'dek'] as const) {
      if (!keys[role]) problems.push(`missing field /ixit/keys/${role} (keyScheme "none" needs enc, mac and dek)`);
    }
    if (keys.master) problems.push('/ixit/keys/master is for diversified keys; keyScheme "none" takes enc, mac and dek');
  } else {
    if (!keys.master) problems.push(`missing field /ixit/keys/master (keyScheme "${sc.keyScheme}" diversifies one master key)`);
    for (const role of ['enc', 'mac', 'dek'] as const) {
      if (keys[role]) problems.push(`/ixit/keys/${role}: keyScheme "${sc.keyScheme}" derives ${role} from /ixit/keys/master; remove it`);
    }
  }
  const claimed = p.ics.secureChannels.find((c) => c.scp === sc.scp);
  if (!claimed) {
    problems.push(`/ixit/secureChannel/scp: SCP${sc.scp} is not among /ics/secureChannels`);
  } else if (!claimed.i.some((i) => i.toLowerCase() === sc.i.toLowerCase())) {
    problems.push(`/ixit/secureChannel/i: i=${sc.i} is not claimed for SCP${sc.scp} in /ics/secureChannels (${claimed.i.join(', ')})`);
  }
  const { value, mask } = p.ixit.atr;
  if (mask !== undefined && mask.length !== value.length) {
    problems.push(`/ixit/atr/mask: ${mask.length / 2} bytes, but /ixit/atr/value has ${value.length / 2}`);
  }
  p.ics.features.forEach((f, n) => {
    if (!(KNOWN_FEATURES as readonly string[]).includes(f)) {
      warnings.push(`/ics/features/${n}: "${f}" is not a feature the suites know (${KNOWN_FEATURES.join(', ')})`);
    }
  });
  return { problems, warnings };
}

export function profileHash(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Validates a profile (parsed JSON or its text). `source` names it in messages; `dir` anchors file: keys. */
export function parseCardProfile(json: unknown, opts: { source?: string; dir?: string } = {}): LoadedCardProfile {
  const source = opts.source ?? 'card profile';
  let data = json;
  let text: string;
  if (typeof json === 'string') {
    text = json;
    try {
      data = JSON.parse(json);
    } catch (e) {
      throw new ProfileError([`${source}: not valid JSON: ${(e as Error).message}`]);
    }
  } else {
    text = JSON.stringify(json);
  }
  if (!validate(data)) {
    throw new ProfileError((validate.errors ?? []).map((e) => `${source}: ${describe(e, data)}`));
  }
  const { problems, warnings } = crossCheck(data);
  if (problems.length) throw new ProfileError(problems.map((p) => `${source}: ${p}`));
  return { profile: data, source, dir: opts.dir ?? process.cwd(), sha256: profileHash(text), warnings };
}

export function loadCardProfile(file: string): LoadedCardProfile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ProfileError([`${path.basename(file)}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
  return parseCardProfile(text, { source: path.basename(file), dir: path.dirname(path.resolve(file)) });
}

/** Every card profile (*.json with "ics" and "ixit") in `dir`; files that fail validation come back as problems. */
export function loadCardProfiles(dir: string): { profiles: LoadedCardProfile[]; problems: string[] } {
  const profiles: LoadedCardProfile[] = [];
  const problems: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch (e) {
    return { profiles, problems: [`${dir}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`] };
  }
  for (const name of names) {
    const file = path.join(dir, name);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      continue;
    }
    if (!parsed || typeof parsed !== 'object' || !('ics' in parsed) || !('ixit' in parsed)) continue;
    try {
      profiles.push(loadCardProfile(file));
    } catch (e) {
      problems.push(...(e instanceof ProfileError ? e.problems : [`${name}: ${(e as Error).message}`]));
    }
  }
  return { profiles, problems };
}

/** Features for @ICS: tags: the declared ones plus scp02/scp03 and scp03-i70-style entries from the SCPs. */
export function icsFeatures(p: CardProfile): string[] {
  const out = new Set(p.ics.features);
  for (const c of p.ics.secureChannels) {
    out.add(`scp${c.scp}`);
    for (const i of c.i) out.add(`scp${c.scp}-i${i.toLowerCase()}`);
  }
  return [...out];
}

export function authBudgetOf(p: CardProfile): number {
  return p.ixit.authBudget ?? DEFAULT_AUTH_BUDGET;
}

const bytesOf = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

/** Whether `atr` equals the profile's ATR on every bit its mask keeps. */
export function atrMatches(p: CardProfile, atr: Uint8Array): boolean {
  const value = bytesOf(p.ixit.atr.value);
  const mask = p.ixit.atr.mask ? bytesOf(p.ixit.atr.mask) : value.map(() => 0xff);
  if (atr.length !== value.length) return false;
  return value.every((v, n) => (v & mask[n]) === (atr[n] & mask[n]));
}

/**
 * The 42 CPLC bytes of a GET DATA '9F7F' answer, with or without its tag and length (the length in any BER form
 * a card uses: '2A', '81 2A'); undefined if malformed.
 */
export function cplcBytes(data: Uint8Array): Uint8Array | undefined {
  let body = data;
  if (data.length >= 3 && data[0] === 0x9f && data[1] === 0x7f) {
    try {
      const [t] = parseTlv(data, { recursive: false });
      body = t.value;
    } catch (e) {
      if (e instanceof TlvError) return undefined;
      throw e;
    }
  }
  return body.length === CPLC_SIZE ? body : undefined;
}

/** The CPLC fields of a GET DATA '9F7F' answer (see cplcBytes); undefined if malformed. */
export function parseCplc(data: Uint8Array): Record<CplcFieldName, string> | undefined {
  const body = cplcBytes(data);
  if (!body) return undefined;
  return Object.fromEntries(decodeCplc(body).map((f) => [f.name, f.hex]));
}

export interface CplcMismatch {
  field: CplcFieldName | 'cplc';
  expected: string;
  actual: string;
}

/** Fields of the profile's CPLC the card disagrees with (empty when all match or the profile names none). */
export function cplcMismatches(p: CardProfile, cplc: Uint8Array): CplcMismatch[] {
  const expected = p.ixit.cplc ?? {};
  if (Object.keys(expected).length === 0) return [];
  const actual = parseCplc(cplc);
  if (!actual) return [{ field: 'cplc', expected: 'a 42-byte CPLC', actual: hexOf(cplc) || '(nothing)' }];
  return Object.entries(expected)
    .filter(([f, v]) => actual[f as CplcFieldName] !== v!.toUpperCase())
    .map(([f, v]) => ({ field: f as CplcFieldName, expected: v!.toUpperCase(), actual: actual[f as CplcFieldName] }));
}

/** A profile whose ATR matches, from several (for `tsmlab readers`). */
export function profilesForAtr(profiles: LoadedCardProfile[], atr: Uint8Array): LoadedCardProfile[] {
  return profiles.filter((l) => atrMatches(l.profile, atr));
}
