/**
 * The scenarios of a Cucumber run and every attempt of each, rebuilt from the message envelopes
 * (gherkinDocument, pickle, hook, testCase, testCaseStarted, testStepFinished, attachment, testCaseFinished).
 * Unlike the JUnit formatter, retried attempts are kept.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Envelope } from '@cucumber/messages';
import { classifyVerdict, parseVerdictMarker, VERDICT_MEDIA_TYPE, type StepOutcome, type StepStatus, type Verdict, type VerdictMarker, type VerdictRules } from './verdict.ts';

export interface AttemptStep extends StepOutcome {
  testStepId: string;
  durationMs: number;
}

export interface ScenarioAttempt {
  /** Cucumber testCaseStartedId: the key of this attempt in the trace (corr.scenarioId). */
  testCaseStartedId: string;
  /** 0-based attempt number. */
  attempt: number;
  willBeRetried: boolean;
  startedAt?: number;
  finishedAt?: number;
  steps: AttemptStep[];
  markers: VerdictMarker[];
  verdict: Verdict;
  reason?: string;
}

export interface ScenarioResult {
  pickleId: string;
  testCaseId: string;
  name: string;
  feature: string;
  uri: string;
  line?: number;
  tags: string[];
  attempts: ScenarioAttempt[];
}

export interface RunError {
  what: string;
  message: string;
}

export interface CucumberRun {
  cucumberVersion?: string;
  startedAt?: number;
  finishedAt?: number;
  success?: boolean;
  scenarios: ScenarioResult[];
  /** Failures outside scenarios: BeforeAll/AfterAll hooks, parse errors, a run-level exception. */
  runErrors: RunError[];
}

export class CucumberMessagesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CucumberMessagesError';
  }
}

const ms = (t?: { seconds: number; nanos: number }) => (t ? t.seconds * 1000 + t.nanos / 1e6 : undefined);

interface PendingAttempt extends Omit<ScenarioAttempt, 'verdict' | 'reason'> {
  testCaseId: string;
}

/** Feed envelopes in order; `finish()` classifies every attempt. Attachment bodies other than markers are not kept. */
export class CucumberRunBuilder {
  private featureNames = new Map<string, string>();
  private stepKeywords = new Map<string, string>();
  private pickles = new Map<string, { name: string; uri: string; astNodeIds: readonly string[]; tags: string[]; steps: Map<string, string> }>();
  private scenarioLines = new Map<string, number>();
  private hooks = new Map<string, string>();
  private testCases = new Map<string, { pickleId: string; steps: Map<string, { hookId?: string; pickleStepId?: string }> }>();
  private attempts = new Map<string, PendingAttempt>();
  private order: string[] = [];
  private run: Omit<CucumberRun, 'scenarios'> = { runErrors: [] };
  private runHooks = new Map<string, string>();

