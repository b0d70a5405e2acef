/**
 * SCP02 card side (GPCS 2.3.1 Appendix E, explicit initiation, three keys) for the simulator.
 * Never throws on card input: every failure is a status word, as a card would answer.
 */
import { randomBytes } from 'node:crypto';
import type { CommandApdu, ResponseApdu } from './apdu.ts';
import { concat, equalBytes, uint, unpad80 } from './bytes.ts';
import { tdesCbcDecrypt } from './des.ts';
import {
  type DesKeySet,
  Scp02Option,
  SCP02_SM_BIT,
  scp02BasicChannelCla,
  scp02SuccessOrWarning,
  scp02CardCryptogram,
  scp02DecryptSensitive,
  scp02EncryptIcv,
  scp02HostCryptogram,
  scp02Mac,
  scp02MacInput,
  scp02PseudoRandomChallenge,
  scp02RmacCommandPart,
  scp02RmacResponsePart,
  scp02SessionKeys,
} from './scp02-crypto.ts';
import { SCP02_LEVELS, SCP02_SUPPORTED_I } from './scp02.ts';
import { SecurityLevel, type SessionKeys } from './secure-channel.ts';

/** Status words the card side answers with. */
export const Scp02Sw = {
  OK: 0x9000,
  WRONG_LENGTH: 0x6700,
  AUTH_FAILED: 0x6300,
  SECURITY_NOT_SATISFIED: 0x6982,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  WRONG_P1P2: 0x6a86,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  CLA_NOT_SUPPORTED: 0x6e00,
} as const;

/** One SCP02 key set of a security domain as the card keeps it. */
export interface Scp02CardKeySet {
  kvn: number;
  keys: DesKeySet;
  /** Current Secure Channel Sequence Counter of this key set (0..65535). */
  sequenceCounter: number;
}

export interface Scp02CardOptions {
  /** The key set with this KVN; for KVN 0 the first available one (E.5.1.3). */
  findKeySet(kvn: number): Scp02CardKeySet | undefined;
  /** Key diversification data returned in INITIALIZE UPDATE (10 bytes). */
  kdd: Uint8Array;
  /** AID of the security domain (input of the pseudo-random card challenge when i has bit '40'). */
  aid: Uint8Array;
  /** i parameter (default '15'). */
  i?: number;
  /** Random source for card challenges (default node:crypto). */
  random?: (length: number) => Uint8Array;
  /** The counter of `kvn` is now `value`: persist it (E.1.2: incremented on the first verified C-MAC). */
  onSequenceCounter?(kvn: number, value: number): void;
}

export type Scp02UnwrapResult = { ok: true; command: CommandApdu } | { ok: false; sw: number };

interface Pending {
  keySet: Scp02CardKeySet;
  keys: Required<SessionKeys>;
  counter: Uint8Array;
  hostChallenge: Uint8Array;
  cardChallenge: Uint8Array;
}

interface Session {
  kvn: number;
  level: number;
  keys: Required<SessionKeys>;
  /** Last verified C-MAC (the next ICV before encryption). */
  cmac: Uint8Array;
  ricv: Uint8Array;
  rmacCommand?: Uint8Array;
}

export class Scp02Card {
  readonly scp = '02' as const;
  readonly i: number;
  private readonly opts: Scp02CardOptions;
  private pending?: Pending;
  private session?: Session;
  /** Set when a security error aborted the session: E.1.6 rejects further commands until a new session or selection. */
  private aborted = false;

  constructor(opts: Scp02CardOptions) {
    this.opts = opts;
    this.i = opts.i ?? 0x15;
    if (!SCP02_SUPPORTED_I.includes(this.i)) throw new RangeError(`SCP02 card: i=${this.i.toString(16)} not supported`);
    if (opts.kdd.length !== 10) throw new RangeError(`SCP02 card: key diversification data must be 10 bytes, got ${opts.kdd.length}`);
  }

  get isOpen(): boolean {
    return this.session !== undefined;
  }

  /** Current security level, or undefined when no session is open. */
  get level(): number | undefined {
    return this.session?.level;
  }

