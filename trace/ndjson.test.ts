import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { emit, withCorrelation } from './bus.ts';
import { NdjsonTraceWriter, TraceFormatError, readTrace, readTraceFiles, recordTrace } from './ndjson.ts';
import type { TraceEvent } from './events.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tsmlab-ndjson-'));

describe('NDJSON trace writer', () => {
  it('records bus events with their correlation and reads them back in order', async () => {
    const file = path.join(dir, 'bus.ndjson');
    const rec = recordTrace(file);
    withCorrelation({ scenarioId: 'tcs-1', stepId: 'st-1' }, () => {
      emit({ kind: 'apdu.command', from: 'harness', to: 'se', apduId: 'x1', hex: '00A4040000' });
      emit({ kind: 'apdu.response', from: 'se', to: 'harness', apduId: 'x1', hex: '9000', sw: '9000', durationMs: 1.5 });
    });
    emit({ kind: 'note', from: 'tsm', to: 'tsm', text: 'outside' });
    rec.close();
    emit({ kind: 'note', from: 'tsm', to: 'tsm', text: 'after close' });

    const events: TraceEvent[] = [];
    for await (const e of readTrace(file)) events.push(e);
    expect(events.map((e) => e.kind)).toEqual(['apdu.command', 'apdu.response', 'note']);
    expect(events[0].corr).toMatchObject({ scenarioId: 'tcs-1', stepId: 'st-1' });
    expect(events[2].corr.scenarioId).toBeUndefined();
    expect(events[1].seq).toBe(events[0].seq + 1);
    expect(rec.count).toBe(3);
  });

  it('keeps at most one buffer of bytes in memory however many events pass', () => {
    const file = path.join(dir, 'bounded.ndjson');
    const w = new NdjsonTraceWriter(file, { bufferBytes: 4096, flushIntervalMs: 60_000 });
    let maxPending = 0;
    for (let i = 0; i < 20_000; i++) {
      w.write({ seq: i, time: i, corr: {}, kind: 'note', from: 'tsm', to: 'tsm', text: `event ${i} `.repeat(5) });
      maxPending = Math.max(maxPending, w.pendingBytes);
    }
    expect(maxPending).toBeLessThan(4096 + 200);
    // Before close, everything but the last partial buffer is already on disk.
    const onDisk = readFileSync(file, 'utf8').split('\n').length - 1;
    expect(onDisk).toBeGreaterThan(19_000);
    w.close();
    expect(readFileSync(file, 'utf8').split('\n').length - 1).toBe(20_000);
  });

  it('serializes bytes as hex and survives a circular body', async () => {
    const file = path.join(dir, 'odd.ndjson');
    const w = new NdjsonTraceWriter(file);
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    w.write({ seq: 1, time: 1, corr: {}, kind: 'sp.request', from: 'sp', to: 'tsm', operation: 'x', body: { key: Uint8Array.of(0xab, 0x01) } });
    w.write({ seq: 2, time: 2, corr: {}, kind: 'sp.request', from: 'sp', to: 'tsm', operation: 'y', body: circular });
    w.close();
    const events: TraceEvent[] = [];
    for await (const e of readTrace(file)) events.push(e);
    expect(events[0]).toMatchObject({ body: { key: 'AB01' } });
    expect(events[1]).toMatchObject({ seq: 2, kind: 'sp.request' });
    expect((events[1] as unknown as { unserializable: string }).unserializable).toMatch(/circular/i);
  });

  it('applies filter and transform before writing', async () => {
    const file = path.join(dir, 'filtered.ndjson');
    const w = new NdjsonTraceWriter(file, {
      filter: (e) => e.kind !== 'note',
      transform: (e) => ({ ...e, corr: { ...e.corr, runId: 'r' } }),
    });
    w.write({ seq: 1, time: 1, corr: {}, kind: 'note', from: 'tsm', to: 'tsm', text: 'dropped' });
    w.write({ seq: 2, time: 2, corr: {}, kind: 'card.atr', from: 'se', to: 'harness', atr: '3B00' });
    w.close();
    const [only, ...rest] = await readTraceFiles([file]);
    expect(rest).toEqual([]);
    expect(only).toMatchObject({ kind: 'card.atr', corr: { runId: 'r' } });
  });

  it('merges worker files by time and names the bad line of a broken file', async () => {
    const a = path.join(dir, 'w1.ndjson');
    const b = path.join(dir, 'w2.ndjson');
    const ev = (seq: number, time: number) => JSON.stringify({ seq, time, corr: {}, kind: 'note', from: 'tsm', to: 'tsm', text: `${time}` });
    writeFileSync(a, [ev(1, 10), ev(2, 30)].join('\n') + '\n');
    writeFileSync(b, [ev(1, 20), '', ev(2, 40)].join('\n') + '\n');
    const merged = await readTraceFiles([a, b]);
    expect(merged.map((e) => e.time)).toEqual([10, 20, 30, 40]);

    const bad = path.join(dir, 'bad.ndjson');
    writeFileSync(bad, ev(1, 1) + '\n{"seq":2}\n');
    await expect(readTraceFiles([bad])).rejects.toThrow(TraceFormatError);
    await expect(readTraceFiles([bad])).rejects.toThrow(/bad\.ndjson:2: not a trace event/);
  });
});
