/** The previous run's files move to <out>.prev intact; nothing else in the folder moves or goes. */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliError } from '../cli-error.ts';
import { checkOutputDir, keepPreviousRun, previousRunDir, runFilesIn } from './run-output.ts';

let root: string;
let out: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'tsmlab-run-output-'));
  out = path.join(root, 'out');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text, 'latin1');
}

/** Every file under dir, relative path → content. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) files[path.relative(dir, path.join(e.parentPath, e.name))] = readFileSync(path.join(e.parentPath, e.name), 'latin1');
  }
  return files;
}

const RUN = {
  'trace-4242.ndjson': '{"kind":"apdu"}\n',
  'evidence/abc.ndjson': '{"kind":"apdu","scenario":"abc"}\n',
  'cucumber.html': '<html>run one</html>',
  'messages.ndjson': '{"meta":{}}\n',
  'junit.xml': '<testsuite/>',
  'certification.html': '<html>cert one</html>',
  'certification.json': '{"verdicts":[]}',
  'trace.pcapng': '\x0a\x0d\x0d\x0a\x00\xff',
  'summary.json': '{"passed":1}',
};

describe('keepPreviousRun', () => {
  it('moves every file a run writes to <out>.prev, byte for byte, and leaves other files in <out>', () => {
    for (const [f, text] of Object.entries(RUN)) write(path.join(out, f), text);
    write(path.join(out, 'vitest.json'), '{"numPassedTests":3}');
    write(path.join(out, 'pcsc', 'summary.json'), '{"passed":2}');

    expect(keepPreviousRun(out)).toBe(`${out}.prev`);
    expect(snapshot(`${out}.prev`)).toEqual(RUN);
    expect(snapshot(out)).toEqual({ 'vitest.json': '{"numPassedTests":3}', [path.join('pcsc', 'summary.json')]: '{"passed":2}' });
  });

  it('replaces the run kept before, but only its run files', () => {
    write(path.join(out, 'summary.json'), '{"run":2}');
    write(path.join(out, 'trace-2.ndjson'), 'two\n');
    write(path.join(`${out}.prev`, 'summary.json'), '{"run":1}');
    write(path.join(`${out}.prev`, 'trace-1.ndjson'), 'one\n');
    write(path.join(`${out}.prev`, 'evidence', 'x.ndjson'), 'one\n');
    write(path.join(`${out}.prev`, 'notes.txt'), 'mine');

    keepPreviousRun(out);
    expect(snapshot(`${out}.prev`)).toEqual({ 'summary.json': '{"run":2}', 'trace-2.ndjson': 'two\n', 'notes.txt': 'mine' });
    expect(runFilesIn(out)).toEqual([]);
  });

  it('does nothing when the folder holds no run (or does not exist)', () => {
    expect(keepPreviousRun(out)).toBeUndefined();
    write(path.join(out, 'vitest.json'), '{}');
    expect(keepPreviousRun(out)).toBeUndefined();
    expect(readdirSync(root)).toEqual(['out']);
  });
});

describe('checkOutputDir', () => {
  it('refuses an --out, or a place for the previous run, that is a file', () => {
    write(out, 'not a folder');
    expect(() => checkOutputDir(out)).toThrow(new CliError(`--out ${out} is a file, not a folder`));
    rmSync(out);
    write(previousRunDir(out), 'not a folder');
    expect(() => checkOutputDir(out)).toThrow(new CliError(`the folder for the previous run ${out}.prev is a file, not a folder`));
  });

  it('accepts a folder that does not exist yet', () => {
    expect(() => checkOutputDir(out)).not.toThrow();
  });
});
