/**
 * SCP03 host side (GP Card Specification 2.3 Amendment D v1.2), S8 and S16 modes, AES-128/192/256.
 * Two steps before the channel is usable: INITIALIZE UPDATE, then — only after the card cryptogram verified —
 * EXTERNAL AUTHENTICATE. A wrong key set therefore never costs the card an authentication attempt.
 */
import type { CommandApdu, ResponseApdu } from './apdu.ts';
import { encodeCommand, parseResponse } from './apdu.ts';
import { concat, equalBytes, readUint, toHex } from './bytes.ts';
import {
  type AesKeySet,
  claimsSecureMessaging,
  isProtectedSw,
  Scp03Option,
  scp03BlockLength,
  scp03CardCryptogram,
  scp03CommandMac,
  scp03DecryptResponseData,
  scp03EncryptCommandData,
  scp03EncryptSensitive,
  scp03HostCryptogram,
  scp03LevelProblem,
  scp03PseudoRandomChallenge,
  scp03ResponseMac,
  scp03SessionKeys,
  secureMessagingCla,
} from './scp03-crypto.ts';
import { type HostSecureChannel, SecureChannelError, SecurityLevel, type SessionKeys } from './secure-channel.ts';

/** Fields of the INITIALIZE UPDATE response (Amd D Table 7-3). */
export interface Scp03InitializeUpdateResponse {
  /** Key diversification data (10 bytes). */
  kdd: Uint8Array;
  kvn: number;
  scpId: number;
  i: number;
  cardChallenge: Uint8Array;
  cardCryptogram: Uint8Array;
  /** Present when i announces pseudo-random challenges (3 bytes). */
  sequenceCounter?: Uint8Array;
}

function h2(n: number): string {
  return n.toString(16).padStart(2, '0').toUpperCase();
}

/** Splits an SCP03 INITIALIZE UPDATE response (data without SW): 29/32 bytes in S8 mode, 45/48 in S16 mode. */
export function parseScp03InitializeUpdateResponse(data: Uint8Array): Scp03InitializeUpdateResponse {
  if (data.length < 13) throw new SecureChannelError('malformed-response', `INITIALIZE UPDATE response of ${data.length} bytes is too short`);
  const scpId = data[11];
  const i = data[12];
  if (scpId !== 0x03) throw new SecureChannelError('unsupported', `card answered SCP ${h2(scpId)}, not SCP03`);
  const s = scp03BlockLength(i);
  const pseudo = (i & Scp03Option.PSEUDO_RANDOM_CHALLENGE) !== 0;
  const expected = 13 + 2 * s + (pseudo ? 3 : 0);
  if (data.length !== expected) {
    throw new SecureChannelError(
      'malformed-response',
      `SCP03 INITIALIZE UPDATE response must be ${expected} bytes for i=${h2(i)} (${s === 16 ? 'S16' : 'S8'}${pseudo ? ', sequence counter' : ''}), got ${data.length}`,
    );
  }
  const r: Scp03InitializeUpdateResponse = {
    kdd: data.slice(0, 10),
    kvn: data[10],
    scpId,
    i,
    cardChallenge: data.slice(13, 13 + s),
    cardCryptogram: data.slice(13 + s, 13 + 2 * s),
  };
  if (pseudo) r.sequenceCounter = data.slice(13 + 2 * s);
  return r;
}

/** Throws SecureChannelError('unsupported') for a level outside Table 7-6 or one the card's i does not allow. */
export function checkScp03Level(level: number, i?: number): void {
  const problem = scp03LevelProblem(level, i);
  if (problem) throw new SecureChannelError('unsupported', problem, 'level');
}

export interface Scp03HostOptions {
  /** Static keys (KVN and SCP fields of a KeySet are ignored here). */
  keys: AesKeySet;
  /** Security level requested in EXTERNAL AUTHENTICATE (default C-MAC, '01'). */
  level?: number;
  /** AID of the SD: when given and the card uses pseudo-random challenges, the challenge is checked too. */
  sdAid?: Uint8Array;
  /** Reject a response whose KVN differs from a non-zero requested one (default false). */
  requireKeyVersionMatch?: boolean;
  /** For tests only: C-DECRYPTION pads command data over at least this many 16-byte blocks, as other hosts may. */
  commandPaddingBlocks?: number;
}

type HostState = 'idle' | 'awaiting-response' | 'authenticated' | 'open' | 'refused';

export class Scp03Host implements HostSecureChannel {
  readonly scp = '03' as const;
  readonly level: number;
  private readonly keys: AesKeySet;
  private readonly sdAid?: Uint8Array;
  private readonly requireKvn: boolean;
  private readonly commandPaddingBlocks: number;
  private state: HostState = 'idle';
  private requestedKvn = 0;
  private hostChallenge: Uint8Array = new Uint8Array(0);
  private keysOfSession?: SessionKeys;
  private card?: Scp03InitializeUpdateResponse;
  private macBytes: 8 | 16 = 8;
  /** MAC chaining value: the full 16-byte CMAC of the last command. */
  private mcv: Uint8Array = new Uint8Array(16);
  /** Encryption counter: incremented before every wrapped command (§6.2.6). */
  private counter = 0;
  /** Counter of the command whose response is awaited (its R-ENCRYPTION ICV). */
  private responseCounter = 0;

