/**
 * The certification report: a self-contained, printable HTML page (plus its JSON model) stating what was
 * tested with what, the verdict of every scenario and every attempt linked to its evidence, the deviations,
 * and the traceability matrix from `@REQ-` tags to the requirements catalogue.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Verdict } from '../trace/index.ts';
import type { CucumberRun, ScenarioAttempt } from './cucumber-run.ts';
import { readCucumberRun } from './cucumber-run.ts';
import { indexTrace, RUN_SCOPE, type EvidenceIndex, type SampleIdentity, type ScenarioEvidence } from './evidence.ts';
import { renderCertificationHtml } from './certification-html.ts';
import { exportPcapng } from './pcapng.ts';
import { buildTraceability, loadCatalogue, requirementTags, type RequirementsCatalogue, type Traceability } from './requirements.ts';
import { repoRoot, sha256File, suiteDigest, toolCommit, toolVersion } from './run-meta.ts';
import { VERDICTS, type VerdictRules } from './verdict.ts';

export type { AttemptRow, CertificationModel, Deviation, ProfileRef, RunMeta, ScenarioRow } from './certification-model.ts';
import type { AttemptRow, CertificationModel, Deviation, ProfileRef, RunMeta, ScenarioRow } from './certification-model.ts';

export function anchorFor(prefix: string, id: string): string {
  return `${prefix}-${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

const zero = (): Record<Verdict, number> => Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;

export interface ModelInputs {
  run: CucumberRun;
  evidence?: EvidenceIndex;
  catalogue?: RequirementsCatalogue;
  catalogueFile?: string;
  meta?: RunMeta;
  files?: CertificationModel['files'];
  /** Base directory profile paths are shown relative to (default: current directory). */
  baseDir?: string;
  featuresDir?: string;
}

export function buildCertificationModel(inp: ModelInputs): CertificationModel {
  const meta = inp.meta ?? {};
  const base = inp.baseDir ?? process.cwd();
  const counts = zero();
  const attemptCounts = zero();
  const deviations: Deviation[] = (meta.deviations ?? []).map((d) => ({ origin: 'declared' as const, ...d }));

  const scenarios: ScenarioRow[] = inp.run.scenarios.map((sc) => {
    const attempts: AttemptRow[] = sc.attempts.map((a) => {
      attemptCounts[a.verdict]++;
      const ev = inp.evidence?.scenarios.get(a.testCaseStartedId);
      return {
        testCaseStartedId: a.testCaseStartedId,
        attempt: a.attempt,
        verdict: a.verdict,
        ...(a.reason ? { reason: a.reason } : {}),
        willBeRetried: a.willBeRetried,
        anchor: anchorFor('ev', a.testCaseStartedId),
        ...(a.startedAt !== undefined ? { startedAt: a.startedAt } : {}),
        ...(a.startedAt !== undefined && a.finishedAt !== undefined ? { durationMs: a.finishedAt - a.startedAt } : {}),
        steps: a.steps,
        ...(ev ? { evidence: ev } : {}),
      };
    });
    const last = attempts[attempts.length - 1];
    const verdict: Verdict = last?.verdict ?? 'ERROR';
    counts[verdict]++;
    if (attempts.length > 1) {
      deviations.push({
        origin: 'detected',
        scenario: sc.name,
        description: `retried: attempts were ${attempts.map((a) => a.verdict).join(', ')}; the final verdict is the last attempt's`,
      });
    }
    if (inp.evidence && attempts.some((a) => !a.evidence && a.verdict !== 'NOT_APPLICABLE')) {
      deviations.push({ origin: 'detected', scenario: sc.name, description: 'no trace events were recorded for an attempt (no evidence beyond the step results)' });
    }
    const tags = sc.tags;
    return {
      anchor: anchorFor('sc', sc.testCaseId || sc.pickleId),
      name: sc.name,
      feature: sc.feature,
      location: `${sc.uri}${sc.line !== undefined ? `:${sc.line}` : ''}`,
      tags,
      testPurposes: tags.filter((t) => t.startsWith('@TP-')).map((t) => t.slice(1)),
      requirements: requirementTags(tags),
      verdict,
      ...(last?.reason ? { reason: last.reason } : {}),
      attempts,
    };
  });

  let traceability: Traceability | undefined;
  if (inp.catalogue) {
    traceability = buildTraceability(
      inp.catalogue,
      scenarios.map((s) => ({ name: s.name, uri: s.location, tags: s.tags, verdict: s.verdict, href: `#${s.anchor}` })),
    );
    for (const u of traceability.unknownTags) {
      deviations.push({ origin: 'detected', description: `tag @${u.id} names no requirement in the catalogue (${u.scenarios.map((s) => s.name).join('; ')})` });
    }
  } else {
    deviations.push({ origin: 'detected', description: 'no requirements catalogue was given: the traceability matrix is missing' });
  }
  for (const e of inp.run.runErrors) deviations.push({ origin: 'detected', description: `${e.what}: ${e.message}` });
  const commit = meta.commit ?? toolCommit();
  if (commit.endsWith('(modified)')) deviations.push({ origin: 'detected', description: 'the tool ran from a working tree that differs from its commit' });
  if (meta.revealKeys) deviations.push({ origin: 'detected', description: 'key values were revealed in traces and reports (explicit reveal flag)' });

  const traceSample = inp.evidence?.sample ?? { seIds: [] };
  const ms = meta.sample ?? {};
  const sample = {
    ...traceSample,
    ...(ms.atr ? { atr: ms.atr } : {}),
    ...(ms.cplc ? { cplc: ms.cplc } : {}),
    ...(ms.iin ? { iin: ms.iin } : {}),
    ...(ms.cin ? { cin: ms.cin } : {}),
    ...(ms.seId ? { seId: ms.seId } : traceSample.seIds.length === 1 ? { seId: traceSample.seIds[0] } : {}),
    ...(ms.description ? { description: ms.description } : {}),
  };

  const date = meta.date instanceof Date ? meta.date.toISOString() : (meta.date ?? (inp.run.startedAt !== undefined ? new Date(inp.run.startedAt).toISOString() : new Date().toISOString()));
  return {
    title: meta.title ?? 'tsmlab certification report',
    generatedAt: new Date().toISOString(),
    date,
    tool: { version: meta.toolVersion ?? toolVersion(), commit },
    suiteVersion: meta.suiteVersion ?? suiteDigest(inp.featuresDir),
    ...(inp.run.cucumberVersion ? { cucumberVersion: inp.run.cucumberVersion } : {}),
    ...(meta.runId ? { runId: meta.runId } : {}),
    ...(meta.target ? { target: meta.target } : {}),
    ...(meta.reader ? { reader: meta.reader } : {}),
    ...(meta.operator ? { operator: meta.operator } : {}),
    revealKeys: !!meta.revealKeys,
    sample,
    profiles: (meta.profiles ?? []).map((p) => ({
      ...p,
      path: path.isAbsolute(p.path) ? path.relative(base, p.path) || p.path : p.path,
      sha256: existsSync(path.resolve(base, p.path)) ? sha256File(path.resolve(base, p.path)) : 'missing',
    })),
    counts,
    attemptCounts,
    scenarios,
    ...(traceability ? { traceability } : {}),
    ...(inp.catalogue && inp.catalogueFile
      ? { catalogue: { file: inp.catalogueFile, ...(inp.catalogue.version ? { version: inp.catalogue.version } : {}), ...(inp.catalogue.sources ? { sources: inp.catalogue.sources } : {}), count: inp.catalogue.requirements.length } }
      : {}),
    deviations,
    runErrors: inp.run.runErrors,
    ...(inp.evidence?.scenarios.get(RUN_SCOPE) ? { runEvidence: inp.evidence.scenarios.get(RUN_SCOPE) } : {}),
    files: inp.files ?? { traces: [] },
  };
}

