/**
 * startSimulator: a fleet's SEs served over WebSocket in this process, for `tsmlab sim` and for test runners
 * that want the simulator without a child process.
 */
import { defaultFleet } from '../profiles/index.ts';
import type { Fleet, SeSpec } from '../profiles/index.ts';
import type { CardEndpoint } from '../gp/index.ts';
import { createSimulatedSe } from './factory.ts';
import { startSeServer, type SeServer } from './ws-server.ts';

export interface SimulatorOptions {
  /** Port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface; 127.0.0.1 unless told otherwise. */
  host?: string;
  /** The fleet whose SEs are served (default: the built-in fleet). */
  fleet?: Fleet;
  /** Builds the simulated SE of one fleet entry (default: createSimulatedSe). */
  createSe?: (spec: SeSpec) => CardEndpoint;
}

export interface RunningSimulator {
  /** ws:// URL per seId, in fleet order. */
  readonly urls: Record<string, string>;
  /** The simulated SEs, by seId: reach a card directly (inspect, power, snapshot). */
  readonly ses: Map<string, CardEndpoint>;
  readonly server: SeServer;
  readonly port: number;
  close(): Promise<void>;
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<RunningSimulator> {
  const fleet = opts.fleet ?? defaultFleet();
  const create = opts.createSe ?? ((spec: SeSpec) => createSimulatedSe(spec));
  const specs = new Map(fleet.ses.map((s) => [s.seId, s]));
  const ses = new Map<string, CardEndpoint>();
  for (const spec of fleet.ses) ses.set(spec.seId, create(spec));
  const server = await startSeServer({
    host: opts.host,
    port: opts.port,
    endpoints: ses.values(),
    describe: (e) => ({ type: specs.get(e.seId)?.type, mno: specs.get(e.seId)?.mno }),
  });
  const urls = Object.fromEntries(server.seIds.map((id) => [id, server.url(id)]));
  return { urls, ses, server, port: server.port, close: () => server.close() };
}
