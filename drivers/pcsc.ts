/**
 * The PC/SC driver: a CardChannel to the card in a reader of pcscd, through the optional `pcsclite` native
 * module (loaded only here and only when used). Registers the `pcsc:` target scheme on import:
 *
 *   pcsc:                 the only reader that holds a card
 *   pcsc:2                the reader at index 2 of pcscd's list
 *   pcsc:Virtual PCD 00 00  the reader of that exact name
 *   pcsc:/PCD 0\d 01/i    the one reader whose name matches the pattern (or a glob: pcsc:*Gemalto*)
 *
 * Every exchange has a deadline; a card pulled mid-command rejects at once with DriverError('removed') (the
 * harness makes that INCONCLUSIVE); 61xx/6Cxx are carried out here (T=0 cards); extended-length commands go
 * through when the reader and card take them.
 */
import { toHex } from '../gp/index.ts';
import { DriverError, type CardChannel, type TransmitOptions } from './channel.ts';
import { DEFAULT_EXCHANGE_TIMEOUT_MS, guarded } from './deadline.ts';
import { registerDriver } from './open.ts';
import { PcscContext, type ReaderEvent, type ReaderInfo } from './pcsc-context.ts';
import { driverErrorOf, ScardCode, scardCodeOf, type NativeReader } from './pcsc-native.ts';
import { exchangeT0 } from './pcsc-t0.ts';

export { PcscContext, parseReaderList, type ReaderEvent, type ReaderInfo } from './pcsc-context.ts';
export { PCSC_INSTALL_HINT, PCSCD_NOT_RUNNING_HINT } from './pcsc-native.ts';

export type ReaderSelector = string | number | RegExp | undefined;

export type Disposition = 'leave' | 'reset' | 'unpower';

export interface PcscOptions {
  /** SCARD_SHARE_EXCLUSIVE (default): no other application can talk to the card while the channel is open. */
  exclusive?: boolean;
  /** Deadline per exchange, ms (default 10 s). */
  timeoutMs?: number;
  /** How long open() waits for a card in the chosen reader, ms (default 0: an empty reader fails at once). */
  waitForCardMs?: number;
  /** Carry out 61xx (GET RESPONSE) and 6Cxx (re-send with Le) here (default true). */
  getResponse?: boolean;
  /**
   * Whether extended-length commands may be sent (default true: tried, and a reader that cannot carry them
   * fails the exchange with a message saying so). false (the card profile lacks `extended-length`) refuses
   * them before anything reaches the card.
   */
  extendedLength?: boolean;
  /**
   * What close() does to the card (default 'leave', like the other drivers: the card keeps its selection and
   * secure channel for the next channel of the same session; 'reset' or 'unpower' start the next one clean).
   */
  disposition?: Disposition;
  signal?: AbortSignal;
}

/** Response buffer for one exchange: a full short answer, or an extended one (65536 data bytes + SW). */
const SHORT_MAX = 258;
const EXTENDED_MAX = 65538;

/** Reads a `pcsc:` target's selector: '' → the only reader with a card, digits → index, /re/ or glob → pattern. */
export function parseReaderSelector(text: string): ReaderSelector {
  const t = text.trim();
  if (t === '') return undefined;
  if (/^\d+$/.test(t)) return Number(t);
  const re = /^\/(.+)\/([a-z]*)$/.exec(t);
  if (re) {
    try {
      return new RegExp(re[1], re[2]);
    } catch (e) {
      throw new DriverError('unavailable', `pcsc: bad reader pattern ${t}: ${(e as Error).message}`);
    }
  }
  if (/[*?]/.test(t)) {
    const body = t.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    return new RegExp(`^${body}$`);
  }
  return t;
}

/** Picks one reader; DriverError('unavailable') naming the readers when the selector fits none or several. */
export function selectReader(readers: ReaderInfo[], selector: ReaderSelector): ReaderInfo {
  const list = () => (readers.length ? readers.map((r) => `${r.index}: "${r.name}"${r.present ? ' (card)' : ''}`).join(', ') : 'none');
  const fail = (why: string): never => {
    throw new DriverError('unavailable', `pcsc: ${why} (readers: ${list()})`);
  };
  if (readers.length === 0) fail('no PC/SC reader is connected');
  if (selector === undefined) {
    const withCard = readers.filter((r) => r.present);
    if (withCard.length === 1) return withCard[0];
    if (readers.length === 1) return readers[0];
    return fail(withCard.length === 0 ? 'no reader holds a card; name one' : `${withCard.length} readers hold a card; name one`);
  }
  if (typeof selector === 'number') {
    return readers.find((r) => r.index === selector) ?? fail(`no reader at index ${selector}`);
  }
  if (typeof selector === 'string') {
    return readers.find((r) => r.name === selector) ?? fail(`no reader named "${selector}"`);
  }
  const matches = readers.filter((r) => selector.test(r.name));
  if (matches.length === 1) return matches[0];
  return fail(matches.length === 0 ? `no reader matches ${selector}` : `${matches.length} readers match ${selector}`);
}

