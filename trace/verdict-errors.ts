/**
 * The errors that mean a verdict other than FAIL, and the one place that says which verdict an error means.
 * They live beside the Verdict type because both throwers (drivers, steps) and the classifier of a run's
 * results (reports) need them, and trace/ is the folder all of those may import.
 */
import type { Verdict } from './events.ts';

/** The run cannot decide (card removed, authentication budget spent, cryptogram mismatch): INCONCLUSIVE. */
export class InconclusiveError extends Error {
  constructor(readonly reason: string) {
    super(`INCONCLUSIVE: ${reason}`);
    this.name = 'InconclusiveError';
  }
}

/** The harness itself is broken (bad configuration, missing fixture, a target that cannot do what a step needs). */
export class HarnessError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HarnessError';
  }
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** Errors that leave the outcome undecided. */
const INCONCLUSIVE_ERRORS: readonly ErrorClass[] = [InconclusiveError];
/** Errors of the harness, not the product: its own, and JavaScript's for a bug in a step. */
const HARNESS_ERRORS: readonly ErrorClass[] = [HarnessError, TypeError, ReferenceError, SyntaxError];

/** The verdict a thrown error means, decided by its class; undefined when it is the product's failure (FAIL). */
export function verdictOfError(e: unknown): Extract<Verdict, 'INCONCLUSIVE' | 'ERROR'> | undefined {
  if (INCONCLUSIVE_ERRORS.some((c) => e instanceof c)) return 'INCONCLUSIVE';
  if (HARNESS_ERRORS.some((c) => e instanceof c)) return 'ERROR';
  return undefined;
}

/**
 * The same classes by name, for results that only carry the name (Cucumber messages report an exception's
 * constructor name). `also` adds names of classes this folder cannot import.
 */
export function verdictErrorNames(also: { harness?: readonly string[] } = {}): { inconclusive: string[]; harness: string[] } {
  return {
    inconclusive: INCONCLUSIVE_ERRORS.map((c) => c.name),
    harness: [...HARNESS_ERRORS.map((c) => c.name), ...(also.harness ?? [])],
  };
}
