/**
 * Verdicts of a scenario attempt: PASS, FAIL (the product misbehaved), INCONCLUSIVE (could not decide),
 * NOT_APPLICABLE (deselected by ICS/rig, with the reason), ERROR (the harness itself failed).
 * The contract with steps and hooks is in docs/reports.md.
 */
import { verdictErrorNames, type Verdict } from '../trace/index.ts';

export type { Verdict };

/** Media type of the verdict marker a hook or step attaches: JSON `{ verdict, reason }`. */
export const VERDICT_MEDIA_TYPE = 'application/vnd.tsmlab.verdict+json';

export const VERDICTS: readonly Verdict[] = ['PASS', 'FAIL', 'INCONCLUSIVE', 'NOT_APPLICABLE', 'ERROR'];

// The errors that mean INCONCLUSIVE or ERROR, and the one decision of which is which, live in trace/ so that
// drivers and steps throw the same classes this module classifies.
export { HarnessError, InconclusiveError, verdictOfError } from '../trace/index.ts';

export interface VerdictMarker {
  verdict: Verdict;
  reason?: string;
  /** Where the marker came from: a Cucumber attachment or a `verdict` trace event. */
  source: 'attachment' | 'trace';
}

/** The body and media type to pass to `this.attach(...)`. */
export function verdictAttachment(verdict: Verdict, reason?: string): [string, string] {
  return [JSON.stringify(reason ? { verdict, reason } : { verdict }), VERDICT_MEDIA_TYPE];
}

/** Parses a marker attachment body; undefined when it is not one. */
export function parseVerdictMarker(body: string, source: VerdictMarker['source'] = 'attachment'): VerdictMarker | undefined {
  try {
    const v = JSON.parse(body) as { verdict?: unknown; reason?: unknown };
    if (typeof v.verdict !== 'string' || !VERDICTS.includes(v.verdict as Verdict)) return undefined;
    return { verdict: v.verdict as Verdict, source, ...(typeof v.reason === 'string' ? { reason: v.reason } : {}) };
  } catch {
    return undefined;
  }
}

/** Cucumber's TestStepResultStatus values. */
export type StepStatus = 'UNKNOWN' | 'PASSED' | 'SKIPPED' | 'PENDING' | 'UNDEFINED' | 'AMBIGUOUS' | 'FAILED';

export interface StepOutcome {
  status: StepStatus;
  /** A Before/After hook rather than a Gherkin step. */
  isHook: boolean;
  /** The step text or hook name, for the reason. */
  text?: string;
  /** testStepResult.message (first line is usually "<ErrorName>: <message>"). */
  message?: string;
  exception?: { type: string; message?: string; stackTrace?: string };
}

export interface AttemptFacts {
  steps: StepOutcome[];
  markers: VerdictMarker[];
}

export interface VerdictResult {
  verdict: Verdict;
  reason?: string;
}

export interface VerdictRules {
  /** Error names that mean "could not decide". */
  inconclusiveErrors: string[];
  /** Error names that mean the harness failed, not the product. */
  harnessErrors: string[];
}

// CliError (bin/) is a harness error too: a scenario that runs the CLI fails in the harness when it misuses it.
const NAMES = verdictErrorNames({ harness: ['CliError'] });

export const DEFAULT_VERDICT_RULES: VerdictRules = {
  inconclusiveErrors: NAMES.inconclusive,
  harnessErrors: NAMES.harness,
};

const INCONCLUSIVE_PREFIX = 'INCONCLUSIVE:';
const HARNESS_PREFIX = 'HARNESS:';

/**
 * The error's name. Cucumber reports the constructor name as `exception.type`, so an Error whose `name` was
 * set by hand shows up as "Error"; its real name is the first word of the message/stack.
 */
export function errorName(step: Pick<StepOutcome, 'message' | 'exception'>): string {
  const type = step.exception?.type;
  if (type && type !== 'Error') return type;
  const first = (step.exception?.stackTrace ?? step.message ?? '').split('\n', 1)[0];
  const m = /^([A-Za-z_$][\w$]*)(?: \[[^\]]*\])?:/.exec(first);
  return m ? m[1] : (type ?? 'Error');
}

