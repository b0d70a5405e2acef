import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { emit, type TraceEvent } from '../trace/index.ts';
import { ensureProcessRecorder, stepDigest, workerTraceFile } from './cucumber-hooks.ts';

describe('process trace recorder', () => {
  it('is started once per process, so the run command and the hooks never record an event twice', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsmlab-hooks-'));
    const first = ensureProcessRecorder(dir);
    const second = ensureProcessRecorder(dir);
    expect(first.owned).toBe(true);
    expect(second.owned).toBe(false);
    expect(second.recorder).toBe(first.recorder);
    emit({ kind: 'note', from: 'tsm', to: 'tsm', text: 'once' });
    first.recorder.close();
    const lines = readFileSync(workerTraceFile(dir), 'utf8').trim().split('\n');
    expect(lines.filter((l) => l.includes('"once"'))).toHaveLength(1);
    const again = ensureProcessRecorder(mkdtempSync(path.join(tmpdir(), 'tsmlab-hooks-')));
    expect(again.owned).toBe(true);
    again.recorder.close();
  });

  it('digests a step trace in a few readable lines', () => {
    const corr = {};
    const events: TraceEvent[] = [
      { seq: 1, time: 100, corr, kind: 'sp.request', from: 'sp', to: 'tsm', operation: 'sendScript', body: {} },
      { seq: 2, time: 101, corr, kind: 'apdu.command', from: 'mno', to: 'se', apduId: 'a', hex: '84E2900010AABBCCDD', plainHex: '80E2900004DF010100', secureChannel: { scp: 'SCP03', level: 'C-MAC' } },
      { seq: 3, time: 103.5, corr, kind: 'apdu.response', from: 'se', to: 'mno', apduId: 'a', hex: '6A80', sw: '6A80', durationMs: 2.5 },
      { seq: 4, time: 104, corr, kind: 'sp.response', from: 'tsm', to: 'sp', operation: 'sendScript', status: 'Failed', reasonCode: '4.1', body: {}, durationMs: 4 },
    ];
    expect(stepDigest(events).split('\n')).toEqual([
      '    +0.0ms  SP → TSM   sendScript',
      '    +1.0ms  → SE       STORE DATA block 0 (last) [SCP03 C-MAC]',
      '    +3.5ms  ← SE       6A80  2.5ms',
      '    +4.0ms  TSM → SP   sendScript: Failed (4.1)',
    ]);
    expect(stepDigest(events, 2).split('\n')).toHaveLength(3);
  });
});
