/** Facts about the run the certification report states: tool version and commit, suite version, profile hashes. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function toolVersion(root = repoRoot): string {
  try {
    return (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** `git rev-parse HEAD`, with " (modified)" when tracked files differ from it; "unknown" outside git. */
export function toolCommit(root = repoRoot): string {
  const head = git(['rev-parse', 'HEAD'], root);
  if (!head) return 'unknown';
  const dirty = git(['status', '--porcelain', '--untracked-files=no'], root);
  return dirty ? `${head} (modified)` : head;
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function listFiles(dir: string, accept: (f: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (accept(p)) out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/**
 * The suite version: a SHA-256 over every `.feature` file and the requirements catalogue (path and content,
 * sorted), so two runs of the same suite text report the same version whatever git says.
 */
export function suiteDigest(featuresDir = path.join(repoRoot, 'features')): string {
  const files = listFiles(featuresDir, (f) => f.endsWith('.feature') || f.endsWith('requirements.json'));
  if (files.length === 0) return 'unknown';
  const h = createHash('sha256');
  for (const f of files) {
    h.update(path.relative(featuresDir, f).split(path.sep).join('/'));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  return `sha256:${h.digest('hex').slice(0, 16)} (${files.length} file${files.length === 1 ? '' : 's'})`;
}
