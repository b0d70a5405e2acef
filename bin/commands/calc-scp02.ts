/**
 * `tsmlab calc scp02`: recomputes an SCP02 session offline (session keys, cryptograms, EXTERNAL AUTHENTICATE,
 * wrapped commands). Options and JSON fields follow `calc scp03`; see docs/cli-scp02-kdf-cap.md.
 */
import {
  encodeCommand,
  fromHex,
  HexError,
  parseCommand,
  ApduError,
  Scp02Host,
  scp02CardCryptogram,
  scp02SessionKeys,
  SecureChannelError,
  toHex,
  type CommandApdu,
  type DesKeySet,
} from '../../gp/index.ts';
import { parseArgs } from '../args.ts';
import { CliError } from '../cli-error.ts';

const HELP = `usage: tsmlab calc scp02 (--key HEX | --enc HEX --mac HEX --dek HEX) --host-challenge HEX
                         --init-update-response HEX [--level 01|03|11|13] [--i 15|35|55|75] [--kvn HEX]
                         [--apdu HEX]... [--json]
(see docs/cli-scp02-kdf-cap.md)`;

export interface Scp02CalcResult {
  scp: '02';
  i: string;
  level: string;
  kvn: string;
  keyDiversificationData: string;
  sequenceCounter: string;
  cardChallenge: string;
  sessionKeys: { senc: string; smac: string; srmac: string; sdek: string };
  cardCryptogram: { received: string; expected: string; match: boolean };
  initializeUpdate: string;
  hostCryptogram?: string;
  externalAuthenticate?: string;
  wrapped?: string[];
}

function hexArg(name: string, value: string | undefined, length?: number): Uint8Array {
  if (value === undefined) throw new CliError(`--${name} is required (see tsmlab calc scp02 --help)`);
  let bytes: Uint8Array;
  try {
    bytes = fromHex(value);
  } catch (e) {
    if (e instanceof HexError) throw new CliError(`--${name}: ${e.message}`);
    throw e;
  }
  if (length !== undefined && bytes.length !== length) throw new CliError(`--${name} must be ${length} bytes, got ${bytes.length}`);
  return bytes;
}

function byteArg(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^(0x)?[0-9a-fA-F]{1,2}$/.test(value)) throw new CliError(`--${name} must be one hex byte, not "${value}"`);
  return parseInt(value.replace(/^0x/, ''), 16);
}

function keysFrom(values: Record<string, string>): DesKeySet {
  if (values.key !== undefined) {
    if (values.enc ?? values.mac ?? values.dek) throw new CliError('--key: give either --key or --enc/--mac/--dek, not both');
    const k = hexArg('key', values.key, 16);
    return { enc: k, mac: k, dek: k };
  }
  return { enc: hexArg('enc', values.enc, 16), mac: hexArg('mac', values.mac, 16), dek: hexArg('dek', values.dek, 16) };
}

/** The offline SCP02 computation behind the command (exported for tests and other tools). */
export function calcScp02(opts: {
  keys: DesKeySet;
  hostChallenge: Uint8Array;
  initUpdateResponse: Uint8Array;
  level: number;
  i: number;
  kvn?: number;
  apdus: CommandApdu[];
}): Scp02CalcResult {
  let response = opts.initUpdateResponse;
  if (response.length === 30 && response[28] === 0x90 && response[29] === 0x00) response = response.slice(0, 28);
  const host = new Scp02Host({ keys: opts.keys, level: opts.level, i: opts.i });
  const kvn = opts.kvn ?? response[10] ?? 0;
  const initializeUpdate = toHex(encodeCommand(host.initializeUpdate(kvn, opts.hostChallenge)));
  let mismatch: SecureChannelError | undefined;
  try {
    host.onInitializeUpdateResponse(response);
  } catch (e) {
    if (!(e instanceof SecureChannelError) || e.kind !== 'card-cryptogram-mismatch') throw e;
    mismatch = e;
  }
  // Recompute what the card should have sent, also on a mismatch, so the engineer sees both values.
  const fields = response;
  const sk = scp02SessionKeys(opts.keys, fields.slice(12, 14));
  const expected = scp02CardCryptogram(sk.senc, opts.hostChallenge, fields.slice(12, 14), fields.slice(14, 20));
  const result: Scp02CalcResult = {
    scp: '02',
    i: hex1(opts.i),
    level: hex1(opts.level),
    kvn: hex1(fields[10]),
    keyDiversificationData: toHex(fields.slice(0, 10)),
    sequenceCounter: toHex(fields.slice(12, 14)),
    cardChallenge: toHex(fields.slice(14, 20)),
    sessionKeys: { senc: toHex(sk.senc), smac: toHex(sk.smac), srmac: toHex(sk.srmac), sdek: toHex(sk.sdek) },
    cardCryptogram: { received: toHex(fields.slice(20, 28)), expected: toHex(expected), match: !mismatch },
    initializeUpdate,
  };
  if (mismatch) return result;
  const ea = host.externalAuthenticate();
  result.hostCryptogram = toHex(ea.data!.slice(0, 8));
  result.externalAuthenticate = toHex(encodeCommand(ea));
  result.wrapped = opts.apdus.map((c) => toHex(host.wrap(c)));
  return result;
}

