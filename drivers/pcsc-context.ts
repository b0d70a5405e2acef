/**
 * One PC/SC context: the reader list and, per reader, whether a card is in and its ATR, kept current from
 * pcscd's status notifications; card inserted/removed events. One process-wide context (acquire/release).
 *
 * pcsclite runs a watcher thread per reader whose handle keeps Node alive until the reader is closed, and a
 * reader closed while its thread is between two status waits leaves that handle open for good (the thread
 * ends without its final notification) — the process then never exits. So watchers are few and long-lived:
 * one context for everything, closed only after it has been unused for a moment and its readers have been
 * quiet. pcsclite keeps one connection per reader object and two channels must never share one, so
 * connections borrow reader objects of their own (borrowReader/returnReader). Those have no watcher: a
 * watcher's notification takes the reader's lock on the main thread, and a transmit holds that lock while it
 * waits for the card — with a simulated card answering on the main thread (vpcd bridge) that deadlocks. A
 * reader object without a watcher must never be freed (pcsclite's destructor then joins a thread that was
 * never started), so they live in a process-wide pool and are reused.
 */
import { toHex } from '../gp/index.ts';
import { DriverError } from './channel.ts';
import { driverErrorOf, loadPcsclite, type NativeContext, type NativeReader } from './pcsc-native.ts';

export interface ReaderInfo {
  /** Position in the reader list (pcscd's order). */
  index: number;
  name: string;
  /** A card is in the reader (it may still be mute). */
  present: boolean;
  /** The card answered its reset but does not respond (SCARD_STATE_MUTE). */
  mute: boolean;
  /** Another application holds the card exclusively. */
  exclusive: boolean;
  /** Another application is connected to the card. */
  inUse: boolean;
  atr?: Uint8Array;
}

export type ReaderEvent =
  | { type: 'reader-added'; reader: string }
  | { type: 'reader-removed'; reader: string }
  | { type: 'card-inserted'; reader: string; atr: Uint8Array }
  | { type: 'card-removed'; reader: string }
  | { type: 'error'; error: DriverError };

interface Tracked {
  native: NativeReader;
  info: Omit<ReaderInfo, 'index'>;
  /** Set once pcscd reported this reader's state the first time. */
  known: boolean;
}

const FIRST_LISTING_MS = 5000;
/** How long an unused shared context stays open (a next scenario usually comes sooner). */
const LINGER_MS = 300;
/** Quiet time before watcher threads are stopped (see the header). */
const QUIET_MS = 250;

/** Splits PC/SC's multi-string reader list ("A\0B\0\0"). */
export function parseReaderList(data: Buffer | Uint8Array | undefined): string[] {
  if (!data || data.length === 0) return [];
  return Buffer.from(data)
    .toString('utf8')
    .split('\0')
    .filter((s) => s.length > 0);
}

/** Connection reader objects, idle by reader name; every one ever made is kept referenced (see the header). */
const idleReaders = new Map<string, NativeReader[]>();
const everyConnectionReader: NativeReader[] = [];

export class PcscContext {
  private readonly tracked = new Map<string, Tracked>();
  private order: string[] = [];
  private readonly listeners = new Set<(e: ReaderEvent) => void>();
  /** Waiters re-checked on every status report, including those that are no public event. */
  private readonly pokes = new Set<() => void>();
  private refs = 0;
  private closed = false;
  private lingering: NodeJS.Timeout | undefined;
  /** When the last status report arrived (performance.now()). */
  private lastStatusAt = 0;
  private failure: DriverError | undefined;
  private listed!: Promise<void>;

  private constructor(private readonly native: NativeContext) {}

  /** Opens a context on pcscd. DriverError('unavailable') when pcsclite cannot load or pcscd is not running. */
  static async open(opts: { timeoutMs?: number } = {}): Promise<PcscContext> {
    const factory = loadPcsclite();
    let native: NativeContext;
    try {
      native = factory();
    } catch (e) {
      throw driverErrorOf(e, 'PC/SC');
    }
    const ctx = new PcscContext(native);
    ctx.watch();
    try {
      await ctx.firstListing(opts.timeoutMs ?? FIRST_LISTING_MS);
    } catch (e) {
      await ctx.close();
      throw e;
    }
    return ctx;
  }

