/** `tsmlab sim`: serves a fleet of simulated SEs over WebSocket (and optionally to vpcd) until SIGINT/SIGTERM. */
import { existsSync } from 'node:fs';
import { defaultFleet, FleetError, loadFleet } from '../../profiles/index.ts';
import type { Fleet } from '../../profiles/index.ts';
import type { CardEndpoint } from '../../gp/index.ts';
import { startSimulator } from '../../simulator/index.ts';
import { parseArgs, wantsHelp } from '../args.ts';
import { CliError } from '../cli-error.ts';

const HELP = `usage: tsmlab sim [options]
  --port N              port to listen on (default 7070; 0 picks a free one)
  --host H              interface to listen on (default 127.0.0.1)
  --fleet FILE          fleet file (default: the built-in fleet)
  --vpcd [HOST:PORT]    also attach the SEs to vsmartcard-vpcd (default 127.0.0.1:35963)

Prints one line per SE (id, type, MNO, WebSocket URL), then "ready"; runs until SIGINT or SIGTERM.
Protocol: docs/protocol-websocket.md.`;

export const DEFAULT_PORT = 7070;

export async function run(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(HELP);
    return 0;
  }
  const { rest, vpcd } = takeVpcd(args);
  const a = parseArgs(rest, { values: ['port', 'host', 'fleet'] });
  if (a.positional.length) throw new CliError(`unexpected argument "${a.positional[0]}" (see --help)`);
  const port = parsePort(a.values.port ?? String(DEFAULT_PORT), '--port');
  const fleet = readFleet(a.values.fleet);

  // --- vpcd bridge hook ---------------------------------------------------------------------------------
  // simulator/vpcd.ts (the vpcd bridge) is loaded only when --vpcd is given, so a build without it still
  // serves WebSocket. Its contract: attachVpcd(endpoint, { host, port, onState }) -> { address, close() },
  // one attachment per vpcd slot; the SEs take consecutive slot ports in fleet order.
  let vpcdBridge: VpcdModule | undefined;
  if (vpcd !== undefined) {
    vpcdBridge = await loadVpcd();
    if (!vpcdBridge) {
      console.error('tsmlab sim: vpcd bridge not available in this build');
      return 2;
    }
  }
  let vpcdTarget: { host: string; port: number } | undefined;
  try {
    vpcdTarget = vpcdBridge ? vpcdBridge.parseVpcdAddress(vpcd) : undefined;
  } catch (e) {
    throw new CliError(`--vpcd: ${(e as Error).message}`);
  }
  if (vpcdTarget && vpcdTarget.port + fleet.ses.length - 1 > 65535) throw new CliError('--vpcd: not enough slot ports above that port');
  // ------------------------------------------------------------------------------------------------------

  let sim;
  try {
    sim = await startSimulator({ port, host: a.values.host, fleet });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError(`port ${port} is already in use (try --port 0)`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new CliError(`cannot listen on host "${a.values.host}"`);
    throw e;
  }
  const bridges: { close(): Promise<void> }[] = [];
  if (vpcdBridge && vpcdTarget) {
    const { host, port: first } = vpcdTarget;
    fleet.ses.forEach((spec, i) => {
      const attachment = vpcdBridge.attachVpcd(sim.ses.get(spec.seId)!, {
        host,
        port: first + i,
        onState: (state, detail) => {
          if (state !== 'connecting') console.error(`vpcd ${spec.seId} ${host}:${first + i} ${state}${detail ? ` ${detail}` : ''}`);
        },
      });
      bridges.push(attachment);
    });
  }

  const rows = fleet.ses.map((s) => [s.seId, s.type, s.mno, sim.urls[s.seId]]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c)).join('  '));
  console.log('ready');

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  for (const b of bridges) await b.close().catch(() => {});
  await sim.close();
  console.error(`tsmlab sim: stopped (${signal})`);
  return 0;
}

interface VpcdModule {
  attachVpcd(
    endpoint: CardEndpoint,
    opts: { host: string; port: number; onState?: (state: string, detail?: string) => void },
  ): { close(): Promise<void> };
  parseVpcdAddress(text: string | undefined): { host: string; port: number };
}

async function loadVpcd(): Promise<VpcdModule | undefined> {
  const url = new URL('../../simulator/vpcd.ts', import.meta.url);
  if (!existsSync(url)) return undefined;
  const mod = (await import(url.href)) as Partial<VpcdModule>;
  return typeof mod.attachVpcd === 'function' && typeof mod.parseVpcdAddress === 'function' ? (mod as VpcdModule) : undefined;
}

/** --vpcd takes an optional value, which parseArgs cannot express: take it out first. */
function takeVpcd(args: string[]): { rest: string[]; vpcd?: string } {
  const rest: string[] = [];
  let vpcd: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--vpcd') {
      const next = args[i + 1];
      // The value is optional: take the next word unless it is another option.
      vpcd = next !== undefined && !next.startsWith('-') ? (i++, next) : '';
    } else if (arg.startsWith('--vpcd=')) vpcd = arg.slice('--vpcd='.length);
    else rest.push(arg);
  }
  return { rest, vpcd };
}

function readFleet(file: string | undefined): Fleet {
  if (!file) return defaultFleet();
  try {
    return loadFleet(file);
  } catch (e) {
    if (e instanceof FleetError) throw new CliError(`--fleet: ${e.message}`);
    throw e;
  }
}

function parsePort(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new CliError(`${what} must be a port number 0-65535, not "${text}"`);
  return n;
}
