import { describe, expect, it } from 'vitest';
// The page's own module, imported as the browser imports it.
import { compileExpression, compileFilter, FilterError } from './filter.js';

const rows = [
  { i: 0, k: 'sp.request', from: 'sp', to: 'tsm', label: 'prePersonalize', sc: 'tc1', scn: 'BankCo' },
  { i: 1, k: 'apdu.command', from: 'mno', to: 'se', label: 'INSTALL [for install]', cmd: 'INSTALL [for install]', ins: 'E6', sc: 'tc1' },
  { i: 2, k: 'apdu.response', from: 'se', to: 'mno', label: '6A84 (INSTALL)', cmd: 'INSTALL [for install]', ins: 'E6', sw: '6A84', swc: 'checking-error', dur: 12.5, sc: 'tc1' },
  { i: 3, k: 'apdu.response', from: 'se', to: 'mno', label: '9000', cmd: 'SELECT', ins: 'A4', sw: '9000', swc: 'normal', dur: 0.4, sc: 'tc2' },
  { i: 4, k: 'sp.response', from: 'tsm', to: 'sp', label: 'x', status: 'Failed', dur: 30, sc: 'tc2' },
  { i: 5, k: 'apdu.response', from: 'se', to: 'mno', label: '63C2', cmd: 'VERIFY', ins: '20', sw: '63C2', swc: 'warning', dur: 80 },
];
const pick = (f: (r: (typeof rows)[number]) => boolean) => rows.filter(f).map((r) => r.i);

describe('viewer filters', () => {
  it('sw != 9000 lists only responses that did not succeed', () => {
    expect(pick(compileExpression('sw != 9000'))).toEqual([2, 5]);
    expect(pick(compileExpression('sw == 6Axx'))).toEqual([2]);
    expect(pick(compileExpression('sw = 63C*'))).toEqual([5]);
    expect(pick(compileExpression(''))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('combines terms with and/or/not and parentheses; compares numbers', () => {
    expect(pick(compileExpression('dur > 10 and kind == apdu.response'))).toEqual([2, 5]);
    expect(pick(compileExpression('status == failed or sw == 9000'))).toEqual([3, 4]);
    expect(pick(compileExpression('not (lane == se) and dur >= 30'))).toEqual([4]);
    expect(pick(compileExpression('label ~ "install"'))).toEqual([1, 2]);
    expect(pick(compileExpression('cmd !~ install and kind = apdu.response'))).toEqual([3, 5]);
    expect(pick(compileExpression('scenario == BankCo'))).toEqual([0]);
  });

  it('explains a bad expression', () => {
    expect(() => compileExpression('sw !=')).toThrow(FilterError);
    expect(() => compileExpression('sw !=')).toThrow('expected a value after "sw !="');
    expect(() => compileExpression('colour == red')).toThrow(/unknown field "colour"/);
    expect(() => compileExpression('dur > soon')).toThrow('"dur >" needs a number, not "soon"');
    expect(() => compileExpression('sw == 9000 sw == 6A84')).toThrow(/join terms with and\/or/);
    expect(() => compileExpression('(sw == 9000')).toThrow(/missing "\)"/);
  });

  it('filters by scenario, lanes and command name or INS', () => {
    expect(pick(compileFilter({ scenario: 'tc2' }))).toEqual([3, 4]);
    expect(pick(compileFilter({ lanes: ['sp'] }))).toEqual([0, 4]);
    expect(pick(compileFilter({ command: 'install' }))).toEqual([1, 2]);
    expect(pick(compileFilter({ command: 'a4' }))).toEqual([3]);
    expect(pick(compileFilter({ command: 'install', expr: 'sw != 9000' }))).toEqual([2]);
  });
});
