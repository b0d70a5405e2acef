/**
 * The limits a transport row is read against, measured in the same run: the simulator's own `process()` with no
 * transport at all, and a bare `ws` echo round trip on loopback (what no WebSocket driver can beat).
 */
import { WebSocket, WebSocketServer } from 'ws';
import type { CardEndpoint } from '../gp/index.ts';
import type { Row } from './run.ts';

type Measure = (name: string, transport: string, exchange: () => Promise<void>) => Promise<Row>;

/** The card model alone: `process()` called back to back, awaited like a transport would be. */
export function benchProcess(endpoint: CardEndpoint, command: Uint8Array, measure: Measure): Promise<Row> {
  return measure('plain SELECT', 'none (process() only)', async () => {
    const r = endpoint.process(command.slice());
    if (r[r.length - 2] !== 0x90) throw new Error('SELECT failed');
  });
}

/** One binary frame out, the same frame back, on 127.0.0.1: the WebSocket round trip with no card behind it. */
export async function benchWsEcho(frame: Uint8Array, measure: Measure): Promise<Row> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  server.on('connection', (s) => s.on('message', (data) => s.send(data as Buffer, { binary: true })));
  const { port } = server.address() as { port: number };
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise<void>((resolve, reject) => (client.once('open', () => resolve()), client.once('error', reject)));
  let pending: (() => void) | undefined;
  client.on('message', () => pending?.());
  try {
    return await measure('echo', 'bare ws on loopback', () => new Promise<void>((resolve) => ((pending = resolve), client.send(frame))));
  } finally {
    client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
