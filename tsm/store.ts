/**
 * Where the central TSM keeps what must survive a restart: service states, SE locks, the journal of
 * card-changing requests under way and the functionCallIdentifier ledger.
 * FileStore writes one JSON document in a data directory atomically (temporary file, fsync, rename, fsync of
 * the directory), so a crash leaves either the previous document or the new one, never a torn one; an flock on
 * the directory keeps two TSM processes off it (dir-lock.ts).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { DirLockError, lockDirectory, type DirLock } from './dir-lock.ts';
import type { CallRecord } from './idempotency.ts';
import type { SeLockRecord, ServiceRecord } from './registry.ts';
import type { JournalEntry, LegacySagaRecord } from './journal.ts';

export const STORE_FORMAT = 'tsmlab.tsm-state/1';

export interface StoredState {
  format: typeof STORE_FORMAT;
  services: ServiceRecord[];
  /** SEs the central TSM has locked (absent in states written before SE locks existed). */
  seLocks?: SeLockRecord[];
  /** The functionCallIdentifier ledger, oldest first (bounded: see idempotency.ts). */
  operations?: CallRecord[];
  /** Card-changing requests under way, with the step about to reach the card (journal.ts). */
  journal?: JournalEntry[];
  /** Update sagas as stores written before the journal kept them (read, never written). */
  sagas?: LegacySagaRecord[];
}

export interface TsmStore {
  load(): StoredState | undefined;
  save(state: StoredState): void;
  close(): void;
}

export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

/** Keeps the state in memory only (the default: every run starts from the fleet). */
export class MemoryStore implements TsmStore {
  private state?: StoredState;

  load(): StoredState | undefined {
    return this.state ? structuredClone(this.state) : undefined;
  }

  save(state: StoredState): void {
    this.state = structuredClone(state);
  }

  close(): void {}
}

const STATE_FILE = 'tsm-state.json';
/** save()'s temporary files: `tsm-state.json.tmp-<pid>`. */
const TEMP_PREFIX = `${STATE_FILE}.tmp-`;

export class FileStore implements TsmStore {
  readonly file: string;
  private readonly lock: DirLock;
  private closed = false;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, STATE_FILE);
    try {
      this.lock = lockDirectory(dir);
    } catch (e) {
      if (e instanceof DirLockError) throw new StoreError(e.message);
      throw e;
    }
    // Holding the lock, no other TSM writes here: a temporary file is what a killed one left half-written.
    for (const name of readdirSync(dir)) if (name.startsWith(TEMP_PREFIX)) rmSync(path.join(dir, name), { force: true });
  }

  load(): StoredState | undefined {
    if (!existsSync(this.file)) return undefined;
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (e) {
      throw new StoreError(`${this.file}: not a readable TSM state (${(e as Error).message})`);
    }
    const s = data as Partial<StoredState>;
    if (s?.format !== STORE_FORMAT || !Array.isArray(s.services)) {
      throw new StoreError(`${this.file}: not a TSM state of format ${STORE_FORMAT}`);
    }
    return s as StoredState;
  }

  save(state: StoredState): void {
    if (this.closed) throw new StoreError(`${this.dir}: store closed`);
    const tmp = `${this.file}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(state, null, 1) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    // The rename itself must reach the disk, or a crash could bring back the old name.
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lock.release();
  }

  /**
   * What a kill of the process does to the store, for crash simulations within one process: the kernel's lock
   * goes, the pid file stays, and nothing more can be written.
   */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    this.lock.drop();
  }
}
