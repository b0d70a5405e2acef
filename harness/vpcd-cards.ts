/**
 * Simulated SEs as cards in vpcd's virtual readers, for whoever runs against `--target pcsc` without real
 * cards (the feature suite, tests): put each SE into a slot, wait until pcscd has seen it, hand back the
 * `pcsc:<reader>` target of each SE; on close, pull them all and wait until pcscd has seen the readers empty,
 * so the next card put into the same slot is a fresh insertion. A slot holds one card at a time across
 * processes (parallel test files, Cucumber workers): slots are taken with lock files and waited for.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CardEndpoint } from '../gp/index.ts';
import { attachVpcd, VPCD_DEFAULT_PORT, type VpcdAttachment } from '../simulator/index.ts';
import { processAlive } from '../trace/index.ts';
import { DriverError } from '../drivers/index.ts';
import { PcscContext } from '../drivers/pcsc-context.ts';

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
  /** Exactly these slots, in order (default: the first free ones of vpcdSlots()). */
  slots?: VpcdSlot[];
  /** How long to wait for slots other processes hold, ms (default 120 s). */
  slotWaitMs?: number;
  /** Where vpcd listens (default 127.0.0.1). */
  host?: string;
  /** How long to wait for pcscd to see the cards come and go, ms (default 10 s). */
  timeoutMs?: number;
}

/** Puts the SEs into consecutive vpcd slots and resolves once pcscd reports every card present with its ATR. */
export async function insertIntoVpcd(endpoints: CardEndpoint[], opts: InsertOptions = {}): Promise<VpcdCards> {
  const all = opts.slots ?? vpcdSlots();
  if (endpoints.length > all.length) {
    throw new DriverError(
      'unavailable',
      `vpcd: ${endpoints.length} SEs but only ${all.length} reader slots (run under test/pcsc/with-pcscd.sh --readers ${Math.ceil(endpoints.length / 2)})`,
    );
  }
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const held = await takeSlots(all, endpoints.length, !opts.slots, opts.slotWaitMs ?? 120_000);
  const slots = held.map((h) => h.slot);
  let ctx: PcscContext;
  try {
    ctx = await PcscContext.acquire();
  } catch (e) {
    for (const h of held) h.release();
    throw e;
  }
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
      await ctx.until(() => names.every((n) => ctx.reader(n)?.present !== true), timeoutMs, `readers ${names.join(', ')} empty`);
    } finally {
      ctx.release();
      for (const h of held) h.release();
    }
  };
  try {
    const names = slots.map((s) => s.reader);
    const missing = names.filter((n) => !ctx.reader(n));
    if (missing.length) throw new DriverError('unavailable', `vpcd: pcscd has no reader ${missing.map((m) => `"${m}"`).join(', ')} (${ctx.describe() || 'no readers'})`);
    endpoints.forEach((se, n) => {
      const slot = slots[n];
      attached.push({ bridge: attachVpcd(se, { host: opts.host, port: slot.port }), reader: slot.reader });
      readers.set(se.seId, slot.reader);
      targets[se.seId] = `pcsc:${slot.reader}`;
    });
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

// ------------------------------------------------------------------------------------------------ slot locks

interface HeldSlot {
  slot: VpcdSlot;
  release(): void;
}

/** Lock files live next to the private pcscd's socket inside with-pcscd.sh (a private /run), else in tmp. */
function lockFile(port: number): string {
  const dir = process.env.TSMLAB_PCSCD_NS === '1' ? '/run/pcscd' : tmpdir();
  return path.join(dir, `tsmlab-vpcd-${port}.lock`);
}

function tryLock(slot: VpcdSlot): HeldSlot | undefined {
  const file = lockFile(slot.port);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return {
        slot,
        release: () => {
          if (released) return;
          released = true;
          try {
            unlinkSync(file);
          } catch {
            // Already gone.
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A lock left by a process that died does not hold the slot.
      let owner = NaN;
      try {
        owner = Number(readFileSync(file, 'utf8'));
      } catch {
        continue;
      }
      if (Number.isInteger(owner) && owner > 0 && processAlive(owner)) return undefined;
      try {
        unlinkSync(file);
      } catch {
        // Someone else cleaned it up first.
      }
    }
  }
  return undefined;
}

async function takeSlots(all: VpcdSlot[], count: number, anyFree: boolean, waitMs: number): Promise<HeldSlot[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const held: HeldSlot[] = [];
    const wanted = anyFree ? all : all.slice(0, count);
    for (const slot of wanted) {
      if (held.length === count) break;
      const h = tryLock(slot);
      if (h) held.push(h);
      else if (!anyFree) break;
    }
    if (held.length === count) return held;
    for (const h of held) h.release();
    if (Date.now() > deadline) {
      throw new DriverError('timeout', `vpcd: ${count} free reader slot(s) not available within ${waitMs} ms (held by other processes)`);
    }
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
  }
}
