/**
 * Scans every file under a directory for key values: hex (upper, lower, spaced, colon-separated), base64 of
 * the raw bytes, the raw bytes themselves (binary files such as pcapng), and the same forms inside base64
 * blobs (Cucumber attachments and HTML reports embed base64 bodies).
 */
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { hexForms } from '../gp/index.ts';

export interface ScanKey {
  /** Shown in hits instead of the value. */
  label: string;
  value: string | Uint8Array;
}

export interface LeakHit {
  file: string;
  key: string;
  /** How the key appeared: hex, hex-spaced, base64, raw, or one of those "in base64 blob". */
  form: string;
  /** Byte offset of the hit in the file (of the blob, for hits inside base64 blobs). */
  offset: number;
}

interface Pattern {
  key: string;
  form: string;
  bytes: Buffer;
  caseInsensitive: boolean;
}

const CHUNK = 8 * 1024 * 1024;

function patternsFor(k: ScanKey): Pattern[] {
  const raw = typeof k.value === 'string' ? Buffer.from(k.value.replace(/[\s:]/g, ''), 'hex') : Buffer.from(k.value);
  if (raw.length < 8) throw new RangeError(`key "${k.label}" is shorter than 8 bytes`);
  const out: Pattern[] = [];
  const seen = new Set<string>();
  for (const f of hexForms(raw)) {
    const low = f.toLowerCase();
    if (seen.has(low)) continue;
    seen.add(low);
    out.push({ key: k.label, form: f.includes(' ') ? 'hex-spaced' : f.includes(':') ? 'hex-colon' : 'hex', bytes: Buffer.from(low, 'latin1'), caseInsensitive: true });
  }
  // Base64 of the raw bytes at each alignment a larger blob could give them: the stable inner characters.
  const b64 = raw.toString('base64').replace(/=+$/, '');
  out.push({ key: k.label, form: 'base64', bytes: Buffer.from(b64.slice(0, b64.length - 2), 'latin1'), caseInsensitive: false });
  for (const shift of [1, 2]) {
    const padded = Buffer.concat([Buffer.alloc(shift), raw]).toString('base64');
    // Drop the characters touched by the padding bytes and by the unknown bytes after the key.
    const inner = padded.slice(4, 4 * Math.floor((shift + raw.length) / 3));
    if (inner.length >= 12) out.push({ key: k.label, form: 'base64', bytes: Buffer.from(inner, 'latin1'), caseInsensitive: false });
  }
  out.push({ key: k.label, form: 'raw', bytes: raw, caseInsensitive: false });
  return out;
}

function lowerAscii(b: Buffer): Buffer {
  const out = Buffer.from(b);
  for (let i = 0; i < out.length; i++) if (out[i] >= 0x41 && out[i] <= 0x5a) out[i] |= 0x20;
  return out;
}

function findAll(hay: Buffer, hayLower: Buffer, p: Pattern, base: number, emit: (offset: number) => void): void {
  const h = p.caseInsensitive ? hayLower : hay;
  let i = h.indexOf(p.bytes);
  while (i >= 0) {
    emit(base + i);
    i = h.indexOf(p.bytes, i + 1);
  }
}

const B64_BLOB = /[A-Za-z0-9+/]{24,}={0,2}/g;

function scanBuffer(buf: Buffer, base: number, patterns: Pattern[], report: (h: Omit<LeakHit, 'file'>) => void, depth = 0): void {
  const lower = lowerAscii(buf);
  for (const p of patterns) {
    if (depth > 0 && p.form === 'base64') continue;
    findAll(buf, lower, p, base, (offset) => report({ key: p.key, form: depth ? `${p.form} in base64 blob` : p.form, offset }));
  }
  if (depth > 0) return;
  // Decode base64 blobs and look again: a hex key inside a base64-encoded attachment is invisible otherwise.
  const text = buf.toString('latin1');
  for (const m of text.matchAll(B64_BLOB)) {
    const blob = m[0];
    // A blob cut by the chunk boundary may start mid-quantum: try every alignment.
    const starts = m.index === 0 ? [0, 1, 2, 3] : [0];
    for (const s of starts) {
      const body = blob.slice(s);
      const usable = body.slice(0, body.length - (body.length % 4));
      if (usable.length < 16) continue;
      const decoded = Buffer.from(usable, 'base64');
      scanBuffer(decoded, base + (m.index ?? 0), patterns, report, depth + 1);
    }
  }
}

function listFiles(root: string): string[] {
  const st = statSync(root);
  if (st.isFile()) return [root];
  const out: string[] = [];
  for (const name of readdirSync(root).sort()) {
    const p = path.join(root, name);
    const s = statSync(p);
    if (s.isDirectory()) out.push(...listFiles(p));
    else if (s.isFile()) out.push(p);
  }
  return out;
}

/**
 * Every place under `root` (a directory or one file) where one of `keys` appears. Files are read in chunks
 * with an overlap, so size is no limit; hits in the overlap are reported once.
 */
export function scanForKeys(root: string, keys: ScanKey[]): LeakHit[] {
  const patterns = keys.flatMap(patternsFor);
  const overlap = Math.max(64 * 1024, ...patterns.map((p) => p.bytes.length * 2));
  const hits: LeakHit[] = [];
  for (const file of listFiles(root)) {
    const seen = new Set<string>();
    const report = (h: Omit<LeakHit, 'file'>) => {
      const id = `${h.key}|${h.form}|${h.offset}`;
      if (seen.has(id)) return;
      seen.add(id);
      hits.push({ file, ...h });
    };
    const fd = openSync(file, 'r');
    try {
      const size = statSync(file).size;
      const buf = Buffer.alloc(Math.min(size, CHUNK + overlap));
      for (let pos = 0; pos < size; pos += CHUNK) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
        scanBuffer(buf.subarray(0, n), pos, patterns, report);
        if (pos + n >= size) break;
      }
    } finally {
      closeSync(fd);
    }
  }
  return hits;
}

/** One line per hit, for a CLI or a failing test message. Never prints the key value. */
export function formatLeakHits(hits: LeakHit[], root = '.'): string {
  return hits.map((h) => `${path.relative(root, h.file) || h.file}: key "${h.key}" as ${h.form} at byte ${h.offset}`).join('\n');
}
