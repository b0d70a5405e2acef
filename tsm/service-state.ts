/**
 * The life of a service on one SE as the central TSM tracks it, written once as a table: for each service
 * function, the states it may start from, the state the service shows while the card works, and where it ends.
 * The service manager checks every request against it (3.8, nothing sent, when a cell says no), the allowed
 * state changes are derived from it, and docs/sp-api.md carries the table `transitionTableMarkdown()` prints
 * (a test keeps them equal).
 */
import { TsmError } from './status.ts';

export const SERVICE_STATES = [
  /** Known to the central TSM, nothing on the card yet. */
  'available',
  /** Pre-personalization running: SP SD with temporary keys, instance installed and extradited. */
  'prepersonalizing',
  /** The instance is on the card under the SP SD; the SP personalizes it. */
  'installed',
  /** Contactless-activated. */
  'activated',
  /** Locked by the central TSM (suspend); resume returns to the state before. */
  'suspended',
  /** Update saga running (patent FIG 10). */
  'updating',
  /** Deletion running. */
  'deleting',
  /** Removed from the card. */
  'deleted',
  /** A saga failed, or the card holds something the central TSM did not expect (see the service's note). */
  'failed',
] as const;

export type ServiceState = (typeof SERVICE_STATES)[number];

/** The SP functions that change a service on the card. */
export const SERVICE_FUNCTIONS = ['prepersonalize', 'activate', 'suspend', 'resume', 'update', 'delete'] as const;
export type ServiceFunction = (typeof SERVICE_FUNCTIONS)[number];

export interface Transition {
  /** States the function may start from; any other is refused 3.8 before anything is sent. */
  from: readonly ServiceState[];
  /** State shown while the card works (a saga of several commands). */
  via?: ServiceState;
  /** State on success; `resume` returns to the state the service had when it was suspended. */
  to: ServiceState | 'before-suspension';
  /** Why the refused states are refused, for the message and the documentation. */
  why: string;
}

/**
 * The one transition table. Activation of a suspended service is refused: the instance is LOCKED on the card,
 * and making it available over contactless would leave it LOCKED while the service read `activated`; the SP
 * resumes first.
 */
export const TRANSITIONS: Record<ServiceFunction, Transition> = {
  prepersonalize: { from: ['available', 'deleted', 'failed'], via: 'prepersonalizing', to: 'installed', why: 'the service is already on the card' },
  activate: { from: ['installed'], to: 'activated', why: 'only an installed, unlocked instance is activated (resume a suspended service first)' },
  suspend: { from: ['installed', 'activated'], to: 'suspended', why: 'only an installed or activated instance is locked' },
  resume: { from: ['suspended'], to: 'before-suspension', why: 'only a suspended service is resumed' },
  update: { from: ['installed', 'activated', 'suspended', 'failed'], via: 'updating', to: 'installed', why: 'there is no instance to replace' },
  delete: { from: ['available', 'installed', 'activated', 'suspended', 'failed'], via: 'deleting', to: 'deleted', why: 'a saga is running or the service is already deleted' },
};

/** States a saga passes through; a service found in one at start-up was interrupted. */
export const TRANSIENT_STATES: readonly ServiceState[] = [...new Set(SERVICE_FUNCTIONS.flatMap((f) => TRANSITIONS[f].via ?? []))];

/** Resume ends in one of these (the states suspend starts from). */
const RESUMED: readonly ServiceState[] = TRANSITIONS.suspend.from;

/** Every state change the table allows, plus a running saga ending `failed`. */
const NEXT: Record<ServiceState, ServiceState[]> = (() => {
  const next = Object.fromEntries(SERVICE_STATES.map((s) => [s, [] as ServiceState[]])) as Record<ServiceState, ServiceState[]>;
  const add = (a: ServiceState, b: ServiceState) => void (next[a].includes(b) || next[a].push(b));
  for (const f of SERVICE_FUNCTIONS) {
    const t = TRANSITIONS[f];
    const ends = t.to === 'before-suspension' ? RESUMED : [t.to];
    for (const from of t.from) {
      if (t.via) add(from, t.via);
      else for (const to of ends) add(from, to);
    }
    if (t.via) {
      for (const to of ends) add(t.via, to);
      add(t.via, 'failed');
    }
  }
  return next;
})();

export function isServiceState(s: string): s is ServiceState {
  return (SERVICE_STATES as readonly string[]).includes(s);
}

export function canTransition(from: ServiceState, to: ServiceState): boolean {
  return NEXT[from].includes(to);
}

/** Whether `fn` may start on a service in `state`. */
export function allows(fn: ServiceFunction, state: string): boolean {
  return isServiceState(state) && TRANSITIONS[fn].from.includes(state);
}

/** Checks a request against the table; throws TsmError 3.8 naming the function, the state and why. */
export function checkFunction(serviceId: string, fn: ServiceFunction, state: string): void {
  if (!isServiceState(state)) throw TsmError.failed('4.2', `service ${serviceId} is in an unknown state "${state}"`);
  if (!allows(fn, state)) {
    throw TsmError.failed(
      '3.8',
      `service ${serviceId} is ${state}: ${fn} is refused (${TRANSITIONS[fn].why}; ${fn} starts from ${TRANSITIONS[fn].from.join(', ')}); nothing was sent`,
    );
  }
}

/** Checks a single state change; throws TsmError 3.8 naming both states when it is not allowed. */
export function checkTransition(serviceId: string, from: string, to: ServiceState): void {
  if (!isServiceState(from)) throw TsmError.failed('4.2', `service ${serviceId} is in an unknown state "${from}"`);
  if (!canTransition(from, to)) {
    throw TsmError.failed('3.8', `service ${serviceId} is ${from}; it cannot become ${to} (allowed: ${NEXT[from].join(', ') || 'none'})`);
  }
}

/** The table as docs/sp-api.md shows it: one row per state, one column per function (→ where it leads, or "—"). */
export function transitionTableMarkdown(): string {
  const cell = (fn: ServiceFunction, s: ServiceState) => {
    const t = TRANSITIONS[fn];
    if (!t.from.includes(s)) return '— (3.8)';
    const end = t.to === 'before-suspension' ? 'state before suspension' : `\`${t.to}\``;
    return t.via ? `\`${t.via}\` → ${end}` : end;
  };
  const head = `| state | ${SERVICE_FUNCTIONS.join(' | ')} |`;
  const rule = `|---|${SERVICE_FUNCTIONS.map(() => '---').join('|')}|`;
  const rows = SERVICE_STATES.map((s) => `| \`${s}\` | ${SERVICE_FUNCTIONS.map((f) => cell(f, s)).join(' | ')} |`);
  return [head, rule, ...rows].join('\n');
}