  private static shared: PcscContext | undefined;
  private static sharing: Promise<PcscContext> | undefined;

  /** The process-wide context, opened on first use; pair every acquire() with release(). */
  static async acquire(): Promise<PcscContext> {
    const live = PcscContext.shared;
    if (live && !live.closed && !live.failure) {
      clearTimeout(live.lingering);
      live.lingering = undefined;
      live.refs++;
      return live;
    }
    PcscContext.sharing ??= PcscContext.open().finally(() => {
      PcscContext.sharing = undefined;
    });
    const ctx = await PcscContext.sharing;
    PcscContext.shared = ctx;
    ctx.refs++;
    return ctx;
  }

  /** Gives back an acquire(); the context closes once nobody has held it for a moment. */
  release(): void {
    if (--this.refs > 0 || this.closed) return;
    clearTimeout(this.lingering);
    this.lingering = setTimeout(() => {
      this.lingering = undefined;
      if (this.refs > 0) return;
      if (PcscContext.shared === this) PcscContext.shared = undefined;
      void this.close();
    }, LINGER_MS);
  }

  /**
   * Closes the context (one from open(), or the shared one when nobody holds it); idempotent. Waits until no
   * reader has reported for a while, so every watcher thread is parked in its wait and ends cleanly.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    if (PcscContext.shared === this && this.refs > 0) throw new Error('PcscContext.close() on the shared context while in use: use release()');
    if (PcscContext.shared === this) PcscContext.shared = undefined;
    for (;;) {
      const quietFor = performance.now() - this.lastStatusAt;
      if (quietFor >= QUIET_MS) break;
      await new Promise((r) => setTimeout(r, QUIET_MS - quietFor));
    }
    this.shutdown();
  }

  /** A pcsclite reader object for one connection to `name`; give it back disconnected with returnReader. */
  borrowReader(name: string): NativeReader {
    this.check();
    const t = this.tracked.get(name);
    if (!t) throw new DriverError('removed', `PC/SC: reader "${name}" is gone`);
    const pooled = idleReaders.get(name)?.pop();
    if (pooled) return pooled;
    const Reader = Object.getPrototypeOf(t.native).constructor as new (name: string) => NativeReader;
    const reader = new Reader(name);
    everyConnectionReader.push(reader);
    return reader;
  }

  /** Takes back a borrowed reader object for the next connection (only when cleanly disconnected). */
  returnReader(reader: NativeReader): void {
    if (reader.connected) return;
    const list = idleReaders.get(reader.name) ?? [];
    if (!list.includes(reader)) list.push(reader);
    idleReaders.set(reader.name, list);
  }

  private watch(): void {
    let resolveListed!: () => void;
    let rejectListed!: (e: Error) => void;
    this.listed = new Promise<void>((res, rej) => {
      resolveListed = res;
      rejectListed = rej;
    });
    this.native.on('reader', (r) => this.addReader(r));
    this.native.on('error', (e) => {
      const err = driverErrorOf(e, 'PC/SC reader list');
      this.failure = err;
      rejectListed(err);
      this.poke();
      this.tell({ type: 'error', error: err });
    });
    // pcsclite calls start() on the next tick and reports each reader-list change through its callback; hooking
    // the call is the one way to learn that a listing (even an empty one) is complete.
    const start = this.native.start;
    this.native.start = (cb) =>
      start.call(this.native, (err, data) => {
        cb(err, data);
        if (err) return;
        const names = parseReaderList(data);
        for (const gone of this.order.filter((n) => !names.includes(n))) this.dropReader(gone);
        this.order = names.filter((n) => this.tracked.has(n));
        void this.statesKnown(names).then(resolveListed, rejectListed);
      });
  }

  private async statesKnown(names: string[]): Promise<void> {
    await this.until(() => names.every((n) => !this.tracked.has(n) || this.tracked.get(n)!.known), FIRST_LISTING_MS, 'reader states');
  }

