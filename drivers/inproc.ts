/** A CardChannel straight onto a CardEndpoint in this process: no sockets, same rules as the other drivers. */
import type { CardEndpoint } from '../gp/index.ts';
import { DriverError, type CardChannel, type TransmitOptions } from './channel.ts';
import { DEFAULT_EXCHANGE_TIMEOUT_MS, guarded } from './deadline.ts';
import type { PowerControl } from './extensions.ts';

export interface InProcessOptions {
  /** Default deadline per exchange, ms. */
  timeoutMs?: number;
  /** Simulated transport latency per exchange, ms (unset or 0: answer on the next turn of the event loop). */
  latencyMs?: number;
}

export class InProcessChannel implements CardChannel, PowerControl {
  readonly name: string;
  private closed = false;

  constructor(
    private readonly endpoint: CardEndpoint,
    private readonly opts: InProcessOptions = {},
  ) {
    this.name = `inproc:${endpoint.seId}`;
  }

  transmit(command: Uint8Array, opts?: TransmitOptions): Promise<Uint8Array> {
    return this.exchange('transmit', opts, (e) => {
      // Transports answer an unpowered card with 6F00 (CardEndpoint contract); never zero bytes.
      if (!e.powered) return Uint8Array.of(0x6f, 0x00);
      const r = e.process(command.slice());
      return r.length >= 2 ? r : Uint8Array.of(0x6f, 0x00);
    });
  }

  atr(opts?: TransmitOptions): Promise<Uint8Array> {
    return this.exchange('atr', opts, (e) => e.atr());
  }

  reset(cold = false, opts?: TransmitOptions): Promise<Uint8Array> {
    return this.exchange('reset', opts, (e) => e.reset(cold));
  }

  power(on: boolean, opts?: TransmitOptions): Promise<Uint8Array | undefined> {
    return this.exchange('power', opts, (e) => {
      if (on) return e.powerOn();
      e.powerOff();
      return undefined;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private exchange<T>(what: string, opts: TransmitOptions | undefined, act: (e: CardEndpoint) => T): Promise<T> {
    if (this.closed) return Promise.reject(new DriverError('closed', `${this.name}: ${what} after close`));
    return guarded(opts, this.opts.timeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS, `${this.name} ${what}`, (live) =>
      // Answer asynchronously, like a real transport, so callers cannot come to depend on same-tick answers.
      // setImmediate, not setTimeout(0): Node clamps a zero timer to about 1 ms, ten times a WebSocket round trip.
      new Promise<T>((resolve, reject) => {
        const answer = () => {
          // Cancelled or timed out before the card saw it: the card must not act on it.
          if (!live()) return;
          if (this.closed) return reject(new DriverError('closed', `${this.name}: closed during ${what}`));
          try {
            resolve(act(this.endpoint));
          } catch (e) {
            reject(new DriverError('protocol', `${this.name}: the card failed on ${what}: ${(e as Error).message}`));
          }
        };
        const latencyMs = this.opts.latencyMs ?? 0;
        if (latencyMs > 0) setTimeout(answer, latencyMs);
        else setImmediate(answer);
      }),
    );
  }
}