  constructor(opts: Scp03HostOptions) {
    const { enc, mac, dek } = opts.keys;
    for (const [n, k] of [['ENC', enc], ['MAC', mac], ['DEK', dek]] as const) {
      if (!(k instanceof Uint8Array) || ![16, 24, 32].includes(k.length)) {
        throw new SecureChannelError('unsupported', `SCP03 ${n} key must be 16, 24 or 32 bytes, got ${k?.length ?? 'none'}`);
      }
    }
    this.keys = { enc, mac, dek };
    this.level = opts.level ?? SecurityLevel.CMAC;
    this.sdAid = opts.sdAid;
    this.requireKvn = opts.requireKeyVersionMatch ?? false;
    this.commandPaddingBlocks = opts.commandPaddingBlocks ?? 0;
    checkScp03Level(this.level);
  }

  /** 8, or 16 once the card chose S16 mode. */
  get macLength(): 8 | 16 {
    return this.macBytes;
  }

  get sessionKeys(): SessionKeys {
    if (!this.keysOfSession) throw new SecureChannelError('unsupported', 'no SCP03 session keys before a verified INITIALIZE UPDATE response');
    return this.keysOfSession;
  }

  /** What the card said in INITIALIZE UPDATE (after onInitializeUpdateResponse). */
  get cardInfo(): Scp03InitializeUpdateResponse | undefined {
    return this.card;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** INITIALIZE UPDATE: 80 50 KVN 00 Lc host-challenge 00; an 8-byte challenge means S8, 16 bytes S16. */
  initializeUpdate(kvn: number, hostChallenge: Uint8Array): CommandApdu {
    if (hostChallenge.length !== 8 && hostChallenge.length !== 16) {
      throw new SecureChannelError('unsupported', `host challenge must be 8 (S8) or 16 (S16) bytes, got ${hostChallenge.length}`);
    }
    if (!Number.isInteger(kvn) || kvn < 0 || kvn > 0xff) throw new SecureChannelError('unsupported', `key version number out of range: ${kvn}`);
    this.requestedKvn = kvn;
    this.hostChallenge = hostChallenge.slice();
    this.state = 'awaiting-response';
    this.keysOfSession = undefined;
    this.card = undefined;
    return { cla: 0x80, ins: 0x50, p1: kvn, p2: 0x00, data: this.hostChallenge, le: 256 };
  }

  /**
   * Parses the response, derives the session keys and verifies the card cryptogram. On any failure the host
   * refuses to produce EXTERNAL AUTHENTICATE: 'card-cryptogram-mismatch' for a wrong key set.
   */
  onInitializeUpdateResponse(data: Uint8Array): Scp03InitializeUpdateResponse {
    if (this.state !== 'awaiting-response') throw new SecureChannelError('unsupported', 'INITIALIZE UPDATE response without a pending INITIALIZE UPDATE');
    this.state = 'refused';
    const r = parseScp03InitializeUpdateResponse(data);
    const s = scp03BlockLength(r.i);
    if (s !== this.hostChallenge.length) {
      throw new SecureChannelError('malformed-response', `card answered in ${s === 16 ? 'S16' : 'S8'} mode (i=${h2(r.i)}) to a ${this.hostChallenge.length}-byte host challenge`);
    }
    if (this.requireKvn && this.requestedKvn !== 0 && r.kvn !== this.requestedKvn) {
      throw new SecureChannelError('malformed-response', `card answered key version ${h2(r.kvn)} for requested ${h2(this.requestedKvn)}`);
    }
    checkScp03Level(this.level, r.i);
    const keys = scp03SessionKeys(this.keys, this.hostChallenge, r.cardChallenge);
    const expected = scp03CardCryptogram(keys.smac, this.hostChallenge, r.cardChallenge);
    if (!equalBytes(expected, r.cardCryptogram)) {
      throw new SecureChannelError(
        'card-cryptogram-mismatch',
        `SCP03 card cryptogram mismatch (KVN ${h2(r.kvn)}${r.sequenceCounter ? `, sequence counter ${toHex(r.sequenceCounter)}` : ''}): wrong key set or diversification`,
      );
    }
    if (this.sdAid && r.sequenceCounter) {
      const challenge = scp03PseudoRandomChallenge(this.keys.enc, r.sequenceCounter, this.sdAid, s);
      if (!equalBytes(challenge, r.cardChallenge)) {
        throw new SecureChannelError('card-cryptogram-mismatch', `pseudo-random card challenge does not match SD AID ${toHex(this.sdAid)} and sequence counter ${toHex(r.sequenceCounter)}`);
      }
    }
    this.keysOfSession = keys;
    this.card = r;
    this.macBytes = s;
    this.state = 'authenticated';
    return r;
  }

  /** EXTERNAL AUTHENTICATE: 84 82 level 00 Lc host-cryptogram ‖ C-MAC (MCV zero). Only after a verified card cryptogram. */
  externalAuthenticate(): CommandApdu {
    if (this.state !== 'authenticated' || !this.card || !this.keysOfSession) {
      throw new SecureChannelError('unsupported', 'EXTERNAL AUTHENTICATE needs a verified card cryptogram first');
    }
    const hostCryptogram = scp03HostCryptogram(this.keysOfSession.smac, this.hostChallenge, this.card.cardChallenge);
    const header = { cla: 0x84, ins: 0x82, p1: this.level, p2: 0x00 };
    const full = scp03CommandMac(this.keysOfSession.smac, new Uint8Array(16), header, hostCryptogram, this.macBytes);
    this.mcv = full;
    this.counter = 0;
    this.state = 'open';
    return { ...header, data: concat(hostCryptogram, full.slice(0, this.macBytes)) };
  }

  /** Wraps a plain command per the level: C-DECRYPTION (data padded and encrypted), then C-MAC. */
  wrap(command: CommandApdu): Uint8Array {
    const keys = this.keysOfSession;
    if (this.state !== 'open' || !keys) throw new SecureChannelError('unsupported', 'SCP03 channel not open');
    if (claimsSecureMessaging(command.cla)) throw new SecureChannelError('unsupported', `CLA ${h2(command.cla)} already claims secure messaging; pass the plain command`);
    this.counter++;
    this.responseCounter = this.counter;
    if (!(this.level & SecurityLevel.CMAC)) return encodeCommand(command);
    const data = command.data ?? new Uint8Array(0);
    const body = this.level & SecurityLevel.CDEC && data.length > 0 ? scp03EncryptCommandData(keys.senc, this.counter, data, this.commandPaddingBlocks) : data;
    if (body.length + this.macBytes > 65535) throw new SecureChannelError('unsupported', `command data too long to wrap: ${data.length} bytes`);
    const header = { cla: command.cla, ins: command.ins, p1: command.p1, p2: command.p2 };
    this.mcv = scp03CommandMac(keys.smac, this.mcv, header, body, this.macBytes);
    return encodeCommand({ ...header, cla: secureMessagingCla(command.cla), data: concat(body, this.mcv.slice(0, this.macBytes)), le: command.le });
  }

  /** Verifies the R-MAC and removes R-ENCRYPTION when the level asks for them; otherwise only splits the response. */
  unwrap(response: Uint8Array): ResponseApdu {
    const r = parseResponse(response);
    const keys = this.keysOfSession;
    if (this.state !== 'open' || !keys || !(this.level & SecurityLevel.RMAC)) return r;
    if (!isProtectedSw(r.sw)) {
      // §6.2.5: error status words come back bare, without R-MAC.
      if (r.data.length === 0) return r;
      throw new SecureChannelError('malformed-response', `error SW ${r.sw.toString(16).toUpperCase()} with ${r.data.length} bytes of data`);
    }
    if (r.data.length < this.macBytes) {
      throw new SecureChannelError('malformed-response', `response of ${r.data.length} bytes cannot carry an R-MAC (SW ${r.sw.toString(16).toUpperCase()})`);
    }
    const body = r.data.slice(0, r.data.length - this.macBytes);
    const received = r.data.slice(r.data.length - this.macBytes);
    const expected = scp03ResponseMac(keys.srmac, this.mcv, body, r.sw, this.macBytes);
    if (!equalBytes(expected, received)) throw new SecureChannelError('bad-mac', `R-MAC mismatch (SW ${r.sw.toString(16).toUpperCase()})`);
    if (!(this.level & SecurityLevel.RENC) || body.length === 0) return { data: body, sw: r.sw };
    const plain = scp03DecryptResponseData(keys.senc, this.responseCounter, body);
    if (!plain.ok) throw new SecureChannelError('bad-padding', `R-ENCRYPTION: ${body.length} bytes of response data do not decrypt to padded data: ${plain.problem}`);
    return { data: plain.data, sw: r.sw };
  }

  /** Key sensitive data for PUT KEY / STORE DATA: AES-CBC with the static DEK, ICV zero (§6.2.8); whole blocks only. */
  encryptSensitive(data: Uint8Array): Uint8Array {
    return scp03EncryptSensitive(this.keys.dek, data);
  }
}

/** Sequence counter as a number (for traces and the simulator's persistence). */
export function scp03SequenceCounterValue(counter: Uint8Array): number {
  return readUint(counter);
}
