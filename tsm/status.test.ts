import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorFields, httpStatusOf, isReasonCode, REASONS, TsmError } from './status.ts';

describe('reason codes', () => {
  it('are all documented in docs/sp-api.md, and the document lists no others', () => {
    const doc = readFileSync(new URL('../docs/sp-api.md', import.meta.url), 'utf8');
    const table = doc.slice(doc.indexOf('### Reason codes'), doc.indexOf('## Conversation rules'));
    const documented = [...table.matchAll(/^\| (\d\.\d+) \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(REASONS).sort());
  });

  it('use the x.y numbering of the GP/GSMA families 1 to 6', () => {
    for (const code of Object.keys(REASONS)) expect(code).toMatch(/^[1-6]\.\d{1,2}$/);
    expect(isReasonCode('4.8')).toBe(true);
    expect(isReasonCode('9.9')).toBe(false);
    expect(REASONS['4.8'].name).toBe('Insufficient Memory');
    expect(REASONS['5.1'].name).toBe('Inaccessible');
    expect(REASONS['1.2'].name).toMatch(/^Not Allowed/);
  });
});

describe('TsmError at the HTTP edge', () => {
  it('maps families to HTTP statuses', () => {
    const cases: [TsmError, number][] = [
      [TsmError.failed('2.1', 'x'), 400],
      [TsmError.failed('2.5', 'x'), 400],
      [TsmError.failed('1.1', 'x'), 401],
      [TsmError.failed('1.2', 'x'), 403],
      [TsmError.failed('3.9', 'x'), 404],
      [TsmError.failed('3.8', 'x'), 409],
      [TsmError.expired('4.10', 'x'), 410],
      [TsmError.expired('5.3', 'x'), 410],
      [TsmError.failed('4.8', 'x'), 422],
      [TsmError.failed('4.2', 'x'), 500],
      [TsmError.failed('5.1', 'x'), 503],
      [TsmError.failed('5.4', 'x'), 504],
      [TsmError.failed('6.1', 'x'), 403],
    ];
    for (const [e, http] of cases) expect([e.reasonCode, httpStatusOf(e)]).toEqual([e.reasonCode, http]);
  });

  it('puts status, reason and message over any partial data', () => {
    const e = TsmError.failed('5.4', 'lost', { responseApdus: ['9000'], status: 'Executed-Success' });
    expect(errorFields(e)).toEqual({ responseApdus: ['9000'], status: 'Failed', reasonCode: '5.4', message: 'lost' });
  });
});
