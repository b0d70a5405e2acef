/**
 * The secure-channel calculator shared by `tsmlab calc scp03` and `calc scp02`: argument parsing with errors
 * naming the argument, the run (INITIALIZE UPDATE response → card cryptogram check → EXTERNAL AUTHENTICATE →
 * wrapped commands and unwrapped responses) and the output. Each protocol supplies a ChannelSpec.
 * No EXTERNAL AUTHENTICATE is computed for a card whose cryptogram does not verify.
 */
import {
  ApduError,
  encodeCommand,
  encodeResponse,
  fromHex,
  type HandshakeHost,
  HexError,
  parseCommand,
  SecureChannelError,
  type SessionKeys,
  toHex,
} from '../../gp/index.ts';
import { parseArgs, wantsHelp } from '../args.ts';
import { CliError } from '../cli-error.ts';

export interface ChannelCalcInput {
  enc: Uint8Array;
  mac: Uint8Array;
  /** Absent when not given (only PUT KEY needs it; the calculator never does). */
  dek?: Uint8Array;
  level: number;
  hostChallenge: Uint8Array;
  initUpdateResponse: Uint8Array;
  apdus: Uint8Array[];
  responses: Uint8Array[];
  json: boolean;
  /** Protocol-specific options (ChannelSpec.extraValues), raw. */
  extra: Record<string, string>;
}

export interface ChannelSpec {
  /** 'scp03' or 'scp02', used in messages. */
  name: string;
  help: string;
  keyLengths: readonly number[];
  hostChallengeLengths: readonly number[];
  levels: readonly number[];
  /** Extra value options the protocol accepts (e.g. SCP02's 'i'). */
  extraValues?: string[];
  /** A host side ready for initializeUpdate(); throws CliError naming a bad argument. */
  createHost(input: ChannelCalcInput): HandshakeHost;
  /** Session keys from the static keys and the INITIALIZE UPDATE response, also when the cryptogram fails. */
  sessionKeys(input: ChannelCalcInput): SessionKeys;
}

export interface ChannelCalcResult {
  sessionKeys: { senc: string; smac: string; srmac: string };
  cardCryptogramValid: boolean;
  hostCryptogram: string | null;
  externalAuthenticate: string | null;
  wrapped: string[];
  /** data ‖ SW per --response; null where the response did not verify. */
  unwrapped: (string | null)[];
}

export function hexArgument(name: string, value: string | undefined, lengths?: readonly number[]): Uint8Array {
  if (value === undefined) throw new CliError(`--${name} is required`);
  let bytes: Uint8Array;
  try {
    bytes = fromHex(value);
  } catch (e) {
    if (e instanceof HexError) throw new CliError(`--${name}: ${e.message}`);
    throw e;
  }
  if (bytes.length === 0) throw new CliError(`--${name}: empty value`);
  if (lengths && !lengths.includes(bytes.length)) throw new CliError(`--${name} must be ${lengths.join(', ')} bytes, got ${bytes.length}`);
  return bytes;
}

export function parseChannelArgs(args: string[], spec: ChannelSpec): ChannelCalcInput {
  const extra = spec.extraValues ?? [];
  const a = parseArgs(args, {
    values: ['enc', 'mac', 'dek', 'level', 'host-challenge', 'init-update-response', ...extra],
    repeat: ['apdu', 'response'],
    flags: ['json'],
  });
  if (a.positional.length > 0) throw new CliError(`unexpected argument "${a.positional[0]}"`);
  const levelText = a.values.level;
  if (levelText === undefined) throw new CliError('--level is required');
  if (!/^[0-9a-fA-F]{2}$/.test(levelText)) throw new CliError(`--level must be one hex byte (${spec.levels.map(hex1).join(', ')}), not "${levelText}"`);
  const level = parseInt(levelText, 16);
  if (!spec.levels.includes(level)) throw new CliError(`--level ${hex1(level)} is not a ${spec.name.toUpperCase()} security level (${spec.levels.map(hex1).join(', ')})`);
  const input: ChannelCalcInput = {
    enc: hexArgument('enc', a.values.enc, spec.keyLengths),
    mac: hexArgument('mac', a.values.mac, spec.keyLengths),
    level,
    hostChallenge: hexArgument('host-challenge', a.values['host-challenge'], spec.hostChallengeLengths),
    initUpdateResponse: hexArgument('init-update-response', a.values['init-update-response']),
    apdus: a.lists.apdu.map((v, k) => hexArgument(`apdu (#${k + 1})`, v)),
    responses: a.lists.response.map((v, k) => hexArgument(`response (#${k + 1})`, v)),
    json: a.flags.has('json'),
    extra: Object.fromEntries(extra.filter((k) => a.values[k] !== undefined).map((k) => [k, a.values[k]])),
  };
  if (a.values.dek !== undefined) input.dek = hexArgument('dek', a.values.dek, spec.keyLengths);
  input.apdus.forEach((raw, k) => {
    try {
      parseCommand(raw);
    } catch (e) {
      if (e instanceof ApduError) throw new CliError(`--apdu (#${k + 1}): ${e.message}`);
      throw e;
    }
  });
  input.responses.forEach((raw, k) => {
    if (raw.length < 2) throw new CliError(`--response (#${k + 1}): shorter than a status word`);
  });
  if (input.responses.length > input.apdus.length) {
    throw new CliError(`--response given ${input.responses.length} times for ${input.apdus.length} --apdu commands`);
  }
  return input;
}