/** The readers pcscd knows, with card presence and ATRs. Opens and closes its own context. */
export async function listReaders(): Promise<ReaderInfo[]> {
  const ctx = await PcscContext.acquire();
  try {
    return ctx.readers();
  } finally {
    ctx.release();
  }
}

function nativeCall<T>(fn: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      fn((err, value) => (err ? reject(err) : resolve(value)));
    } catch (e) {
      reject(e);
    }
  });
}

export class PcscChannel implements CardChannel {
  readonly name: string;
  private native: NativeReader;
  private protocol = 0;
  private closed = false;
  private removedError: DriverError | undefined;
  private removal!: Promise<never>;
  private markRemoved!: (e: DriverError) => void;
  /** Native work in flight, in order: exchanges never overlap on the card, and a late one never jumps the queue. */
  private tail: Promise<unknown> = Promise.resolve();
  private readonly offEvents: () => void;
  private readonly removedListeners = new Set<(reason: string) => void>();
  private released: Promise<void> | undefined;

  private constructor(
    private readonly ctx: PcscContext,
    readonly reader: string,
    private readonly opts: PcscOptions,
  ) {
    this.name = `pcsc:${reader}`;
    this.native = ctx.borrowReader(reader);
    this.armRemoval();
    this.offEvents = ctx.on((e) => this.onReaderEvent(e));
  }

  /**
   * Connects to the card in the reader chosen by `selector` (see parseReaderSelector for the text forms).
   * DriverError('unavailable') when pcsclite cannot load, pcscd is not running, the reader is not found, the
   * reader is empty, or another application holds the card exclusively.
   */
  static async open(selector: ReaderSelector | string, opts: PcscOptions = {}): Promise<PcscChannel> {
    const sel = typeof selector === 'string' ? parseReaderSelector(selector) : selector;
    const ctx = await PcscContext.acquire();
    let channel: PcscChannel | undefined;
    try {
      const info = selectReader(ctx.readers(), sel);
      if (!info.present) {
        const wait = opts.waitForCardMs ?? 0;
        if (wait <= 0) throw new DriverError('unavailable', `pcsc: no card in reader "${info.name}"`);
        await ctx.until(() => ctx.reader(info.name)?.present === true, wait, `card in "${info.name}"`, opts.signal);
      }
      channel = new PcscChannel(ctx, info.name, opts);
      await channel.connect();
      return channel;
    } catch (e) {
      if (channel) {
        channel.offEvents();
        ctx.returnReader(channel.native);
      }
      ctx.release();
      throw driverErrorOf(e, `pcsc: connect to ${describeSelector(sel)}`);
    }
  }

  /** T=0 or T=1, as negotiated with the card. */
  get activeProtocol(): 'T=0' | 'T=1' | 'none' {
    if (this.protocol === this.native.SCARD_PROTOCOL_T0) return 'T=0';
    if (this.protocol === this.native.SCARD_PROTOCOL_T1) return 'T=1';
    return 'none';
  }

  /** Whether the card was removed (or reset by someone else) since the channel opened. */
  get removed(): boolean {
    return this.removedError !== undefined;
  }

  /** Called once when the card leaves the reader; returns the unsubscribe function. */
  onRemoved(listener: (reason: string) => void): () => void {
    this.removedListeners.add(listener);
    return () => this.removedListeners.delete(listener);
  }

  private armRemoval(): void {
    this.removal = new Promise<never>((_, reject) => {
      this.markRemoved = reject;
    });
    // Nobody may be waiting when the card goes: that is not an unhandled failure.
    this.removal.catch(() => undefined);
  }

  private onReaderEvent(e: ReaderEvent): void {
    if (this.closed || this.removedError) return;
    if ((e.type === 'card-removed' || e.type === 'reader-removed') && e.reader === this.reader) {
      const why = e.type === 'card-removed' ? 'the card was removed from the reader' : 'the reader was disconnected';
      this.removedError = new DriverError('removed', `${this.name}: ${why}`);
      this.markRemoved(this.removedError);
      this.offEvents();
      void this.releaseNative('leave');
      for (const l of [...this.removedListeners]) {
        try {
          l(why);
        } catch {
          // A listener's failure is its own business.
        }
      }
    }
  }

  private async connect(): Promise<void> {
    const n = this.native;
    const share = this.opts.exclusive === false ? n.SCARD_SHARE_SHARED : n.SCARD_SHARE_EXCLUSIVE;
    this.protocol = await nativeCall<number>((cb) =>
      n.connect({ share_mode: share, protocol: n.SCARD_PROTOCOL_T0 | n.SCARD_PROTOCOL_T1 }, cb),
    );
  }

  private disconnect(disposition: Disposition): Promise<void> {
    const n = this.native;
    const d = disposition === 'leave' ? n.SCARD_LEAVE_CARD : disposition === 'unpower' ? n.SCARD_UNPOWER_CARD : n.SCARD_RESET_CARD;
    return nativeCall<void>((cb) => n.disconnect(d, cb));
  }

  private usable(what: string): DriverError | undefined {
    if (this.closed) return new DriverError('closed', `${this.name}: ${what} after close`);
    return this.removedError;
  }

