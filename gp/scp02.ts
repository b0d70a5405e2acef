/**
 * SCP02 host side (GPCS 2.3.1 Appendix E), explicit initiation with three keys: i = '15', '35', '55', '75'.
 * The card cryptogram is checked before any EXTERNAL AUTHENTICATE exists, so a wrong key set never costs
 * the card an authentication attempt.
 */
import type { CommandApdu, ResponseApdu } from './apdu.ts';
import { encodeCommand, parseResponse } from './apdu.ts';
import { concat, equalBytes, readUint, toHex } from './bytes.ts';
import {
  type DesKeySet,
  Scp02Option,
  scp02BasicChannelCla,
  scp02SuccessOrWarning,
  scp02CardCryptogram,
  scp02EncryptData,
  scp02EncryptIcv,
  scp02EncryptSensitive,
  scp02HostCryptogram,
  scp02Mac,
  scp02MacInput,
  scp02RmacCommandPart,
  scp02RmacResponsePart,
  scp02SessionKeys,
  SCP02_SM_BIT,
} from './scp02-crypto.ts';
import type { HostFactory } from './open-secure-channel.ts';
import { type HostSecureChannel, SecureChannelError, SecurityLevel, type SessionKeys } from './secure-channel.ts';

/** Fields of the INITIALIZE UPDATE response (Table E-8). */
export interface Scp02InitializeUpdateResponse {
  /** Key diversification data (10 bytes). */
  kdd: Uint8Array;
  kvn: number;
  scpId: number;
  sequenceCounter: Uint8Array;
  cardChallenge: Uint8Array;
  cardCryptogram: Uint8Array;
}

/** Splits a 28-byte SCP02 INITIALIZE UPDATE response (data without SW). */
export function parseScp02InitializeUpdateResponse(data: Uint8Array): Scp02InitializeUpdateResponse {
  if (data.length !== 28) {
    throw new SecureChannelError('malformed-response', `SCP02 INITIALIZE UPDATE response must be 28 bytes, got ${data.length}`);
  }
  return {
    kdd: data.slice(0, 10),
    kvn: data[10],
    scpId: data[11],
    sequenceCounter: data.slice(12, 14),
    cardChallenge: data.slice(14, 20),
    cardCryptogram: data.slice(20, 28),
  };
}

/** Security levels of Table E-11 (P1 of EXTERNAL AUTHENTICATE). */
export const SCP02_LEVELS: readonly number[] = [0x00, 0x01, 0x03, 0x10, 0x11, 0x13];

/** The i values this implementation runs: explicit initiation, three keys, C-MAC on the modified APDU, ICV zero. */
export const SCP02_SUPPORTED_I: readonly number[] = [0x15, 0x35, 0x55, 0x75];

/** Throws SecureChannelError('unsupported') for an i or level outside what SCP02 (and this code) allows. */
export function checkScp02Parameters(i: number, level: number): void {
  if (!SCP02_SUPPORTED_I.includes(i)) {
    throw new SecureChannelError('unsupported', `SCP02 i=${hex1(i)} not supported (supported: ${SCP02_SUPPORTED_I.map(hex1).join(', ')})`);
  }
  if (!SCP02_LEVELS.includes(level)) throw new SecureChannelError('unsupported', `SCP02 security level ${hex1(level)} not defined (Table E-11)`, 'level');
  if (level & SecurityLevel.RMAC && !(i & Scp02Option.RMAC_SUPPORT)) {
    throw new SecureChannelError('unsupported', `security level ${hex1(level)} needs R-MAC, which i=${hex1(i)} does not support`, 'level');
  }
}

function hex1(n: number): string {
  return n.toString(16).padStart(2, '0').toUpperCase();
}

export interface Scp02HostOptions {
  keys: DesKeySet;
  /** Security level requested in EXTERNAL AUTHENTICATE (default C-MAC, '01'). */
  level?: number;
  /** The card's i parameter (default '15'). */
  i?: number;
  /** Reject a response whose key version differs from a non-zero requested one (default false: some cards answer another KVN). */
  requireKeyVersionMatch?: boolean;
  /** For tests only: C-DECRYPTION pads command data over at least this many 8-byte blocks, as other hosts may. */
  commandPaddingBlocks?: number;
}

type HostState = 'idle' | 'awaiting-response' | 'authenticated' | 'open';

