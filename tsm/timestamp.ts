/**
 * Dates an SP sends: RFC 3339 date-times read strictly (Date.parse takes 2026-02-30 for 2 March and many forms
 * RFC 3339 does not allow), and the clock-skew bound on requestTimestamp (a timestamp in year 9999 would make
 * any validity period endless).
 */
import type { CommonRequest } from './api-types.ts';
import { TsmError } from './status.ts';

/** How far an SP's requestTimestamp may be ahead of the central TSM's clock. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Epoch ms of an RFC 3339 date-time (section 5.6), or the reason it is not one. */
export function parseRfc3339(s: string): { ms: number } | { error: string } {
  const m = RFC3339.exec(s);
  if (!m) return { error: 'is not an RFC 3339 date-time (YYYY-MM-DDThh:mm:ss[.fraction] followed by Z or ±hh:mm)' };
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12) return { error: `has no month ${m[2]}` };
  const days = daysIn(year, month);
  if (day < 1 || day > days) return { error: `has no day ${m[3]}: ${m[1]}-${m[2]} has ${days} days` };
  if (hour > 23 || minute > 59) return { error: `has no time ${m[4]}:${m[5]}` };
  // RFC 3339 allows :60 for a leap second, which an epoch clock cannot represent; refuse it plainly.
  if (second > 59) return { error: `has second ${m[6]} (leap seconds are not accepted)` };
  let offsetMinutes = 0;
  if (!m[8]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return { error: `has no UTC offset ${m[9]}${m[10]}:${m[11]}` };
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const fraction = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  // setUTCFullYear, not Date.UTC, which would read years 0-99 as 1900-1999.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, fraction);
  return { ms: d.getTime() - offsetMinutes * 60_000 };
}

export function isRfc3339(s: string): boolean {
  return 'ms' in parseRfc3339(s);
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * The request's timestamp in epoch ms, checked: RFC 3339 and at most MAX_CLOCK_SKEW_SECONDS ahead of `now`.
 * Returns the reason for a refusal as a message naming the field.
 */
export function checkRequestTimestamp(value: string, now: number, skewSeconds = MAX_CLOCK_SKEW_SECONDS): { ms: number } | { error: string } {
  const parsed = parseRfc3339(value);
  if ('error' in parsed) return { error: `requestTimestamp "${value}" ${parsed.error}` };
  const ahead = (parsed.ms - now) / 1000;
  if (ahead > skewSeconds) {
    return {
      error: `requestTimestamp "${value}" is ${Math.round(ahead)} s ahead of the central TSM's clock (${new Date(now).toISOString()}); at most ${skewSeconds} s of clock skew is accepted: check the SP's clock`,
    };
  }
  return parsed;
}

/**
 * When the request's validity period ends (epoch ms; undefined without one). It counts from requestTimestamp,
 * or from `now` (receipt) without one. A requestTimestamp that is not RFC 3339 or too far ahead is refused 2.1.
 */
export function validityEnd(req: CommonRequest, now: number): number | undefined {
  let from = now;
  if (req.requestTimestamp !== undefined) {
    const t = checkRequestTimestamp(req.requestTimestamp, now);
    if ('error' in t) throw TsmError.failed('2.1', t.error);
    from = t.ms;
  }
  return req.validityPeriod === undefined ? undefined : from + req.validityPeriod * 1000;
}

/** validityEnd for bookkeeping (how long to remember an identifier): undefined where validityEnd refuses. */
export function validityEndIfValid(req: CommonRequest, now: number): number | undefined {
  try {
    return validityEnd(req, now);
  } catch {
    return undefined;
  }
}