export interface RunReportsOptions {
  /** The Cucumber `message:` formatter output. */
  messagesFile: string;
  /** The trace NDJSON file(s): one per process that recorded (workers, simulator). */
  traceFile?: string | string[];
  outDir: string;
  meta?: RunMeta;
  /** Requirements catalogue (default: features/requirements.json of the repository, if present). */
  requirementsFile?: string;
  /** The suite whose digest is the suite version (default: the repository's features/). */
  featuresDir?: string;
  verdictRules?: VerdictRules;
}

export interface RunReportsResult {
  reportFile: string;
  jsonFile: string;
  pcapngFile?: string;
  evidenceDir?: string;
  packets: number;
  model: CertificationModel;
}

/**
 * After a run: splits the trace into per-attempt evidence files, exports the pcapng, classifies every attempt
 * and writes certification.html and certification.json into `outDir`.
 */
export async function writeRunReports(opts: RunReportsOptions): Promise<RunReportsResult> {
  const outDir = path.resolve(opts.outDir);
  mkdirSync(outDir, { recursive: true });
  const traces = (Array.isArray(opts.traceFile) ? opts.traceFile : opts.traceFile ? [opts.traceFile] : []).map((f) => path.resolve(f)).filter((f) => existsSync(f));
  const evidenceDir = traces.length ? path.join(outDir, 'evidence') : undefined;
  const evidence = traces.length ? await indexTrace(traces, { evidenceDir, relativeTo: outDir }) : undefined;
  let pcapngFile: string | undefined;
  let packets = 0;
  if (traces.length) {
    pcapngFile = path.join(outDir, 'trace.pcapng');
    packets = await exportPcapng(traces, pcapngFile);
  }
  const run = await readCucumberRun(opts.messagesFile, evidence?.markers, opts.verdictRules);
  const reqFile = opts.requirementsFile ?? path.join(repoRoot, 'features', 'requirements.json');
  const catalogue = existsSync(reqFile) ? loadCatalogue(reqFile) : undefined;
  const rel = (f: string) => path.relative(outDir, f) || f;
  const jsonFile = path.join(outDir, 'certification.json');
  const model = buildCertificationModel({
    run,
    ...(evidence ? { evidence } : {}),
    ...(catalogue ? { catalogue, catalogueFile: path.relative(process.cwd(), reqFile) || reqFile } : {}),
    ...(opts.meta ? { meta: opts.meta } : {}),
    ...(opts.featuresDir ? { featuresDir: opts.featuresDir } : {}),
    files: { messages: rel(path.resolve(opts.messagesFile)), traces: traces.map(rel), ...(pcapngFile ? { pcapng: rel(pcapngFile) } : {}), json: rel(jsonFile) },
  });
  const reportFile = path.join(outDir, 'certification.html');
  writeFileSync(reportFile, renderCertificationHtml(model));
  writeFileSync(jsonFile, JSON.stringify(model, null, 2) + '\n');
  return { reportFile, jsonFile, ...(pcapngFile ? { pcapngFile } : {}), ...(evidenceDir ? { evidenceDir } : {}), packets, model };
}
