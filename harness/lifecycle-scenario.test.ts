import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../trace/index.ts';
import { Ins } from '../gp/index.ts';
import { insOf, lifecycleOf, LifecycleScenario, tsmCommandsTo, type ApduCommand } from './lifecycle-scenario.ts';

let seq = 0;
const base = (corr: TraceEvent['corr'] = {}) => ({ seq: ++seq, time: seq, corr });

const decision = (serviceId: string, from: string, to: string, decisionName = 'service-state'): TraceEvent => ({
  ...base(),
  kind: 'tsm.decision',
  from: 'tsm',
  to: 'tsm',
  decision: decisionName,
  detail: `${serviceId}: ${from} → ${to}`,
  data: { seId: 'se-1', serviceId, from, to },
});

const command = (hex: string, seId: string, from: 'mno' | 'harness' = 'mno'): ApduCommand => ({
  ...base({ seId }),
  kind: 'apdu.command',
  from,
  to: 'se',
  apduId: `a${seq}`,
  hex,
});

describe('LifecycleScenario', () => {
  it('reads service state changes from the trace, per service, since the mark', () => {
    const s = new LifecycleScenario();
    s.observe(decision('bankco-pay', 'available', 'prepersonalizing'));
    s.mark();
    s.observe(decision('bankco-pay', 'installed', 'updating'));
    s.observe(decision('transitco-ticket', 'installed', 'deleting'));
    s.observe(decision('bankco-pay', 'updating', 'installed'));
    s.observe(decision('bankco-pay', 'x', 'y', 'routing'));
    expect(s.statesSinceMark('bankco-pay')).toEqual(['installed', 'updating', 'installed']);
    expect(s.statesSinceMark('transitco-ticket')).toEqual(['installed', 'deleting']);
    expect(s.statesSinceMark('nothing')).toEqual([]);
    expect(s.stateChanges).toHaveLength(4);
  });

  it('records network hops since the mark', () => {
    const s = new LifecycleScenario();
    s.observe({ ...base(), kind: 'mno.hop', from: 'tsm', to: 'mno', mno: 'MNO-A', bearer: 'http-admin', detail: 'x' });
    s.mark();
    s.observe({ ...base(), kind: 'mno.hop', from: 'tsm', to: 'mno', mno: 'MNO-B', bearer: 'sms', detail: 'y' });
    expect(s.hopsSinceMark()).toEqual([{ mno: 'MNO-B', bearer: 'sms', detail: 'y' }]);
  });

  it('is one per world', () => {
    const w1 = {};
    const w2 = {};
    expect(lifecycleOf(w1)).toBe(lifecycleOf(w1));
    expect(lifecycleOf(w1)).not.toBe(lifecycleOf(w2));
  });
});

describe('tsmCommandsTo / insOf', () => {
  it('keeps the central side commands to one SE, by instruction', () => {
    const cmds = [
      command('84E400000A1122', 'se-1'),
      command('84E60C0000', 'se-1'),
      command('84E400000A3344', 'se-2'),
      command('80E4000000', 'se-1', 'harness'),
    ];
    expect(insOf(cmds[1])).toBe(Ins.INSTALL);
    expect(tsmCommandsTo(cmds, 'se-1').map((c) => c.hex)).toEqual(['84E400000A1122', '84E60C0000']);
    expect(tsmCommandsTo(cmds, 'se-1', Ins.DELETE).map((c) => c.hex)).toEqual(['84E400000A1122']);
  });
});