function hex1(n: number): string {
  return n.toString(16).padStart(2, '0').toUpperCase();
}

/** Runs the calculation; the exit code is 0, or 1 when the card cryptogram or a response (R-MAC, padding) does not verify. */
export function calculateChannel(input: ChannelCalcInput, spec: ChannelSpec): { result: ChannelCalcResult; problems: string[] } {
  const keys = spec.sessionKeys(input);
  const result: ChannelCalcResult = {
    sessionKeys: { senc: toHex(keys.senc), smac: toHex(keys.smac), srmac: toHex(keys.srmac) },
    cardCryptogramValid: false,
    hostCryptogram: null,
    externalAuthenticate: null,
    wrapped: [],
    unwrapped: [],
  };
  const host = spec.createHost(input);
  host.initializeUpdate(0, input.hostChallenge);
  try {
    host.onInitializeUpdateResponse(input.initUpdateResponse);
  } catch (e) {
    if (e instanceof SecureChannelError && e.kind === 'card-cryptogram-mismatch') {
      return { result, problems: [`card cryptogram does not verify: ${e.message}; no EXTERNAL AUTHENTICATE computed`] };
    }
    if (e instanceof SecureChannelError) throw new CliError(`${e.about === 'level' ? '--level' : '--init-update-response'}: ${e.message}`);
    throw e;
  }
  result.cardCryptogramValid = true;
  const ea = host.externalAuthenticate();
  const eaData = ea.data ?? new Uint8Array(0);
  result.hostCryptogram = toHex(eaData.subarray(0, eaData.length / 2));
  result.externalAuthenticate = toHex(encodeCommand(ea));
  const problems: string[] = [];
  input.apdus.forEach((raw, k) => {
    try {
      result.wrapped.push(toHex(host.wrap(parseCommand(raw))));
    } catch (e) {
      if (e instanceof SecureChannelError) throw new CliError(`--apdu (#${k + 1}): ${e.message}`);
      throw e;
    }
    // Responses are unwrapped right after their command: R-MAC chains on that command's MAC.
    const response = input.responses[k];
    if (response === undefined) return;
    try {
      result.unwrapped.push(toHex(encodeResponse(host.unwrap(response))));
    } catch (e) {
      if (!(e instanceof SecureChannelError)) throw e;
      result.unwrapped.push(null);
      problems.push(`--response (#${k + 1}): ${e.message}`);
    }
  });
  return { result, problems };
}

export function formatChannelText(r: ChannelCalcResult): string {
  const lines = [
    `S-ENC                  ${r.sessionKeys.senc}`,
    `S-MAC                  ${r.sessionKeys.smac}`,
    `S-RMAC                 ${r.sessionKeys.srmac}`,
    `card cryptogram        ${r.cardCryptogramValid ? 'valid' : 'INVALID (wrong keys or diversification): no EXTERNAL AUTHENTICATE'}`,
  ];
  if (r.hostCryptogram !== null) lines.push(`host cryptogram        ${r.hostCryptogram}`);
  if (r.externalAuthenticate !== null) lines.push(`EXTERNAL AUTHENTICATE  ${r.externalAuthenticate}`);
  r.wrapped.forEach((w, k) => lines.push(`wrapped #${k + 1}`.padEnd(23) + w));
  r.unwrapped.forEach((u, k) => lines.push(`unwrapped #${k + 1}`.padEnd(23) + (u ?? 'does not verify (reason on stderr)')));
  return lines.join('\n');
}

/** The whole command: parse, calculate, print JSON or text; stderr carries one line per problem. */
export async function runChannelCalc(args: string[], spec: ChannelSpec): Promise<number> {
  if (wantsHelp(args)) {
    console.log(spec.help);
    return 0;
  }
  const input = parseChannelArgs(args, spec);
  const { result, problems } = calculateChannel(input, spec);
  console.log(input.json ? JSON.stringify(result) : formatChannelText(result));
  for (const p of problems) console.error(`tsmlab calc ${spec.name}: ${p}`);
  return problems.length > 0 ? 1 : 0;
}
