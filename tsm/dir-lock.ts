/**
 * One central TSM per data directory, by an flock(2) on the directory itself. The kernel drops the lock when
 * the last descriptor of its open file goes away, which happens when the holder exits, however it exits: a
 * SIGKILLed TSM releases it at once, even while it is still a zombie nobody has reaped (a pid file cannot tell
 * a zombie from a live process). A pid file beside it only names the holder in the refusal.
 *
 * Node has no flock call. This process opens the directory and lends that descriptor to util-linux `flock`
 * (Debian's util-linux, always installed) as its fd 3: the child locks the shared open file and exits, and the
 * lock stays with the descriptor this process keeps open. No helper process lives on, so none can outlive the
 * TSM and hold the lock for a dead one.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The file naming the holder's pid (informational: the flock is the lock). */
export const PID_FILE = 'tsm.lock';
/** flock's exit status when the lock is held elsewhere (we ask for it with --conflict-exit-code). */
const CONFLICT = 75;

export class DirLockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DirLockError';
  }
}

export interface DirLock {
  /** Drops the lock and removes the pid file (a clean stop). */
  release(): void;
  /** Drops the lock and leaves the pid file, as the death of the process would (crash simulations in tests). */
  drop(): void;
}

/** Takes the data directory for this process, or throws DirLockError naming who holds it. */
export function lockDirectory(dir: string): DirLock {
  const pidFile = path.join(dir, PID_FILE);
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (e) {
    throw new DirLockError(`${dir}: cannot open the data directory to lock it: ${(e as Error).message}`);
  }
  const r = spawnSync('flock', ['--exclusive', '--nonblock', '--conflict-exit-code', String(CONFLICT), '3'], {
    stdio: ['ignore', 'ignore', 'pipe', fd],
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    closeSync(fd);
    if (r.error) {
      const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
      throw new DirLockError(
        missing
          ? `${dir}: cannot lock the data directory: the flock command (util-linux) is not installed`
          : `${dir}: cannot lock the data directory: ${r.error.message}`,
      );
    }
    if (r.status === CONFLICT) throw new DirLockError(`${dir} is in use by another central TSM${holderOf(pidFile)}; stop it first, or give this one another --data directory`);
    throw new DirLockError(`${dir}: cannot lock the data directory: flock ${r.signal ? `died of ${r.signal}` : `exited ${r.status}`}${r.stderr ? `: ${r.stderr.trim()}` : ''}`);
  }
  writeFileSync(pidFile, `${process.pid}\n`);
  let held = true;
  const drop = () => {
    if (!held) return;
    held = false;
    closeSync(fd);
  };
  return {
    release() {
      // The pid file goes first: once the descriptor is closed the next holder may already be writing its own.
      if (held) rmSync(pidFile, { force: true });
      drop();
    },
    drop,
  };
}

function holderOf(pidFile: string): string {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? ` (pid ${pid})` : '';
  } catch {
    return '';
  }
}
