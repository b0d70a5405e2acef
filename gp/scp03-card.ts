/**
 * SCP03 card side (GP Card Specification 2.3 Amendment D v1.2) for the simulator: INITIALIZE UPDATE,
 * EXTERNAL AUTHENTICATE, C-MAC/C-DECRYPTION checking and R-MAC/R-ENCRYPTION of responses, S8 and S16.
 * Never throws on card input: every failure is a status word, as a card would answer. The shape matches
 * Scp02Card so the simulator treats both alike.
 */
import { randomBytes } from 'node:crypto';
import type { CommandApdu, ResponseApdu } from './apdu.ts';
import { concat, equalBytes, uint } from './bytes.ts';
import {
  type AesKeySet,
  claimsSecureMessaging,
  isProtectedSw,
  Scp03Option,
  scp03BlockLength,
  scp03CardCryptogram,
  scp03CommandMac,
  scp03DecryptCommandData,
  scp03DecryptSensitive,
  scp03EncryptResponseData,
  scp03HostCryptogram,
  scp03LevelProblem,
  scp03PseudoRandomChallenge,
  scp03ResponseMac,
  scp03SessionKeys,
  withoutSecureMessaging,
} from './scp03-crypto.ts';
import { SecurityLevel, type SessionKeys } from './secure-channel.ts';

/** Status words the card side answers with (Amd D Tables 7-4, 7-7; GPCS §11.1.3). */
export const Scp03Sw = {
  OK: 0x9000,
  AUTH_FAILED: 0x6300,
  WRONG_LENGTH: 0x6700,
  SECURITY_NOT_SATISFIED: 0x6982,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  WRONG_P1P2: 0x6a86,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
} as const;

/** Largest value of the 3-byte sequence counter; at it INITIALIZE UPDATE answers 6985 (§6.2.2.1). */
export const SCP03_MAX_SEQUENCE_COUNTER = 0xffffff;

/** One SCP03 key set of a security domain as the card keeps it. */
export interface Scp03CardKeySet {
  kvn: number;
  keys: AesKeySet;
  /** Sequence counter of this key set (0 after creation or full replacement). */
  sequenceCounter: number;
}

export interface Scp03CardOptions {
  /** The key set with this KVN; for KVN 0 the first available one. Undefined → 6A88. */
  findKeySet(kvn: number): Scp03CardKeySet | undefined;
  /** Key diversification data returned in INITIALIZE UPDATE (10 bytes). */
  kdd: Uint8Array;
  /** AID of the security domain (context of the pseudo-random card challenge). */
  aid: Uint8Array;
  /** i parameter (default '70': pseudo-random challenge, R-MAC and R-ENCRYPTION, S8). */
  i?: number;
  /** Random source for random card challenges (i without '10'); default node:crypto. */
  random?: (length: number) => Uint8Array;
  /** The counter of `kvn` is now `value`: persist it (incremented by each INITIALIZE UPDATE in pseudo-random mode). */
  onSequenceCounter?(kvn: number, value: number): void;
}

type Scp03UnwrapResult = { ok: true; command: CommandApdu } | { ok: false; sw: number };

interface Pending {
  keySet: Scp03CardKeySet;
  keys: SessionKeys;
  hostChallenge: Uint8Array;
  cardChallenge: Uint8Array;
}

interface Session {
  kvn: number;
  level: number;
  keys: SessionKeys;
  dek: Uint8Array;
  mcv: Uint8Array;
  counter: number;
  /** Set by unwrapCommand: the response to this command gets R-MAC / R-ENCRYPTION. */
  awaitingResponse: boolean;
}

export class Scp03Card {
  readonly scp = '03' as const;
  readonly i: number;
  private readonly opts: Scp03CardOptions;
  private readonly s: 8 | 16;
  private pending?: Pending;
  private session?: Session;
  /** A security error aborted the session: §5.6 rejects further commands until a new session or selection. */
  private aborted = false;

