/**
 * `tsmlab run`: runs the feature suites on the built-in simulator (or a real card) and writes reports/out/, after
 * moving the previous run's files to reports/out.prev/.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Envelope } from '@cucumber/messages';
import { loadConfiguration, runCucumber } from '@cucumber/cucumber/api';
import { defaultFleet, FleetError, loadFleet } from '../../profiles/index.ts';
import { ensureProcessRecorder, formatLeakHits, scanForKeys, writeRunReports } from '../../reports/index.ts';
import { parseArgs, wantsHelp } from '../args.ts';
import { CliError } from '../cli-error.ts';
import { loadCardProfile, resolveCardKeys } from '../../profiles/index.ts';
import { fleetKeys, profileKeys } from './run-keys.ts';
import { checkOutputDir, keepPreviousRun } from './run-output.ts';
import { checkFeaturePaths, selectScenarios } from './run-selection.ts';
import { parseTagExpression } from './run-tags.ts';
import { ScenarioTally } from './run-tally.ts';

const HELP = `usage: tsmlab run [options] [feature files or folders...]
  --target T            sim (default: the built-in simulator over WebSocket) | pcsc (the simulated cards through
                        pcscd and vpcd) | pcsc:READER (the real card in READER, with --profile) | cards (one
                        real card per --profile, each in the reader its profile names)
  --tags EXPR           Cucumber tag expression, e.g. "@REQ-PAT-FIG3 and not @slow"
  --out DIR             output folder (default reports/out); the previous run's files there move to DIR.prev
  --profile FILE        card profile (ICS + IXIT) for applicability and safety checks; repeat with --target cards
  --fleet FILE          fleet file for the simulator (default: the built-in fleet)
  --allow-destructive   allow @destructive scenarios (the profile must also say the card is sacrificial)
  --reveal-keys         show key values in traces and reports (never by default)
  --no-viewer           do not start the live trace viewer
  --keep-viewer         keep the viewer running after the run (default when the terminal is interactive)
  --quiet               one line per scenario instead of the progress display; no viewer
Feature paths default to features/**/*.feature; FILE:LINE picks one scenario.
Exit 0 every scenario passed; 1 a scenario failed or a key leaked into the output; 2 bad arguments or no
scenario selected (then nothing ran and the output folder was not touched). See docs/cli.md.`;

/** What the certification report names as the reader. */
function readerOf(target: string, profiles: string[]): string {
  if (target === 'sim') return 'tsmlab simulator over WebSocket';
  if (target === 'pcsc') return `${target} (simulated cards in vpcd readers)`;
  const names = profiles.map((p) => path.basename(p)).join(', ');
  return target === 'cards' ? `real cards, in the readers of profiles ${names}` : `${target} (the card of profile ${names})`;
}

export async function run(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(HELP);
    return 0;
  }
  // Everything is checked, and the scenarios selected, before the output folder is touched.
  const a = parseArgs(args, {
    values: ['target', 'tags', 'out', 'fleet'],
    repeat: ['profile'],
    flags: ['allow-destructive', 'reveal-keys', 'no-viewer', 'keep-viewer', 'quiet'],
  });
  const target = a.values.target ?? 'sim';
  if (!/^(sim|cards|pcsc(:.*)?)$/.test(target)) throw new CliError(`--target must be "sim", "pcsc", "pcsc:READER" or "cards", not "${target}"`);
  const profiles = a.lists.profile.map((f) => path.resolve(f));
  for (const f of [...a.lists.profile, ...(a.values.fleet ? [a.values.fleet] : [])]) {
    if (!existsSync(f)) throw new CliError(`${a.lists.profile.includes(f) ? '--profile' : '--fleet'} ${f}: no such file`);
  }
  if (target === 'cards' && profiles.length === 0) throw new CliError('--target cards needs a --profile for each card (its ixit.reader says where the card is)');
  if (target !== 'cards' && profiles.length > 1) throw new CliError(`several --profile options need --target cards (each profile names its reader); --target ${target} takes one`);
  const tags = a.values.tags !== undefined ? parseTagExpression(a.values.tags) : undefined;
  const out = path.resolve(a.values.out ?? 'reports/out');
  checkOutputDir(out);
  checkFeaturePaths(a.positional);
  let fleet;
  try {
    fleet = a.values.fleet ? loadFleet(a.values.fleet) : defaultFleet();
  } catch (e) {
    if (e instanceof FleetError) throw new CliError(`--fleet: ${e.message}`);
    throw e;
  }
  const keys = fleetKeys(fleet);
  // A real card's ISD keys come from the environment or a key file: the scan must know them too.
  for (const file of target === 'sim' ? [] : profiles) {
    try {
      const loaded = loadCardProfile(file);
      keys.push(...profileKeys(loaded.profile.profile, resolveCardKeys(loaded)));
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  }
  const { runConfiguration } = await loadConfiguration({
    provided: {
      paths: a.positional.length ? a.positional : ['features/**/*.feature'],
      ...(tags ? { tags: tags.text } : {}),
      format: [
        a.flags.has('quiet') ? 'summary' : 'progress-bar',
        `html:${path.join(out, 'cucumber.html')}`,
        `message:${path.join(out, 'messages.ndjson')}`,
        `junit:${path.join(out, 'junit.xml')}`,
      ],
      formatOptions: { junit: { suiteName: 'tsmlab' } },
    },
  });
  await selectScenarios(runConfiguration.sources, tags);

  mkdirSync(out, { recursive: true });
  const kept = keepPreviousRun(out);
  if (kept) console.log(`previous run kept in ${path.relative(process.cwd(), kept) || kept}`);
  const quiet = a.flags.has('quiet');
  const reveal = a.flags.has('reveal-keys');

  const runId = `run-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  Object.assign(process.env, {
    TSMLAB_TARGET: target,
    TSMLAB_OUT: out,
    TSMLAB_RUN_ID: runId,
    ...(profiles.length ? { TSMLAB_PROFILE: profiles.join(path.delimiter) } : {}),
    ...(a.values.fleet ? { TSMLAB_FLEET: path.resolve(a.values.fleet) } : {}),
    ...(a.flags.has('allow-destructive') ? { TSMLAB_ALLOW_DESTRUCTIVE: '1' } : {}),
    ...(reveal ? { TSMLAB_REVEAL_KEYS: '1' } : {}),
  });

  const redact = { reveal, knownKeys: keys.map((k) => ({ value: k.value, ref: k.label })) };
  const { recorder } = ensureProcessRecorder(out, redact);

  let viewer: { url: string; close(): Promise<void> } | undefined;
  if (!quiet && !a.flags.has('no-viewer')) {
    const { startViewer } = await import('../../viewer/index.ts');
    viewer = await startViewer({ source: { followDir: out }, title: `tsmlab ${runId}` });
    console.log(`live trace viewer: ${viewer.url}`);
  }

  const tally = new ScenarioTally();
  const result = await runCucumber(runConfiguration, { env: process.env }, (m: Envelope) => {
    const line = tally.onMessage(m);
    if (line && quiet) console.log(line);
  });
  recorder.close();

  const summary = tally.summary();
  const traces = readdirSync(out).filter((f) => /^trace-\d+\.ndjson$/.test(f)).map((f) => path.join(out, f));
  const reports = await writeRunReports({
    messagesFile: path.join(out, 'messages.ndjson'),
    traceFile: traces,
    outDir: out,
    meta: {
      runId,
      target,
      reader: readerOf(target, profiles),
      revealKeys: reveal,
      profiles: [
        ...profiles.map((p) => ({ role: 'card profile (ICS + IXIT)', path: p })),
        { role: 'fleet', path: a.values.fleet ? path.resolve(a.values.fleet) : path.resolve('profiles/default-fleet.json') },
      ],
    },
  });

  let leaks = 0;
  if (!reveal) {
    const hits = scanForKeys(out, keys);
    leaks = hits.length;
    if (hits.length) console.error(`KEY LEAK: ${hits.length} key value(s) found in the run's output:\n${formatLeakHits(hits, out)}`);
  }

  writeFileSync(path.join(out, 'summary.json'), JSON.stringify({ ...summary, failed: summary.failed + (leaks ? 1 : 0), leaks }, null, 2) + '\n');
  console.log(`\nscenarios: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} not applicable/skipped`);
  console.log(`reports: ${path.relative(process.cwd(), reports.reportFile) || reports.reportFile} (certification), ${path.relative(process.cwd(), out)}/cucumber.html, junit.xml, trace.pcapng`);

  if (viewer) {
    if (a.flags.has('keep-viewer') || process.stdout.isTTY) {
      console.log(`the viewer stays up at ${viewer.url} — press Ctrl-C to stop`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
    await viewer.close();
  }
  return result.success && summary.failed === 0 && leaks === 0 ? 0 : 1;
}
