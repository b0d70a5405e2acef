/** `tsmlab serve`: the central TSM's SP API alone, for a real SP TSM to connect to. */
import { loadFleet, defaultFleet } from '../../profiles/index.ts';
import { createSimulatedSe, MnoNetworks } from '../../simulator/index.ts';
import { CentralTsm, FileStore, inprocChannels, startSpApi, wsChannels, type ChannelFactory } from '../../tsm/index.ts';
import { parseArgs, wantsHelp } from '../args.ts';
import { CliError } from '../cli-error.ts';

const HELP = `usage: tsmlab serve [options]
  --port N          port of the SP API (default 7080; 0 picks a free one)
  --host H          interface to listen on (default 127.0.0.1)
  --fleet FILE      fleet file (default: the built-in fleet)
  --target T        where the SEs are: inproc (default: the fleet simulated in this process)
                    or ws://HOST:PORT (a running \`tsmlab sim\`)
  --ttl SECONDS     default conversation time to live (default 300)
  --data DIR        keep service states in DIR (atomic writes; survives restarts; one TSM per DIR)
  --mno-down NAME   start with that operator's network down (repeatable)
The SP names itself in the X-SP-Name header; the contract is served at /openapi.json (docs/sp-api.md).`;

export async function run(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(HELP);
    return 0;
  }
  const a = parseArgs(args, { values: ['port', 'host', 'fleet', 'target', 'ttl', 'data'], repeat: ['mno-down'] });
  if (a.positional.length) throw new CliError(`unexpected argument "${a.positional[0]}"`);
  const port = intOption(a.values.port ?? '7080', '--port', 0, 65535);
  const ttl = a.values.ttl !== undefined ? intOption(a.values.ttl, '--ttl', 1, 86400) : undefined;
  // A FleetError or StoreError says what is wrong with the file or directory; main maps it (cli-failure.ts).
  const fleet = a.values.fleet ? loadFleet(a.values.fleet) : defaultFleet();
  const target = a.values.target ?? 'inproc';
  let channels: ChannelFactory;
  let where: string;
  if (target === 'inproc') {
    channels = inprocChannels(fleet.ses.map((s) => createSimulatedSe(s)));
    where = `${fleet.ses.length} SE(s) simulated in this process`;
  } else if (/^wss?:\/\/[^/\s]+\/?$/.test(target)) {
    channels = wsChannels(target);
    where = `SEs at ${target}/se/<seId>`;
  } else {
    throw new CliError(`--target must be "inproc" or ws://HOST:PORT, not "${target}"`);
  }
  const store = a.values.data ? new FileStore(a.values.data) : undefined;
  // The operator networks are simulated whatever the target: the cards may be real, their OTA path is not.
  const gateway = new MnoNetworks(fleet.mnos);
  let tsm: CentralTsm<MnoNetworks>;
  try {
    tsm = new CentralTsm({ fleet, channels, gateway, ...(ttl ? { defaultTimeToLive: ttl } : {}), ...(store ? { store } : {}) });
  } catch (e) {
    store?.close();
    throw e;
  }
  for (const mno of a.lists['mno-down']) {
    if (!gateway.network(mno)) throw new CliError(`--mno-down: "${mno}" is not an MNO of the fleet (${gateway.networks().map((n) => n.name).join(', ')})`);
    gateway.setUp(mno, false);
  }
  let api;
  try {
    api = await startSpApi(tsm, { port, host: a.values.host });
  } catch (e) {
    throw new CliError(`cannot listen on ${a.values.host ?? '127.0.0.1'}:${port}: ${(e as Error).message}`);
  }
  console.log(`central TSM SP API: ${api.url}`);
  console.log(`  ${where}; MNOs: ${gateway.networks().map((n) => `${n.name} (${n.bearer}${n.up ? '' : ', down'})`).join(', ')}`);
  console.log(`  contract: ${api.url}/openapi.json; SPs: ${fleet.serviceProviders.map((s) => s.name).join(', ')} (X-SP-Name header)`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await tsm.close();
  await api.close();
  return 0;
}

function intOption(v: string, name: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new CliError(`${name} must be an integer from ${min} to ${max}, not "${v}"`);
  return n;
}
