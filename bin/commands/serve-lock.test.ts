/**
 * The data directory's lock with real processes: a `tsmlab serve` SIGKILLed while it is a zombie nobody has
 * reaped yet must not keep the next one out (the kernel has already dropped its flock), and a second live
 * server on the same directory is still refused, naming the holder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SpClient } from '../../tsm/index.ts';
import { startServe } from './serve-crash-fixture.ts';
import { killChildren, TSMLAB_BIN } from './child-fixture.ts';

const bin = TSMLAB_BIN;
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await killChildren(children);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Field 3 of /proc/PID/stat (R, S, Z, ...), or undefined once the process is gone. */
function procState(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
  } catch {
    return undefined;
  }
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * `tsmlab serve` as the child of a shell that then becomes `sleep`, which never reaps: once the TSM dies it stays
 * a zombie for as long as the test wants. Resolves with the TSM's pid and URL.
 */
function serveUnreaped(args: string[]): Promise<{ pid: number; url: string }> {
  const script = '"$0" "$@" & echo "tsm pid $!"; exec sleep 600';
  const shell = spawn('sh', ['-c', script, process.execPath, bin, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(shell);
  let out = '';
  let err = '';
  shell.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    shell.stdout!.on('data', (d) => {
      out += d;
      const pid = /tsm pid (\d+)/.exec(out);
      const url = /central TSM SP API: (http:\/\/\S+)/.exec(out);
      if (pid && url) resolve({ pid: Number(pid[1]), url: url[1] });
    });
    shell.once('exit', (code, signal) => reject(new Error(`the shell exited (${code ?? signal}): ${err.trim()}`)));
  });
}

function data() {
  const dir = mkdtempSync(path.join(tmpdir(), 'serve-lock-'));
  dirs.push(dir);
  return path.join(dir, 'data');
}

describe('tsmlab serve --data: the lock on the data directory', () => {
  it('restarts at once after a SIGKILL while the killed TSM is still an unreaped zombie, and removes the temporary files it left', async () => {
    const dir = data();
    const first = await serveUnreaped(['--data', dir]);
    const bank = new SpClient({ baseUrl: first.url, serviceProvider: 'BankCo' });
    const done = await bank.suspendService('bankco-pay', { seId: 'se-1', functionCallIdentifier: 'before-kill' });
    expect(done.body).toMatchObject({ status: 'Executed-Success', state: 'suspended' });
    // What a TSM killed between open and write leaves behind.
    writeFileSync(path.join(dir, `tsm-state.json.tmp-${first.pid}`), '');

    process.kill(first.pid, 'SIGKILL');
    await until('the killed TSM to become a zombie', () => procState(first.pid) === 'Z');
    expect(readFileSync(path.join(dir, 'tsm.lock'), 'utf8').trim(), 'the pid file still names the dead TSM').toBe(String(first.pid));

    const started = Date.now();
    const second = await startServe(['--data', dir], children);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(procState(first.pid), 'the first TSM was still unreaped when the second took the directory').toBe('Z');
    expect(readdirSync(dir).sort()).toEqual(['tsm-state.json', 'tsm.lock']);
    expect(readFileSync(path.join(dir, 'tsm.lock'), 'utf8').trim()).toBe(String(second.child.pid));

    // The restarted TSM has the state the killed one wrote.
    const bank2 = new SpClient({ baseUrl: second.url, serviceProvider: 'BankCo' });
    const repeat = await bank2.suspendService('bankco-pay', { seId: 'se-1', functionCallIdentifier: 'before-kill' });
    expect(repeat.body).toEqual(done.body);
  });

  it('refuses a second live TSM on the same directory, naming the holder, and the first keeps serving', async () => {
    const dir = data();
    const first = await startServe(['--data', dir], children);
    const second = spawn(process.execPath, [bin, 'serve', '--port', '0', '--data', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(second);
    let stderr = '';
    second.stderr!.on('data', (d) => (stderr += d));
    const [code] = await once(second, 'exit');
    expect(code).not.toBe(0);
    expect(stderr).toContain(`${dir} is in use by another central TSM (pid ${first.child.pid})`);
    expect(existsSync(path.join(dir, 'tsm.lock'))).toBe(true);
    const bank = new SpClient({ baseUrl: first.url, serviceProvider: 'BankCo' });
    expect((await bank.getSeData('se-1')).body.status).toBe('Executed-Success');
  });
});
