/**
 * `npm run bench`: APDU round trips per second — plain and under an SCP03 level-33 channel — in-process and over
 * WebSocket, against the real simulator. Prints a table; asserts nothing (these machines are shared and noisy).
 */
import { openChannel, type CardChannel } from '../drivers/index.ts';
import { encodeCommand, fromHex } from '../gp/index.ts';
import { createSimulatedSe, defaultSeSpec, startSimulator, DEFAULT_ISD_AID } from '../simulator/index.ts';
import { benchSecure } from './secure.ts';

const DURATION_MS = Number(process.env.BENCH_MS ?? 2000);

export interface Row {
  case: string;
  transport: string;
  roundTrips: number;
  perSecond: number;
  meanMs: number;
}

/** Runs `exchange` repeatedly for DURATION_MS after a short warm-up. */
export async function measure(name: string, transport: string, exchange: () => Promise<void>): Promise<Row> {
  for (let i = 0; i < 50; i++) await exchange();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < DURATION_MS) {
    await exchange();
    n++;
  }
  const ms = performance.now() - start;
  return { case: name, transport, roundTrips: n, perSecond: (n * 1000) / ms, meanMs: ms / n };
}

async function plain(channel: CardChannel, transport: string): Promise<Row> {
  const select = encodeCommand({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: fromHex(DEFAULT_ISD_AID), le: 256 });
  return measure('plain SELECT', transport, async () => {
    const r = await channel.transmit(select);
    if (r[r.length - 2] !== 0x90) throw new Error('SELECT failed');
  });
}

async function main(): Promise<void> {
  const spec = defaultSeSpec();
  const rows: Row[] = [];

  const inproc = await openChannel('inproc', { endpoint: createSimulatedSe(spec), trace: false });
  rows.push(await plain(inproc, 'in-process'));
  rows.push(await benchSecure(inproc, 'in-process', measure));
  await inproc.close();

  const sim = await startSimulator({ fleet: { mnos: [], serviceProviders: [], ses: [spec] }, createSe: (s) => createSimulatedSe(s) });
  const ws = await openChannel(sim.urls[spec.seId], { trace: false });
  rows.push(await plain(ws, 'WebSocket'));
  rows.push(await benchSecure(ws, 'WebSocket', measure));
  await ws.close();
  await sim.close();

  const head = ['case', 'transport', 'round trips', 'per second', 'mean ms'];
  const table = rows.map((r) => [r.case, r.transport, String(r.roundTrips), r.perSecond.toFixed(0), r.meanMs.toFixed(3)]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const t of table) console.log(line(t));
}

await main();
