/** Time as the central TSM sees it; tests and steps inject a ManualClock instead of sleeping. */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export class ManualClock implements Clock {
  constructor(private t = Date.UTC(2030, 0, 1)) {}

  now(): number {
    return this.t;
  }

  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot move a clock back (${ms} ms)`);
    this.t += ms;
  }

  set(epochMs: number): void {
    this.t = epochMs;
  }
}
