/**
 * Opening a secure channel over any transmit function: INITIALIZE UPDATE, card cryptogram check, and only then
 * EXTERNAL AUTHENTICATE. A mismatch throws before EXTERNAL AUTHENTICATE exists, and nothing is retried, so a
 * wrong key set never spends the card's authentication budget. SCP03 is built in; other protocols (SCP02) plug
 * in through `hostFactory`.
 */
import { randomBytes } from 'node:crypto';
import { type CommandApdu, encodeCommand, parseResponse, type ResponseApdu } from './apdu.ts';
import type { KeySet } from './keys.ts';
import { Scp03Host } from './scp03.ts';
import { type HostSecureChannel, SecureChannelError, type WrappedExchange, wrapExchange } from './secure-channel.ts';
import { CardError } from './sw.ts';

/** A host channel that still has to be opened: the shape Scp03Host and Scp02Host share. */
export interface HandshakeHost extends HostSecureChannel {
  initializeUpdate(kvn: number, hostChallenge: Uint8Array): CommandApdu;
  /** Verifies the card cryptogram; throws SecureChannelError('card-cryptogram-mismatch') on a wrong key set. */
  onInitializeUpdateResponse(data: Uint8Array): unknown;
  externalAuthenticate(): CommandApdu;
}

export interface HostFactoryContext {
  /** SD AID, when the caller knows it (SCP03 then also checks a pseudo-random card challenge). */
  sdAid?: Uint8Array;
}

/** Builds the host side for a key set, e.g. `(keys, level) => new Scp02Host({ keys, level, i: 0x55 })`. */
export type HostFactory = (keys: KeySet, level: number, context: HostFactoryContext) => HandshakeHost;

/**
 * Sends wire bytes, returns the card's answer. `exchange` is given for every command wrapped on the open channel
 * (not for the handshake): a transmit that records traffic can note the plain command and unwrap the response
 * with it (the channel reuses that one unwrap).
 */
export type Transmit = (command: Uint8Array, exchange?: WrappedExchange) => Promise<Uint8Array>;

export interface OpenSecureChannelOptions {
  keys: KeySet;
  /** Security level for EXTERNAL AUTHENTICATE (e.g. 0x01 C-MAC, 0x03, 0x13, 0x33). */
  level: number;
  /** Host challenge (default: 8 random bytes; SCP03 takes 16 for S16 mode). */
  hostChallenge?: Uint8Array;
  sdAid?: Uint8Array;
  /** KVN in INITIALIZE UPDATE P1 (default keys.kvn; 0 lets the card pick). */
  kvn?: number;
  /** Host side to use instead of the built-in one (required for SCP02). */
  hostFactory?: HostFactory;
}

export interface OpenedSecureChannel extends HostSecureChannel {
  /** Wraps, transmits and unwraps one command. */
  transmitSecure(command: CommandApdu): Promise<ResponseApdu>;
  /** Wraps one command for a caller that sends it itself (e.g. in a script); unwrap its response with the result. */
  exchange(command: CommandApdu): WrappedExchange;
  /** The host object that ran the handshake (e.g. Scp03Host: cardInfo, encryptSensitive). */
  readonly host: HandshakeHost;
  /** INITIALIZE UPDATE response as the host parsed it. */
  readonly cardInfo: unknown;
}

/** The built-in host sides by protocol; SCP02 is left to `hostFactory`. */
export function defaultHostFactory(keys: KeySet, level: number, context: HostFactoryContext): HandshakeHost {
  if (keys.scp === '03') return new Scp03Host({ keys, level, sdAid: context.sdAid });
  throw new SecureChannelError('unsupported', `no built-in host for SCP${keys.scp}: pass hostFactory (e.g. one building Scp02Host)`);
}

export async function openSecureChannel(transmit: Transmit, opts: OpenSecureChannelOptions): Promise<OpenedSecureChannel> {
  const host = (opts.hostFactory ?? defaultHostFactory)(opts.keys, opts.level, { sdAid: opts.sdAid });
  const challenge = opts.hostChallenge ?? new Uint8Array(randomBytes(8));
  const kvn = opts.kvn ?? opts.keys.kvn;

  const iu = parseResponse(await transmit(encodeCommand(host.initializeUpdate(kvn, challenge))));
  if (iu.sw !== 0x9000) throw new CardError(iu.sw, 'INITIALIZE UPDATE');
  // Throws on a card cryptogram mismatch: EXTERNAL AUTHENTICATE is never built, let alone sent.
  const cardInfo = host.onInitializeUpdateResponse(iu.data);

  const ea = parseResponse(await transmit(encodeCommand(host.externalAuthenticate())));
  if (ea.sw !== 0x9000) throw new CardError(ea.sw, 'EXTERNAL AUTHENTICATE');

  return {
    get scp() {
      return host.scp;
    },
    get level() {
      return host.level;
    },
    get sessionKeys() {
      return host.sessionKeys;
    },
    get macLength() {
      return host.macLength;
    },
    wrap: (command) => host.wrap(command),
    unwrap: (response) => host.unwrap(response),
    exchange: (command) => wrapExchange(host, command),
    async transmitSecure(command: CommandApdu): Promise<ResponseApdu> {
      const x = wrapExchange(host, command);
      return x.unwrap(await transmit(x.wire, x));
    },
    host,
    cardInfo,
  };
}
