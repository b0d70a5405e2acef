/**
 * pcapng export of APDU exchanges, readable by Wireshark/tshark as GSM SIM: each exchange is one raw IPv4/UDP
 * packet to port 4729 carrying a GSMTAP v2 header (type SIM, sub-type APDU) and the T=0 style payload
 * `CLA INS P1 P2 P3 [data] [response data] SW1 SW2`; the packet comment names the scenario and the step.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { TraceEvent } from '../trace/index.ts';
import { readTrace } from '../trace/index.ts';
import { commandSummary, commandWireLayout, protectionOf, protectionText, responseWireLayout } from '../decode/index.ts';
import { ApduPairer, type ApduExchange } from './apdu-pairs.ts';

export const LINKTYPE_RAW = 101;
export const GSMTAP_PORT = 4729;
export const GSMTAP_VERSION = 2;
export const GSMTAP_TYPE_SIM = 0x04;
export const GSMTAP_SIM_APDU = 0x00;

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_EPB = 0x00000006;
const OPT_END = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IDB_NAME = 2;

export class PcapngError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PcapngError';
  }
}

function hexBytes(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new PcapngError(`not hex: "${hex.slice(0, 40)}"`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

/**
 * The exchange as one GSMTAP SIM payload. T=0 carries no Le after command data (case 4) and always a P3
 * (00 for case 1), which is what Wireshark's gsm_sim dissector expects. Extended-length commands have no
 * T=0 form; they are kept as sent.
 */
export function simApduPayload(commandHex: string, responseHex?: string): Uint8Array {
  const cmd = hexBytes(commandHex);
  if (cmd.length < 4) throw new PcapngError(`command shorter than a header: ${cmd.length} bytes`);
  let head: Uint8Array;
  if (cmd.length === 4) head = Uint8Array.of(...cmd, 0x00);
  else if (cmd.length === 5 || cmd[4] === 0x00) head = cmd;
  else {
    const lc = cmd[4];
    head = cmd.length === 5 + lc + 1 ? cmd.subarray(0, 5 + lc) : cmd;
  }
  // No response (card gone): the payload ends after the command; Wireshark shows it without a status word.
  const resp = responseHex !== undefined ? hexBytes(responseHex) : new Uint8Array(0);
  const out = new Uint8Array(head.length + resp.length);
  out.set(head, 0);
  out.set(resp, head.length);
  return out;
}

export function gsmtapSimHeader(): Uint8Array {
  const h = new Uint8Array(16);
  h[0] = GSMTAP_VERSION;
  h[1] = 16 / 4; // header length in 32-bit words
  h[2] = GSMTAP_TYPE_SIM;
  h[12] = GSMTAP_SIM_APDU; // sub-type
  return h;
}

/** RFC 1071 ones' complement sum, folded. */
function onesSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

export function ipv4Checksum(header: Uint8Array): number {
  return ~onesSum(header) & 0xffff;
}

export interface UdpEndpoints {
  src: [number, number, number, number];
  dst: [number, number, number, number];
  srcPort: number;
  dstPort: number;
}

const DEFAULT_ENDPOINTS: UdpEndpoints = { src: [127, 0, 0, 1], dst: [127, 0, 0, 1], srcPort: 4729, dstPort: GSMTAP_PORT };

