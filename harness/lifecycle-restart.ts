/**
 * Stopping and starting the central TSM inside one scenario, on the same cards, clock and SP API port (so the
 * SPs' clients keep working): a clean restart, and a crash that freezes the TSM right after a chosen command —
 * the process "dies" there: nothing it had still to do ever happens, and its store is left as it was.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CardChannel } from '../drivers/index.ts';
import type { Fleet } from '../profiles/index.ts';
import { MnoNetworks } from '../simulator/index.ts';
import { CentralTsm, FileStore, startSpApi, type ChannelFactory, type Clock, type SpApiServer } from '../tsm/index.ts';

/** The parts of the World a restart replaces or reuses. */
export interface TsmHost {
  fleet: Fleet;
  cards: { channel(seId: string): Promise<CardChannel> };
  clock: Clock;
  tsm: CentralTsm<MnoNetworks>;
  api: SpApiServer;
}

/** A channel factory whose channels all stop answering, for good, once a chosen command has been answered. */
export class Freezer {
  private trigger?: (command: Uint8Array) => boolean;
  /** Whether the trigger command itself is sent before the freeze (after) or never (before). */
  private sendTrigger = true;
  private frozenAt?: Uint8Array;
  private onFreeze: (() => void)[] = [];
  private readonly opened = new Set<CardChannel>();

  constructor(private readonly inner: ChannelFactory) {}

  /** Arms the freeze: after the first command matching `trigger` has its answer, nothing more is answered. */
  freezeAfter(trigger: (command: Uint8Array) => boolean): Promise<void> {
    return this.arm(trigger, true);
  }

  /** Arms the freeze on the first command matching `trigger`, which never reaches the card. */
  freezeBefore(trigger: (command: Uint8Array) => boolean): Promise<void> {
    return this.arm(trigger, false);
  }

  private arm(trigger: (command: Uint8Array) => boolean, send: boolean): Promise<void> {
    if (this.frozenAt) throw new Error('already frozen');
    this.trigger = trigger;
    this.sendTrigger = send;
    return new Promise((resolve) => this.onFreeze.push(resolve));
  }

  private freeze(command: Uint8Array): void {
    this.frozenAt = command.slice();
    this.trigger = undefined;
    for (const f of this.onFreeze.splice(0)) f();
  }

  get frozen(): boolean {
    return this.frozenAt !== undefined;
  }

  /** The command the channels froze at (after its answer, or before sending it). */
  get lastCommand(): Uint8Array | undefined {
    return this.frozenAt;
  }

  readonly channels: ChannelFactory = async (seId) => {
    if (this.frozen) return never();
    const ch = await this.inner(seId);
    this.opened.add(ch);
    return {
      name: ch.name,
      transmit: async (command, opts) => {
        if (this.frozen) return never();
        const hit = this.trigger?.(command) ?? false;
        if (hit && !this.sendTrigger) {
          this.freeze(command);
          return never();
        }
        const r = await ch.transmit(command, opts);
        if (hit) this.freeze(command);
        return r;
      },
      atr: (opts) => (this.frozen ? never() : ch.atr(opts)),
      reset: (cold, opts) => (this.frozen ? never() : ch.reset(cold, opts)),
      // A dead process closes nothing; the card side sees the link go quiet.
      close: () => {
        if (this.frozen) return never();
        this.opened.delete(ch);
        return ch.close();
      },
    };
  };

  /**
   * What the operating system does when a process dies: its connections and reader handles are released (a
   * PC/SC reader held exclusively becomes free), while its own code never runs again.
   */
  async releaseHandles(): Promise<void> {
    for (const ch of this.opened) await ch.close().catch(() => undefined);
    this.opened.clear();
  }
}

/** A promise that never settles: what a stopped process's next step amounts to. */
function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

/**
 * The SPs' HTTP clients keep idle connections to the old server. Its sockets are closed in the close phase of
 * the event loop; the clients read that close in a later poll phase. A few full turns of the loop let them do so
 * before the next request, instead of sending it into a dead connection.
 */
async function letClientsSeeTheClose(): Promise<void> {
  for (let turn = 0; turn < 3; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** A central TSM keeping its state in a data directory of its own, restartable within the scenario. */
export class RestartableTsm {
  readonly dir: string;
  private store?: FileStore;
  /** Channels of the running TSM: freezable, for a crash. */
  freezer?: Freezer;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Replaces the host's TSM by one with a data directory (the state the old one had in memory is not carried). */
  static async start(host: TsmHost): Promise<RestartableTsm> {
    const r = new RestartableTsm(mkdtempSync(path.join(tmpdir(), 'tsmlab-tsm-')));
    await r.replace(host, { stopOld: true });
    return r;
  }

  /** The state file the store writes. */
  get stateFile(): string {
    return path.join(this.dir, 'tsm-state.json');
  }

  /** Stops the TSM properly (running operations finish, the store is closed) and starts it again. */
  restart(host: TsmHost): Promise<void> {
    return this.replace(host, { stopOld: true });
  }

  /**
   * Starts a new TSM after the running one died (see Freezer): the old one is abandoned as it is — not closed,
   * its store not released — as a killed process would leave it.
   */
  async restartAfterCrash(host: TsmHost): Promise<void> {
    if (!this.freezer?.frozen) throw new Error('the central TSM has not crashed');
    await this.freezer.releaseHandles();
    await this.replace(host, { stopOld: false });
  }

  /** Stops the TSM and removes the data directory (end of the scenario). */
  async dispose(host: TsmHost): Promise<void> {
    await host.tsm.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async replace(host: TsmHost, opts: { stopOld: boolean }): Promise<void> {
    const port = host.api.port;
    await host.api.close();
    await letClientsSeeTheClose();
    if (opts.stopOld) await host.tsm.close();
    // A crashed TSM never closed its store: its lock goes as the kernel would drop it with a dead process.
    else this.store?.abandon();
    this.store = new FileStore(this.dir);
    this.freezer = new Freezer((seId) => host.cards.channel(seId));
    // A new process starts its simulated operator networks afresh, as the fleet describes them.
    const gateway = new MnoNetworks(host.fleet.mnos);
    host.tsm = new CentralTsm({ fleet: host.fleet, channels: this.freezer.channels, gateway, clock: host.clock, store: this.store });
    host.api = await startSpApi(host.tsm, { port });
  }
}
