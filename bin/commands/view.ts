/** `tsmlab view FILE|DIR [--port N] [--host H]`: replays a saved trace (or follows a run's trace files) in the viewer. */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, wantsHelp } from '../args.ts';
import { CliError } from '../cli-error.ts';
import { startViewer, type ViewerSource } from '../../viewer/index.ts';

const HELP = `usage: tsmlab view FILE|DIR [--port N] [--host H]
  FILE         a saved trace (NDJSON), replayed
  DIR          a run's output directory: follows its trace-*.ndjson files as they grow
  --port N     port to listen on (default: any free port)
  --host H     address to bind (default 127.0.0.1; the trace may show card data)`;

export async function run(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(HELP);
    return 0;
  }
  const a = parseArgs(args, { values: ['port', 'host'] });
  if (a.positional.length !== 1) throw new CliError('give one trace file or run directory (see --help)');
  const target = path.resolve(a.positional[0]);
  if (!existsSync(target)) throw new CliError(`no such file or directory: ${a.positional[0]}`);
  const port = a.values.port === undefined ? 0 : Number(a.values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be 0-65535, not "${a.values.port}"`);
  const source: ViewerSource = statSync(target).isDirectory() ? { followDir: target } : { file: target };
  const viewer = await startViewer({ host: a.values.host ?? '127.0.0.1', port, source, title: `tsmlab trace — ${path.basename(target)}` });
  await viewer.ready;
  console.log(`${viewer.store.size} events from ${a.positional[0]}`);
  console.log(`viewer: ${viewer.url}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await viewer.close();
  return 0;
}
