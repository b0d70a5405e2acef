/**
 * Cucumber hooks that tie the trace to the run: each worker records its own trace file; every event emitted
 * during a scenario carries corr.scenarioId = testCaseStartedId and corr.stepId = testStepId; scenarios that
 * do not apply are skipped with a NOT_APPLICABLE marker and reason; each step gets a short trace digest as an
 * attachment (the whole trace stays in the side file, never in the message stream).
 */
import path from 'node:path';
import type { ITestCaseHookParameter, ITestStepHookParameter } from '@cucumber/cucumber';
import { emit, recordTrace, setBaseCorrelation, subscribe, type TraceEvent, type TraceRecorder, type Verdict } from '../trace/index.ts';
import { checkApplicability, type ApplicabilityContext } from './applicability.ts';
import { redactKeys, type RedactOptions } from '../gp/index.ts';
import { verdictAttachment } from './verdict.ts';
import { commandSummary, protectionOf, protectionText } from '../decode/index.ts';

/** The parts of `@cucumber/cucumber` the hooks need (passed in so the caller's instance is used). */
export interface CucumberHookApi {
  BeforeAll(fn: () => void | Promise<void>): void;
  AfterAll(fn: () => void | Promise<void>): void;
  Before(fn: (this: World, p: ITestCaseHookParameter) => unknown): void;
  After(fn: (this: World, p: ITestCaseHookParameter) => unknown): void;
  BeforeStep(fn: (this: World, p: ITestStepHookParameter) => unknown): void;
  AfterStep(fn: (this: World, p: ITestStepHookParameter) => unknown): void;
}

interface World {
  attach(data: string, mediaType: string): void | Promise<void>;
}

export interface TraceHooksOptions {
  /** Where trace files go: `<outDir>/trace-<pid>.ndjson` (default: $TSMLAB_OUT or reports/out). */
  outDir?: string;
  runId?: string;
  /** Applicability context of this run (ICS features + rig capabilities); omit to run every scenario. */
  applicability?: () => ApplicabilityContext | undefined;
  /** Key redaction applied to every recorded event (skipped when `reveal` is set). */
  redact?: RedactOptions;
  /** Attach a text digest of each step's trace (default true; at most `digestRows` rows). */
  attachDigest?: boolean;
  digestRows?: number;
}

export const TRACE_DIGEST_MEDIA_TYPE = 'text/plain';

/** The per-worker trace file name; `writeRunReports` should be given every file matching `trace-*.ndjson`. */
export function workerTraceFile(outDir: string, pid = process.pid): string {
  return path.join(outDir, `trace-${pid}.ndjson`);
}

/** A few lines a human can read in the Cucumber HTML report. */
export function stepDigest(events: TraceEvent[], max = 30): string {
  const lines: string[] = [];
  const start = events[0]?.time ?? 0;
  for (const e of events) {
    const t = `+${(e.time - start).toFixed(1)}ms`.padStart(10);
    let line: string | undefined;
    switch (e.kind) {
      case 'sp.request': line = `SP → TSM   ${e.operation}`; break;
      case 'sp.response': line = `TSM → SP   ${e.operation}: ${e.status}${e.reasonCode ? ` (${e.reasonCode})` : ''}`; break;
      case 'tsm.decision': line = `TSM        ${e.decision}: ${e.detail}`; break;
      case 'mno.hop': line = `${e.from.toUpperCase()} → ${e.to.toUpperCase()}  ${e.mno} via ${e.bearer}`; break;
      case 'apdu.command': {
        const p = protectionOf(e.secureChannel, e.hex);
        line = `→ SE       ${commandSummary(e.plainHex ?? e.hex, !p || !!e.plainHex)}${p ? ` [${protectionText(p)}${e.plainHex ? '' : ', no plain form'}]` : ''}`;
        break;
      }
      case 'apdu.response': line = `← SE       ${e.sw}  ${e.durationMs.toFixed(1)}ms`; break;
      case 'card.reset': line = `SE         ${e.cold ? 'cold' : 'warm'} reset${e.atr ? ` ATR ${e.atr}` : ''}`; break;
      case 'card.power': line = `SE         power ${e.on ? 'on' : 'off'}`; break;
      case 'verdict': line = `verdict    ${e.verdict}${e.reason ? `: ${e.reason}` : ''}`; break;
      default: break;
    }
    if (!line) continue;
    if (lines.length === max) {
      lines.push(`… ${events.length} events in all (see the trace file)`);
      break;
    }
    lines.push(`${t}  ${line}`);
  }
  return lines.join('\n');
}

let processRecorder: { file: string; recorder: TraceRecorder } | undefined;