  push(m: Envelope): void {
    if (m.meta) this.run.cucumberVersion = m.meta.implementation?.version;
    else if (m.gherkinDocument) this.onDocument(m.gherkinDocument);
    else if (m.pickle) {
      const p = m.pickle;
      this.pickles.set(p.id, {
        name: p.name,
        uri: p.uri,
        astNodeIds: p.astNodeIds,
        tags: p.tags.map((t) => t.name),
        steps: new Map(p.steps.map((s) => [s.id, `${this.stepKeywords.get(s.astNodeIds[0]) ?? ''}${s.text}`])),
      });
    } else if (m.hook) {
      const h = m.hook;
      const where = `${h.sourceReference.uri ?? '?'}:${h.sourceReference.location?.line ?? '?'}`;
      const kind = { BEFORE_TEST_CASE: 'Before', AFTER_TEST_CASE: 'After', BEFORE_TEST_RUN: 'BeforeAll', AFTER_TEST_RUN: 'AfterAll', BEFORE_TEST_STEP: 'BeforeStep', AFTER_TEST_STEP: 'AfterStep' }[(h.type as string) ?? ''] ?? 'hook';
      this.hooks.set(h.id, `${kind}${h.name ? ` "${h.name}"` : ''} hook (${where})`);
    } else if (m.testCase) {
      this.testCases.set(m.testCase.id, {
        pickleId: m.testCase.pickleId,
        steps: new Map(m.testCase.testSteps.map((s) => [s.id, { hookId: s.hookId, pickleStepId: s.pickleStepId }])),
      });
    } else if (m.testRunStarted) this.run.startedAt = ms(m.testRunStarted.timestamp);
    else if (m.testCaseStarted) {
      const s = m.testCaseStarted;
      this.attempts.set(s.id, { testCaseStartedId: s.id, testCaseId: s.testCaseId, attempt: s.attempt, willBeRetried: false, startedAt: ms(s.timestamp), steps: [], markers: [] });
    } else if (m.testStepFinished) this.onStepFinished(m.testStepFinished);
    else if (m.attachment) {
      const a = m.attachment;
      if (a.mediaType === VERDICT_MEDIA_TYPE && a.testCaseStartedId) {
        const body = (a.contentEncoding as string) === 'BASE64' ? Buffer.from(a.body, 'base64').toString('utf8') : a.body;
        const marker = parseVerdictMarker(body);
        if (marker) this.attempts.get(a.testCaseStartedId)?.markers.push(marker);
      }
    } else if (m.testCaseFinished) {
      const f = m.testCaseFinished;
      const at = this.attempts.get(f.testCaseStartedId);
      if (at) {
        at.willBeRetried = f.willBeRetried;
        at.finishedAt = ms(f.timestamp);
        this.order.push(at.testCaseStartedId);
      }
    } else if (m.testRunHookStarted) this.runHooks.set(m.testRunHookStarted.id, m.testRunHookStarted.hookId);
    else if (m.testRunHookFinished) {
      const r = m.testRunHookFinished.result;
      if ((r.status as string) !== 'PASSED') {
        const hookId = this.runHooks.get(m.testRunHookFinished.testRunHookStartedId);
        this.run.runErrors.push({ what: (hookId && this.hooks.get(hookId)) ?? 'run hook', message: `${r.status}: ${r.message ?? r.exception?.message ?? ''}`.trim() });
      }
    } else if (m.parseError) this.run.runErrors.push({ what: `parse error in ${m.parseError.source.uri ?? '?'}`, message: m.parseError.message });
    else if (m.testRunFinished) {
      this.run.finishedAt = ms(m.testRunFinished.timestamp);
      this.run.success = m.testRunFinished.success;
      const ex = m.testRunFinished.exception;
      if (ex) this.run.runErrors.push({ what: 'test run', message: `${ex.type}: ${ex.message ?? ''}` });
      else if (m.testRunFinished.message) this.run.runErrors.push({ what: 'test run', message: m.testRunFinished.message });
    }
  }

  private onDocument(doc: NonNullable<Envelope['gherkinDocument']>): void {
    const feature = doc.feature;
    if (!feature || !doc.uri) return;
    this.featureNames.set(doc.uri, feature.name);
    type Child = { scenario?: { id: string; location: { line: number }; steps: readonly { id: string; keyword: string }[]; examples: readonly { tableBody: readonly { id: string; location: { line: number } }[] }[] }; background?: { steps: readonly { id: string; keyword: string }[] }; rule?: { children: readonly Child[] } };
    const walk = (children: readonly Child[]) => {
      for (const c of children) {
        for (const s of c.background?.steps ?? []) this.stepKeywords.set(s.id, s.keyword);
        if (c.scenario) {
          this.scenarioLines.set(c.scenario.id, c.scenario.location.line);
          for (const s of c.scenario.steps) this.stepKeywords.set(s.id, s.keyword);
          for (const ex of c.scenario.examples) for (const row of ex.tableBody) this.scenarioLines.set(row.id, row.location.line);
        }
        if (c.rule) walk(c.rule.children);
      }
    };
    walk(feature.children as readonly Child[]);
  }

