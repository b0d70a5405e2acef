/**
 * `tsmlab run` never destroys a previous run's evidence: help, a tag without "@", a tag on no scenario and a
 * malformed expression leave the output folder byte for byte as it was (and exit non-zero, except help); a real
 * run moves the previous run to <out>.prev intact. Spawns the real CLI against a real earlier run.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
/** One short scenario: the real runs stay fast. */
const SMALL = '@TP-API-001';

function tsmlab(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(repo, 'bin/tsmlab.js'), ...args], { cwd: repo, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

/** Every entry under dir (folders too), and every file's bytes. */
function snapshot(dir: string): Record<string, string> {
  const all: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(e.parentPath, e.name);
    all[path.relative(dir, full)] = e.isDirectory() ? '<dir>' : readFileSync(full).toString('base64');
  }
  return all;
}

let root: string;
let previous: string;
let before: Record<string, string>;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'tsmlab-evidence-'));
  previous = path.join(root, 'previous');
  const r = await tsmlab('run', '--quiet', '--out', previous, '--tags', SMALL);
  expect(r.code, r.stderr).toBe(0);
  // Another tool's file in the same folder (npm test keeps vitest.json there).
  writeFileSync(path.join(previous, 'vitest.json'), '{"numPassedTests":1}\n');
  before = snapshot(previous);
  expect(Object.keys(before)).toEqual(expect.arrayContaining(['certification.json', 'summary.json', 'evidence', 'trace.pcapng']));
  expect(Object.keys(before).some((f) => /^trace-\d+\.ndjson$/.test(f))).toBe(true);
  expect(Object.keys(before).some((f) => f.startsWith(`evidence${path.sep}`))).toBe(true);
}, 90_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fresh copy of the previous run, as the --out of one case. */
function outWithPreviousRun(name: string): string {
  const out = path.join(root, name);
  cpSync(previous, out, { recursive: true });
  return out;
}

describe.concurrent('tsmlab run leaves the previous evidence intact', () => {
  it('run -h prints the help, exits 0 and touches nothing', async () => {
    const out = outWithPreviousRun('help');
    const r = await tsmlab('run', '-h', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: tsmlab run /);
    expect(snapshot(out)).toEqual(before);
    expect(existsSync(`${out}.prev`)).toBe(false);
  });

  it('a tag without "@" exits 2 with one line naming the position', async () => {
    const out = outWithPreviousRun('no-at');
    const r = await tsmlab('run', '--quiet', '--out', out, '--tags', 'REQ-PAT-FIG3');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('tsmlab run: --tags "REQ-PAT-FIG3": "REQ-PAT-FIG3" at position 1 is not a tag: tags start with "@" (did you mean "@REQ-PAT-FIG3"?)\n');
    expect(snapshot(out)).toEqual(before);
    expect(existsSync(`${out}.prev`)).toBe(false);
  });

  it('a tag on no scenario exits 2 and lists the tags there, nearest first', async () => {
    const out = outWithPreviousRun('no-match');
    const r = await tsmlab('run', '--quiet', '--out', out, '--tags', '@REQ-PAT-FIG33');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tsmlab run: --tags "@REQ-PAT-FIG33" selects none of the \d+ scenarios in features\/\*\*\/\*\.feature: @REQ-PAT-FIG33 is on none of them\n/);
    expect(r.stderr).toMatch(/\n {2}tags there, nearest first: @REQ-PAT-FIG3, /);
    expect(snapshot(out)).toEqual(before);
    expect(existsSync(`${out}.prev`)).toBe(false);
  });

  it('tags that exist but select nothing together exit 2', async () => {
    const out = outWithPreviousRun('no-combination');
    const r = await tsmlab('run', '--quiet', '--out', out, '--tags', `${SMALL} and @TP-API-002`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/each of its tags is on some scenario \(@TP-API-001 \(1 scenario\), @TP-API-002 \(1 scenario\)\), but no scenario satisfies the whole expression/);
    expect(snapshot(out)).toEqual(before);
  });

  it('a malformed expression exits 2 with one line naming the position, no stack trace', async () => {
    const out = outWithPreviousRun('malformed');
    const r = await tsmlab('run', '--quiet', '--out', out, '--tags', `${SMALL} and (`);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`tsmlab run: --tags "${SMALL} and (": the expression ends after "(" at position 17: a tag is missing\n`);
    expect(snapshot(out)).toEqual(before);
    expect(existsSync(`${out}.prev`)).toBe(false);
  });

  it('a feature path that does not exist exits 2', async () => {
    const out = outWithPreviousRun('no-path');
    const r = await tsmlab('run', '--quiet', '--out', out, 'features/no-such.feature');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('tsmlab run: no such feature file or folder: "features/no-such.feature"\n');
    expect(snapshot(out)).toEqual(before);
  });

  it('a real run moves the previous run to <out>.prev byte for byte and leaves other files in <out>', async () => {
    const out = outWithPreviousRun('rerun');
    const r = await tsmlab('run', '--quiet', '--out', out, '--tags', SMALL);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('previous run kept in ');
    const { 'vitest.json': other, ...previousRun } = before;
    expect(snapshot(`${out}.prev`)).toEqual(previousRun);
    const now = snapshot(out);
    expect(now['vitest.json']).toBe(other);
    expect(JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'))).toMatchObject({ passed: 1, failed: 0 });
    // The new run's trace is its own: no trace file of the previous run was merged in.
    const traces = (d: Record<string, string>) => Object.keys(d).filter((f) => /^trace-\d+\.ndjson$/.test(f));
    expect(traces(now)).toHaveLength(1);
    expect(traces(now)).not.toEqual(traces(previousRun));
  });
}, 90_000);
