/**
 * Simulated SEs as cards in vpcd's virtual readers, for whoever runs against `--target pcsc` without real
 * cards (the feature suite, tests): put each SE into a slot, wait until pcscd has seen it, hand back the
 * `pcsc:<reader>` target of each SE; on close, pull them all and wait until pcscd has seen the readers empty,
 * so the next card put into the same slot is a fresh insertion.
 */
import type { CardEndpoint } from '../simulator/endpoint.ts';
import { attachVpcd, VPCD_DEFAULT_PORT, type VpcdAttachment } from '../simulator/vpcd.ts';
import { DriverError } from './channel.ts';
import { PcscContext } from './pcsc-context.ts';

export interface VpcdSlot {
  port: number;
  /** pcscd's name for the reader of this slot. */
  reader: string;
}

/**
 * The vpcd slots: from TSMLAB_VPCD_PORTS / TSMLAB_VPCD_READERS (set by test/pcsc/with-pcscd.sh), else the two
 * slots of the vsmartcard-vpcd package's own reader.conf ("Virtual PCD 00 00" / "00 01" on 35963 / 35964).
 */
export function vpcdSlots(env: NodeJS.ProcessEnv = process.env): VpcdSlot[] {
  const ports = env.TSMLAB_VPCD_PORTS?.split(',').map((p) => Number(p.trim()));
  const readers = env.TSMLAB_VPCD_READERS?.split(',').map((r) => r.trim());
  if (ports && readers && ports.length === readers.length && ports.every((p) => Number.isInteger(p) && p > 0)) {
    return ports.map((port, n) => ({ port, reader: readers[n] }));
  }
  return [
    { port: VPCD_DEFAULT_PORT, reader: 'Virtual PCD 00 00' },
    { port: VPCD_DEFAULT_PORT + 1, reader: 'Virtual PCD 00 01' },
  ];
}

export interface VpcdCards {
  /** seId → `pcsc:<reader>` target for openChannel. */
  targets: Record<string, string>;
  /** seId → reader name. */
  readers: Map<string, string>;
  /** Pulls one SE's card out of its reader at once (no waiting): what a hand does mid-command. */
  pull(seId: string): Promise<void>;
  /** Pulls every card and waits until pcscd reports the readers empty; idempotent. */
  close(): Promise<void>;
}

export interface InsertOptions {
  slots?: VpcdSlot[];
  /** Where vpcd listens (default 127.0.0.1). */
  host?: string;
  /** How long to wait for pcscd to see the cards come and go, ms (default 10 s). */
  timeoutMs?: number;
}

/** Puts the SEs into consecutive vpcd slots and resolves once pcscd reports every card present with its ATR. */
export async function insertIntoVpcd(endpoints: CardEndpoint[], opts: InsertOptions = {}): Promise<VpcdCards> {
  const slots = opts.slots ?? vpcdSlots();
  if (endpoints.length > slots.length) {
    throw new DriverError(
      'unavailable',
      `vpcd: ${endpoints.length} SEs but only ${slots.length} reader slots (run under test/pcsc/with-pcscd.sh --readers ${Math.ceil(endpoints.length / 2)})`,
    );
  }
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const ctx = await PcscContext.acquire();
  const attached: { bridge: VpcdAttachment; reader: string }[] = [];
  const readers = new Map<string, string>();
  const targets: Record<string, string> = {};
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await Promise.all(attached.map((a) => a.bridge.close()));
      const names = attached.map((a) => a.reader);
      await ctx.until(() => names.every((n) => ctx.reader(n)?.present === false), timeoutMs, `readers ${names.join(', ')} empty`);
    } finally {
      ctx.release();
    }
  };
  try {
    endpoints.forEach((se, n) => {
      const slot = slots[n];
      attached.push({ bridge: attachVpcd(se, { host: opts.host, port: slot.port }), reader: slot.reader });
      readers.set(se.seId, slot.reader);
      targets[se.seId] = `pcsc:${slot.reader}`;
    });
    const names = attached.map((a) => a.reader);
    const missing = names.filter((n) => !ctx.reader(n));
    if (missing.length) throw new DriverError('unavailable', `vpcd: pcscd has no reader ${missing.map((m) => `"${m}"`).join(', ')} (${ctx.describe() || 'no readers'})`);
    await ctx.until(() => names.every((n) => ctx.reader(n)?.present === true && ctx.reader(n)?.atr !== undefined), timeoutMs, `cards in ${names.join(', ')}`);
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
  const pull = (seId: string) => {
    const n = endpoints.findIndex((e) => e.seId === seId);
    return n < 0 ? Promise.reject(new Error(`vpcd: no SE ${seId} inserted`)) : attached[n].bridge.close();
  };
  return { targets, readers, pull, close };
}
