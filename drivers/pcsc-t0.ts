/**
 * The two status-word conventions of ISO/IEC 7816-3/-4 that a PC/SC application must carry out itself (the
 * reader does not): '61xx' (xx more bytes wait: fetch them with GET RESPONSE) and '6Cxx' (wrong Le: send the
 * same command again with Le = xx). T=0 cards use both for every case-2/4 command; some T=1 cards too.
 */
import { encodeCommand, parseCommand, type CommandApdu } from '../gp/index.ts';
import { DriverError } from './channel.ts';

export type RawSend = (command: Uint8Array) => Promise<Uint8Array>;

export interface T0Options {
  /** Whether the caller still waits; chaining stops early when it does not. */
  live?: () => boolean;
  /** Most GET RESPONSE commands for one exchange (a card that always answers 61xx must not loop forever). */
  maxGetResponses?: number;
}

const sw1 = (r: Uint8Array) => r[r.length - 2];
const sw2 = (r: Uint8Array) => r[r.length - 1];

/** GET RESPONSE on the logical channel of `cla` (interindustry class, ISO/IEC 7816-4 §5.4.1). */
export function getResponseCommand(cla: number, le: number): Uint8Array {
  const channelCla = cla & 0x40 ? 0x40 | (cla & 0x0f) : cla & 0x03;
  return Uint8Array.of(channelCla, 0xc0, 0x00, 0x00, le & 0xff);
}

function withLe(command: Uint8Array, le: number): Uint8Array | undefined {
  let c: CommandApdu;
  try {
    c = parseCommand(command);
  } catch {
    return undefined;
  }
  if (c.le === undefined) return undefined;
  const extended = command.length > 5 && command[4] === 0;
  return encodeCommand({ ...c, le: le === 0 ? 256 : le }, extended);
}

/** Sends `command` and carries out 6Cxx and 61xx so the caller sees one response: all data ‖ final SW. */
export async function exchangeT0(command: Uint8Array, send: RawSend, opts: T0Options = {}): Promise<Uint8Array> {
  const live = opts.live ?? (() => true);
  const maxGetResponses = opts.maxGetResponses ?? 256;
  let response = await send(command);
  if (response.length < 2) throw new DriverError('protocol', `response of ${response.length} bytes has no status word`);
  if (sw1(response) === 0x6c && live()) {
    const again = withLe(command, sw2(response));
    if (again) response = await send(again);
  }
  if (sw1(response) !== 0x61) return response;
  const parts: Uint8Array[] = [response.subarray(0, response.length - 2)];
  let total = parts[0].length;
  let count = 0;
  while (sw1(response) === 0x61 && live()) {
    if (++count > maxGetResponses) {
      throw new DriverError('protocol', `card still answers 61xx after ${maxGetResponses} GET RESPONSE commands`);
    }
    const get = getResponseCommand(command[0], sw2(response));
    response = await send(get);
    if (response.length < 2) throw new DriverError('protocol', `GET RESPONSE: ${response.length}-byte answer`);
    if (sw1(response) === 0x6c) response = await send(getResponseCommand(command[0], sw2(response)));
    const data = response.subarray(0, response.length - 2);
    total += data.length;
    if (total > 65536) throw new DriverError('protocol', 'GET RESPONSE chain exceeds 65536 bytes');
    parts.push(data);
  }
  const out = new Uint8Array(total + 2);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  out[pos] = sw1(response);
  out[pos + 1] = sw2(response);
  return out;
}
