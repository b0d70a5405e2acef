/**
 * The one mapping of an error that ends a command to what the lab engineer sees: one line and an exit code.
 * Commands throw CliError for bad options (naming the option), or let the typed errors of the layers below
 * through when those already say all there is; anything else is a bug and keeps its stack.
 * main.ts loads this module only when a command failed, so a command does not pay for layers it does not use.
 */
import { DriverError } from '../drivers/index.ts';
import { FleetError } from '../profiles/index.ts';
import { StoreError } from '../tsm/index.ts';
import { CliError } from './cli-error.ts';

export interface CliFailure {
  /** The line after "tsmlab <command>: ". */
  message: string;
  exitCode: number;
}

/** Exit code of a failure the user can fix (bad option, fleet, data directory, reader): as a usage error. */
const USER_ERROR = 2;

/** What to print for e and the exit code, or undefined when e is a bug that should surface with its stack. */
export function cliFailure(e: unknown): CliFailure | undefined {
  if (e instanceof CliError) return { message: e.message, exitCode: e.exitCode };
  // A fleet file or data directory that cannot be used: its own message names the file and what is wrong.
  if (e instanceof FleetError || e instanceof StoreError) return { message: e.message, exitCode: USER_ERROR };
  // The command names the reader layer already; its own "PC/SC: " prefix would say it twice.
  if (e instanceof DriverError) return { message: e.message.replace(/^PC\/SC: /, ''), exitCode: USER_ERROR };
  return undefined;
}
