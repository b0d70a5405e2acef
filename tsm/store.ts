/**
 * Where the central TSM keeps what must survive a restart: service states, SE locks, the journal of
 * card-changing requests under way and the functionCallIdentifier ledger.
 * FileStore writes one JSON document in a data directory atomically (temporary file, fsync, rename, fsync of
 * the directory), so a crash leaves either the previous document or the new one, never a torn one; a lock
 * file keeps two TSM processes off one directory.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { processAlive } from '../trace/index.ts';
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
const LOCK_FILE = 'tsm.lock';

export class FileStore implements TsmStore {
  readonly file: string;
  private readonly lock: string;
  private closed = false;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, STATE_FILE);
    this.lock = path.join(dir, LOCK_FILE);
    this.acquire();
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
    rmSync(this.lock, { force: true });
  }

  private acquire(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lock, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const holder = Number(readFileSync(this.lock, 'utf8').trim());
        if (holder && holder !== process.pid && processAlive(holder)) {
          throw new StoreError(`${this.dir} is in use by another central TSM (pid ${holder})`);
        }
        // A lock left by a process that is gone: take it over.
        rmSync(this.lock, { force: true });
      }
    }
    throw new StoreError(`${this.dir}: cannot take the lock ${LOCK_FILE}`);
  }
}
