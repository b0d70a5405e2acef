/** `tsmlab serve` as a user runs it: a child process, its printed URL, a real SP request, a clean stop. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { SpClient } from '../../tsm/index.ts';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'tsmlab.js');
const children: ChildProcess[] = [];
let sim: RunningSimulator | undefined;

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGTERM');
  await sim?.close();
  sim = undefined;
});

/** Starts `tsmlab serve`, resolves with its URL from the first line it prints. */
function serve(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /central TSM SP API: (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1], child });
    });
    child.stderr!.on('data', (d) => (err += d));
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

function runToEnd(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [bin, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return once(child, 'exit').then(([code]) => ({ code: code as number | null, stderr }));
}

describe('tsmlab serve', () => {
  it('serves the SP API of the built-in fleet simulated in process, and stops on SIGTERM', async () => {
    const { url, child } = await serve([]);
    const bank = new SpClient({ baseUrl: url, serviceProvider: 'BankCo' });
    const r = await bank.beginConversation({ seId: 'se-1', serviceId: 'bankco-pay', requestedOperation: 'read' });
    expect(r.body).toMatchObject({ status: 'Executed-Success', bearer: 'http-admin' });
    expect((await bank.openApi()).openapi).toBe('3.1.0');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('reaches SEs served by a WebSocket simulator with --target, and starts an MNO down with --mno-down', async () => {
    sim = await startSimulator();
    const { url } = await serve(['--target', `ws://127.0.0.1:${sim.port}`, '--mno-down', 'MNO-B']);
    const bank = new SpClient({ baseUrl: url, serviceProvider: 'BankCo' });
    const ok = await bank.beginConversation({ seId: 'se-1', serviceId: 'bankco-pay', requestedOperation: 'read' });
    expect(ok.body.status).toBe('Executed-Success');
    const down = await bank.beginConversation({ seId: 'se-2', serviceId: 'bankco-pay2', requestedOperation: 'read' });
    expect(down.body).toMatchObject({ status: 'Failed', reasonCode: '5.1' });
  });

  it('keeps service states in a data directory with --data', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'serve-data-'));
    const { url, child } = await serve(['--data', dir]);
    const bank = new SpClient({ baseUrl: url, serviceProvider: 'BankCo' });
    const r = await bank.prepersonalize('bankco-pay3');
    expect(r.body).toMatchObject({ status: 'Executed-Success', state: 'installed' });
    expect(existsSync(path.join(dir, 'tsm.lock'))).toBe(true);
    child.kill('SIGTERM');
    await once(child, 'exit');
    const saved = JSON.parse(readFileSync(path.join(dir, 'tsm-state.json'), 'utf8'));
    expect(saved.services.find((s: { id: string }) => s.id === 'bankco-pay3').state).toBe('installed');
    expect(existsSync(path.join(dir, 'tsm.lock'))).toBe(false);
  });

  it('refuses bad options with one line and exit code 2', async () => {
    const [bad, mno, fleet] = await Promise.all([
      runToEnd(['--target', 'carrier-pigeon']),
      runToEnd(['--port', '0', '--mno-down', 'MNO-Z']),
      runToEnd(['--fleet', 'no-such-fleet.json']),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('tsmlab serve: --target must be "inproc" or ws://HOST:PORT, not "carrier-pigeon"');
    expect(mno.code).toBe(2);
    expect(mno.stderr).toMatch(/--mno-down: "MNO-Z" is not an MNO of the fleet/);
    expect(fleet.code).toBe(2);
    expect(fleet.stderr.trim()).toBe('tsmlab serve: no-such-fleet.json: cannot read: ENOENT');
  });
});