  /** KVN of the open session. */
  get kvn(): number | undefined {
    return this.session?.kvn;
  }

  get sessionKeys(): Required<SessionKeys> | undefined {
    return this.session?.keys;
  }

  /** Ends the session (new selection, reset, power off, logical channel closed). */
  reset(): void {
    this.pending = undefined;
    this.session = undefined;
    this.aborted = false;
  }

  /** INITIALIZE UPDATE (E.5.1). Any earlier session ends here. */
  handleInitializeUpdate(command: CommandApdu): ResponseApdu {
    this.reset();
    const data = command.data ?? new Uint8Array(0);
    if (command.p2 !== 0x00) return sw(Scp02Sw.WRONG_P1P2);
    if (data.length !== 8) return sw(Scp02Sw.WRONG_LENGTH);
    const keySet = this.opts.findKeySet(command.p1);
    if (!keySet) return sw(Scp02Sw.REFERENCED_DATA_NOT_FOUND);
    // The counter never wraps (E.1.2); a spent key set cannot open sessions any more.
    if (keySet.sequenceCounter >= 0xffff) return sw(Scp02Sw.CONDITIONS_NOT_SATISFIED);
    const counter = uint(keySet.sequenceCounter, 2);
    const keys = scp02SessionKeys(keySet.keys, counter);
    const cardChallenge =
      this.i & Scp02Option.PSEUDO_RANDOM_CHALLENGE
        ? scp02PseudoRandomChallenge(keys.smac, this.opts.aid)
        : (this.opts.random ?? defaultRandom)(6);
    const cryptogram = scp02CardCryptogram(keys.senc, data, counter, cardChallenge);
    this.pending = { keySet, keys, counter, hostChallenge: data.slice(), cardChallenge };
    return {
      data: concat(this.opts.kdd, Uint8Array.of(keySet.kvn, 0x02), counter, cardChallenge, cryptogram),
      sw: Scp02Sw.OK,
    };
  }

  /** EXTERNAL AUTHENTICATE (E.5.2) as received on the wire (CLA with the secure messaging bit, cryptogram ‖ C-MAC). */
  handleExternalAuthenticate(command: CommandApdu): ResponseApdu {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return sw(Scp02Sw.CONDITIONS_NOT_SATISFIED);
    const data = command.data ?? new Uint8Array(0);
    if (data.length !== 16) return sw(Scp02Sw.WRONG_LENGTH);
    if (command.p2 !== 0x00 || !this.levelAllowed(command.p1)) return sw(Scp02Sw.WRONG_P1P2);
    if (!(command.cla & SCP02_SM_BIT)) return sw(Scp02Sw.SECURITY_NOT_SATISFIED);
    const hostCryptogram = data.subarray(0, 8);
    const expected = scp02HostCryptogram(pending.keys.senc, pending.counter, pending.cardChallenge, pending.hostChallenge);
    if (!equalBytes(expected, hostCryptogram)) return sw(Scp02Sw.AUTH_FAILED);
    const mac = data.slice(8);
    const input = scp02MacInput(command.cla, command.ins, command.p1, command.p2, hostCryptogram, this.modified());
    if (!equalBytes(scp02Mac(pending.keys.smac, input, new Uint8Array(8)), mac)) return sw(Scp02Sw.SECURITY_NOT_SATISFIED);
    const next = pending.keySet.sequenceCounter + 1;
    this.opts.onSequenceCounter?.(pending.keySet.kvn, next);
    this.session = { kvn: pending.keySet.kvn, level: command.p1, keys: pending.keys, cmac: mac, ricv: mac };
    return sw(Scp02Sw.OK);
  }

