/**
 * SCP03 card side (GP Card Specification 2.3 Amendment D v1.2) for the simulator: INITIALIZE UPDATE,
 * EXTERNAL AUTHENTICATE, C-MAC/C-DECRYPTION checking and R-MAC/R-ENCRYPTION of responses, S8 and S16.
 * Never throws on card input: every failure is a status word, as a card would answer. The session flow
 * it shares with Scp02Card lives in card-secure-channel.ts.
 */
import type { CommandApdu, ResponseApdu } from './apdu.ts';
import { concat, equalBytes, uint } from './bytes.ts';
import { type CardKeySet, CardSecureChannelBase, type CardSecureChannelOptions, CardSecureChannelSw, type CardUnwrapResult, statusOnly } from './card-secure-channel.ts';
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
export const Scp03Sw = CardSecureChannelSw;

/** Largest value of the 3-byte sequence counter; at it INITIALIZE UPDATE answers 6985 (§6.2.2.1). */
export const SCP03_MAX_SEQUENCE_COUNTER = 0xffffff;

/** One SCP03 key set of a security domain as the card keeps it. */
export type Scp03CardKeySet = CardKeySet<AesKeySet>;

export interface Scp03CardOptions extends CardSecureChannelOptions<Scp03CardKeySet> {
  /**
   * For tests only: R-ENCRYPTION pads response data over at least this many 16-byte blocks instead of the
   * fewest, as some cards in the field do ('80' followed by more than one block of '00'). Default: the fewest.
   */
  responsePaddingBlocks?: number;
}

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

export class Scp03Card extends CardSecureChannelBase<Scp03CardKeySet, Pending, Session> {
  readonly scp = '03' as const;
  private readonly responsePaddingBlocks: number;

  constructor(opts: Scp03CardOptions) {
    const i = opts.i ?? 0x70;
    if ((i & 0x8e) !== 0 || (i & Scp03Option.RENC_SUPPORT && !(i & Scp03Option.RMAC_SUPPORT))) {
      throw new RangeError(`SCP03 card: i=${i.toString(16)} is not a valid Table 5-1 value`);
    }
    super('SCP03', opts, i, scp03BlockLength(i));
    if (opts.aid.length < 5 || opts.aid.length > 16) throw new RangeError(`SCP03 card: SD AID must be 5..16 bytes, got ${opts.aid.length}`);
    const blocks = opts.responsePaddingBlocks;
    if (blocks !== undefined && (!Number.isInteger(blocks) || blocks < 0 || blocks > 16)) {
      throw new RangeError(`SCP03 card: responsePaddingBlocks must be a whole number 0..16, got ${blocks}`);
    }
    this.responsePaddingBlocks = blocks ?? 0;
  }

  /** INITIALIZE UPDATE (§7.1.1) after the common checks. */
  protected initialize(keySet: Scp03CardKeySet, hostChallenge: Uint8Array): ResponseApdu {
    if (!completeAesKeySet(keySet.keys)) return statusOnly(Scp03Sw.REFERENCED_DATA_NOT_FOUND);
    let cardChallenge: Uint8Array;
    let counterField: Uint8Array = new Uint8Array(0);
    if (this.i & Scp03Option.PSEUDO_RANDOM_CHALLENGE) {
      if (keySet.sequenceCounter >= SCP03_MAX_SEQUENCE_COUNTER) return statusOnly(Scp03Sw.CONDITIONS_NOT_SATISFIED);
      const next = keySet.sequenceCounter + 1;
      this.opts.onSequenceCounter?.(keySet.kvn, next);
      counterField = uint(next, 3);
      cardChallenge = scp03PseudoRandomChallenge(keySet.keys.enc, counterField, this.opts.aid, this.blockLength);
    } else {
      cardChallenge = this.random(this.blockLength);
    }
    const keys = scp03SessionKeys(keySet.keys, hostChallenge, cardChallenge);
    const cryptogram = scp03CardCryptogram(keys.smac, hostChallenge, cardChallenge);
    this.pending = { keySet, keys, hostChallenge: hostChallenge.slice(), cardChallenge };
    return {
      data: concat(this.opts.kdd, Uint8Array.of(keySet.kvn, 0x03, this.i), cardChallenge, cryptogram, counterField),
      sw: Scp03Sw.OK,
    };
  }

  protected expectedHostCryptogram(pending: Pending): Uint8Array {
    return scp03HostCryptogram(pending.keys.smac, pending.hostChallenge, pending.cardChallenge);
  }

  /** §7.1.2: the C-MAC of EXTERNAL AUTHENTICATE (MCV zero) opens the session; its full CMAC is the first MCV. */
  protected authenticate(pending: Pending, command: CommandApdu, hostCryptogram: Uint8Array, mac: Uint8Array): Session | undefined {
    const full = scp03CommandMac(pending.keys.smac, new Uint8Array(16), command, hostCryptogram, this.blockLength);
    if (!equalBytes(full.subarray(0, this.blockLength), mac)) return undefined;
    return {
      kvn: pending.keySet.kvn,
      level: command.p1,
      keys: pending.keys,
      dek: pending.keySet.keys.dek,
      mcv: full,
      counter: 0,
      awaitingResponse: false,
    };
  }

  protected claimsSecureMessaging(cla: number): boolean {
    return claimsSecureMessaging(cla);
  }

  /** C-MAC, then C-DECRYPTION (§5.6, §6.2.4, §6.2.6); every command counts, so its response can be protected. */
  protected unwrapInSession(s: Session, command: CommandApdu): CardUnwrapResult {
    s.counter++;
    s.awaitingResponse = true;
    if (!(s.level & SecurityLevel.CMAC)) return { ok: true, command };
    if (!claimsSecureMessaging(command.cla)) return this.abort();
    const body = command.data ?? new Uint8Array(0);
    if (body.length < this.blockLength) return this.abort();
    const data = body.subarray(0, body.length - this.blockLength);
    const full = scp03CommandMac(s.keys.smac, s.mcv, command, data, this.blockLength);
    if (!equalBytes(full.subarray(0, this.blockLength), body.subarray(body.length - this.blockLength))) return this.abort();
    s.mcv = full;
    let plain: Uint8Array = data.slice();
    if (s.level & SecurityLevel.CDEC && data.length > 0) {
      const clear = scp03DecryptCommandData(s.keys.senc, s.counter, data);
      if (!clear.ok) return this.abort();
      plain = clear.data;
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
    if (s.level & SecurityLevel.RENC && data.length > 0) data = scp03EncryptResponseData(s.keys.senc, s.counter, data, this.responsePaddingBlocks);
    const rmac = scp03ResponseMac(s.keys.srmac, s.mcv, data, response.sw, this.blockLength);
    return { data: concat(data, rmac), sw: response.sw };
  }

  /** Decrypts key sensitive data (PUT KEY key components) with the static DEK of the session's key set; whole blocks only. */
  decryptSensitive(data: Uint8Array): Uint8Array | undefined {
    if (!this.session || data.length === 0 || data.length % 16 !== 0) return undefined;
    return scp03DecryptSensitive(this.session.dek, data);
  }

  protected levelAllowed(level: number): boolean {
    return scp03LevelProblem(level, this.i) === undefined;
  }
}

function completeAesKeySet(k: AesKeySet): boolean {
  const n = k.enc.length;
  return [16, 24, 32].includes(n) && k.mac.length === n && k.dek.length === n;
}
