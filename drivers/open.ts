/**
 * openChannel(target): one entry point for every driver. Targets are "<scheme>:<rest>": `inproc` or
 * `inproc:<seId>`, `ws://HOST:PORT/se/<seId>` (and wss://), and whatever other drivers register, e.g.
 * `pcsc:<reader>` (drivers/pcsc.ts registers itself on import; openChannel imports it on first use).
 */
import type { CardEndpoint } from '../gp/index.ts';
import { DriverError, type CardChannel } from './channel.ts';
import { InProcessChannel } from './inproc.ts';
import { traced, type TraceOptions } from './traced.ts';
import { WebSocketChannel } from './websocket.ts';

export interface OpenChannelOptions {
  /** The simulated SE for `inproc`, or several to pick from by `inproc:<seId>`. */
  endpoint?: CardEndpoint;
  endpoints?: Iterable<CardEndpoint>;
  /** Default deadline per exchange, ms. */
  timeoutMs?: number;
  /** Cancels opening. */
  signal?: AbortSignal;
  /** Trace options for the traced() wrapper; false returns the bare driver. Default { from: 'harness' }. */
  trace?: TraceOptions | false;
  /** Options for registered drivers, by scheme (e.g. { pcsc: { exclusive: true } }). */
  driver?: Record<string, unknown>;
}

export interface DriverTarget {
  /** The whole target string. */
  target: string;
  scheme: string;
  /** What follows "<scheme>:" (for URLs, the part after "scheme:"). */
  rest: string;
}

export type DriverFactory = (target: DriverTarget, opts: OpenChannelOptions) => Promise<CardChannel>;

const factories = new Map<string, DriverFactory>();

/** Drivers whose module registers itself when imported; loaded lazily so optional native packages stay optional. */
const lazyModules: Record<string, string> = { pcsc: './pcsc.ts' };

/** Adds (or replaces) the driver for `scheme`. */
export function registerDriver(scheme: string, factory: DriverFactory): void {
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) throw new Error(`not a driver scheme: "${scheme}"`);
  factories.set(scheme, factory);
}

export function registeredSchemes(): string[] {
  return [...factories.keys()].sort();
}

export function parseTarget(target: string): DriverTarget {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*)(?::(.*))?$/s.exec(target.trim());
  if (!m) throw new DriverError('unavailable', `not a channel target: "${target}" (try inproc, ws://HOST:PORT/se/ID or pcsc:READER)`);
  return { target: target.trim(), scheme: m[1].toLowerCase(), rest: m[2] ?? '' };
}

export async function openChannel(target: string, opts: OpenChannelOptions = {}): Promise<CardChannel> {
  const t = parseTarget(target);
  let factory = factories.get(t.scheme);
  if (!factory && lazyModules[t.scheme]) {
    const specifier = lazyModules[t.scheme];
    try {
      await import(specifier);
    } catch (e) {
      throw new DriverError('unavailable', `the ${t.scheme} driver is not available in this build: ${(e as Error).message}`);
    }
    factory = factories.get(t.scheme);
  }
  if (!factory) {
    throw new DriverError('unavailable', `no driver for "${t.scheme}:" targets (known: ${registeredSchemes().join(', ')})`);
  }
  const channel = await factory(t, opts);
  return opts.trace === false ? channel : traced(channel, opts.trace ?? {});
}

registerDriver('inproc', async (t, opts) => {
  const all = [...(opts.endpoints ?? []), ...(opts.endpoint ? [opts.endpoint] : [])];
  const seId = t.rest;
  const endpoint = seId ? all.find((e) => e.seId === seId) : all.length === 1 ? all[0] : undefined;
  if (!endpoint) {
    const why = all.length === 0 ? 'no endpoint given' : seId ? `no SE "${seId}" among ${all.map((e) => e.seId).join(', ')}` : 'several endpoints: say inproc:<seId>';
    throw new DriverError('unavailable', `${t.target}: ${why}`);
  }
  return new InProcessChannel(endpoint, { timeoutMs: opts.timeoutMs });
});

const ws: DriverFactory = (t, opts) => WebSocketChannel.connect(t.target, { timeoutMs: opts.timeoutMs, signal: opts.signal });
registerDriver('ws', ws);
registerDriver('wss', ws);
