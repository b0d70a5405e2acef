/**
 * The one redactor: keeps key values out of traces, reports and stored answers. Key-named fields become their key
 * check value (`[key kcv=XXXXXX]` by default, with the key reference when one is given), and any known key value
 * found inside a string is replaced the same way.
 */
import { toHex } from './bytes.ts';
import { keyCheckValue } from './keys.ts';

export type KeyAlgorithm = 'aes' | 'des';

/** gp's key check value (3 bytes), as upper-case hex for a report. */
export function kcvHex(key: Uint8Array, algorithm: KeyAlgorithm = 'aes'): string {
  return toHex(keyCheckValue(key, algorithm)).toUpperCase();
}

export interface KnownKey {
  /** The key value (hex or bytes). */
  value: string | Uint8Array;
  /** A reference to show instead, e.g. "ISD KVN 30 ENC". */
  ref?: string;
  algorithm?: KeyAlgorithm;
}

export interface RedactOptions {
  /** Show values anyway (the run was started with the explicit reveal flag). */
  reveal?: boolean;
  /** Key values to scrub wherever they appear inside strings. */
  knownKeys?: KnownKey[];
  /** Algorithm assumed for key-named fields (default aes; 'des' for SCP02 rigs); a key set with scp '02' is DES. */
  algorithm?: KeyAlgorithm;
  /** How a redacted key reads (default `[key <ref> kcv=XXXXXX]`). */
  label?: (kcv: string, ref?: string) => string;
}

const defaultLabel = (kcv: string, ref?: string) => (ref ? `[key ${ref} kcv=${kcv}]` : `[key kcv=${kcv}]`);

/** Field names that hold key material (static keys, session keys, DEK, PSK). */
const KEY_FIELD = /^(keys?|enc|mac|dek|rmac|k_?(enc|mac|dek)|s_?(enc|mac|rmac|dek)|psk|secret|masterKey|master_key|.*Key|.*_key|.*Keys)$/i;
/** ...but not references to keys. */
const NOT_KEY = /(ref|reference|id|index|version|kvn|kcv|type|usage|length|name|count)$/i;

// 8-byte values under names like "mac" are usually MACs, not single-DES keys: leave them.
const KEY_LENGTHS = new Set([16, 24, 32]);

function asKeyBytes(v: unknown): Uint8Array | undefined {
  if (v instanceof Uint8Array) return KEY_LENGTHS.has(v.length) ? v : undefined;
  if (typeof v === 'string') {
    const h = v.replace(/\s+/g, '');
    if (/^[0-9a-fA-F]+$/.test(h) && h.length % 2 === 0 && KEY_LENGTHS.has(h.length / 2)) return Uint8Array.from(Buffer.from(h, 'hex'));
  }
  return undefined;
}

function label(bytes: Uint8Array, algorithm: KeyAlgorithm, ref: string | undefined, as: (kcv: string, ref?: string) => string): string {
  let kcv: string;
  try {
    kcv = kcvHex(bytes, bytes.length === 8 ? 'des' : algorithm);
  } catch {
    kcv = '??????';
  }
  return as(kcv, ref);
}

/** Hex forms a key may take inside text: upper, lower, with spaces or colons between bytes. */
export function hexForms(bytes: Uint8Array): string[] {
  const pairs = Array.from(bytes, (b) => b.toString(16).padStart(2, '0'));
  const forms = [pairs.join(''), pairs.join(' '), pairs.join(':')];
  return [...forms, ...forms.map((f) => f.toUpperCase())];
}

function scrubber(known: KnownKey[], algorithm: KeyAlgorithm, as: (kcv: string, ref?: string) => string): ((s: string) => string) | undefined {
  if (known.length === 0) return undefined;
  const entries = known.map((k) => {
    const bytes = typeof k.value === 'string' ? Uint8Array.from(Buffer.from(k.value.replace(/\s+/g, ''), 'hex')) : k.value;
    const pattern = hexForms(bytes)
      .filter((f, i, all) => all.indexOf(f) === i)
      .map((f) => f.replace(/[: ]/g, (c) => `\\${c}`));
    return { re: new RegExp(pattern.join('|'), 'gi'), text: label(bytes, k.algorithm ?? algorithm, k.ref, as), b64: Buffer.from(bytes).toString('base64') };
  });
  return (s: string) => {
    let out = s;
    for (const e of entries) {
      out = out.replace(e.re, e.text);
      if (out.includes(e.b64)) out = out.split(e.b64).join(e.text);
    }
    return out;
  };
}

/**
 * A redacted deep copy of `obj` (objects, arrays, strings, bytes). Key-named fields holding 16/24/32 bytes
 * (hex or Uint8Array) become `[key kcv=XXXXXX]`; known key values are scrubbed from every string.
 */
export function redactKeys<T>(obj: T, opts: RedactOptions = {}): T {
  if (opts.reveal) return obj;
  const as = opts.label ?? defaultLabel;
  const scrub = scrubber(opts.knownKeys ?? [], opts.algorithm ?? 'aes', as);
  const seen = new WeakMap<object, unknown>();
  const walk = (v: unknown, keyName?: string, algorithm: KeyAlgorithm = opts.algorithm ?? 'aes'): unknown => {
    if (keyName !== undefined && KEY_FIELD.test(keyName) && !NOT_KEY.test(keyName)) {
      const bytes = asKeyBytes(v);
      if (bytes) return label(bytes, algorithm, undefined, as);
    }
    if (typeof v === 'string') return scrub ? scrub(v) : v;
    if (v instanceof Uint8Array) {
      if (!scrub) return v;
      const hex = Buffer.from(v).toString('hex');
      const s = scrub(hex);
      return s === hex ? v : s;
    }
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v)) return seen.get(v);
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      seen.set(v, out);
      for (const x of v) out.push(walk(x, undefined, algorithm));
      return out;
    }
    const out: Record<string, unknown> = {};
    seen.set(v, out);
    // An SCP02 key set (scp '02' beside its keys) holds 3DES keys.
    const inner: KeyAlgorithm = (v as Record<string, unknown>).scp === '02' ? 'des' : (opts.algorithm ?? 'aes');
    for (const [k, x] of Object.entries(v)) out[k] = walk(x, k, inner);
    return out;
  };
  return walk(obj) as T;
}
