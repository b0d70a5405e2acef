/**
 * A user's clone holds only the repository: a test or tool that reads a file beside the checkout (the
 * developers' shared vectors, CAP files or specifications) passes on one machine and fails everywhere
 * else. This guard fails when a tracked source file names a path outside the repository.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const SOURCE = /\.(?:ts|mts|cts|js|mjs|cjs|sh|json)$/;
const SKIP_DIRS = new Set(['node_modules', '.git', 'out', '.tsmlab-data']);

export interface OutsideRead {
  file: string;
  line: number;
  text: string;
  why: string;
}

/** Tracked files when git knows the tree; otherwise (an unpacked archive) every file outside build output. */
function sourceFiles(): string[] {
  const git = spawnSync('git', ['ls-files', '-z'], { cwd: REPO, encoding: 'utf8' });
  if (git.status === 0 && git.stdout.length > 0) return git.stdout.split('\0').filter((f) => SOURCE.test(f));
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(path.join(REPO, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(rel);
      } else if (SOURCE.test(e.name)) out.push(rel);
    }
  };
  walk('');
  return out;
}

// Built from pieces so that this file does not match its own patterns.
const DOTS = '\\.\\.';
const SPLIT_SHARED = new RegExp(`['"]${DOTS}['"]\\s*,\\s*['"]shared['"]`);
const RELATIVE_LITERAL = /(['"`])(\.{1,2}\/[^'"`\s$]*)\1/g;

/**
 * Lines of `text` (the file `file`, relative to `repo`) that name a path outside `repo`: a quoted relative
 * path that climbs above the repository root, or `'..', 'shared'` handed to path.join/resolve.
 */
export function findOutsideReads(repo: string, file: string, text: string): OutsideRead[] {
  const hits: OutsideRead[] = [];
  const dir = path.dirname(path.join(repo, file));
  text.split('\n').forEach((line, i) => {
    const at = { file, line: i + 1, text: line.trim() };
    if (SPLIT_SHARED.test(line)) hits.push({ ...at, why: "'..', 'shared' leaves the repository" });
    for (const m of line.matchAll(RELATIVE_LITERAL)) {
      const target = path.resolve(dir, m[2]);
      const rel = path.relative(repo, target);
      if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) hits.push({ ...at, why: `${m[2]} resolves outside the repository` });
    }
  });
  return hits;
}

describe('no file reads outside the repository', () => {
  it('no tracked source, test or config file names a path outside the repository', () => {
    const self = path.relative(REPO, fileURLToPath(import.meta.url));
    const files = sourceFiles().filter((f) => f !== self);
    expect(files.length).toBeGreaterThan(50);
    const hits = files.flatMap((f) => findOutsideReads(REPO, f, readFileSync(path.join(REPO, f), 'utf8')));
    const report = hits.map((h) => `${h.file}:${h.line}: ${h.why}\n    ${h.text}`).join('\n');
    expect(hits, `files that read outside the repository (copy what they need into test/vectors or test/capfiles):\n${report}`).toEqual([]);
  });

  it('the scanner catches the forms the old tests used, and leaves paths inside the repository alone', () => {
    const up = '..';
    const bad = [
      `const t = readFileSync(new URL('${up}/${up}/elsewhere/vectors/x.txt', import.meta.url));`,
      `const c = new URL('${up}/${up}/${up}/elsewhere/capfiles/', import.meta.url);`,
      `const v = path.resolve(repo, '${up}', 'shared', 'vectors');`,
    ];
    expect(findOutsideReads('/r', 'gp/x.test.ts', bad[0])).toHaveLength(1);
    expect(findOutsideReads('/r', 'viewer/decode/x.test.ts', bad[1])[0].why).toMatch(/resolves outside/);
    expect(findOutsideReads('/r', 'bin/commands/x.test.ts', bad[2])[0].why).toMatch(/'\.\.', 'shared'/);
    const good = [
      `import { a } from '${up}/test/vectors/pysim-scp03.ts';`,
      `const f = new URL('${up}/${up}/test/capfiles/x.cap', import.meta.url);`,
      `const here = './fixture.ts';`,
    ];
    expect(findOutsideReads('/r', 'gp/x.test.ts', good[0])).toEqual([]);
    expect(findOutsideReads('/r', 'viewer/decode/x.test.ts', good[1])).toEqual([]);
    expect(findOutsideReads('/r', 'test/vectors/x.ts', good[2])).toEqual([]);
    // The same import one folder deeper climbs out.
    expect(findOutsideReads('/r', 'gp/x.test.ts', good[1])).toHaveLength(1);
  });
});