  constructor(opts: Scp03CardOptions) {
    this.opts = opts;
    this.i = opts.i ?? 0x70;
    if ((this.i & 0x8e) !== 0 || (this.i & Scp03Option.RENC_SUPPORT && !(this.i & Scp03Option.RMAC_SUPPORT))) {
      throw new RangeError(`SCP03 card: i=${this.i.toString(16)} is not a valid Table 5-1 value`);
    }
    if (opts.kdd.length !== 10) throw new RangeError(`SCP03 card: key diversification data must be 10 bytes, got ${opts.kdd.length}`);
    if (opts.aid.length < 5 || opts.aid.length > 16) throw new RangeError(`SCP03 card: SD AID must be 5..16 bytes, got ${opts.aid.length}`);
    this.s = scp03BlockLength(this.i);
  }

  get isOpen(): boolean {
    return this.session !== undefined;
  }

  /** Current security level, or undefined when no session is open. */
  get level(): number | undefined {
    return this.session?.level;
  }

  get kvn(): number | undefined {
    return this.session?.kvn;
  }

  get sessionKeys(): SessionKeys | undefined {
    return this.session?.keys;
  }

  /** Ends the session (new selection, reset, power off, logical channel closed). */
  reset(): void {
    this.pending = undefined;
    this.session = undefined;
    this.aborted = false;
  }

  /** INITIALIZE UPDATE (§7.1.1). Any earlier session ends here. */
  handleInitializeUpdate(command: CommandApdu): ResponseApdu {
    this.reset();
    const hostChallenge = command.data ?? new Uint8Array(0);
    if (command.p2 !== 0x00) return sw(Scp03Sw.WRONG_P1P2);
    if (hostChallenge.length !== this.s) return sw(Scp03Sw.WRONG_LENGTH);
    const keySet = this.opts.findKeySet(command.p1);
    if (!keySet || !completeAesKeySet(keySet.keys)) return sw(Scp03Sw.REFERENCED_DATA_NOT_FOUND);
    let cardChallenge: Uint8Array;
    let counterField: Uint8Array = new Uint8Array(0);
    if (this.i & Scp03Option.PSEUDO_RANDOM_CHALLENGE) {
      if (keySet.sequenceCounter >= SCP03_MAX_SEQUENCE_COUNTER) return sw(Scp03Sw.CONDITIONS_NOT_SATISFIED);
      const next = keySet.sequenceCounter + 1;
      this.opts.onSequenceCounter?.(keySet.kvn, next);
      counterField = uint(next, 3);
      cardChallenge = scp03PseudoRandomChallenge(keySet.keys.enc, counterField, this.opts.aid, this.s);
    } else {
      cardChallenge = (this.opts.random ?? defaultRandom)(this.s);
    }
    const keys = scp03SessionKeys(keySet.keys, hostChallenge, cardChallenge);
    const cryptogram = scp03CardCryptogram(keys.smac, hostChallenge, cardChallenge);
    this.pending = { keySet, keys, hostChallenge: hostChallenge.slice(), cardChallenge };
    return {
      data: concat(this.opts.kdd, Uint8Array.of(keySet.kvn, 0x03, this.i), cardChallenge, cryptogram, counterField),
      sw: Scp03Sw.OK,
    };
  }

  /** EXTERNAL AUTHENTICATE (§7.1.2) as received: CLA with secure messaging, host cryptogram ‖ C-MAC. */
  handleExternalAuthenticate(command: CommandApdu): ResponseApdu {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return sw(Scp03Sw.CONDITIONS_NOT_SATISFIED);
    const data = command.data ?? new Uint8Array(0);
    if (data.length !== 2 * this.s) return sw(Scp03Sw.WRONG_LENGTH);
    if (command.p2 !== 0x00 || !this.levelAllowed(command.p1)) return sw(Scp03Sw.WRONG_P1P2);
    if (!claimsSecureMessaging(command.cla)) return sw(Scp03Sw.SECURITY_NOT_SATISFIED);
    const hostCryptogram = data.subarray(0, this.s);
    if (!equalBytes(scp03HostCryptogram(pending.keys.smac, pending.hostChallenge, pending.cardChallenge), hostCryptogram)) {
      return sw(Scp03Sw.AUTH_FAILED);
    }
    const full = scp03CommandMac(pending.keys.smac, new Uint8Array(16), command, hostCryptogram, this.s);
    if (!equalBytes(full.subarray(0, this.s), data.subarray(this.s))) return sw(Scp03Sw.SECURITY_NOT_SATISFIED);
    this.session = {
      kvn: pending.keySet.kvn,
      level: command.p1,
      keys: pending.keys,
      dek: pending.keySet.keys.dek,
      mcv: full,
      counter: 0,
      awaitingResponse: false,
    };
    return sw(Scp03Sw.OK);
  }

