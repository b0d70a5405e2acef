/** The certification report's model: what the JSON holds and the HTML page renders. */
import type { Verdict } from '../trace/index.ts';
import type { CucumberRun, ScenarioAttempt } from './cucumber-run.ts';
import type { SampleIdentity, ScenarioEvidence } from './evidence.ts';
import type { Traceability } from './requirements.ts';

export interface ProfileRef {
  /** What the file is: "ICS", "IXIT", "card profile", "rig profile", "fleet". */
  role: string;
  path: string;
  name?: string;
}

export interface Deviation {
  description: string;
  scenario?: string;
  /** Where the deviation was found: given by the operator, or detected from the run. */
  origin?: 'declared' | 'detected';
}

export interface RunMeta {
  title?: string;
  toolVersion?: string;
  commit?: string;
  suiteVersion?: string;
  date?: string | Date;
  runId?: string;
  /** `sim` or `pcsc[:READER]`. */
  target?: string;
  /** Reader name, or a description of the simulator. */
  reader?: string;
  operator?: string;
  sample?: { atr?: string; cplc?: string; iin?: string; cin?: string; seId?: string; description?: string };
  profiles?: ProfileRef[];
  deviations?: Deviation[];
  /** The run was started with an explicit reveal-keys flag. */
  revealKeys?: boolean;
}

export interface AttemptRow {
  testCaseStartedId: string;
  attempt: number;
  verdict: Verdict;
  reason?: string;
  willBeRetried: boolean;
  anchor: string;
  startedAt?: number;
  durationMs?: number;
  steps: ScenarioAttempt['steps'];
  evidence?: ScenarioEvidence;
}

export interface ScenarioRow {
  anchor: string;
  name: string;
  feature: string;
  location: string;
  tags: string[];
  testPurposes: string[];
  requirements: string[];
  verdict: Verdict;
  reason?: string;
  attempts: AttemptRow[];
}

export interface CertificationModel {
  title: string;
  generatedAt: string;
  date: string;
  tool: { version: string; commit: string };
  suiteVersion: string;
  cucumberVersion?: string;
  runId?: string;
  target?: string;
  reader?: string;
  operator?: string;
  revealKeys: boolean;
  sample: SampleIdentity & { seId?: string; description?: string };
  profiles: (ProfileRef & { sha256: string })[];
  counts: Record<Verdict, number>;
  attemptCounts: Record<Verdict, number>;
  scenarios: ScenarioRow[];
  traceability?: Traceability;
  catalogue?: { file: string; version?: string; sources?: Record<string, string>; count: number };
  deviations: Deviation[];
  runErrors: CucumberRun['runErrors'];
  runEvidence?: ScenarioEvidence;
  files: { messages?: string; traces: string[]; pcapng?: string; json?: string };
}