/** IPv4 (20-byte header, checksum filled) + UDP (checksum filled) around `payload`. */
export function ipv4Udp(payload: Uint8Array, id: number, ep: UdpEndpoints = DEFAULT_ENDPOINTS): Uint8Array {
  const udpLen = 8 + payload.length;
  const total = 20 + udpLen;
  if (total > 0xffff) throw new PcapngError(`packet of ${total} bytes does not fit in IPv4`);
  const p = new Uint8Array(total);
  const v = new DataView(p.buffer);
  p[0] = 0x45; // version 4, IHL 5
  v.setUint16(2, total);
  v.setUint16(4, id & 0xffff);
  v.setUint16(6, 0x4000); // don't fragment
  p[8] = 64; // TTL
  p[9] = 17; // UDP
  p.set(ep.src, 12);
  p.set(ep.dst, 16);
  v.setUint16(10, ipv4Checksum(p.subarray(0, 20)));
  v.setUint16(20, ep.srcPort);
  v.setUint16(22, ep.dstPort);
  v.setUint16(24, udpLen);
  p.set(payload, 28);
  const pseudo = new Uint8Array(12);
  pseudo.set(ep.src, 0);
  pseudo.set(ep.dst, 4);
  pseudo[9] = 17;
  new DataView(pseudo.buffer).setUint16(10, udpLen);
  const sum = ~onesSum(p.subarray(20), onesSum(pseudo)) & 0xffff;
  v.setUint16(26, sum === 0 ? 0xffff : sum);
  return p;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function options(opts: [number, Uint8Array][]): Uint8Array {
  if (opts.length === 0) return new Uint8Array(0);
  const size = opts.reduce((s, [, val]) => s + 4 + pad4(val.length), 0) + 4;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let o = 0;
  for (const [code, val] of opts) {
    if (val.length > 0xffff) throw new PcapngError(`option ${code} too long`);
    v.setUint16(o, code, true);
    v.setUint16(o + 2, val.length, true);
    out.set(val, o + 4);
    o += 4 + pad4(val.length);
  }
  v.setUint16(o, OPT_END, true);
  return out;
}

function block(type: number, body: Uint8Array): Uint8Array {
  const len = 12 + pad4(body.length);
  const out = new Uint8Array(len);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, len, true);
  out.set(body, 8);
  v.setUint32(len - 4, len, true);
  return out;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

export function sectionHeaderBlock(application = 'tsmlab'): Uint8Array {
  const opts = options([[SHB_USERAPPL, utf8(application)]]);
  const body = new Uint8Array(16 + opts.length);
  const v = new DataView(body.buffer);
  v.setUint32(0, 0x1a2b3c4d, true); // byte-order magic
  v.setUint16(4, 1, true);
  v.setUint16(6, 0, true);
  v.setBigInt64(8, -1n, true); // section length not specified
  body.set(opts, 16);
  return block(BLOCK_SHB, body);
}

export function interfaceDescriptionBlock(name = 'tsmlab-apdu'): Uint8Array {
  const opts = options([[IDB_NAME, utf8(name)]]);
  const body = new Uint8Array(8 + opts.length);
  const v = new DataView(body.buffer);
  v.setUint16(0, LINKTYPE_RAW, true);
  v.setUint32(4, 0, true); // no snap length limit
  body.set(opts, 8);
  return block(BLOCK_IDB, body);
}

/** One Enhanced Packet Block; `timeMs` is epoch milliseconds (default resolution: microseconds). */
export function enhancedPacketBlock(packet: Uint8Array, timeMs: number, comment?: string): Uint8Array {
  const opts = comment ? options([[OPT_COMMENT, utf8(comment.slice(0, 8000))]]) : new Uint8Array(0);
  const body = new Uint8Array(20 + pad4(packet.length) + opts.length);
  const v = new DataView(body.buffer);
  const us = BigInt(Math.round(timeMs * 1000));
  v.setUint32(0, 0, true); // interface 0
  v.setUint32(4, Number(us >> 32n), true);
  v.setUint32(8, Number(us & 0xffffffffn), true);
  v.setUint32(12, packet.length, true);
  v.setUint32(16, packet.length, true);
  body.set(packet, 20);
  body.set(opts, 20 + pad4(packet.length));
  return block(BLOCK_EPB, body);
}

/** The packet comment: which scenario (and attempt) and which step sent this APDU. */
export function exchangeComment(ex: ApduExchange): string {
  const c = ex.command.corr;
  const parts = [
    `scenario: ${c.scenario ?? '-'}${c.scenarioId ? ` [${c.scenarioId}]` : ''}`,
    `step: ${c.step ?? '-'}${c.stepId ? ` [${c.stepId}]` : ''}`,
    `apdu: ${ex.command.apduId}`,
  ];
  if (c.seId) parts.push(`se: ${c.seId}`);
  parts.push(...secureChannelParts(ex));
  if (ex.response) parts.push(`sw: ${ex.response.sw}`, `duration: ${ex.response.durationMs.toFixed(3)} ms`);
  else parts.push('no response');
  return parts.join(' | ');
}

/**
 * For an exchange on a secure channel (the packet holds the wire bytes): the level, the plain command when the
 * sender held the keys, and what the protected wire bytes are (ciphered data, C-MAC, R-MAC), so nobody reads
 * ciphertext in the packet as card data.
 */
function secureChannelParts(ex: ApduExchange): string[] {
  const p = protectionOf(ex.command.secureChannel ?? ex.response?.secureChannel, ex.command.hex);
  if (!p) return [];
  const out = [`secure channel: ${protectionText(p)}`];
  out.push(ex.command.plainHex ? `plain command: ${commandSummary(ex.command.plainHex)} ${ex.command.plainHex}` : 'plain command: not known (no keys held)');
  const cmdWire = commandWireLayout(ex.command);
  if (cmdWire) out.push(`command data on the wire: ${cmdWire}`);
  if (ex.response) {
    const respWire = responseWireLayout(ex.command, ex.response);
    if (respWire) out.push(`response data on the wire: ${respWire}`);
    if (ex.response.plainHex) out.push(`plain response: ${ex.response.plainHex}`);
    else if (ex.response.unwrapError) out.push(`response not unwrapped: ${ex.response.unwrapError}`);
  }
  return out;
}

/** Streams exchanges into a pcapng file. */
export class PcapngWriter {
  private fd: number | undefined;
  private id = 0;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'w');
    writeSync(this.fd, sectionHeaderBlock());
    writeSync(this.fd, interfaceDescriptionBlock());
  }

  get packets(): number {
    return this.id;
  }

  /** Writes one exchange; malformed hex is skipped and counted rather than aborting the export. */
  write(ex: ApduExchange): boolean {
    if (this.fd === undefined) throw new PcapngError('writer closed');
    let payload: Uint8Array;
    try {
      payload = simApduPayload(ex.command.hex, ex.response?.hex);
    } catch {
      return false;
    }
    const gsmtap = gsmtapSimHeader();
    const udpPayload = new Uint8Array(gsmtap.length + payload.length);
    udpPayload.set(gsmtap);
    udpPayload.set(payload, gsmtap.length);
    const packet = ipv4Udp(udpPayload, ++this.id);
    writeSync(this.fd, enhancedPacketBlock(packet, ex.command.time, exchangeComment(ex)));
    return true;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Writes every APDU exchange of `events` (any order of kinds; paired by apduId). Returns the packet count. */
export function writePcapng(file: string, events: Iterable<TraceEvent>): number {
  const w = new PcapngWriter(file);
  const pairer = new ApduPairer();
  try {
    for (const e of events) for (const ex of pairer.push(e)) w.write(ex);
    for (const ex of pairer.drain()) w.write(ex);
    return w.packets;
  } finally {
    w.close();
  }
}

/** Streams trace files (one after another) into one pcapng file. */
export async function exportPcapng(traceFiles: string[], file: string): Promise<number> {
  const w = new PcapngWriter(file);
  try {
    for (const tf of traceFiles) {
      const pairer = new ApduPairer();
      for await (const e of readTrace(tf)) for (const ex of pairer.push(e)) w.write(ex);
      for (const ex of pairer.drain()) w.write(ex);
    }
    return w.packets;
  } finally {
    w.close();
  }
}
