/**
 * The requirements catalogue (features/requirements.json) and the traceability matrix built from the
 * scenarios' `@REQ-` tags: requirement → scenarios → verdicts, requirements with no scenario, and tags that
 * name no catalogued requirement.
 */
import { readFileSync } from 'node:fs';
import { worstVerdict, type Verdict } from './verdict.ts';

export interface Requirement {
  /** `REQ-<source>-<clause>`, the tag without '@'. */
  id: string;
  /** Short name of the source document, e.g. GPC (GP Card Spec 2.3.1), GPD (Amendment D), PAT (the patent). */
  source: string;
  /** Clause, figure or section in the source. */
  clause: string;
  title: string;
}

export interface RequirementsCatalogue {
  version?: string;
  /** Source short name → full document title. */
  sources?: Record<string, string>;
  requirements: Requirement[];
}

export class CatalogueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogueError';
  }
}

const ID = /^REQ-[A-Za-z0-9]+-[A-Za-z0-9][A-Za-z0-9.\-_]*$/;

/** Validates a parsed catalogue; errors name the JSON path of the first problem. */
export function parseCatalogue(json: unknown, where = 'requirements catalogue'): RequirementsCatalogue {
  const fail = (path: string, msg: string): never => {
    throw new CatalogueError(`${where}: ${path}: ${msg}`);
  };
  if (!json || typeof json !== 'object' || Array.isArray(json)) fail('$', 'must be an object with a "requirements" array');
  const o = json as Record<string, unknown>;
  if (o.version !== undefined && typeof o.version !== 'string') fail('$.version', 'must be a string');
  if (o.sources !== undefined) {
    if (!o.sources || typeof o.sources !== 'object' || Array.isArray(o.sources)) fail('$.sources', 'must be an object');
    for (const [k, v] of Object.entries(o.sources as object)) if (typeof v !== 'string') fail(`$.sources.${k}`, 'must be a string');
  }
  if (!Array.isArray(o.requirements)) fail('$.requirements', 'must be an array');
  const seen = new Set<string>();
  const reqs = (o.requirements as unknown[]).map((r, i) => {
    const p = `$.requirements[${i}]`;
    if (!r || typeof r !== 'object') fail(p, 'must be an object');
    const e = r as Record<string, unknown>;
    for (const k of ['id', 'source', 'clause', 'title'] as const) {
      if (typeof e[k] !== 'string' || (e[k] as string).trim() === '') fail(`${p}.${k}`, 'must be a non-empty string');
    }
    const id = e.id as string;
    if (!ID.test(id)) fail(`${p}.id`, `"${id}" is not of the form REQ-<source>-<clause>`);
    if (seen.has(id)) fail(`${p}.id`, `"${id}" is listed twice`);
    seen.add(id);
    if (!id.startsWith(`REQ-${e.source as string}-`)) fail(`${p}.source`, `"${e.source as string}" does not match the id "${id}"`);
    return { id, source: e.source as string, clause: e.clause as string, title: e.title as string };
  });
  return {
    ...(o.version ? { version: o.version as string } : {}),
    ...(o.sources ? { sources: o.sources as Record<string, string> } : {}),
    requirements: reqs,
  };
}

export function loadCatalogue(file: string): RequirementsCatalogue {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CatalogueError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CatalogueError(`${file}: not JSON: ${(e as Error).message}`);
  }
  return parseCatalogue(json, file);
}

/** The requirement ids a scenario's tags name (`@REQ-GPC-11.5` → `REQ-GPC-11.5`). */
export function requirementTags(tags: Iterable<string>): string[] {
  const out: string[] = [];
  for (const t of tags) {
    const id = t.startsWith('@') ? t.slice(1) : t;
    if (id.startsWith('REQ-') && !out.includes(id)) out.push(id);
  }
  return out;
}

export interface TracedScenario {
  name: string;
  uri: string;
  line?: number;
  tags: string[];
  verdict: Verdict;
  /** Link to the scenario's evidence (an anchor in the report). */
  href: string;
}

export interface TraceabilityRow {
  requirement: Requirement;
  scenarios: TracedScenario[];
  /** Worst verdict over its scenarios (FAIL and ERROR before INCONCLUSIVE, NOT_APPLICABLE only if all are). */
  verdict?: Verdict;
}

export interface Traceability {
  rows: TraceabilityRow[];
  /** Catalogued requirements no scenario checks. */
  uncovered: Requirement[];
  /** `@REQ-` tags with no catalogue entry, and the scenarios carrying them. */
  unknownTags: { id: string; scenarios: TracedScenario[] }[];
}

/** Requirement verdict: FAIL/ERROR/INCONCLUSIVE dominate; PASS beats NOT_APPLICABLE (a requirement is met if some applicable scenario passed). */
export function requirementVerdict(verdicts: Verdict[]): Verdict | undefined {
  if (verdicts.length === 0) return undefined;
  const problems = verdicts.filter((v) => v !== 'PASS' && v !== 'NOT_APPLICABLE');
  if (problems.length) return worstVerdict(problems);
  return verdicts.includes('PASS') ? 'PASS' : 'NOT_APPLICABLE';
}

export function buildTraceability(catalogue: RequirementsCatalogue, scenarios: TracedScenario[]): Traceability {
  const rows = catalogue.requirements.map((requirement) => ({ requirement, scenarios: [] as TracedScenario[] }));
  const byId = new Map(rows.map((r) => [r.requirement.id, r]));
  const unknown = new Map<string, TracedScenario[]>();
  for (const sc of scenarios) {
    for (const id of requirementTags(sc.tags)) {
      const row = byId.get(id);
      if (row) row.scenarios.push(sc);
      else unknown.set(id, [...(unknown.get(id) ?? []), sc]);
    }
  }
  return {
    rows: rows.map((r) => {
      const v = requirementVerdict(r.scenarios.map((s) => s.verdict));
      return v ? { ...r, verdict: v } : r;
    }),
    uncovered: rows.filter((r) => r.scenarios.length === 0).map((r) => r.requirement),
    unknownTags: [...unknown.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([id, s]) => ({ id, scenarios: s })),
  };
}
