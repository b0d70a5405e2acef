/**
 * Card state on disk, written atomically (temporary file, fsync, rename) so a process killed mid-write leaves
 * either the previous or the new snapshot, never a torn one. Pair with SimulatedSe's `onCommit`.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { SimulatorError } from './errors.ts';
import { SimulatedSe, type SimulatedSeOptions } from './se.ts';
import type { CardState } from './state.ts';

export function writeCardSnapshot(path: string, state: CardState): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(state));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function readCardSnapshot(path: string): CardState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SimulatorError(`card snapshot ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as CardState;
  } catch (e) {
    throw new SimulatorError(`card snapshot ${path}: ${(e as Error).message}`);
  }
}

/** A card restored from `path` (created from `initial()` when absent) that writes itself back after every state change. */
export function persistentSe(path: string, initial: () => SimulatedSe, opts: SimulatedSeOptions = {}): SimulatedSe {
  const onCommit = (state: CardState) => {
    writeCardSnapshot(path, state);
    opts.onCommit?.(state);
  };
  // A missing file means a new card; an unreadable one is an error (never overwrite a card's state silently).
  if (!existsSync(path)) writeCardSnapshot(path, initial().toJSON());
  return SimulatedSe.fromJSON(readCardSnapshot(path), { ...opts, onCommit });
}
