/**
 * The life of a service on one SE as the central TSM tracks it. Every change goes through `transition`, which
 * refuses (3.8) a change the machine does not allow, so a saga interrupted half-way leaves a state that says so
 * ("updating", "deleting") rather than a guess.
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
  /** A saga failed; the card may hold part of it (see the service's note). */
  'failed',
] as const;

export type ServiceState = (typeof SERVICE_STATES)[number];

const NEXT: Record<ServiceState, readonly ServiceState[]> = {
  available: ['prepersonalizing', 'deleting'],
  prepersonalizing: ['installed', 'failed'],
  installed: ['activated', 'suspended', 'updating', 'deleting'],
  activated: ['installed', 'suspended', 'updating', 'deleting'],
  suspended: ['installed', 'activated', 'updating', 'deleting'],
  updating: ['installed', 'failed'],
  deleting: ['deleted', 'failed'],
  deleted: ['prepersonalizing'],
  failed: ['updating', 'deleting', 'prepersonalizing'],
};

/** States a saga passes through; a service found in one at start-up was interrupted. */
export const TRANSIENT_STATES: readonly ServiceState[] = ['prepersonalizing', 'updating', 'deleting'];

export function isServiceState(s: string): s is ServiceState {
  return (SERVICE_STATES as readonly string[]).includes(s);
}

export function canTransition(from: ServiceState, to: ServiceState): boolean {
  return NEXT[from].includes(to);
}

/** Checks a transition; throws TsmError 3.8 naming both states when it is not allowed. */
export function checkTransition(serviceId: string, from: string, to: ServiceState): void {
  if (!isServiceState(from)) throw TsmError.failed('4.2', `service ${serviceId} is in an unknown state "${from}"`);
  if (!canTransition(from, to)) {
    throw TsmError.failed('3.8', `service ${serviceId} is ${from}; it cannot become ${to} (allowed: ${NEXT[from].join(', ') || 'none'})`);
  }
}
