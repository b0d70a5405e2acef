/**
 * Key references of card profiles, resolved only when a run needs the keys: `env:NAME` (an environment
 * variable holding hex) or `file:path#/json/pointer` (a JSON key file kept outside the profile; the path is
 * relative to the profile's directory; `#a.b.0` dotted paths work too). Messages name references, never values.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { KeyRole, KeyScheme, LoadedCardProfile, ScpVersion } from './card-profile.ts';

export class KeyRefError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyRefError';
  }
}

export interface ResolvedCardKeys {
  scp: ScpVersion;
  i: number;
  kvn: number;
  keyScheme: KeyScheme;
  /** Static keys (keyScheme none). */
  enc?: Uint8Array;
  mac?: Uint8Array;
  dek?: Uint8Array;
  /** Master key to diversify (emv, visa2, kdf3). */
  master?: Uint8Array;
  /** The references as written, for reports (never the values). */
  references: Partial<Record<KeyRole, string>>;
}

const KEY_LENGTHS: Record<ScpVersion, number[]> = { '02': [16, 24], '03': [16, 24, 32] };

function decodeHex(text: string, ref: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(clean)) throw new KeyRefError(`${ref}: the value is not hex`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

function pointerGet(doc: unknown, pointer: string, ref: string): unknown {
  const parts = pointer.startsWith('/')
    ? pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    : pointer.split('.');
  let cur = doc;
  for (const part of parts) {
    if (cur === null || typeof cur !== 'object' || !(part in (cur as object))) {
      throw new KeyRefError(`${ref}: no "${part}" in the key file`);
    }
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Resolves one reference to key bytes. `dir` anchors relative file paths. */
export function resolveKeyRef(ref: string, opts: { env?: NodeJS.ProcessEnv; dir?: string } = {}): Uint8Array {
  const env = opts.env ?? process.env;
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const value = env[name];
    if (value === undefined || value === '') throw new KeyRefError(`${ref}: environment variable ${name} is not set`);
    return decodeHex(value, ref);
  }
  if (ref.startsWith('file:')) {
    const hash = ref.indexOf('#');
    if (hash < 0) throw new KeyRefError(`${ref}: say which field: file:path#/json/pointer`);
    const file = path.resolve(opts.dir ?? process.cwd(), ref.slice(5, hash));
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new KeyRefError(`${ref}: cannot read the key file (${code ?? 'not JSON'})`);
    }
    const value = pointerGet(doc, ref.slice(hash + 1), ref);
    if (typeof value !== 'string') throw new KeyRefError(`${ref}: the field is not a hex string`);
    return decodeHex(value, ref);
  }
  throw new KeyRefError(`"${ref.length > 12 ? `${ref.slice(0, 6)}…` : ref}" is not a key reference (env:NAME or file:path#/pointer)`);
}

/** Resolves every key reference of a profile; KeyRefError names the profile path and the reference. */
export function resolveCardKeys(loaded: LoadedCardProfile, env: NodeJS.ProcessEnv = process.env): ResolvedCardKeys {
  const p = loaded.profile;
  const sc = p.ixit.secureChannel;
  const out: ResolvedCardKeys = {
    scp: sc.scp,
    i: parseInt(sc.i, 16),
    kvn: sc.kvn,
    keyScheme: sc.keyScheme,
    references: { ...p.ixit.keys },
  };
  for (const [role, ref] of Object.entries(p.ixit.keys) as [KeyRole, string][]) {
    let key: Uint8Array;
    try {
      key = resolveKeyRef(ref, { env, dir: loaded.dir });
    } catch (e) {
      throw new KeyRefError(`${loaded.source}: /ixit/keys/${role}: ${(e as Error).message}`);
    }
    if (!KEY_LENGTHS[sc.scp].includes(key.length)) {
      throw new KeyRefError(
        `${loaded.source}: /ixit/keys/${role}: ${ref} gives a ${key.length}-byte key; SCP${sc.scp} takes ${KEY_LENGTHS[sc.scp].join(', ')} bytes`,
      );
    }
    out[role] = key;
  }
  return out;
}