export class Scp02Host implements HostSecureChannel {
  readonly scp = '02' as const;
  readonly level: number;
  readonly i: number;
  private readonly keys: DesKeySet;
  private readonly requireKvn: boolean;
  private readonly commandPaddingBlocks: number;
  private state: HostState = 'idle';
  private requestedKvn = 0;
  private hostChallenge = new Uint8Array(0);
  private keysOfSession?: Required<SessionKeys>;
  private card?: Scp02InitializeUpdateResponse;
  /** Last C-MAC sent (the next ICV before encryption); undefined until EXTERNAL AUTHENTICATE. */
  private lastCmac?: Uint8Array;
  private ricv?: Uint8Array;
  private pendingRmacCommand?: Uint8Array;

  constructor(opts: Scp02HostOptions) {
    this.keys = opts.keys;
    this.level = opts.level ?? SecurityLevel.CMAC;
    this.i = opts.i ?? 0x15;
    this.requireKvn = opts.requireKeyVersionMatch ?? false;
    this.commandPaddingBlocks = opts.commandPaddingBlocks ?? 0;
    checkScp02Parameters(this.i, this.level);
  }

  get sessionKeys(): Required<SessionKeys> {
    if (!this.keysOfSession) throw new SecureChannelError('unsupported', 'no SCP02 session keys before the INITIALIZE UPDATE response');
    return this.keysOfSession;
  }

  /** What the card said in INITIALIZE UPDATE (after onInitializeUpdateResponse). */
  get cardInfo(): Scp02InitializeUpdateResponse | undefined {
    return this.card;
  }

  /** INITIALIZE UPDATE: 80 50 KVN 00 08 host-challenge 00. */
  initializeUpdate(kvn: number, hostChallenge: Uint8Array): CommandApdu {
    if (hostChallenge.length !== 8) throw new SecureChannelError('unsupported', `host challenge must be 8 bytes, got ${hostChallenge.length}`);
    this.requestedKvn = kvn;
    this.hostChallenge = hostChallenge.slice();
    this.state = 'awaiting-response';
    this.keysOfSession = undefined;
    this.card = undefined;
    this.lastCmac = undefined;
    this.ricv = undefined;
    return { cla: 0x80, ins: 0x50, p1: kvn, p2: 0x00, data: this.hostChallenge, le: 256 };
  }

  /** Derives the session keys and verifies the card cryptogram; throws 'card-cryptogram-mismatch' on a wrong key set. */
  onInitializeUpdateResponse(data: Uint8Array): Scp02InitializeUpdateResponse {
    if (this.state !== 'awaiting-response') throw new SecureChannelError('unsupported', 'INITIALIZE UPDATE response without a pending INITIALIZE UPDATE');
    const r = parseScp02InitializeUpdateResponse(data);
    if (r.scpId !== 0x02) throw new SecureChannelError('unsupported', `card answered SCP ${hex1(r.scpId)}, not SCP02`);
    if (this.requireKvn && this.requestedKvn !== 0 && r.kvn !== this.requestedKvn) {
      throw new SecureChannelError('malformed-response', `card answered key version ${hex1(r.kvn)} for requested ${hex1(this.requestedKvn)}`);
    }
    const keys = scp02SessionKeys(this.keys, r.sequenceCounter);
    const expected = scp02CardCryptogram(keys.senc, this.hostChallenge, r.sequenceCounter, r.cardChallenge);
    if (!equalBytes(expected, r.cardCryptogram)) {
      this.state = 'idle';
      throw new SecureChannelError(
        'card-cryptogram-mismatch',
        `SCP02 card cryptogram mismatch (KVN ${hex1(r.kvn)}, sequence counter ${toHex(r.sequenceCounter)}): wrong key set or diversification`,
      );
    }
    this.keysOfSession = keys;
    this.card = r;
    this.state = 'authenticated';
    return r;
  }