  private async firstListing(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DriverError('timeout', `PC/SC: no reader list from pcscd within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.listed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private addReader(native: NativeReader): void {
    const t: Tracked = {
      native,
      known: false,
      info: { name: native.name, present: false, mute: false, exclusive: false, inUse: false },
    };
    this.tracked.set(native.name, t);
    if (!this.order.includes(native.name)) this.order.push(native.name);
    native.on('error', (e) => this.tell({ type: 'error', error: driverErrorOf(e, `PC/SC reader "${native.name}"`) }));
    native.on('end', () => this.dropReader(native.name));
    native.on('status', (s) => {
      this.lastStatusAt = performance.now();
      const was = t.info.present;
      const present = (s.state & native.SCARD_STATE_PRESENT) !== 0;
      t.info = {
        name: native.name,
        present,
        mute: (s.state & native.SCARD_STATE_MUTE) !== 0,
        exclusive: (s.state & native.SCARD_STATE_EXCLUSIVE) !== 0,
        inUse: (s.state & native.SCARD_STATE_INUSE) !== 0,
        atr: present && s.atr && s.atr.length > 0 ? Uint8Array.from(s.atr) : undefined,
      };
      const first = !t.known;
      t.known = true;
      if (present && (!was || first) && t.info.atr) this.tell({ type: 'card-inserted', reader: native.name, atr: t.info.atr });
      else if (!present && was) this.tell({ type: 'card-removed', reader: native.name });
      this.poke();
    });
    this.tell({ type: 'reader-added', reader: native.name });
  }

  private dropReader(name: string): void {
    const t = this.tracked.get(name);
    if (!t) return;
    this.tracked.delete(name);
    this.order = this.order.filter((n) => n !== name);
    if (t.info.present) this.tell({ type: 'card-removed', reader: name });
    this.tell({ type: 'reader-removed', reader: name });
  }

  private poke(): void {
    for (const p of [...this.pokes]) p();
  }

  private tell(e: ReaderEvent): void {
    this.poke();
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // A listener's failure is its own business.
      }
    }
  }

  /** Subscribes to reader and card events; returns the unsubscribe function. */
  on(listener: (e: ReaderEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  readers(): ReaderInfo[] {
    this.check();
    return this.order.flatMap((name, index) => {
      const t = this.tracked.get(name);
      return t ? [{ index, ...t.info }] : [];
    });
  }

  reader(name: string): ReaderInfo | undefined {
    return this.readers().find((r) => r.name === name);
  }

  /** Resolves when `test()` holds, checked after every event; DriverError('timeout') after timeoutMs. */
  until(test: () => boolean, timeoutMs: number, what: string, signal?: AbortSignal): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const finish = (e?: Error) => {
        clearTimeout(timer);
        this.pokes.delete(check);
        signal?.removeEventListener('abort', onAbort);
        if (e) reject(e);
        else resolve();
      };
      const check = () => {
        if (this.failure) finish(this.failure);
        else if (this.closed) finish(new DriverError('closed', `PC/SC: context closed while waiting for ${what}`));
        else if (test()) finish();
      };
      const onAbort = () => finish(new DriverError('aborted', `PC/SC: waiting for ${what}: aborted`));
      this.pokes.add(check);
      const timer = setTimeout(() => finish(new DriverError('timeout', `PC/SC: no ${what} within ${timeoutMs} ms`)), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private check(): void {
    if (this.closed) throw new DriverError('closed', 'PC/SC context is closed');
    if (this.failure) throw this.failure;
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.poke();
    for (const r of [...this.tracked.values()].map((t) => t.native)) {
      r.removeAllListeners('status');
      try {
        r.close();
      } catch {
        // Closing a reader whose watcher already ended is harmless.
      }
    }
    this.tracked.clear();
    this.listeners.clear();
    try {
      this.native.close();
    } catch {
      // Same for the context.
    }
  }

  /** Short text for logs: "Virtual PCD 00 00 [3B80800101]". */
  describe(): string {
    return this.readers()
      .map((r) => `${r.name}${r.atr ? ` [${toHex(r.atr)}]` : r.present ? ' [card]' : ' [empty]'}`)
      .join(', ');
  }
}
