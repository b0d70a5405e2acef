/** Counts scenario outcomes from Cucumber messages (last attempt wins; retried attempts are not counted twice). */
import type { Envelope } from '@cucumber/messages';

type Status = 'PASSED' | 'FAILED' | 'SKIPPED' | 'PENDING' | 'UNDEFINED' | 'AMBIGUOUS' | 'UNKNOWN';

export interface RunSummary {
  passed: number;
  failed: number;
  skipped: number;
  scenarios: { name: string; uri: string; status: string; attempts: number }[];
}

export class ScenarioTally {
  private pickles = new Map<string, { name: string; uri: string }>();
  private testCases = new Map<string, string>();
  private started = new Map<string, { testCaseId: string; attempt: number; worst: Status }>();
  private results = new Map<string, { status: Status; attempts: number }>();

  /** Returns a one-line progress message when a scenario finishes. */
  onMessage(m: Envelope): string | undefined {
    if (m.pickle) this.pickles.set(m.pickle.id, { name: m.pickle.name, uri: m.pickle.uri });
    if (m.testCase) this.testCases.set(m.testCase.id, m.testCase.pickleId);
    if (m.testCaseStarted) {
      this.started.set(m.testCaseStarted.id, { testCaseId: m.testCaseStarted.testCaseId, attempt: m.testCaseStarted.attempt, worst: 'PASSED' });
    }
    if (m.testStepFinished) {
      const s = this.started.get(m.testStepFinished.testCaseStartedId);
      const st = m.testStepFinished.testStepResult.status as Status;
      if (s && rank(st) > rank(s.worst)) s.worst = st;
    }
    if (m.testCaseFinished) {
      const s = this.started.get(m.testCaseFinished.testCaseStartedId);
      if (!s) return undefined;
      const pickleId = this.testCases.get(s.testCaseId) ?? s.testCaseId;
      this.results.set(pickleId, { status: s.worst, attempts: s.attempt + 1 });
      if (m.testCaseFinished.willBeRetried) return undefined;
      const p = this.pickles.get(pickleId);
      return `${label(s.worst)}  ${p?.name ?? pickleId}  (${p?.uri ?? ''})`;
    }
    return undefined;
  }

  summary(): RunSummary {
    const out: RunSummary = { passed: 0, failed: 0, skipped: 0, scenarios: [] };
    for (const [pickleId, r] of this.results) {
      const p = this.pickles.get(pickleId);
      if (r.status === 'PASSED') out.passed++;
      else if (r.status === 'SKIPPED') out.skipped++;
      else out.failed++;
      out.scenarios.push({ name: p?.name ?? pickleId, uri: p?.uri ?? '', status: r.status, attempts: r.attempts });
    }
    return out;
  }
}

function rank(s: Status): number {
  return ['PASSED', 'SKIPPED', 'PENDING', 'UNDEFINED', 'AMBIGUOUS', 'UNKNOWN', 'FAILED'].indexOf(s);
}

function label(s: Status): string {
  return s === 'PASSED' ? 'PASS ' : s === 'SKIPPED' ? 'SKIP ' : 'FAIL ';
}
