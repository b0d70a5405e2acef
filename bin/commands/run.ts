/** `tsmlab run`: runs the feature suites on the built-in simulator (or a real card) and writes reports/out/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Envelope } from '@cucumber/messages';
import { loadConfiguration, runCucumber } from '@cucumber/cucumber/api';
import { parseArgs } from '../args.ts';
import { CliError } from '../cli-error.ts';
import { ScenarioTally } from './run-tally.ts';

const HELP = `usage: tsmlab run [options] [feature files or dirs...]
  --target T            sim (default: the built-in simulator over WebSocket) | pcsc[:READER]
  --tags EXPR           Cucumber tag expression, e.g. "@REQ-PAT-FIG3 and not @slow"
  --out DIR             output directory (default reports/out)
  --profile FILE        card profile (ICS + IXIT) for applicability and safety checks
  --fleet FILE          fleet file for the simulator (default: the built-in fleet)
  --allow-destructive   allow @destructive scenarios (the profile must also say the card is sacrificial)
  --reveal-keys         show key values in traces and reports (never by default)
  --no-viewer           do not start the live trace viewer
  --quiet               one line per scenario instead of the progress display`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help')) {
    console.log(HELP);
    return 0;
  }
  const a = parseArgs(args, {
    values: ['target', 'tags', 'out', 'profile', 'fleet', 'parallel'],
    flags: ['allow-destructive', 'reveal-keys', 'no-viewer', 'quiet'],
  });
  const target = a.values.target ?? 'sim';
  if (!/^(sim|pcsc(:.*)?)$/.test(target)) throw new CliError(`--target must be "sim" or "pcsc[:READER]", not "${target}"`);
  const out = path.resolve(a.values.out ?? 'reports/out');
  mkdirSync(out, { recursive: true });
  const quiet = a.flags.has('quiet');

  const env: Record<string, string> = {
    TSMLAB_TARGET: target,
    TSMLAB_OUT: out,
    TSMLAB_RUN_ID: `run-${new Date().toISOString().replace(/[:.]/g, '-')}`,
  };
  if (a.values.profile) env.TSMLAB_PROFILE = path.resolve(a.values.profile);
  if (a.values.fleet) env.TSMLAB_FLEET = path.resolve(a.values.fleet);
  if (a.flags.has('allow-destructive')) env.TSMLAB_ALLOW_DESTRUCTIVE = '1';
  if (a.flags.has('reveal-keys')) env.TSMLAB_REVEAL_KEYS = '1';
  Object.assign(process.env, env);

  const { runConfiguration } = await loadConfiguration({
    provided: {
      paths: a.positional.length ? a.positional : ['features/**/*.feature'],
      ...(a.values.tags ? { tags: a.values.tags } : {}),
      format: [
        quiet ? 'summary' : 'progress-bar',
        `html:${path.join(out, 'cucumber.html')}`,
        `message:${path.join(out, 'messages.ndjson')}`,
        `junit:${path.join(out, 'junit.xml')}`,
      ],
      formatOptions: { junit: { suiteName: 'tsmlab' } },
    },
  });

  const tally = new ScenarioTally();
  const result = await runCucumber(runConfiguration, { env: process.env }, (m: Envelope) => {
    const line = tally.onMessage(m);
    if (line && quiet) console.log(line);
  });
  const summary = tally.summary();
  writeFileSync(path.join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  console.log(`\nscenarios: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} not applicable/skipped`);
  console.log(`reports: ${out}`);
  return result.success && summary.failed === 0 ? 0 : 1;
}
