/**
 * A run's output folder. A new run starts clean (an earlier run's trace files would merge into its reports), but
 * the earlier run is evidence: its files move to `<out>.prev` instead of being deleted. Only the files a run
 * writes move; anything else in the folder (another tool's output, a sub-folder) stays where it is.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { CliError } from '../cli-error.ts';

/** The names `tsmlab run` writes into its output folder. */
const RUN_FILE = /^(?:trace-\d+\.ndjson|evidence|cucumber\.html|messages\.ndjson|junit\.xml|certification\.(?:html|json)|trace\.pcapng|summary\.json)$/;

export function runFilesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => RUN_FILE.test(n)).sort() : [];
}

/** Where the previous run of `out` is kept. */
export function previousRunDir(out: string): string {
  return `${path.resolve(out)}.prev`;
}

/** Refuses an output folder that cannot be one, before the run touches anything. */
export function checkOutputDir(out: string): void {
  for (const [dir, what] of [
    [out, '--out'],
    [previousRunDir(out), 'the folder for the previous run'],
  ]) {
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new CliError(`${what} ${dir} is a file, not a folder`);
  }
}

/**
 * Moves the previous run's files from `out` to `<out>.prev`, replacing the run kept there before (only its run
 * files). Returns the folder they went to, or undefined when `out` held no run.
 */
export function keepPreviousRun(out: string): string | undefined {
  const files = runFilesIn(out);
  if (files.length === 0) return undefined;
  const prev = previousRunDir(out);
  try {
    mkdirSync(prev, { recursive: true });
    for (const name of runFilesIn(prev)) rmSync(path.join(prev, name), { recursive: true, force: true });
    for (const name of files) renameSync(path.join(out, name), path.join(prev, name));
  } catch (e) {
    throw new CliError(`cannot move the previous run from ${out} to ${prev} (${(e as Error).message}); nothing was run`);
  }
  return prev;
}