  /** Runs native work after everything queued before it, racing the card's removal. */
  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return Promise.race([run, this.removal]);
  }

  private rawTransmit(command: Uint8Array): Promise<Uint8Array> {
    const n = this.native;
    const extended = isExtended(command);
    const size = extended ? EXTENDED_MAX : SHORT_MAX;
    return nativeCall<Buffer>((cb) => n.transmit(Buffer.from(command), size, this.protocol, cb)).then(
      (r) => {
        // A reader that got no answer at all (vpcd when the card left mid-command) returns zero bytes.
        if (r.length === 0) throw new DriverError('removed', `${this.name}: the card gave no answer (removed mid-command)`);
        return Uint8Array.from(r);
      },
      (e: unknown) => {
        const code = scardCodeOf(e);
        if (extended && (code === ScardCode.E_INSUFFICIENT_BUFFER || code === ScardCode.E_INVALID_PARAMETER)) {
          throw new DriverError('protocol', `${this.name}: the reader does not carry extended-length APDUs (${String((e as Error).message)})`);
        }
        throw driverErrorOf(e, `${this.name}: transmit ${toHex(command.subarray(0, 4))}`);
      },
    );
  }

  transmit(command: Uint8Array, opts?: TransmitOptions): Promise<Uint8Array> {
    const bad = this.usable('transmit');
    if (bad) return Promise.reject(bad);
    if (command.length < 4) return Promise.reject(new DriverError('protocol', `${this.name}: a command has at least 4 bytes`));
    if (this.opts.extendedLength === false && isExtended(command)) {
      return Promise.reject(new DriverError('protocol', `${this.name}: extended-length command refused: the card profile does not claim extended-length`));
    }
    const cmd = Uint8Array.from(command);
    return guarded(opts, this.opts.timeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS, `${this.name} transmit`, (live) =>
      this.enqueue(async () => {
        if (!live()) throw new DriverError('aborted', `${this.name}: transmit: cancelled before it was sent`);
        const bad = this.usable('transmit');
        if (bad) throw bad;
        if (this.opts.getResponse === false) return this.rawTransmit(cmd);
        return exchangeT0(cmd, (c) => this.rawTransmit(c), { live });
      }),
    );
  }

  atr(opts?: TransmitOptions): Promise<Uint8Array> {
    const bad = this.usable('atr');
    if (bad) return Promise.reject(bad);
    return guarded(opts, this.opts.timeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS, `${this.name} atr`, async () => {
      const info = this.ctx.reader(this.reader);
      if (!info?.present || !info.atr) throw new DriverError('removed', `${this.name}: no card in the reader`);
      return Uint8Array.from(info.atr);
    });
  }

  /** Warm reset (SCARD_RESET_CARD) or cold (SCARD_UNPOWER_CARD), then connects again; resolves the ATR. */
  reset(cold = false, opts?: TransmitOptions): Promise<Uint8Array> {
    const bad = this.usable('reset');
    if (bad) return Promise.reject(bad);
    return guarded(opts, this.opts.timeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS, `${this.name} reset`, () =>
      this.enqueue(async () => {
        try {
          await this.disconnect(cold ? 'unpower' : 'reset');
          await this.connect();
        } catch (e) {
          throw driverErrorOf(e, `${this.name}: ${cold ? 'cold' : 'warm'} reset`);
        }
        const info = this.ctx.reader(this.reader);
        if (!info?.atr) throw new DriverError('removed', `${this.name}: no ATR after reset`);
        return Uint8Array.from(info.atr);
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.offEvents();
    this.markRemoved(new DriverError('closed', `${this.name}: closed`));
    await this.releaseNative(this.removedError ? 'leave' : (this.opts.disposition ?? 'leave'));
  }

  /**
   * Frees the PC/SC handle and context once (on close, or as soon as the card is gone: a dead channel must not
   * keep pcsclite's watcher threads, and with them the process, alive when nobody closes it).
   */
  private releaseNative(disposition: Disposition): Promise<void> {
    this.released ??= (async () => {
      try {
        await this.tail;
        if (this.native.connected) await this.disconnect(disposition);
      } catch {
        // The card went away or pcscd stopped: there is nothing left to release.
      } finally {
        this.ctx.returnReader(this.native);
        this.ctx.release();
      }
    })();
    return this.released;
  }
}

/** Extended length: a body whose first byte is 00 followed by at least two more (ISO/IEC 7816-4 §5.1). */
function isExtended(command: Uint8Array): boolean {
  return command.length > 6 && command[4] === 0;
}

function describeSelector(sel: ReaderSelector): string {
  if (sel === undefined) return 'the reader with a card';
  if (typeof sel === 'number') return `reader #${sel}`;
  if (typeof sel === 'string') return `"${sel}"`;
  return `reader ${sel}`;
}

registerDriver('pcsc', (t, opts) => {
  const own = (opts.driver?.pcsc ?? {}) as PcscOptions;
  return PcscChannel.open(t.rest, { timeoutMs: opts.timeoutMs, signal: opts.signal, ...own });
});