  /**
   * Checks and strips the secure messaging of a command per the current level (§5.6, §6.2.4, §6.2.6).
   * Outside a session commands pass through unless they claim secure messaging.
   */
  unwrapCommand(command: CommandApdu): Scp03UnwrapResult {
    if (this.aborted) return { ok: false, sw: Scp03Sw.SECURITY_NOT_SATISFIED };
    const s = this.session;
    const claimsSm = claimsSecureMessaging(command.cla);
    if (!s) return claimsSm ? { ok: false, sw: Scp03Sw.SECURITY_NOT_SATISFIED } : { ok: true, command };
    s.counter++;
    s.awaitingResponse = true;
    if (!(s.level & SecurityLevel.CMAC)) return { ok: true, command };
    if (!claimsSm) return this.abort();
    const body = command.data ?? new Uint8Array(0);
    if (body.length < this.s) return this.abort();
    const data = body.subarray(0, body.length - this.s);
    const full = scp03CommandMac(s.keys.smac, s.mcv, command, data, this.s);
    if (!equalBytes(full.subarray(0, this.s), body.subarray(body.length - this.s))) return this.abort();
    s.mcv = full;
    let plain: Uint8Array = data.slice();
    if (s.level & SecurityLevel.CDEC && data.length > 0) {
      const clear = scp03DecryptCommandData(s.keys.senc, s.counter, data);
      if (!clear) return this.abort();
      plain = clear;
    }
    const clear: CommandApdu = { cla: withoutSecureMessaging(command.cla), ins: command.ins, p1: command.p1, p2: command.p2 };
    if (plain.length > 0) clear.data = plain;
    if (command.le !== undefined) clear.le = command.le;
    return { ok: true, command: clear };
  }

  /** R-ENCRYPTION then R-MAC (§6.2.5, §6.2.7) on the response to the last unwrapped command; error SWs go back bare. */
  wrapResponse(response: ResponseApdu): ResponseApdu {
    const s = this.session;
    if (!s || !s.awaitingResponse) return response;
    s.awaitingResponse = false;
    if (!(s.level & SecurityLevel.RMAC)) return response;
    if (!isProtectedSw(response.sw)) return { data: new Uint8Array(0), sw: response.sw };
    let data = response.data;
    if (s.level & SecurityLevel.RENC && data.length > 0) data = scp03EncryptResponseData(s.keys.senc, s.counter, data);
    const rmac = scp03ResponseMac(s.keys.srmac, s.mcv, data, response.sw, this.s);
    return { data: concat(data, rmac), sw: response.sw };
  }

  /** Decrypts key sensitive data (PUT KEY key components) with the static DEK of the session's key set; whole blocks only. */
  decryptSensitive(data: Uint8Array): Uint8Array | undefined {
    if (!this.session || data.length === 0 || data.length % 16 !== 0) return undefined;
    return scp03DecryptSensitive(this.session.dek, data);
  }

  private levelAllowed(level: number): boolean {
    return scp03LevelProblem(level, this.i) === undefined;
  }

  private abort(): Scp03UnwrapResult {
    this.session = undefined;
    this.aborted = true;
    return { ok: false, sw: Scp03Sw.SECURITY_NOT_SATISFIED };
  }
}

function completeAesKeySet(k: AesKeySet): boolean {
  const n = k.enc.length;
  return [16, 24, 32].includes(n) && k.mac.length === n && k.dek.length === n;
}

function sw(status: number): ResponseApdu {
  return { data: new Uint8Array(0), sw: status };
}

function defaultRandom(length: number): Uint8Array {
  return new Uint8Array(randomBytes(length));
}
