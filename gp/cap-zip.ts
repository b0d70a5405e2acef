/**
 * Just enough of the ZIP format (APPNOTE 6.3) to read a CAP file: the end-of-central-directory record, the
 * central directory, local headers, stored and deflated entries, CRC-32 checked. No ZIP64, no encryption.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { CapError } from './cap-error.ts';

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

const EOCD_SIG = 0x06054b50;
const CDIR_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_MIN = 22;

function u16(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

function findEndOfCentralDirectory(zip: Uint8Array): number {
  const lowest = Math.max(0, zip.length - EOCD_MIN - 0xffff);
  for (let o = zip.length - EOCD_MIN; o >= lowest; o--) {
    if (u32(zip, o) === EOCD_SIG && o + EOCD_MIN + u16(zip, o + 20) === zip.length) return o;
  }
  // A record whose comment length does not reach the end still marks a ZIP, but a damaged one.
  for (let o = zip.length - EOCD_MIN; o >= lowest; o--) if (u32(zip, o) === EOCD_SIG) return o;
  return -1;
}

/** Reads every file entry of a ZIP archive. Throws CapError('not-zip' | 'truncated' | 'unsupported' | 'corrupt'). */
export function readZip(zip: Uint8Array): ZipEntry[] {
  if (zip.length < EOCD_MIN) throw new CapError('not-zip', `not a CAP file: ${zip.length} bytes is too short for a ZIP archive`);
  const eocd = findEndOfCentralDirectory(zip);
  if (eocd < 0) {
    const kind = u32(zip, 0) === LOCAL_SIG ? 'truncated' : 'not-zip';
    throw new CapError(kind, kind === 'truncated' ? 'CAP file truncated: ZIP central directory missing' : 'not a CAP file: no ZIP end-of-central-directory record');
  }
  const count = u16(zip, eocd + 10);
  const cdSize = u32(zip, eocd + 12);
  const cdOffset = u32(zip, eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff) throw new CapError('unsupported', 'ZIP64 CAP files are not supported');
  if (cdOffset + cdSize > eocd) throw new CapError('truncated', 'CAP file truncated: central directory runs past its end record');

  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > eocd || u32(zip, p) !== CDIR_SIG) throw new CapError('corrupt', `ZIP central directory entry ${n} is damaged`);
    const flags = u16(zip, p + 8);
    const method = u16(zip, p + 10);
    const crc = u32(zip, p + 16);
    const compSize = u32(zip, p + 20);
    const size = u32(zip, p + 24);
    const nameLen = u16(zip, p + 28);
    const extraLen = u16(zip, p + 30);
    const commentLen = u16(zip, p + 32);
    const local = u32(zip, p + 42);
    const name = new TextDecoder().decode(zip.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue;
    if (flags & 0x0001) throw new CapError('unsupported', `ZIP entry ${name} is encrypted`);
    if (local + 30 > zip.length || u32(zip, local) !== LOCAL_SIG) throw new CapError('truncated', `ZIP entry ${name}: local header missing`);
    const start = local + 30 + u16(zip, local + 26) + u16(zip, local + 28);
    if (start + compSize > zip.length) throw new CapError('truncated', `CAP file truncated inside ${name}`);
    const raw = zip.subarray(start, start + compSize);
    let data: Uint8Array;
    if (method === 0) data = raw.slice();
    else if (method === 8) {
      try {
        data = new Uint8Array(inflateRawSync(raw));
      } catch (e) {
        throw new CapError('corrupt', `ZIP entry ${name} does not inflate: ${(e as Error).message}`);
      }
    } else throw new CapError('unsupported', `ZIP entry ${name} uses compression method ${method}`);
    if (data.length !== size) throw new CapError('corrupt', `ZIP entry ${name}: ${data.length} bytes, directory says ${size}`);
    if (crc32(data) >>> 0 !== crc) throw new CapError('corrupt', `ZIP entry ${name}: CRC-32 mismatch`);
    entries.push({ name, data });
  }
  return entries;
}
