/**
 * Evidence from the trace, keyed by scenario attempt (corr.scenarioId = Cucumber testCaseStartedId) and step
 * (corr.stepId): one NDJSON file per attempt, a short digest per attempt for the report, the verdict markers
 * the steps emitted, and the sample identity (ATR, CPLC, IIN, CIN) seen on the wire.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseTlv, TlvError } from '../gp/index.ts';
import { readTrace, serializeEvent, type TraceEvent } from '../trace/index.ts';
import { commandSummary, decodeCplc, describeSw, protectionOf, protectionText, readableCommandHex, readableResponseHex, type DecodedCplcField } from '../decode/index.ts';
import { ApduPairer, type ApduExchange } from './apdu-pairs.ts';
import type { VerdictMarker } from './verdict.ts';

/** Events with no scenario (run set-up, simulator start) are kept under this key. */
export const RUN_SCOPE = '_run';

export interface DigestRow {
  /** Milliseconds since the attempt's first event. */
  t: number;
  lane: string;
  what: string;
  detail?: string;
  sw?: string;
  swClass?: string;
  durationMs?: number;
  stepId?: string;
}

export interface ScenarioEvidence {
  scenarioId: string;
  /** Path of the attempt's NDJSON file, relative to the output directory. */
  file: string;
  events: number;
  apdus: number;
  spRequests: number;
  firstTime?: number;
  lastTime?: number;
  /** The first rows of the attempt (SP requests/responses, decisions, hops, APDU exchanges, verdicts). */
  digest: DigestRow[];
  /** Digest rows left out to keep the report short. */
  digestOmitted: number;
  /** Events per Cucumber testStepId. */
  perStep: Record<string, number>;
}

export interface SampleIdentity {
  atr?: string;
  cplc?: string;
  cplcFields?: DecodedCplcField[];
  iin?: string;
  cin?: string;
  seIds: string[];
}

export interface EvidenceIndex {
  scenarios: Map<string, ScenarioEvidence>;
  markers: Map<string, VerdictMarker[]>;
  sample: SampleIdentity;
  totalEvents: number;
}

export function evidenceFileName(scenarioId: string): string {
  return `${scenarioId.replace(/[^A-Za-z0-9._-]/g, '_')}.ndjson`;
}

