/**
 * Loading an executable load file (GPCS 2.3.1 §11.5.2.3.1, §11.6): INSTALL [for load], the LOAD block
 * sequence sized for the secure channel, and the card-side reassembly of what arrives.
 */
import { createHash } from 'node:crypto';
import type { CommandApdu } from './apdu.ts';
import { concat, equalBytes, toHex } from './bytes.ts';
import { CapError } from './cap-error.ts';
import {
  type CapPackage,
  type LoadFileHashAlgorithm,
  loadFileData,
  loadFileDataBlock,
  loadFileDataBlockHash,
  parseLoadFileDataBlock,
} from './cap.ts';
import { SecurityLevel } from './secure-channel.ts';
import { encodeLength } from './tlv.ts';

export interface ChannelBudget {
  /** Largest command data field the card takes (short APDUs: 255). */
  maxCommandData?: number;
  /** Secure channel protocol: SCP02 pads to 8-byte blocks, SCP03 to 16. */
  scp?: '02' | '03';
  /** Security level of the open channel (C-MAC adds 8 bytes, C-DECRYPTION pads). */
  level?: number;
}

/**
 * The largest clear data field that still fits `maxCommandData` once wrapped: C-MAC 8 bytes, and with
 * C-DECRYPTION the '80'-padding to a whole cipher block (8 for SCP02, 16 for SCP03).
 */
export function maxClearDataLength(budget: ChannelBudget = {}): number {
  const max = budget.maxCommandData ?? 255;
  const level = budget.level ?? 0;
  const mac = level & SecurityLevel.CMAC ? 8 : 0;
  if (!(level & SecurityLevel.CDEC)) return max - mac;
  const block = budget.scp === '02' ? 8 : 16;
  // Padding always adds 1..block bytes, so n clear bytes become block * (floor(n / block) + 1).
  const n = block * Math.floor((max - mac) / block) - 1;
  if (n < 1) throw new RangeError(`maximum command data ${max} leaves no room for LOAD data`);
  return n;
}

export interface InstallForLoadParams {
  loadFileAid: Uint8Array;
  /** Associated security domain; empty or absent lets the card choose (usually the ISD). */
  securityDomainAid?: Uint8Array;
  /** Load File Data Block hash (empty when not sent). */
  hash?: Uint8Array;
  /** Load parameters (e.g. 'EF' system-specific parameters); empty when absent. */
  loadParameters?: Uint8Array;
  loadToken?: Uint8Array;
}

function lv(value: Uint8Array): Uint8Array {
  return concat(encodeLength(value.length), value);
}

function checkAid(aid: Uint8Array, what: string, allowEmpty: boolean): void {
  if (allowEmpty && aid.length === 0) return;
  if (aid.length < 5 || aid.length > 16) throw new RangeError(`${what} must be 5..16 bytes, got ${aid.length}`);
}

/** INSTALL [for load]: 80 E6 02 00, LV-coded AIDs, hash, load parameters and token (Table 11-42). */
export function installForLoad(p: InstallForLoadParams): CommandApdu {
  const sd = p.securityDomainAid ?? new Uint8Array(0);
  const hash = p.hash ?? new Uint8Array(0);
  checkAid(p.loadFileAid, 'load file AID', false);
  checkAid(sd, 'security domain AID', true);
  if (hash.length > 0x7f) throw new RangeError(`hash of ${hash.length} bytes`);
  const data = concat(
    Uint8Array.of(p.loadFileAid.length),
    p.loadFileAid,
    Uint8Array.of(sd.length),
    sd,
    Uint8Array.of(hash.length),
    hash,
    lv(p.loadParameters ?? new Uint8Array(0)),
    lv(p.loadToken ?? new Uint8Array(0)),
  );
  return { cla: 0x80, ins: 0xe6, p1: 0x02, p2: 0x00, data, le: 256 };
}

/** LOAD commands for a whole load file (C4 ‖ length ‖ LFDB, possibly preceded by DAP blocks): P1 '80' marks the last. */
export function loadCommands(loadFile: Uint8Array, blockSize: number): CommandApdu[] {
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 255) throw new RangeError(`LOAD block size ${blockSize} outside 1..255`);
  const count = Math.ceil(loadFile.length / blockSize);
  if (count > 256) throw new RangeError(`load file of ${loadFile.length} bytes needs ${count} LOAD blocks; P2 allows 256`);
  const out: CommandApdu[] = [];
  for (let n = 0; n < count; n++) {
    const last = n === count - 1;
    out.push({ cla: 0x80, ins: 0xe8, p1: last ? 0x80 : 0x00, p2: n, data: loadFile.slice(n * blockSize, (n + 1) * blockSize), le: 256 });
  }
  return out;
}