/**
 * The trace recorder of this process, started on first use: `<outDir>/trace-<pid>.ndjson`. The run command
 * (main process: simulator, viewer) and the hooks (each worker, or the main process when not parallel) both
 * call it, so a process never records twice. `owned` tells the caller whether it started the recorder.
 */
export function ensureProcessRecorder(outDir: string, redact?: RedactOptions): { recorder: TraceRecorder; owned: boolean } {
  const file = workerTraceFile(outDir);
  if (processRecorder && processRecorder.file === file) return { recorder: processRecorder.recorder, owned: false };
  const recorder = recordTrace(file, redact && !redact.reveal ? { transform: (e) => redactKeys(e, redact) } : {});
  const entry = { file, recorder };
  processRecorder = entry;
  const close = recorder.close;
  // Forget it once closed, so a later run in the same process starts a fresh file.
  (recorder as { close: () => void }).close = () => {
    close();
    if (processRecorder === entry) processRecorder = undefined;
  };
  return { recorder, owned: true };
}

const provisional = (status?: string): Verdict => (status === 'PASSED' ? 'PASS' : status === 'SKIPPED' ? 'NOT_APPLICABLE' : status === 'FAILED' ? 'FAIL' : 'ERROR');

/**
 * Registers the hooks. Call it before any other hook is defined, so the applicability check runs first.
 * Returns the live recorder (undefined until BeforeAll ran).
 */
export function installTraceHooks(api: CucumberHookApi, opts: TraceHooksOptions = {}): { recorder(): TraceRecorder | undefined } {
  let recorder: TraceRecorder | undefined;
  let ownsRecorder = false;
  let stepEvents: TraceEvent[] = [];
  let collecting = false;
  const maxCollect = 2000;
  const unsub = subscribe((e) => {
    if (collecting && stepEvents.length < maxCollect) stepEvents.push(e);
  });

  api.BeforeAll(() => {
    const outDir = opts.outDir ?? process.env.TSMLAB_OUT ?? path.resolve('reports/out');
    const runId = opts.runId ?? process.env.TSMLAB_RUN_ID;
    if (runId) setBaseCorrelation({ runId });
    const r = ensureProcessRecorder(outDir, opts.redact);
    recorder = r.recorder;
    ownsRecorder = r.owned;
  });

  api.AfterAll(() => {
    unsub();
    if (ownsRecorder) recorder?.close();
    else recorder?.flush();
  });

  api.Before(async function (this: World, p: ITestCaseHookParameter) {
    setBaseCorrelation({ scenarioId: p.testCaseStartedId, scenario: p.pickle.name, feature: p.gherkinDocument.feature?.name, stepId: undefined, step: undefined });
    const tags = p.pickle.tags.map((t) => t.name);
    emit({ kind: 'scenario.start', from: 'harness', to: 'harness', name: p.pickle.name, uri: p.pickle.uri, tags });
    const ctx = opts.applicability?.();
    if (!ctx) return undefined;
    const a = checkApplicability(tags, ctx);
    if (a.applicable) return undefined;
    emit({ kind: 'verdict', from: 'harness', to: 'harness', verdict: 'NOT_APPLICABLE', reason: a.reason });
    await this.attach(...verdictAttachment('NOT_APPLICABLE', a.reason));
    return 'skipped';
  });

  api.BeforeStep(function (this: World, p: ITestStepHookParameter) {
    setBaseCorrelation({ stepId: p.testStepId, step: p.pickleStep.text });
    stepEvents = [];
    collecting = true;
    emit({ kind: 'step.start', from: 'harness', to: 'harness', text: p.pickleStep.text });
  });

  api.AfterStep(async function (this: World, p: ITestStepHookParameter) {
    const status = String(p.result?.status ?? 'UNKNOWN');
    emit({ kind: 'step.end', from: 'harness', to: 'harness', text: p.pickleStep.text, status, ...(p.result?.message ? { message: p.result.message.split('\n', 1)[0] } : {}) });
    collecting = false;
    const events = stepEvents;
    stepEvents = [];
    if (opts.attachDigest !== false) {
      const digest = stepDigest(events, opts.digestRows);
      if (digest) await this.attach(opts.redact && !opts.redact.reveal ? redactKeys(digest, opts.redact) : digest, TRACE_DIGEST_MEDIA_TYPE);
    }
  });

  api.After(function (this: World, p: ITestCaseHookParameter) {
    const status = String(p.result?.status ?? 'UNKNOWN');
    // Provisional: the report classifies the attempt from all its steps and markers.
    emit({ kind: 'scenario.end', from: 'harness', to: 'harness', name: p.pickle.name, verdict: provisional(status) });
    setBaseCorrelation({ scenarioId: undefined, scenario: undefined, stepId: undefined, step: undefined, feature: undefined });
    recorder?.flush();
  });

  return { recorder: () => recorder };
}