  /**
   * Checks and strips the secure messaging of a command (C-DECRYPTION, then C-MAC) per the current level.
   * Commands outside a session pass through unless they claim secure messaging.
   */
  unwrapCommand(command: CommandApdu): Scp02UnwrapResult {
    if (this.aborted) return { ok: false, sw: Scp02Sw.SECURITY_NOT_SATISFIED };
    const s = this.session;
    const claimsSm = (command.cla & SCP02_SM_BIT) !== 0 && scp02BasicChannelCla(command.cla);
    if (!s) return claimsSm ? { ok: false, sw: Scp02Sw.SECURITY_NOT_SATISFIED } : { ok: true, command };
    if (!scp02BasicChannelCla(command.cla)) return this.abort(Scp02Sw.CLA_NOT_SUPPORTED);
    let clear: CommandApdu = command;
    if (claimsSm) {
      const verified = this.verify(s, command);
      if (!verified) return this.abort(Scp02Sw.SECURITY_NOT_SATISFIED);
      clear = verified;
    } else if (s.level & SecurityLevel.CMAC) {
      return this.abort(Scp02Sw.SECURITY_NOT_SATISFIED);
    }
    if (s.level & SecurityLevel.RMAC) {
      s.rmacCommand = scp02RmacCommandPart(clear.cla, clear.ins, clear.p1, clear.p2, clear.data ?? new Uint8Array(0));
    }
    return { ok: true, command: clear };
  }

  /** Appends the R-MAC when the session asks for one (E.4.5); otherwise returns the response unchanged. */
  wrapResponse(response: ResponseApdu): ResponseApdu {
    const s = this.session;
    if (!s || !(s.level & SecurityLevel.RMAC) || !s.rmacCommand) return response;
    const data = scp02SuccessOrWarning(response.sw) ? response.data : new Uint8Array(0);
    const rmac = scp02Mac(s.keys.srmac, concat(s.rmacCommand, scp02RmacResponsePart(data, response.sw)), s.ricv);
    s.ricv = rmac;
    s.rmacCommand = undefined;
    return { data: concat(data, rmac), sw: response.sw };
  }

  /** Decrypts sensitive data (PUT KEY key values) with the session DEK, 3DES-ECB. Undefined without a session. */
  decryptSensitive(data: Uint8Array): Uint8Array | undefined {
    if (!this.session || data.length % 8 !== 0) return undefined;
    return scp02DecryptSensitive(this.session.keys.sdek, data);
  }

  private levelAllowed(level: number): boolean {
    if (!SCP02_LEVELS.includes(level)) return false;
    return !(level & SecurityLevel.RMAC) || (this.i & Scp02Option.RMAC_SUPPORT) !== 0;
  }

  private modified(): boolean {
    return !(this.i & Scp02Option.CMAC_UNMODIFIED);
  }

  private verify(s: Session, command: CommandApdu): CommandApdu | undefined {
    const body = command.data ?? new Uint8Array(0);
    if (body.length < 8) return undefined;
    const mac = body.slice(body.length - 8);
    let data: Uint8Array = body.slice(0, body.length - 8);
    if (s.level & SecurityLevel.CDEC && data.length > 0) {
      if (data.length % 8 !== 0) return undefined;
      const plain = unpad80(tdesCbcDecrypt(s.keys.senc, data));
      if (!plain) return undefined;
      data = plain;
    }
    const icv = this.i & Scp02Option.ICV_ENCRYPTION ? scp02EncryptIcv(s.keys.smac, s.cmac) : s.cmac;
    const expected = scp02Mac(s.keys.smac, scp02MacInput(command.cla, command.ins, command.p1, command.p2, data, this.modified()), icv);
    if (!equalBytes(expected, mac)) return undefined;
    s.cmac = mac;
    const clear: CommandApdu = { cla: command.cla & ~SCP02_SM_BIT, ins: command.ins, p1: command.p1, p2: command.p2 };
    if (data.length > 0) clear.data = data;
    if (command.le !== undefined) clear.le = command.le;
    return clear;
  }

  private abort(status: number): Scp02UnwrapResult {
    this.session = undefined;
    this.aborted = true;
    return { ok: false, sw: status };
  }
}

function sw(status: number): ResponseApdu {
  return { data: new Uint8Array(0), sw: status };
}

function defaultRandom(length: number): Uint8Array {
  return new Uint8Array(randomBytes(length));
}