  /** EXTERNAL AUTHENTICATE: 84 82 level 00 10 host-cryptogram C-MAC (ICV zero). Only after a verified card cryptogram. */
  externalAuthenticate(): CommandApdu {
    if (this.state !== 'authenticated' || !this.card || !this.keysOfSession) {
      throw new SecureChannelError('unsupported', 'EXTERNAL AUTHENTICATE needs a verified card cryptogram first');
    }
    const hostCryptogram = scp02HostCryptogram(this.keysOfSession.senc, this.card.sequenceCounter, this.card.cardChallenge, this.hostChallenge);
    const mac = scp02Mac(this.keysOfSession.smac, scp02MacInput(0x84, 0x82, this.level, 0x00, hostCryptogram, true), new Uint8Array(8));
    this.lastCmac = mac;
    this.ricv = mac;
    this.state = 'open';
    return { cla: 0x84, ins: 0x82, p1: this.level, p2: 0x00, data: concat(hostCryptogram, mac) };
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** C-MAC (and C-DECRYPTION) per the level; the clear command's CLA must be '80'–'83' (or '00'–'03'). */
  wrap(command: CommandApdu): Uint8Array {
    if (this.state !== 'open' || !this.keysOfSession || !this.lastCmac) throw new SecureChannelError('unsupported', 'SCP02 channel not open');
    if (!scp02BasicChannelCla(command.cla)) throw new SecureChannelError('unsupported', `CLA ${hex1(command.cla)}: SCP02 here supports logical channels 0-3 only`);
    const keys = this.keysOfSession;
    const data = command.data ?? new Uint8Array(0);
    const rmac = (this.level & SecurityLevel.RMAC) !== 0;
    // R-MAC turns case 1/3 into case 2/4 (E.4.5) so the card can return the R-MAC.
    const le = rmac && command.le === undefined ? 256 : command.le;
    if (rmac) this.pendingRmacCommand = scp02RmacCommandPart(command.cla, command.ins, command.p1, command.p2, data);
    if (!(this.level & SecurityLevel.CMAC)) return encodeCommand({ ...command, le });

    const icv = this.i & Scp02Option.ICV_ENCRYPTION ? scp02EncryptIcv(keys.smac, this.lastCmac) : this.lastCmac;
    const modified = !(this.i & Scp02Option.CMAC_UNMODIFIED);
    const mac = scp02Mac(keys.smac, scp02MacInput(command.cla, command.ins, command.p1, command.p2, data, modified), icv);
    this.lastCmac = mac;
    const body = this.level & SecurityLevel.CDEC && data.length > 0 ? scp02EncryptData(keys.senc, data, this.commandPaddingBlocks) : data;
    if (body.length + 8 > 255) throw new SecureChannelError('unsupported', `SCP02 command data too long to wrap: ${data.length} bytes`);
    return encodeCommand({ cla: command.cla | SCP02_SM_BIT, ins: command.ins, p1: command.p1, p2: command.p2, data: concat(body, mac), le });
  }

  /** Verifies the R-MAC when the level asks for it; otherwise only splits the response. */
  unwrap(response: Uint8Array): ResponseApdu {
    const r = parseResponse(response);
    if (!(this.level & SecurityLevel.RMAC) || this.state !== 'open') return r;
    const command = this.pendingRmacCommand;
    this.pendingRmacCommand = undefined;
    if (!command || !this.ricv || !this.keysOfSession) throw new SecureChannelError('malformed-response', 'response without a wrapped command');
    if (r.data.length < 8) {
      // A card that aborts the session on a security error answers with the SW alone; errors carry no data to protect.
      if (r.data.length === 0 && !scp02SuccessOrWarning(r.sw)) return r;
      throw new SecureChannelError('malformed-response', `response of ${r.data.length} bytes cannot carry an R-MAC (SW ${r.sw.toString(16)})`);
    }
    const data = r.data.slice(0, r.data.length - 8);
    const received = r.data.slice(r.data.length - 8);
    const expected = scp02Mac(this.keysOfSession.srmac, concat(command, scp02RmacResponsePart(data, r.sw)), this.ricv);
    this.ricv = expected;
    if (!equalBytes(expected, received)) throw new SecureChannelError('bad-mac', `R-MAC mismatch (SW ${r.sw.toString(16).toUpperCase()})`);
    return { data, sw: r.sw };
  }

  /** Sensitive data (keys) for PUT KEY: 3DES-ECB with the session DEK (E.4.7, explicit initiation). */
  encryptSensitive(data: Uint8Array): Uint8Array {
    return scp02EncryptSensitive(this.sessionKeys.sdek, data);
  }
}

/** Sequence counter as a number (for traces and the simulator's persistence). */
export function scp02SequenceCounterValue(counter: Uint8Array): number {
  return readUint(counter);
}

/**
 * The SCP02 host for openSecureChannel (gp/open-secure-channel.ts): `hostFactory: scp02HostFactory(0x55)`.
 * `i` is the card's i parameter (read it from Card Recognition Data, tag '64', or the card profile).
 */
export function scp02HostFactory(i = 0x15): HostFactory {
  return (keys, level) => new Scp02Host({ keys, level, i });
}
