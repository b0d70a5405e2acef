/** `tsmlab cap info FILE [--json]`: what a CAP file holds and what LOAD will send. */
import { readFileSync } from 'node:fs';
import { CapError, type CapPackage, formatCapVersion, loadFileDataBlock, loadFileDataBlockHash, parseCap, toHex } from '../../gp/index.ts';
import { parseArgs, wantsHelp } from '../args.ts';
import { CliError } from '../cli-error.ts';

const HELP = `usage: tsmlab cap info FILE [--json]
  prints the package AID and version, applet AIDs, imported packages, the Load File Data Block size
  and SHA-256 with and without the Descriptor component (see docs/cli-scp02-kdf-cap.md)`;

export interface CapInfo {
  packageAid: string;
  packageVersion: string;
  applets: string[];
  imports: { aid: string; version: string }[];
  loadFileSize: { withDescriptor: number; withoutDescriptor: number };
  sha256: { withDescriptor: string; withoutDescriptor: string };
}

export function capInfo(cap: CapPackage): CapInfo {
  const withDescriptor = loadFileDataBlock(cap, { descriptor: true });
  const withoutDescriptor = loadFileDataBlock(cap);
  return {
    packageAid: toHex(cap.packageAid),
    packageVersion: formatCapVersion(cap.packageVersion),
    applets: cap.applets.map((a) => toHex(a.aid)),
    imports: cap.imports.map((i) => ({ aid: toHex(i.aid), version: formatCapVersion(i.version) })),
    loadFileSize: { withDescriptor: withDescriptor.length, withoutDescriptor: withoutDescriptor.length },
    sha256: {
      withDescriptor: toHex(loadFileDataBlockHash(withDescriptor)),
      withoutDescriptor: toHex(loadFileDataBlockHash(withoutDescriptor)),
    },
  };
}

function readCap(file: string): CapPackage {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `FILE: no such file: ${file}` : `FILE: cannot read ${file} (${code ?? (e as Error).message})`);
  }
  try {
    return parseCap(bytes);
  } catch (e) {
    if (e instanceof CapError) throw new CliError(`FILE: ${file}: ${e.message}`);
    throw e;
  }
}

function text(info: CapInfo, cap: CapPackage): string {
  const lines = [
    `package   ${info.packageAid} version ${info.packageVersion}${cap.packageName ? ` (${cap.packageName})` : ''}`,
    `format    CAP ${formatCapVersion(cap.formatVersion)}`,
    ...info.applets.map((a) => `applet    ${a}`),
    ...info.imports.map((i) => `import    ${i.aid} version ${i.version}`),
    `load file ${info.loadFileSize.withoutDescriptor} bytes, SHA-256 ${info.sha256.withoutDescriptor}`,
    `  with Descriptor ${info.loadFileSize.withDescriptor} bytes, SHA-256 ${info.sha256.withDescriptor}`,
  ];
  return lines.join('\n');
}

export async function run(args: string[]): Promise<number> {
  if (wantsHelp(args) || args.length === 0) {
    console.log(HELP);
    return args.length === 0 ? 2 : 0;
  }
  const a = parseArgs(args, { flags: ['json'] });
  const [sub, file, ...extra] = a.positional;
  if (sub !== 'info') throw new CliError(`unknown subcommand "${sub ?? ''}": usage: tsmlab cap info FILE [--json]`);
  if (!file) throw new CliError('FILE: missing CAP file argument: usage: tsmlab cap info FILE [--json]');
  if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}"`);
  const cap = readCap(file);
  const info = capInfo(cap);
  console.log(a.flags.has('json') ? JSON.stringify(info) : text(info, cap));
  return 0;
}
