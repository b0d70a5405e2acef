/**
 * `tsmlab` as a child process in tests: start a command, wait for the line that says it is ready, and kill whatever
 * a test started when it ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TSMLAB_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'tsmlab.js');

export interface Started {
  child: ChildProcess;
  /** The match of `ready` in what the child printed. */
  match: RegExpExecArray;
  /** Everything the child wrote on stderr so far. */
  stderr(): string;
}

/**
 * Starts `tsmlab ...args`, recorded in `children`; resolves once its standard output matches `ready` (and, when
 * given, `also`), rejects if it exits first.
 */
export function startTsmlab(args: string[], children: ChildProcess[], ready: RegExp, also?: RegExp): Promise<Started> {
  const child = spawn(process.execPath, [TSMLAB_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const match = ready.exec(out);
      if (match && (!also || also.test(out))) resolve({ child, match, stderr: () => err });
    });
    child.once('exit', (code, signal) => reject(new Error(`tsmlab ${args[0]} exited (${code ?? signal}) before it was ready: ${err.trim()}`)));
    child.once('error', reject);
  });
}

/** SIGKILLs every child still running and waits until each has gone. */
export async function killChildren(children: ChildProcess[]): Promise<void> {
  for (const c of children.splice(0)) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    const gone = once(c, 'exit');
    c.kill('SIGKILL');
    await gone;
  }
}
