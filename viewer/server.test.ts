import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { serializeEvent, type TraceEvent } from '../trace/index.ts';
import { startViewer, ViewerError, type Viewer } from './server.ts';
import type { Row } from './rows.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tsmlab-viewer-'));
let open: Viewer[] = [];
afterEach(async () => {
  for (const v of open) await v.close();
  open = [];
});

const ev = (seq: number, body: Partial<TraceEvent>): TraceEvent => ({ seq, time: 1_700_000_000_000 + seq, corr: { scenarioId: 'tc-1', scenario: 'S' }, ...body }) as TraceEvent;
const exchange = (seq: number, id: string, cmd: string, resp: string, plain?: string): TraceEvent[] => [
  ev(seq, { kind: 'apdu.command', from: 'tsm', to: 'se', apduId: id, hex: cmd, ...(plain ? { plainHex: plain } : {}) }),
  ev(seq + 1, { kind: 'apdu.response', from: 'se', to: 'tsm', apduId: id, hex: resp, sw: resp.slice(-4), durationMs: 3.25 }),
];

/** Collects rows from the WebSocket until `n` have arrived. */
function rowsOver(url: string, n: number): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace('http', 'ws') + 'ws');
    const rows: Row[] = [];
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type: string; rows?: Row[] };
      if (m.type === 'rows') rows.push(...m.rows!);
      if (rows.length >= n) {
        ws.close();
        resolve(rows);
      }
    });
    ws.on('error', reject);
  });
}

describe('viewer server', () => {
  it('replays a saved trace, binds to loopback, and serves decoded details', async () => {
    const file = path.join(dir, 'saved.ndjson');
    const events = [
      ev(1, { kind: 'sp.request', from: 'sp', to: 'tsm', operation: 'getSeData', body: { seId: 'se-1' } }),
      ...exchange(2, 'a1', '80CA9F7F00', '9F7F2A' + '47905040479120813400' + '0A19123456780001481212344092123540931236' + '00000001409412370000000' + '2' + '9000'),
      ...exchange(4, 'a2', '84E60C0004AABBCCDD', '6A84', '80E60C00'),
    ];
    writeFileSync(file, events.map((e) => serializeEvent(e)).join('\n') + '\n');
    const v = await startViewer({ source: { file } });
    open.push(v);
    await v.ready;
    expect(v.host).toBe('127.0.0.1');
    expect(v.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(v.store.size).toBe(5);

    const page = await fetch(v.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="app.js">');

    const rows = await rowsOver(v.url, 5);
    expect(rows.map((r) => r.label)).toEqual(['getSeData', 'GET DATA 9F7F', '9000 +45B (GET DATA)', 'INSTALL [for install and make selectable]', '6A84 (INSTALL)']);
    expect(rows[4]).toMatchObject({ sw: '6A84', swc: 'checking-error', dur: 3.25, cmd: 'INSTALL', ins: 'E6', sc: 'tc-1' });

    const d = (await (await fetch(`${v.url}api/event/2`)).json()) as { response: { cplc: { name: string }[] }; pairIndex: number };
    expect(d.pairIndex).toBe(1);
    expect(d.response.cplc[0].name).toBe('IC fabricator');
    const w = (await (await fetch(`${v.url}api/event/3`)).json()) as { command: { name: string }; plainCommand: { name: string }; response: { swMeaning: string } };
    expect(w.command.name).toBe('INSTALL [for install and make selectable]');
    expect(w.plainCommand.name).toBe('INSTALL [for install and make selectable]');
    expect(w.response.swMeaning).toBe('Not enough memory space');
    expect((await fetch(`${v.url}api/event/99`)).status).toBe(404);
  });

  it('follows trace files written by other processes as they grow', async () => {
    const runDir = mkdtempSync(path.join(dir, 'run-'));
    const f1 = path.join(runDir, 'trace-101.ndjson');
    writeFileSync(f1, serializeEvent(ev(1, { kind: 'note', from: 'tsm', to: 'tsm', text: 'first' })) + '\n');
    const v = await startViewer({ source: { followDir: runDir, intervalMs: 20 } });
    open.push(v);
    await v.ready;
    expect(v.store.size).toBe(1);
    // A torn last line is held back until its newline arrives.
    const second = serializeEvent(ev(2, { kind: 'note', from: 'tsm', to: 'tsm', text: 'second' }));
    appendFileSync(f1, second.slice(0, 10));
    writeFileSync(path.join(runDir, 'trace-102.ndjson'), serializeEvent(ev(3, { kind: 'note', from: 'mno', to: 'mno', text: 'other worker' })) + '\n');
    writeFileSync(path.join(runDir, 'messages.ndjson'), '{"meta":{}}\n');
    await expect.poll(() => v.store.size).toBe(2);
    appendFileSync(f1, second.slice(10) + '\n');
    await expect.poll(() => v.store.size).toBe(3);
    expect(v.store.rowsFrom(0).map((r) => r.label).sort()).toEqual(['first', 'other worker', 'second']);
  });

  it('streams live events in batches, and keeps memory bounded', async () => {
    const v = await startViewer({ source: { subscribe: () => () => undefined }, maxEvents: 100, batchMs: 10 });
    open.push(v);
    const ws = new WebSocket(v.url.replace('http', 'ws') + 'ws');
    const rows: Row[] = [];
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type: string; rows?: Row[] };
      if (m.type === 'rows') rows.push(...m.rows!);
    });
    await new Promise((r) => ws.once('open', r));
    for (let i = 0; i < 50; i++) v.push(ev(i, { kind: 'note', from: 'tsm', to: 'tsm', text: `n${i}` }));
    await expect.poll(() => rows.length).toBe(50);
    expect(rows.map((r) => r.i)).toEqual([...Array(50).keys()]);
    // A burst beyond the cap: the oldest events are dropped before they are sent, the newest all arrive.
    for (let i = 50; i < 250; i++) v.push(ev(i, { kind: 'note', from: 'tsm', to: 'tsm', text: `n${i}` }));
    await expect.poll(() => rows[rows.length - 1]?.i).toBe(249);
    ws.close();
    const ids = rows.map((r) => r.i);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(v.store.size).toBeLessThanOrEqual(100);
    expect((await fetch(`${v.url}api/event/0`)).status).toBe(404);
    expect((await fetch(`${v.url}api/event/249`)).status).toBe(200);
  });

  it('refuses a missing trace file with a clear error', async () => {
    await expect(startViewer({ source: { file: path.join(dir, 'nope.ndjson') } })).rejects.toThrow(ViewerError);
  });
});
