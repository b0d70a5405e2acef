/** BER-TLV (ISO/IEC 8825-1 as used by ISO 7816 and GlobalPlatform): multi-byte tags, long-form lengths. */
import { concat } from './bytes.ts';
import { GpError } from './errors.ts';

export interface Tlv {
  /** Tag as the number formed by its bytes, e.g. 0x9F7F, 0xBF3E. */
  tag: number;
  /** Raw value bytes (also present for constructed objects). */
  value: Uint8Array;
  /** Parsed children when the tag is constructed. */
  children?: Tlv[];
  /** Offset of the tag within the parsed buffer. */
  offset: number;
}

export class TlvError extends GpError<'malformed-tlv'> {
  constructor(message: string, readonly offset: number) {
    super('malformed-tlv', `${message} at offset ${offset}`);
    this.name = 'TlvError';
  }
}

function tagBytes(tag: number): Uint8Array {
  const out: number[] = [];
  let t = tag;
  do {
    out.unshift(t & 0xff);
    t = Math.floor(t / 256);
  } while (t > 0);
  return Uint8Array.from(out);
}

export function isConstructed(tag: number): boolean {
  const first = tagBytes(tag)[0];
  return (first & 0x20) !== 0;
}

export function encodeLength(len: number): Uint8Array {
  if (len < 0x80) return Uint8Array.of(len);
  if (len < 0x100) return Uint8Array.of(0x81, len);
  if (len < 0x10000) return Uint8Array.of(0x82, len >> 8, len & 0xff);
  if (len < 0x1000000) return Uint8Array.of(0x83, len >> 16, (len >> 8) & 0xff, len & 0xff);
  throw new RangeError(`TLV length too large: ${len}`);
}

/** Encodes one primitive object, or a constructed one from its children. */
export function tlv(tag: number, value: Uint8Array | Uint8Array[]): Uint8Array {
  const v = Array.isArray(value) ? concat(...value) : value;
  return concat(tagBytes(tag), encodeLength(v.length), v);
}

export function encodeTlv(obj: Pick<Tlv, 'tag' | 'value' | 'children'>): Uint8Array {
  if (obj.children) return tlv(obj.tag, obj.children.map(encodeTlv));
  return tlv(obj.tag, obj.value);
}

export interface ParseOptions {
  /** Parse constructed objects' children (default true). */
  recursive?: boolean;
  /** Skip 00 and FF padding bytes between objects (ISO 7816-4 allows them). */
  skipPadding?: boolean;
  /** Base offset reported in errors (used for nested parsing). */
  baseOffset?: number;
  /** Maximum nesting depth (guards hostile input). */
  maxDepth?: number;
}

/** Parses a sequence of BER-TLV objects. Never reads past the buffer; malformed input raises TlvError. */
export function parseTlv(buf: Uint8Array, opts: ParseOptions = {}, depth = 0): Tlv[] {
  const recursive = opts.recursive ?? true;
  const base = opts.baseOffset ?? 0;
  const maxDepth = opts.maxDepth ?? 16;
  if (depth > maxDepth) throw new TlvError('nesting too deep', base);
  const out: Tlv[] = [];
  let i = 0;
  while (i < buf.length) {
    if (opts.skipPadding && (buf[i] === 0x00 || buf[i] === 0xff)) {
      i++;
      continue;
    }
    const start = i;
    let tag = buf[i++];
    if ((tag & 0x1f) === 0x1f) {
      let more = true;
      let n = 0;
      while (more) {
        if (i >= buf.length) throw new TlvError('truncated tag', base + start);
        const b = buf[i++];
        tag = tag * 256 + b;
        more = (b & 0x80) !== 0;
        if (++n > 3) throw new TlvError('tag longer than 4 bytes', base + start);
      }
    }
    if (i >= buf.length) throw new TlvError('missing length', base + i);
    let len = buf[i++];
    if (len === 0x80) throw new TlvError('indefinite length not allowed', base + i - 1);
    if (len > 0x80) {
      const n = len & 0x7f;
      if (n > 3) throw new TlvError(`length field of ${n} bytes`, base + i - 1);
      if (i + n > buf.length) throw new TlvError('truncated length', base + i - 1);
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + buf[i++];
    }
    if (i + len > buf.length) {
      throw new TlvError(`value of ${len} bytes runs past the end (${buf.length - i} left)`, base + start);
    }
    const value = buf.slice(i, i + len);
    const node: Tlv = { tag, value, offset: base + start };
    if (recursive && isConstructed(tag)) {
      node.children = parseTlv(value, { ...opts, baseOffset: base + i }, depth + 1);
    }
    out.push(node);
    i += len;
  }
  return out;
}

/** First object with `tag` at this level, or undefined. */
export function findTlv(list: Tlv[] | undefined, tag: number): Tlv | undefined {
  return list?.find((t) => t.tag === tag);
}

/** Depth-first search for the first object with `tag`. */
export function findTlvDeep(list: Tlv[] | undefined, tag: number): Tlv | undefined {
  for (const t of list ?? []) {
    if (t.tag === tag) return t;
    const inner = findTlvDeep(t.children, tag);
    if (inner) return inner;
  }
  return undefined;
}

export function tagHex(tag: number): string {
  return Array.from(tagBytes(tag), (b) => b.toString(16).padStart(2, '0')).join('').toUpperCase();
}
