/** Life cycle state codings (GPCS 2.3.1 §11.1.1, Tables 11-3 to 11-6) and their names. */

export const CardLifeCycle = {
  OP_READY: 0x01,
  INITIALIZED: 0x07,
  SECURED: 0x0f,
  CARD_LOCKED: 0x7f,
  TERMINATED: 0xff,
} as const;

export const ApplicationLifeCycle = {
  INSTALLED: 0x03,
  SELECTABLE: 0x07,
  /** b8 set on top of the state before locking (Table 11-4: '1- -- -- 11'). */
  LOCKED_BIT: 0x80,
} as const;

export const SecurityDomainLifeCycle = {
  INSTALLED: 0x03,
  SELECTABLE: 0x07,
  PERSONALIZED: 0x0f,
  LOCKED_BIT: 0x80,
} as const;

export const LoadFileLifeCycle = {
  LOADED: 0x01,
} as const;

export type LifeCycleKind = 'card' | 'application' | 'security-domain' | 'load-file';

export function cardLifeCycleName(state: number): string {
  const name = Object.entries(CardLifeCycle).find(([, v]) => v === state)?.[0];
  return name ?? `unknown card state ${hex(state)}`;
}

/**
 * Name of an application or SD life cycle state; locked states read "LOCKED (was SELECTABLE)" and
 * application-specific states (b3..b1 = 111 with b7..b4 set) "SELECTABLE (application-specific 0x..)".
 */
export function applicationLifeCycleName(state: number, kind: 'application' | 'security-domain' = 'application'): string {
  const locked = (state & 0x80) !== 0;
  const base = state & 0x7f;
  let name: string;
  if (base === 0x03) name = 'INSTALLED';
  else if (base === 0x07) name = 'SELECTABLE';
  else if (base === 0x0f && kind === 'security-domain') name = 'PERSONALIZED';
  else if ((base & 0x07) === 0x07 && kind === 'application') name = `SELECTABLE (application-specific ${hex(base)})`;
  else if ((base & 0x03) === 0x03 && locked) name = `state ${hex(base)}`;
  else return `unknown ${kind} state ${hex(state)}`;
  return locked ? `LOCKED (was ${name})` : name;
}

export function loadFileLifeCycleName(state: number): string {
  return state === LoadFileLifeCycle.LOADED ? 'LOADED' : `unknown load file state ${hex(state)}`;
}

export function lifeCycleName(kind: LifeCycleKind, state: number): string {
  if (kind === 'card') return cardLifeCycleName(state);
  if (kind === 'load-file') return loadFileLifeCycleName(state);
  return applicationLifeCycleName(state, kind);
}

/**
 * The short names registries and views show: every locked application or SD state reads 'LOCKED' (what it was
 * before is not kept by the callers that need this), the rest as lifeCycleName gives them.
 */
export function shortLifeCycleName(kind: LifeCycleKind, state: number): string {
  if ((kind === 'application' || kind === 'security-domain') && isLocked(state)) return 'LOCKED';
  return lifeCycleName(kind, state);
}

export function isLocked(state: number): boolean {
  return (state & 0x80) !== 0 && state !== CardLifeCycle.TERMINATED;
}

export function lock(state: number): number {
  return state | 0x80;
}

export function unlock(state: number): number {
  return state & 0x7f;
}

/** Card life cycle transitions of GPCS Figure 5-1 (SET STATUS to the ISD). */
export function cardTransitionAllowed(from: number, to: number): boolean {
  const C = CardLifeCycle;
  if (from === C.TERMINATED) return false;
  if (to === C.TERMINATED) return true;
  if (to === C.CARD_LOCKED) return from === C.SECURED;
  if (from === C.CARD_LOCKED) return to === C.SECURED;
  return (from === C.OP_READY && to === C.INITIALIZED) || (from === C.INITIALIZED && to === C.SECURED);
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0').toUpperCase();
}