function hex1(n: number): string {
  return n.toString(16).padStart(2, '0').toUpperCase();
}

function text(r: Scp02CalcResult): string {
  const lines = [
    `KVN ${r.kvn}  SCP 02 i=${r.i}  sequence counter ${r.sequenceCounter}  card challenge ${r.cardChallenge}`,
    `S-ENC ${r.sessionKeys.senc}`,
    `C-MAC ${r.sessionKeys.smac}`,
    `R-MAC ${r.sessionKeys.srmac}`,
    `S-DEK ${r.sessionKeys.sdek}`,
    `card cryptogram ${r.cardCryptogram.received} ${r.cardCryptogram.match ? 'OK' : `MISMATCH (expected ${r.cardCryptogram.expected})`}`,
    `INITIALIZE UPDATE     ${r.initializeUpdate}`,
  ];
  if (r.externalAuthenticate) {
    lines.push(`host cryptogram ${r.hostCryptogram}`, `EXTERNAL AUTHENTICATE ${r.externalAuthenticate}`);
    for (const w of r.wrapped ?? []) lines.push(`wrapped ${w}`);
  }
  return lines.join('\n');
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help')) {
    console.log(HELP);
    return 0;
  }
  const a = parseArgs(args, {
    values: ['key', 'enc', 'mac', 'dek', 'host-challenge', 'init-update-response', 'level', 'i', 'kvn'],
    repeat: ['apdu'],
    flags: ['json'],
  });
  if (a.positional.length > 0) throw new CliError(`unexpected argument "${a.positional[0]}"`);
  const keys = keysFrom(a.values);
  const hostChallenge = hexArg('host-challenge', a.values['host-challenge'], 8);
  const response = hexArg('init-update-response', a.values['init-update-response']);
  const bare = response.length === 30 && response[28] === 0x90 && response[29] === 0x00 ? response.slice(0, 28) : response;
  if (bare.length !== 28) throw new CliError(`--init-update-response must be 28 bytes (SCP02), got ${response.length}`);
  if (bare[11] !== 0x02) throw new CliError(`--init-update-response: SCP identifier is ${hex1(bare[11])}, not 02 (use calc scp03)`);
  const level = byteArg('level', a.values.level, 0x01);
  const i = byteArg('i', a.values.i, 0x15);
  const kvn = a.values.kvn === undefined ? undefined : byteArg('kvn', a.values.kvn, 0);
  const apdus = a.lists.apdu.map((hex, n) => {
    try {
      return parseCommand(fromHex(hex));
    } catch (e) {
      if (e instanceof HexError || e instanceof ApduError) throw new CliError(`--apdu #${n + 1}: ${e.message}`);
      throw e;
    }
  });
  let result: Scp02CalcResult;
  try {
    result = calcScp02({ keys, hostChallenge, initUpdateResponse: bare, level, i, kvn, apdus });
  } catch (e) {
    if (e instanceof SecureChannelError) {
      const arg = /level/.test(e.message) ? '--level' : /i=/.test(e.message) ? '--i' : '--apdu';
      throw new CliError(`${arg}: ${e.message}`);
    }
    throw e;
  }
  console.log(a.flags.has('json') ? JSON.stringify(result) : text(result));
  if (!result.cardCryptogram.match) {
    console.error('tsmlab calc: card cryptogram mismatch: wrong keys (or diversification) for this card; no EXTERNAL AUTHENTICATE computed');
    return 1;
  }
  return 0;
}
