/**
 * Whether a process still runs: the probe behind the pid lock files that keep cooperating tsmlab processes apart
 * (the central TSM's data directory, the vpcd reader slots). It lives here because trace/ depends on nothing and
 * every layer already imports it; tsm/ and drivers/ should not import each other for an OS probe.
 */

/** True while `pid` exists, also when it belongs to another user (EPERM: it is there, we may not signal it). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