export interface LoadPlanOptions extends ChannelBudget {
  securityDomainAid?: Uint8Array;
  /** Send the Descriptor component (default false, as GlobalPlatformPro does). */
  includeDescriptor?: boolean;
  /** Hash sent in INSTALL [for load] (default 'sha256'; 'none' sends no hash). */
  hash?: LoadFileHashAlgorithm | 'none';
  loadParameters?: Uint8Array;
  /** Explicit LOAD block size; default: the largest that fits the channel budget. */
  blockSize?: number;
}

export interface LoadPlan {
  lfdb: Uint8Array;
  hash?: Uint8Array;
  installForLoad: CommandApdu;
  loads: CommandApdu[];
}

/** Everything to send (clear, before wrapping) to load `cap`. */
export function planLoad(cap: CapPackage, opts: LoadPlanOptions = {}): LoadPlan {
  const lfdb = loadFileDataBlock(cap, { descriptor: opts.includeDescriptor });
  const algorithm = opts.hash ?? 'sha256';
  const hash = algorithm === 'none' ? undefined : loadFileDataBlockHash(lfdb, algorithm);
  const blockSize = opts.blockSize ?? Math.min(255, maxClearDataLength(opts));
  return {
    lfdb,
    hash,
    installForLoad: installForLoad({
      loadFileAid: cap.packageAid,
      securityDomainAid: opts.securityDomainAid,
      hash,
      loadParameters: opts.loadParameters,
    }),
    loads: loadCommands(loadFileData(lfdb), blockSize),
  };
}

// ---- card side ------------------------------------------------------------------------------------------

export type InstallForLoadParseResult = { ok: true; params: Required<InstallForLoadParams> } | { ok: false; reason: string };

/** Card side: splits an INSTALL [for load] data field (never throws). */
export function parseInstallForLoad(data: Uint8Array): InstallForLoadParseResult {
  let i = 0;
  const fail = (reason: string): InstallForLoadParseResult => ({ ok: false, reason });
  const take = (n: number): Uint8Array | undefined => {
    if (i + n > data.length) return undefined;
    const v = data.slice(i, i + n);
    i += n;
    return v;
  };
  const berLength = (): number | undefined => {
    if (i >= data.length) return undefined;
    const first = data[i++];
    if (first <= 0x80) return first; // '80' may code 128 on one byte (§11.5.2.3.1)
    const n = first & 0x7f;
    if (n > 2 || i + n > data.length) return undefined;
    let len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + data[i++];
    return len;
  };
  const aidLen = take(1);
  if (!aidLen) return fail('empty INSTALL [for load] data');
  const loadFileAid = take(aidLen[0]);
  if (!loadFileAid || loadFileAid.length < 5 || loadFileAid.length > 16) return fail('bad load file AID');
  const sdLen = take(1);
  const securityDomainAid = sdLen ? take(sdLen[0]) : undefined;
  if (!securityDomainAid || (securityDomainAid.length > 0 && securityDomainAid.length < 5) || securityDomainAid.length > 16) {
    return fail('bad security domain AID');
  }
  const hashLen = take(1);
  const hash = hashLen ? take(hashLen[0]) : undefined;
  if (!hash) return fail('bad load file data block hash');
  const paramsLen = berLength();
  const loadParameters = paramsLen === undefined ? undefined : take(paramsLen);
  if (!loadParameters) return fail('bad load parameters');
  const tokenLen = berLength();
  const loadToken = tokenLen === undefined ? undefined : take(tokenLen);
  if (!loadToken) return fail('bad load token');
  if (i !== data.length) return fail(`${data.length - i} bytes after the load token`);
  return { ok: true, params: { loadFileAid, securityDomainAid, hash, loadParameters, loadToken } };
}

const HASH_BY_LENGTH: Record<number, string> = { 20: 'sha1', 32: 'sha256', 48: 'sha384', 64: 'sha512' };

export type LoadStep =
  | { status: 'more' }
  | { status: 'done'; lfdb: Uint8Array; package: CapPackage; dapBlocks: Uint8Array[] }
  | { status: 'error'; sw: number; reason: string };

