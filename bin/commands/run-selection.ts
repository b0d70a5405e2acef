/**
 * Which scenarios a `tsmlab run` would execute, decided before the output folder is touched: Cucumber's own
 * loadSources (the same paths, line filters and tag filter the run uses), and when it selects nothing, an error
 * that says why and which tags do exist, nearest first.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { IPlannedPickle, ISourcesCoordinates } from '@cucumber/cucumber/api';
import { loadSources } from '@cucumber/cucumber/api';
import { generateMessages } from '@cucumber/gherkin';
import { IdGenerator, SourceMediaType } from '@cucumber/messages';
import { CliError } from '../cli-error.ts';
import { nearestTags, type TagExpression } from './run-tags.ts';

/** How many of the nearest tags an error lists. */
const SHOWN_TAGS = 12;

/** A feature path argument that names nothing is a typo, not an empty suite (globs and rerun files aside). */
export function checkFeaturePaths(paths: readonly string[]): void {
  for (const p of paths) {
    if (/[*?[\]{}]/.test(p) || path.basename(p).startsWith('@')) continue;
    const file = p.replace(/(:\d+)+$/, '');
    if (existsSync(file)) continue;
    // `--tags @a and @b` without quotes leaves "and @b" behind as paths.
    const unquoted = /^(and|or|not|@.*)$/.test(p) ? ' (quote a --tags expression of several words)' : '';
    throw new CliError(`no such feature file or folder: "${p}"${unquoted}`);
  }
}

type Child = {
  scenario?: { id: string; location: { line: number }; examples: readonly { tableBody: readonly { id: string; location: { line: number } }[] }[] };
  rule?: { children: readonly Child[] };
};

/** Line of every scenario and example row of a Gherkin document, by AST node id. */
function nodeLines(children: readonly Child[], lines = new Map<string, number>()): Map<string, number> {
  for (const c of children) {
    if (c.scenario) {
      lines.set(c.scenario.id, c.scenario.location.line);
      for (const ex of c.scenario.examples) for (const row of ex.tableBody) lines.set(row.id, row.location.line);
    }
    if (c.rule) nodeLines(c.rule.children, lines);
  }
  return lines;
}

/**
 * Tag → number of the planned scenarios carrying it (feature, rule, scenario and examples tags all count).
 * A scenario is known by its file and line as Cucumber's plan gives them: the line of its last AST node.
 */
function tagCounts(plan: readonly IPlannedPickle[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const uri of new Set(plan.map((p) => p.uri))) {
    const planned = new Set(plan.filter((p) => p.uri === uri).map((p) => p.location.line));
    const media = uri.endsWith('.md') ? SourceMediaType.TEXT_X_CUCUMBER_GHERKIN_MARKDOWN : SourceMediaType.TEXT_X_CUCUMBER_GHERKIN_PLAIN;
    const envelopes = generateMessages(readFileSync(path.resolve(uri), 'utf8'), uri, media, {
      includeSource: false,
      includeGherkinDocument: true,
      includePickles: true,
      newId: IdGenerator.incrementing(),
    });
    let lines = new Map<string, number>();
    for (const e of envelopes) {
      if (e.gherkinDocument?.feature) lines = nodeLines(e.gherkinDocument.feature.children as readonly Child[]);
      const pickle = e.pickle;
      if (!pickle || !planned.has(lines.get(pickle.astNodeIds[pickle.astNodeIds.length - 1]) ?? -1)) continue;
      for (const t of new Set(pickle.tags.map((x) => x.name))) counts.set(t, (counts.get(t) ?? 0) + 1);
    }
  }
  return counts;
}

function scenarios(n: number): string {
  return `${n} scenario${n === 1 ? '' : 's'}`;
}

/** Why `tags` selects nothing among the scenarios `plan` (the run without its tag filter). */
export function explainNoMatch(tags: TagExpression, plan: readonly IPlannedPickle[], where: string): string {
  const counts = tagCounts(plan);
  const total = plan.length;
  const missing = [...new Set(tags.tags.map((t) => t.text).filter((t) => !counts.has(t)))];
  const head = `--tags "${tags.text}" ${total === 1 ? 'does not select the one scenario' : `selects none of the ${scenarios(total)}`} in ${where}`;
  if (missing.length === 0) {
    const have = [...new Set(tags.tags.map((t) => t.text))].map((t) => `${t} (${scenarios(counts.get(t) ?? 0)})`);
    return `${head}: each of its tags is on some scenario (${have.join(', ')}), but no scenario satisfies the whole expression`;
  }
  const comma = missing.find((t) => t.includes(','));
  const hint = comma ? `; a comma does not separate tags, write "${comma.split(',').join(' or ')}"` : '';
  const near = nearestTags(missing, counts.keys());
  const shown = near.slice(0, SHOWN_TAGS).join(', ');
  const more = near.length > SHOWN_TAGS ? ` … (${near.length} tags in all)` : '';
  return `${head}: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} on none of them${hint}\n  tags there, nearest first: ${shown}${more}`;
}

export interface Selection {
  /** Scenarios the run will execute. */
  count: number;
}

/**
 * Counts the scenarios `sources` selects; throws a CliError when a feature file does not parse or nothing is
 * selected. Reads feature files only.
 */
export async function selectScenarios(sources: ISourcesCoordinates, tags: TagExpression | undefined): Promise<Selection> {
  const selected = await loadSources(sources);
  if (selected.errors.length) {
    throw new CliError(`a feature file does not parse, nothing was run:\n${selected.errors.map((e) => `  ${e.uri}:${e.location.line}: ${e.message}`).join('\n')}`);
  }
  if (selected.plan.length > 0) return { count: selected.plan.length };
  const where = sources.paths.join(' ');
  const all = tags ? await loadSources({ ...sources, tagExpression: '' }) : selected;
  if (!tags || all.plan.length === 0) throw new CliError(`no scenario in ${where} (a .feature file, or a folder of them)`);
  throw new CliError(explainNoMatch(tags, all.plan, where));
}
