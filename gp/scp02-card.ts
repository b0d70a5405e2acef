/**
 * SCP02 card side (GPCS 2.3.1 Appendix E, explicit initiation, three keys) for the simulator.
 * Never throws on card input: every failure is a status word, as a card would answer.
 */
import type { CommandApdu, ResponseApdu } from './apdu.ts';
import { concat, equalBytes, uint } from './bytes.ts';
import { type CardKeySet, CardSecureChannelBase, type CardSecureChannelOptions, CardSecureChannelSw, type CardUnwrapResult, statusOnly } from './card-secure-channel.ts';
import { tdesCbcDecrypt } from './des.ts';
import { unpad80, wholeBlocksProblem } from './padding.ts';
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
export const Scp02Sw = { ...CardSecureChannelSw, CLA_NOT_SUPPORTED: 0x6e00 } as const;

/** One SCP02 key set of a security domain as the card keeps it; its counter is 0..65535. */
export type Scp02CardKeySet = CardKeySet<DesKeySet>;

export type Scp02CardOptions = CardSecureChannelOptions<Scp02CardKeySet>;

export type Scp02UnwrapResult = CardUnwrapResult;

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

export class Scp02Card extends CardSecureChannelBase<Scp02CardKeySet, Pending, Session> {
  readonly scp = '02' as const;

  constructor(opts: Scp02CardOptions) {
    const i = opts.i ?? 0x15;
    if (!SCP02_SUPPORTED_I.includes(i)) throw new RangeError(`SCP02 card: i=${i.toString(16)} not supported`);
    super('SCP02', opts, i, 8);
  }

  /** INITIALIZE UPDATE (E.5.1) after the common checks. */
  protected initialize(keySet: Scp02CardKeySet, hostChallenge: Uint8Array): ResponseApdu {
    // The counter never wraps (E.1.2); a spent key set cannot open sessions any more.
    if (keySet.sequenceCounter >= 0xffff) return statusOnly(Scp02Sw.CONDITIONS_NOT_SATISFIED);
    const counter = uint(keySet.sequenceCounter, 2);
    const keys = scp02SessionKeys(keySet.keys, counter);
    const cardChallenge =
      this.i & Scp02Option.PSEUDO_RANDOM_CHALLENGE ? scp02PseudoRandomChallenge(keys.smac, this.opts.aid) : this.random(6);
    const cryptogram = scp02CardCryptogram(keys.senc, hostChallenge, counter, cardChallenge);
    this.pending = { keySet, keys, counter, hostChallenge: hostChallenge.slice(), cardChallenge };
    return {
      data: concat(this.opts.kdd, Uint8Array.of(keySet.kvn, 0x02), counter, cardChallenge, cryptogram),
      sw: Scp02Sw.OK,
    };
  }

  protected expectedHostCryptogram(pending: Pending): Uint8Array {
    return scp02HostCryptogram(pending.keys.senc, pending.counter, pending.cardChallenge, pending.hostChallenge);
  }

  /** E.5.2: the C-MAC of EXTERNAL AUTHENTICATE (ICV zero) opens the session and counts the key set's counter up. */
  protected authenticate(pending: Pending, command: CommandApdu, hostCryptogram: Uint8Array, received: Uint8Array): Session | undefined {
    const mac = received.slice();
    const input = scp02MacInput(command.cla, command.ins, command.p1, command.p2, hostCryptogram, this.modified());
    if (!equalBytes(scp02Mac(pending.keys.smac, input, new Uint8Array(8)), mac)) return undefined;
    const next = pending.keySet.sequenceCounter + 1;
    this.opts.onSequenceCounter?.(pending.keySet.kvn, next);
    return { kvn: pending.keySet.kvn, level: command.p1, keys: pending.keys, cmac: mac, ricv: mac };
  }

  /** EXTERNAL AUTHENTICATE only needs the secure messaging bit; a further-channel session fails at its first command. */
  protected override authenticationClaSecured(cla: number): boolean {
    return (cla & SCP02_SM_BIT) !== 0;
  }

  protected claimsSecureMessaging(cla: number): boolean {
    return (cla & SCP02_SM_BIT) !== 0 && scp02BasicChannelCla(cla);
  }

  /** C-DECRYPTION, then C-MAC (E.4.3, E.4.4); with R-MAC the clear command is kept for the response's MAC. */
  protected unwrapInSession(s: Session, command: CommandApdu): Scp02UnwrapResult {
    if (!scp02BasicChannelCla(command.cla)) return this.abort(Scp02Sw.CLA_NOT_SUPPORTED);
    let clear: CommandApdu = command;
    if (this.claimsSecureMessaging(command.cla)) {
      const verified = this.verify(s, command);
      if (!verified) return this.abort();
      clear = verified;
    } else if (s.level & SecurityLevel.CMAC) {
      return this.abort();
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

  protected levelAllowed(level: number): boolean {
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
      if (wholeBlocksProblem(data, 8, 'C-DECRYPTION')) return undefined;
      const plain = unpad80(tdesCbcDecrypt(s.keys.senc, data), 8);
      if (!plain.ok) return undefined;
      data = plain.data;
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
}