export interface LoadReceiverOptions {
  /** Largest load file the card accepts (answers '6A84' beyond it). */
  maxLoadFileSize?: number;
}

/**
 * Card side: collects the LOAD blocks announced by an INSTALL [for load], checks numbering, the 'C4'
 * structure, the hash and that the package AID matches. Never throws.
 */
export class LoadReceiver {
  // At most 256 blocks of 255 bytes: the P2 numbering bounds what a card buffers.
  private readonly blocks: Uint8Array[] = [];
  private next = 0;
  private finished = false;

  constructor(
    readonly params: Required<InstallForLoadParams>,
    private readonly opts: LoadReceiverOptions = {},
  ) {}

  /** Feeds one (unwrapped) LOAD command. After 'done' or 'error' the receiver takes no more blocks. */
  accept(command: CommandApdu): LoadStep {
    if (this.finished) return this.error(0x6985, 'load already ended');
    if (command.ins !== 0xe8) return this.error(0x6d00, 'not a LOAD command');
    if ((command.p1 & 0x7f) !== 0) return this.error(0x6a86, `LOAD P1 ${command.p1.toString(16)}`);
    if (command.p2 !== this.next) return this.error(0x6a86, `LOAD block ${command.p2}, expected ${this.next}`);
    const data = command.data ?? new Uint8Array(0);
    this.blocks.push(data);
    this.next++;
    if (!(command.p1 & 0x80)) {
      if (this.next > 0xff) return this.error(0x6a86, 'more than 256 LOAD blocks');
      return { status: 'more' };
    }
    this.finished = true;
    return this.complete(concat(...this.blocks));
  }

  private complete(file: Uint8Array): LoadStep {
    const dapBlocks: Uint8Array[] = [];
    let i = 0;
    let lfdb: Uint8Array | undefined;
    while (i < file.length) {
      const tag = file[i];
      const lenAt = i + 1;
      if (lenAt >= file.length) return this.error(0x6a80, 'load file truncated in a length field');
      let len = file[lenAt];
      let start = lenAt + 1;
      if (len > 0x80) {
        const n = len & 0x7f;
        if (n > 3 || start + n > file.length) return this.error(0x6a80, 'bad length field in load file');
        len = 0;
        for (let k = 0; k < n; k++) len = len * 256 + file[start + k];
        start += n;
      } else if (len === 0x80) return this.error(0x6a80, 'indefinite length in load file');
      if (start + len > file.length) return this.error(0x6a80, `load file object '${tag.toString(16)}' runs past the end`);
      const value = file.slice(start, start + len);
      if (tag === 0xe2 && lfdb === undefined) dapBlocks.push(value);
      else if (tag === 0xc4 && lfdb === undefined) lfdb = value;
      else if (tag === 0xd4) return this.error(0x6a80, 'ciphered load files are not supported');
      else return this.error(0x6a80, `unexpected object '${tag.toString(16)}' in load file`);
      i = start + len;
    }
    if (!lfdb) return this.error(0x6a80, "load file has no 'C4' Load File Data Block");
    if (this.opts.maxLoadFileSize !== undefined && lfdb.length > this.opts.maxLoadFileSize) {
      return this.error(0x6a84, `load file of ${lfdb.length} bytes exceeds ${this.opts.maxLoadFileSize}`);
    }
    const expected = this.params.hash;
    if (expected.length > 0) {
      const algorithm = HASH_BY_LENGTH[expected.length];
      if (!algorithm) return this.error(0x6a80, `no hash algorithm of ${expected.length} bytes`);
      const actual = new Uint8Array(createHash(algorithm).update(lfdb).digest());
      if (!equalBytes(actual, expected)) return this.error(0x6a80, `Load File Data Block ${algorithm} does not match INSTALL [for load]`);
    }
    let pkg: CapPackage;
    try {
      pkg = parseLoadFileDataBlock(lfdb);
    } catch (e) {
      if (e instanceof CapError) return this.error(0x6a80, e.message);
      return this.error(0x6f00, String(e));
    }
    if (!equalBytes(pkg.packageAid, this.params.loadFileAid)) {
      return this.error(0x6a80, `package AID ${toHex(pkg.packageAid)} differs from load file AID ${toHex(this.params.loadFileAid)}`);
    }
    return { status: 'done', lfdb, package: pkg, dapBlocks };
  }

  private error(sw: number, reason: string): LoadStep {
    this.finished = true;
    return { status: 'error', sw, reason };
  }
}
