/** `tsmlab view` as a user runs it: a child process on a saved trace, its printed URL, the page and an event. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { serializeEvent, type TraceEvent } from '../../trace/index.ts';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'tsmlab.js');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGTERM');
});

function start(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [bin, 'view', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

describe('tsmlab view', () => {
  it('replays a saved trace on a free loopback port and stops on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsmlab-view-'));
    const file = path.join(dir, 'run.ndjson');
    const events: TraceEvent[] = [
      { seq: 1, time: 1, corr: {}, kind: 'apdu.command', from: 'harness', to: 'se', apduId: 'a', hex: '00A4040008A000000151000000' },
      { seq: 2, time: 2, corr: {}, kind: 'apdu.response', from: 'se', to: 'harness', apduId: 'a', hex: '6A82', sw: '6A82', durationMs: 1 },
    ];
    writeFileSync(file, events.map(serializeEvent).join('\n') + '\n');
    const child = start([file, '--port', '0']);
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /viewer: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`view exited ${code}`)));
    });
    expect(out).toContain('2 events from');
    expect((await fetch(url)).status).toBe(200);
    const d = (await (await fetch(`${url}api/event/1`)).json()) as { response: { swMeaning: string }; command: { name: string } };
    expect(d.command.name).toBe('SELECT');
    expect(d.response.swMeaning).toBe('File or application not found');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('says what is wrong with its arguments', async () => {
    const child = start([path.join(tmpdir(), 'no-such-trace.ndjson')]);
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(err).toMatch(/tsmlab view: no such file or directory: .*no-such-trace\.ndjson/);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tsmlab-view-')), 't.ndjson');
    writeFileSync(file, '');
    const bad = start([file, '--port', 'many']);
    let err2 = '';
    bad.stderr!.on('data', (d) => (err2 += d));
    const [code2] = await once(bad, 'exit');
    expect(code2).toBe(2);
    expect(err2).toContain('tsmlab view: --port must be 0-65535, not "many"');
  });
});
