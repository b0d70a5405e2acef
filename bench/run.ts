/**
 * `npm run bench`: APDU round trips per second — plain and under an SCP03 level-33 channel — in-process and over
 * WebSocket, against the real simulator. Each row stands beside its ceiling measured in the same run (the card
 * model with no transport; a bare ws echo) and, where one is set, its target. Prints a table; asserts nothing
 * (these machines are shared and noisy).
 */
import { openChannel, type CardChannel } from '../drivers/index.ts';
import { encodeCommand, fromHex } from '../gp/index.ts';
import { createSimulatedSe, defaultSeSpec, startSimulator, DEFAULT_ISD_AID } from '../simulator/index.ts';
import { benchProcess, benchWsEcho } from './ceilings.ts';
import { benchSecure } from './secure.ts';

const DURATION_MS = Number(process.env.BENCH_MS ?? 2000);
const WARM_UP_MS = Math.min(1000, DURATION_MS / 2);

export interface Row {
  case: string;
  transport: string;
  roundTrips: number;
  perSecond: number;
  meanMs: number;
}

/** Runs `exchange` repeatedly for DURATION_MS after a warm-up. */
export async function measure(name: string, transport: string, exchange: () => Promise<void>): Promise<Row> {
  // Warm up by time, not count: the card model runs several times faster once the JIT has compiled it.
  const warm = performance.now();
  while (performance.now() - warm < WARM_UP_MS) await exchange();
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

/** In-process plain SELECT ran at 757/s when answers waited on setTimeout(0); the target is ten times that. */
const TARGETS: Record<string, number> = { 'plain SELECT|in-process': 7570 };

interface Line {
  row: Row;
  ceiling?: Row;
}

async function main(): Promise<void> {
  const spec = defaultSeSpec();
  const lines: Line[] = [];
  const select = encodeCommand({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: fromHex(DEFAULT_ISD_AID), le: 256 });

  const bare = createSimulatedSe(spec);
  bare.powerOn();
  const processOnly = await benchProcess(bare, select, measure);
  const echo = await benchWsEcho(select, measure);
  lines.push({ row: processOnly }, { row: echo });

  const inproc = await openChannel('inproc', { endpoint: createSimulatedSe(spec), trace: false });
  lines.push({ row: await plain(inproc, 'in-process'), ceiling: processOnly });
  lines.push({ row: await benchSecure(inproc, 'in-process', measure) });
  await inproc.close();

  const sim = await startSimulator({ fleet: { mnos: [], serviceProviders: [], ses: [spec] }, createSe: (s) => createSimulatedSe(s) });
  const ws = await openChannel(sim.urls[spec.seId], { trace: false });
  lines.push({ row: await plain(ws, 'WebSocket'), ceiling: echo });
  lines.push({ row: await benchSecure(ws, 'WebSocket', measure) });
  await ws.close();
  await sim.close();

  const head = ['case', 'transport', 'round trips', 'per second', 'mean ms', 'target /s', 'ceiling', 'ceiling /s', 'of ceiling'];
  const table = lines.map(({ row: r, ceiling: c }) => {
    const target = TARGETS[`${r.case}|${r.transport}`];
    return [
      r.case,
      r.transport,
      String(r.roundTrips),
      r.perSecond.toFixed(0),
      r.meanMs.toFixed(3),
      target ? `${target}${r.perSecond >= target ? ' (met)' : ' (MISSED)'}` : '',
      c ? `${c.case}, ${c.transport}` : '',
      c ? c.perSecond.toFixed(0) : '',
      c ? `${((100 * r.perSecond) / c.perSecond).toFixed(0)} %` : '',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const t of table) console.log(line(t));
}

await main();
