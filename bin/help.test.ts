/**
 * -h and --help print help, exit 0 and do nothing else in every command and subcommand; the docs that help
 * names exist; --version prints the package version.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { commandNames, main } from './main.ts';

const repo = fileURLToPath(new URL('../', import.meta.url));

/** Runs main() in this process and collects what it prints. */
async function tsmlab(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const code = await main(argv);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

afterEach(() => vi.restoreAllMocks());

const COMMANDS = [...commandNames.map((c) => [c]), ['calc', 'scp03'], ['calc', 'scp02'], ['calc', 'kdf'], ['cap', 'info']];

describe('help', () => {
  it('knows the commands this test walks', () => {
    expect(commandNames).toEqual(['run', 'sim', 'serve', 'calc', 'cap', 'view', 'readers']);
  });

  for (const words of COMMANDS) {
    for (const flag of ['-h', '--help']) {
      it(`tsmlab ${words.join(' ')} ${flag}`, async () => {
        const r = await tsmlab(...words, flag);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^usage: tsmlab ${words.join(' ')}[ \\n]`));
      });
    }
  }

  it('help comes first even after other options and with a bad one', async () => {
    const r = await tsmlab('run', '--tags', 'not a tag', '--nope', '-h');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: tsmlab run /);
  });

  it('tsmlab help COMMAND is COMMAND --help; tsmlab -h lists every command', async () => {
    expect((await tsmlab('help', 'calc', 'kdf')).stdout).toMatch(/^usage: tsmlab calc kdf /);
    const top = await tsmlab('-h');
    expect(top.code).toBe(0);
    for (const c of commandNames) expect(top.stdout).toContain(`\n  ${c} `);
  });

  it('tsmlab calc --help lists its subcommands and points at docs that exist', async () => {
    const r = await tsmlab('calc', '--help');
    for (const sub of ['scp03', 'scp02', 'kdf']) expect(r.stdout).toContain(`\n  ${sub} `);
    expect(r.stdout).toContain('docs/cli.md');
  });

  it('every docs/ file a help text names exists', async () => {
    const named = new Set<string>();
    for (const words of [[], ...COMMANDS]) {
      const r = await tsmlab(...words, '--help');
      for (const m of r.stdout.matchAll(/docs\/[\w.-]+\.md/g)) named.add(m[0]);
    }
    expect(named.size).toBeGreaterThan(3);
    for (const doc of named) expect(existsSync(path.join(repo, doc)), doc).toBe(true);
  });

  it('docs/cli.md documents every command and every option of its help', async () => {
    const doc = readFileSync(path.join(repo, 'docs/cli.md'), 'utf8');
    for (const words of COMMANDS) {
      expect(doc).toContain(`tsmlab ${words.join(' ')}`);
      const help = (await tsmlab(...words, '--help')).stdout;
      for (const [option] of help.matchAll(/--[a-z][a-z-]+/g)) expect(doc, `${words.join(' ')} ${option}`).toContain(`\`${option}`);
    }
  });

  it('a single-dash word is an unknown option, not a file', async () => {
    const r = await tsmlab('view', '-x');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('tsmlab view: unknown option -x (options are spelled --name; see --help)');
  });
});

describe('--version', () => {
  it('prints the package version (real CLI)', () => {
    const { version } = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string };
    const out = execFileSync(process.execPath, [path.join(repo, 'bin/tsmlab.js'), '--version'], { cwd: repo, encoding: 'utf8' });
    expect(out).toMatch(new RegExp(`^tsmlab ${version.replace(/\./g, '\\.')}( \\(commit [0-9a-f]{40}( \\(modified\\))?\\))?\\n$`));
  });
});
