import { describe, expect, it } from 'vitest';
import { checkRequestTimestamp, MAX_CLOCK_SKEW_SECONDS, parseRfc3339 } from './timestamp.ts';

const ms = (s: string) => {
  const r = parseRfc3339(s);
  if (!('ms' in r)) throw new Error(`${s}: ${r.error}`);
  return r.ms;
};
const error = (s: string) => {
  const r = parseRfc3339(s);
  return 'error' in r ? r.error : undefined;
};

describe('parseRfc3339', () => {
  it('reads RFC 3339 date-times with Z, offsets and fractions', () => {
    expect(ms('2026-02-28T12:00:00Z')).toBe(Date.UTC(2026, 1, 28, 12));
    expect(ms('2026-02-28t12:00:00z')).toBe(Date.UTC(2026, 1, 28, 12));
    expect(ms('2026-02-28T12:00:00.25+01:30')).toBe(Date.UTC(2026, 1, 28, 10, 30, 0, 250));
    expect(ms('2026-02-28T12:00:00-00:00')).toBe(Date.UTC(2026, 1, 28, 12));
    expect(ms('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(ms('2000-02-29T00:00:00Z')).toBe(Date.UTC(2000, 1, 29));
    expect(ms('0042-01-01T00:00:00Z')).toBe(Date.parse('0042-01-01T00:00:00Z'));
  });

  it('refuses dates that do not exist instead of rolling them over', () => {
    expect(Date.parse('2026-02-30T00:00:00Z')).toBe(Date.UTC(2026, 2, 2));
    expect(error('2026-02-30T00:00:00Z')).toBe('has no day 30: 2026-02 has 28 days');
    expect(error('2025-02-29T00:00:00Z')).toMatch(/no day 29/);
    expect(error('1900-02-29T00:00:00Z')).toMatch(/no day 29/);
    expect(error('2026-04-31T00:00:00Z')).toMatch(/no day 31/);
    expect(error('2026-13-01T00:00:00Z')).toMatch(/no month 13/);
    expect(error('2026-01-01T24:00:00Z')).toMatch(/no time 24:00/);
    expect(error('2026-01-01T00:00:60Z')).toMatch(/leap seconds/);
    expect(error('2026-01-01T00:00:00+24:00')).toMatch(/no UTC offset/);
  });

  it('refuses the forms Date.parse accepts but RFC 3339 does not', () => {
    for (const s of ['2026-01-01', '2026-01-01T00:00:00', '2026-01-01 00:00:00Z', 'Thu, 01 Jan 2026 00:00:00 GMT', '2026-1-1T00:00:00Z', '+002026-01-01T00:00:00Z', '2026-01-01T00:00Z']) {
      expect(error(s), s).toMatch(/not an RFC 3339 date-time/);
    }
  });
});

describe('checkRequestTimestamp', () => {
  const now = Date.UTC(2030, 0, 1);
  it(`accepts the past and up to ${MAX_CLOCK_SKEW_SECONDS} s ahead of the clock`, () => {
    expect(checkRequestTimestamp('2029-12-31T00:00:00Z', now)).toEqual({ ms: Date.UTC(2029, 11, 31) });
    expect(checkRequestTimestamp('2030-01-01T00:05:00Z', now)).toEqual({ ms: now + 300_000 });
  });

  it('refuses a timestamp further ahead, naming the skew', () => {
    expect(checkRequestTimestamp('2030-01-01T00:05:01Z', now)).toEqual({ error: expect.stringMatching(/301 s ahead of the central TSM's clock .*at most 300 s/) });
    expect(checkRequestTimestamp('9999-12-31T23:59:59Z', now)).toEqual({ error: expect.stringMatching(/ahead of the central TSM's clock/) });
    expect(checkRequestTimestamp('2030-02-30T00:00:00Z', now)).toEqual({ error: 'requestTimestamp "2030-02-30T00:00:00Z" has no day 30: 2030-02 has 28 days' });
  });
});
