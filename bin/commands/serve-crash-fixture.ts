/**
 * Pieces of the real-process crash test of `tsmlab serve`: a card wrapper that sees every command and can kill
 * the central TSM's process right after the card has executed a chosen one (before its answer leaves), and a
 * `tsmlab serve` child process with its printed URL.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { CardEndpoint } from '../../gp/index.ts';
import type { SimulatedSe } from '../../simulator/index.ts';
import { startTsmlab } from './child-fixture.ts';


/** A command the trap waits for, and what to do once the card has executed it. */
interface Trap {
  matches(command: Uint8Array): boolean;
  fire(): void;
}

/**
 * A simulated SE seen through the WebSocket server: every command is recorded, and an armed trap runs once,
 * after the card has processed its command and before the answer is handed back for sending.
 */
export class WatchedSe implements CardEndpoint {
  readonly commands: Uint8Array[] = [];
  private trap?: Trap;

  constructor(readonly card: SimulatedSe) {}

  get seId(): string {
    return this.card.seId;
  }

  get powered(): boolean {
    return this.card.powered;
  }

  powerOn(): Uint8Array {
    return this.card.powerOn();
  }

  powerOff(): void {
    this.card.powerOff();
  }

  reset(cold: boolean): Uint8Array {
    return this.card.reset(cold);
  }

  atr(): Uint8Array {
    return this.card.atr();
  }

  process(command: Uint8Array): Uint8Array {
    this.commands.push(command.slice());
    const answer = this.card.process(command);
    const t = this.trap;
    if (t?.matches(command)) {
      this.trap = undefined;
      t.fire();
    }
    return answer;
  }

  /** Runs `fire` once, right after the card has executed the first command `matches` accepts. */
  armAfter(matches: (command: Uint8Array) => boolean, fire: () => void): void {
    this.trap = { matches, fire };
  }

  get armed(): boolean {
    return this.trap !== undefined;
  }
}

/** INS of a command APDU (the header stays in clear under secure messaging). */
export const ins = (c: Uint8Array): number => c[1];
export const INS_DELETE = 0xe4;
export const INS_INSTALL = 0xe6;
/** INSTALL P1 'for install' bit (GPCS 2.3.1 Table 11-41); extradition is '10', load '02'. */
export const P1_FOR_INSTALL = 0x04;

/**
 * SIGKILLs a process and, where /proc exists, waits (bounded) until the kernel shows it dead (a zombie, since
 * this process has not reaped it yet), so no answer sent after this returns can reach a live TSM.
 */
export function killNow(child: ChildProcess, deadlineMs = 5000): void {
  const pid = child.pid;
  if (pid === undefined) throw new Error('the child has no pid');
  child.kill('SIGKILL');
  const stat = `/proc/${pid}/stat`;
  const until = Date.now() + deadlineMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (existsSync(stat)) {
    let state: string;
    try {
      // Field 3 of stat, after the parenthesised command name.
      state = readFileSync(stat, 'utf8').replace(/^.*\) /s, '')[0];
    } catch {
      return;
    }
    if (state === 'Z' || state === 'X') return;
    if (Date.now() > until) throw new Error(`process ${pid} still alive ${deadlineMs} ms after SIGKILL`);
    // The caller is inside a synchronous card exchange: block this thread briefly rather than spin.
    Atomics.wait(pause, 0, 0, 1);
  }
}

export interface Served {
  url: string;
  child: ChildProcess;
  /** Everything the child wrote on stderr so far. */
  stderr(): string;
}

/** Starts `tsmlab serve --port 0 ...args`; resolves with the URL it prints, rejects if it exits first. */
export async function startServe(args: string[], children: ChildProcess[]): Promise<Served> {
  const { child, match, stderr } = await startTsmlab(['serve', '--port', '0', ...args], children, /central TSM SP API: (http:\/\/\S+)/);
  return { url: match[1], child, stderr };
}