  private onStepFinished(f: NonNullable<Envelope['testStepFinished']>): void {
    const at = this.attempts.get(f.testCaseStartedId);
    if (!at) return;
    const tc = this.testCases.get(at.testCaseId);
    const ref = tc?.steps.get(f.testStepId);
    const pickle = tc && this.pickles.get(tc.pickleId);
    const isHook = !!ref?.hookId;
    const text = isHook ? this.hooks.get(ref!.hookId!) : ref?.pickleStepId ? pickle?.steps.get(ref.pickleStepId) : undefined;
    const r = f.testStepResult;
    at.steps.push({
      testStepId: f.testStepId,
      status: r.status as string as StepStatus,
      isHook,
      ...(text ? { text } : {}),
      ...(r.message ? { message: r.message } : {}),
      ...(r.exception ? { exception: { type: r.exception.type, message: r.exception.message, stackTrace: r.exception.stackTrace } } : {}),
      durationMs: ms(r.duration) ?? 0,
    });
  }

  /**
   * Classifies every attempt. `traceMarkers` adds the `verdict` trace events keyed by testCaseStartedId.
   * Scenarios keep the order of their first attempt; attempts keep their order.
   */
  finish(traceMarkers: Map<string, VerdictMarker[]> = new Map(), rules?: VerdictRules): CucumberRun {
    const byCase = new Map<string, ScenarioResult>();
    // Attempts that never finished (crash, interrupted run) still count, after the finished ones.
    const done = new Set(this.order);
    const ids = [...this.order, ...[...this.attempts.keys()].filter((id) => !done.has(id))];
    for (const id of ids) {
      const at = this.attempts.get(id)!;
      const tc = this.testCases.get(at.testCaseId);
      const pickle = tc && this.pickles.get(tc.pickleId);
      let sc = byCase.get(at.testCaseId);
      if (!sc) {
        const line = pickle ? (this.scenarioLines.get(pickle.astNodeIds[pickle.astNodeIds.length - 1]) ?? this.scenarioLines.get(pickle.astNodeIds[0])) : undefined;
        sc = {
          pickleId: tc?.pickleId ?? '',
          testCaseId: at.testCaseId,
          name: pickle?.name ?? '(unknown scenario)',
          feature: (pickle && this.featureNames.get(pickle.uri)) ?? '',
          uri: pickle?.uri ?? '',
          ...(line !== undefined ? { line } : {}),
          tags: pickle?.tags ?? [],
          attempts: [],
        };
        byCase.set(at.testCaseId, sc);
      }
      const markers = [...at.markers, ...(traceMarkers.get(id) ?? [])];
      const finished = at.finishedAt !== undefined;
      const v = finished
        ? classifyVerdict({ steps: at.steps, markers }, rules)
        : { verdict: 'ERROR' as const, reason: 'the attempt never finished (run interrupted)' };
      const { testCaseId: _drop, ...rest } = at;
      sc.attempts.push({ ...rest, markers, verdict: v.verdict, ...(v.reason ? { reason: v.reason } : {}) });
    }
    for (const sc of byCase.values()) sc.attempts.sort((a, b) => a.attempt - b.attempt);
    return { ...this.run, scenarios: [...byCase.values()] };
  }
}

/** The final verdict of a scenario is the verdict of its last attempt. */
export function finalAttempt(sc: ScenarioResult): ScenarioAttempt | undefined {
  return sc.attempts[sc.attempts.length - 1];
}

export function buildCucumberRun(envelopes: Iterable<Envelope>, traceMarkers?: Map<string, VerdictMarker[]>, rules?: VerdictRules): CucumberRun {
  const b = new CucumberRunBuilder();
  for (const m of envelopes) b.push(m);
  return b.finish(traceMarkers, rules);
}

/** Streams a Cucumber messages NDJSON file (the `message:` formatter's output). */
export async function readCucumberRun(messagesFile: string, traceMarkers?: Map<string, VerdictMarker[]>, rules?: VerdictRules): Promise<CucumberRun> {
  const b = new CucumberRunBuilder();
  const rl = createInterface({ input: createReadStream(messagesFile, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    n++;
    if (!line.trim()) continue;
    let m: Envelope;
    try {
      m = JSON.parse(line) as Envelope;
    } catch (e) {
      throw new CucumberMessagesError(`${messagesFile}:${n}: not JSON: ${(e as Error).message}`);
    }
    b.push(m);
  }
  return b.finish(traceMarkers, rules);
}