/** Value of a GP GET DATA response: the TLV value for GP class (tag echoed), the raw data for ISO class. */
/** The value of GET DATA's object: inside its own tag (the length in any BER form a card uses), or the bare data. */
function getDataValue(data: Uint8Array, p1: number, p2: number): Uint8Array {
  const tag = p1 === 0 ? p2 : p1 * 256 + p2;
  try {
    const [first] = parseTlv(data, { recursive: false });
    if (first && first.tag === tag) return first.value;
  } catch (e) {
    if (!(e instanceof TlvError)) throw e;
  }
  return data;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

/** Learns ATR, CPLC, IIN and CIN from what the card answered (plain bytes when the sender had the keys). */
export function observeSample(sample: SampleIdentity, ex: ApduExchange): void {
  const r = ex.response;
  if (!r) return;
  // Ciphered or MAC-carrying bytes are not card data: only plain forms and bytes in clear are read.
  const cmdHex = readableCommandHex(ex.command);
  const respHex = readableResponseHex(ex.command, r);
  if (cmdHex === undefined || respHex === undefined) return;
  if (!/^([0-9A-Fa-f]{2})+$/.test(cmdHex) || !/^([0-9A-Fa-f]{2})+$/.test(respHex)) return;
  const cmd = Buffer.from(cmdHex, 'hex');
  const resp = Buffer.from(respHex, 'hex');
  if (cmd.length < 4 || resp.length < 2 || resp[resp.length - 2] !== 0x90 || resp[resp.length - 1] !== 0x00) return;
  if (cmd[1] !== 0xca && cmd[1] !== 0xcb) return;
  const data = resp.subarray(0, resp.length - 2);
  const [p1, p2] = [cmd[2], cmd[3]];
  const value = getDataValue(data, p1, p2);
  if (p1 === 0x9f && p2 === 0x7f && !sample.cplc) {
    try {
      sample.cplcFields = decodeCplc(value);
      sample.cplc = hex(value);
    } catch {
      /* not a CPLC after all */
    }
  } else if (p1 === 0x00 && p2 === 0x42 && !sample.iin) sample.iin = hex(value);
  else if (p1 === 0x00 && p2 === 0x45 && !sample.cin) sample.cin = hex(value);
}

interface Open {
  ev: ScenarioEvidence;
  lines: string[];
  sources: Set<number>;
  pairer: ApduPairer;
}

export interface IndexOptions {
  /** Directory for the per-attempt NDJSON files (created); omit to only digest. */
  evidenceDir?: string;
  /** `file` paths in ScenarioEvidence are relative to this directory (default: evidenceDir's parent). */
  relativeTo?: string;
  /** Digest rows kept per attempt (default 200). */
  maxDigestRows?: number;
}

/**
 * Streams the trace files once: splits them per attempt, digests each attempt, collects verdict markers and
 * the sample identity. Memory stays bounded by the digest size and a small write buffer per attempt.
 */
export async function indexTrace(traceFiles: string[], opts: IndexOptions = {}): Promise<EvidenceIndex> {
  const maxRows = opts.maxDigestRows ?? 200;
  const dir = opts.evidenceDir;
  if (dir) mkdirSync(dir, { recursive: true });
  const rel = opts.relativeTo ?? (dir ? path.dirname(dir) : '.');
  const open = new Map<string, Open>();
  const markers = new Map<string, VerdictMarker[]>();
  const sample: SampleIdentity = { seIds: [] };
  let total = 0;

  const flush = (o: Open) => {
    if (dir && o.lines.length) appendFileSync(path.join(rel, o.ev.file), o.lines.join(''));
    o.lines = [];
  };

  const get = (id: string): Open => {
    let o = open.get(id);
    if (!o) {
      const file = dir ? path.relative(rel, path.join(dir, evidenceFileName(id))) : '';
      if (dir) writeFileSync(path.join(rel, file), '');
      o = { ev: { scenarioId: id, file, events: 0, apdus: 0, spRequests: 0, digest: [], digestOmitted: 0, perStep: {} }, lines: [], sources: new Set(), pairer: new ApduPairer(1000) };
      open.set(id, o);
    }
    return o;
  };

  const addRow = (o: Open, row: Omit<DigestRow, 't'>, time: number) => {
    if (o.ev.digest.length >= maxRows) {
      o.ev.digestOmitted++;
      return;
    }
    o.ev.digest.push({ t: +(time - (o.ev.firstTime ?? time)).toFixed(3), ...row });
  };

  const onExchange = (o: Open, ex: ApduExchange) => {
    o.ev.apdus++;
    observeSample(sample, ex);
    const sw = ex.response?.sw;
    const info = sw ? describeSw(sw) : undefined;
    const protection = protectionOf(ex.command.secureChannel ?? ex.response?.secureChannel, ex.command.hex);
    const summary = commandSummary(ex.command.plainHex ?? ex.command.hex, !protection || !!ex.command.plainHex);
    addRow(o, {
      lane: `${ex.command.from}→se`,
      what: summary,
      ...(protection ? { detail: `${protectionText(protection)}${ex.command.plainHex ? '' : ' (wrapped, no plain form)'}` } : {}),
      ...(info ? { sw: info.sw, swClass: info.class } : { detail: 'no response' }),
      ...(ex.response ? { durationMs: ex.response.durationMs } : {}),
      ...(ex.command.corr.stepId ? { stepId: ex.command.corr.stepId } : {}),
    }, ex.command.time);
  };

  for (const [fi, file] of traceFiles.entries()) {
    for await (const e of readTrace(file)) {
      total++;
      const id = e.corr.scenarioId ?? RUN_SCOPE;
      const o = get(id);
      o.sources.add(fi);
      o.ev.events++;
      o.ev.firstTime = Math.min(o.ev.firstTime ?? e.time, e.time);
      o.ev.lastTime = Math.max(o.ev.lastTime ?? e.time, e.time);
      if (e.corr.stepId) o.ev.perStep[e.corr.stepId] = (o.ev.perStep[e.corr.stepId] ?? 0) + 1;
      if (e.corr.seId && !sample.seIds.includes(e.corr.seId)) sample.seIds.push(e.corr.seId);
      if (dir) {
        o.lines.push(serializeEvent(e) + '\n');
        if (o.lines.length >= 256) flush(o);
      }
      digestEvent(e, o, addRow, onExchange, markers, sample);
    }
    // Exchanges still open at the end of a file will not be answered from another process.
    for (const o of open.values()) for (const ex of o.pairer.drain()) onExchange(o, ex);
  }

  for (const o of open.values()) {
    flush(o);
    // Events of one attempt can come from several processes (worker + simulator): put them back in time order.
    if (dir && o.sources.size > 1) {
      const f = path.join(rel, o.ev.file);
      const lines = readFileSync(f, 'utf8').split('\n').filter(Boolean);
      const keyed = lines.map((l) => ({ l, t: (JSON.parse(l) as TraceEvent).time }));
      keyed.sort((a, b) => a.t - b.t);
      writeFileSync(f, keyed.map((k) => k.l).join('\n') + '\n');
    }
  }
  return { scenarios: new Map([...open].map(([k, o]) => [k, o.ev])), markers, sample, totalEvents: total };
}

function digestEvent(
  e: TraceEvent,
  o: Open,
  addRow: (o: Open, row: Omit<DigestRow, 't'>, time: number) => void,
  onExchange: (o: Open, ex: ApduExchange) => void,
  markers: Map<string, VerdictMarker[]>,
  sample: SampleIdentity,
): void {
  const step = e.corr.stepId ? { stepId: e.corr.stepId } : {};
  switch (e.kind) {
    case 'apdu.command':
    case 'apdu.response':
      for (const ex of o.pairer.push(e)) onExchange(o, ex);
      return;
    case 'sp.request':
      o.ev.spRequests++;
      addRow(o, { lane: 'sp→tsm', what: e.operation, ...(e.requestId ? { detail: `request ${e.requestId}` } : {}), ...step }, e.time);
      return;
    case 'sp.response':
      addRow(o, { lane: 'tsm→sp', what: `${e.operation}: ${e.status}`, ...(e.reasonCode ? { detail: `reason ${e.reasonCode}` } : {}), durationMs: e.durationMs, ...step }, e.time);
      return;
    case 'tsm.decision':
      addRow(o, { lane: 'tsm', what: e.decision, detail: e.detail, ...step }, e.time);
      return;
    case 'mno.hop':
      addRow(o, { lane: `${e.from}→${e.to}`, what: `${e.mno} via ${e.bearer}`, detail: e.detail, ...step }, e.time);
      return;
    case 'card.atr':
      sample.atr ??= e.atr;
      addRow(o, { lane: 'se', what: 'ATR', detail: e.atr, ...step }, e.time);
      return;
    case 'card.reset':
      if (e.atr) sample.atr ??= e.atr;
      addRow(o, { lane: 'se', what: e.cold ? 'cold reset' : 'warm reset', ...(e.atr ? { detail: e.atr } : {}), ...step }, e.time);
      return;
    case 'card.power':
      addRow(o, { lane: 'se', what: e.on ? 'power on' : 'power off', ...step }, e.time);
      return;
    case 'verdict': {
      const list = markers.get(o.ev.scenarioId) ?? [];
      list.push({ verdict: e.verdict, source: 'trace', ...(e.reason ? { reason: e.reason } : {}) });
      markers.set(o.ev.scenarioId, list);
      addRow(o, { lane: 'harness', what: `verdict ${e.verdict}`, ...(e.reason ? { detail: e.reason } : {}), ...step }, e.time);
      return;
    }
    default:
      return;
  }
}