/** The error text without the "<Name>: " prefix and without the stack. */
export function errorMessage(step: Pick<StepOutcome, 'message' | 'exception'>): string {
  if (step.exception?.message !== undefined) return step.exception.message;
  const first = (step.message ?? '').split('\n', 1)[0];
  return first.replace(/^[A-Za-z_$][\w$]*(?: \[[^\]]*\])?: /, '');
}

const SEVERITY: Record<Verdict, number> = { ERROR: 4, FAIL: 3, INCONCLUSIVE: 2, NOT_APPLICABLE: 1, PASS: 0 };

/** The most severe of several verdicts (ERROR > FAIL > INCONCLUSIVE > NOT_APPLICABLE > PASS). */
export function worstVerdict(verdicts: Iterable<Verdict>): Verdict | undefined {
  let worst: Verdict | undefined;
  for (const v of verdicts) if (worst === undefined || SEVERITY[v] > SEVERITY[worst]) worst = v;
  return worst;
}

function strongestMarker(markers: VerdictMarker[]): VerdictMarker | undefined {
  let best: VerdictMarker | undefined;
  for (const m of markers) if (!best || SEVERITY[m.verdict] >= SEVERITY[best.verdict]) best = m;
  return best;
}

function stepLabel(s: StepOutcome): string {
  return s.text ? `"${s.text}"` : s.isHook ? 'a hook' : 'a step';
}

/**
 * Maps one attempt's step results and explicit markers to a verdict:
 * - a FAILED step: INCONCLUSIVE if the error is an inconclusive one (name or "INCONCLUSIVE:" prefix) or a
 *   marker says INCONCLUSIVE; ERROR if it is a harness error (name, "HARNESS:" prefix, a failing hook, or an
 *   ERROR marker); FAIL otherwise;
 * - UNDEFINED, AMBIGUOUS, PENDING, UNKNOWN steps: ERROR (the suite cannot run as written);
 * - SKIPPED steps: NOT_APPLICABLE or INCONCLUSIVE when a marker says so, with its reason; otherwise ERROR,
 *   because a scenario must never be skipped silently;
 * - all PASSED: PASS, unless a marker recorded a non-PASS verdict without throwing.
 */
export function classifyVerdict(facts: AttemptFacts, rules: VerdictRules = DEFAULT_VERDICT_RULES): VerdictResult {
  const marker = strongestMarker(facts.markers);
  const withReason = (verdict: VerdictResult['verdict'], reason?: string): VerdictResult => (reason ? { verdict, reason } : { verdict });
  const bad = facts.steps.find((s) => s.status !== 'PASSED' && s.status !== 'SKIPPED');

  if (bad) {
    if (bad.status !== 'FAILED') {
      const names: Partial<Record<StepStatus, string>> = { UNDEFINED: 'undefined', AMBIGUOUS: 'ambiguous', PENDING: 'pending' };
      const what = names[bad.status] ?? 'in an unknown state';
      return withReason('ERROR', `step ${stepLabel(bad)} is ${what}`);
    }
    const name = errorName(bad);
    const message = errorMessage(bad);
    const detail = `${name}: ${message}`;
    if (rules.inconclusiveErrors.includes(name) || message.startsWith(INCONCLUSIVE_PREFIX)) {
      return withReason('INCONCLUSIVE', message.startsWith(INCONCLUSIVE_PREFIX) ? message.slice(INCONCLUSIVE_PREFIX.length).trim() : message);
    }
    if (marker?.verdict === 'INCONCLUSIVE' || marker?.verdict === 'ERROR') {
      return withReason(marker.verdict, marker.reason ?? detail);
    }
    if (rules.harnessErrors.includes(name) || message.startsWith(HARNESS_PREFIX)) {
      return withReason('ERROR', `${stepLabel(bad)} failed in the harness: ${detail}`);
    }
    if (bad.isHook) return withReason('ERROR', `${stepLabel(bad)} failed: ${detail}`);
    return withReason('FAIL', `${stepLabel(bad)}: ${detail}`);
  }

  if (facts.steps.some((s) => s.status === 'SKIPPED')) {
    if (marker && marker.verdict !== 'PASS') return withReason(marker.verdict, marker.reason);
    return withReason('ERROR', 'skipped without an applicability reason');
  }

  if (marker && marker.verdict !== 'PASS') return withReason(marker.verdict, marker.reason);
  return { verdict: 'PASS' };
}
