/**
 * SCP03 cryptography (GP Card Specification 2.3 Amendment D v1.2): the SP 800-108 KDF with AES-CMAC (§4.1.5),
 * session keys (§6.2.1), challenges and cryptograms (§6.2.2), C-MAC / R-MAC inputs (§6.2.4-5), the ICVs of
 * C-DECRYPTION and R-ENCRYPTION (§6.2.6-7) and key sensitive data encryption with the static DEK (§6.2.8).
 * Shared by the host (scp03.ts) and the card (scp03-card.ts), so both sides compute from one definition.
 */
import { concat, uint } from './bytes.ts';
import { aesCbcDecrypt, aesCbcEncrypt, aesCmac, aesEcbEncrypt } from './crypto.ts';
import { pad80, type Unpadded, unpad80, wholeBlocksProblem } from './padding.ts';
import { SecurityLevel, type SessionKeys } from './secure-channel.ts';

/** Derivation constants (Table 4-1). */
export const Scp03Constant = {
  CARD_CRYPTOGRAM: 0x00,
  HOST_CRYPTOGRAM: 0x01,
  CARD_CHALLENGE: 0x02,
  S_ENC: 0x04,
  S_MAC: 0x06,
  S_RMAC: 0x07,
} as const;

/** Bits of the "i" parameter (Table 5-1). */
export const Scp03Option = {
  S16: 0x01,
  PSEUDO_RANDOM_CHALLENGE: 0x10,
  RMAC_SUPPORT: 0x20,
  /** Only meaningful together with RMAC_SUPPORT ('60'). */
  RENC_SUPPORT: 0x40,
} as const;

/** Security levels of EXTERNAL AUTHENTICATE P1 (Table 7-6). */
export const SCP03_LEVELS: readonly number[] = [0x00, 0x01, 0x03, 0x11, 0x13, 0x33];

/** The static ENC/MAC/DEK keys of an SCP03 key set (equal AES lengths). */
export interface AesKeySet {
  enc: Uint8Array;
  mac: Uint8Array;
  dek: Uint8Array;
}

/** Challenge, cryptogram and MAC length: 8 in S8 mode, 16 in S16 mode. */
export function scp03BlockLength(i: number): 8 | 16 {
  return i & Scp03Option.S16 ? 16 : 8;
}

/**
 * KDF in counter mode (NIST SP 800-108, PRF = AES-CMAC, §4.1.5): for counter 01, 02, …
 * CMAC(key, 00*11 ‖ constant ‖ 00 ‖ L(2 bytes, bits) ‖ counter ‖ context), concatenated and cut to L bits.
 */
export function scp03Kdf(key: Uint8Array, constant: number, context: Uint8Array, bits: number): Uint8Array {
  if (bits <= 0 || bits % 8 !== 0 || bits > 0xffff) throw new RangeError(`KDF output of ${bits} bits`);
  const blocks: Uint8Array[] = [];
  for (let counter = 1; blocks.length * 128 < bits; counter++) {
    blocks.push(aesCmac(key, concat(new Uint8Array(11), Uint8Array.of(constant, 0x00), uint(bits, 2), Uint8Array.of(counter), context)));
  }
  return concat(...blocks).slice(0, bits / 8);
}

/** S-ENC, S-MAC, S-RMAC (Table 6-2), each as long as its static key; context = host ‖ card challenge. */
export function scp03SessionKeys(keys: Pick<AesKeySet, 'enc' | 'mac'>, hostChallenge: Uint8Array, cardChallenge: Uint8Array): SessionKeys {
  const context = concat(hostChallenge, cardChallenge);
  return {
    senc: scp03Kdf(keys.enc, Scp03Constant.S_ENC, context, keys.enc.length * 8),
    smac: scp03Kdf(keys.mac, Scp03Constant.S_MAC, context, keys.mac.length * 8),
    srmac: scp03Kdf(keys.mac, Scp03Constant.S_RMAC, context, keys.mac.length * 8),
  };
}

export function scp03CardCryptogram(smac: Uint8Array, hostChallenge: Uint8Array, cardChallenge: Uint8Array): Uint8Array {
  return scp03Kdf(smac, Scp03Constant.CARD_CRYPTOGRAM, concat(hostChallenge, cardChallenge), cardChallenge.length * 8);
}

export function scp03HostCryptogram(smac: Uint8Array, hostChallenge: Uint8Array, cardChallenge: Uint8Array): Uint8Array {
  return scp03Kdf(smac, Scp03Constant.HOST_CRYPTOGRAM, concat(hostChallenge, cardChallenge), cardChallenge.length * 8);
}

/** Pseudo-random card challenge (§6.2.2.1): KDF(Key-ENC, '02', sequence counter (3 bytes) ‖ SD AID). */
export function scp03PseudoRandomChallenge(staticEnc: Uint8Array, sequenceCounter: Uint8Array, aid: Uint8Array, length: 8 | 16): Uint8Array {
  if (sequenceCounter.length !== 3) throw new RangeError(`SCP03 sequence counter must be 3 bytes, got ${sequenceCounter.length}`);
  return scp03Kdf(staticEnc, Scp03Constant.CARD_CHALLENGE, concat(sequenceCounter, aid), length * 8);
}

/** ICV of C-DECRYPTION: AES(S-ENC, counter as a 16-byte big-endian block). */
export function scp03CommandIcv(senc: Uint8Array, counter: number): Uint8Array {
  return aesEcbEncrypt(senc, uint(counter, 16));
}

/** ICV of R-ENCRYPTION: the same counter block with its first byte set to '80'. */
export function scp03ResponseIcv(senc: Uint8Array, counter: number): Uint8Array {
  const block = uint(counter, 16);
  block[0] = 0x80;
  return aesEcbEncrypt(senc, block);
}

/**
 * Data field encryption (GPCS B.2.1/B.2.3): '80 00..' padding to whole 16-byte blocks, AES-CBC. `minBlocks`
 * pads further, as some cards do (tests use it to produce such answers).
 */
export function scp03Encrypt(senc: Uint8Array, icv: Uint8Array, data: Uint8Array, minBlocks = 0): Uint8Array {
  return aesCbcEncrypt(senc, icv, pad80(data, 16, minBlocks));
}

/** Inverse of scp03Encrypt, accepting any method-2 padding (gp/padding.ts); the problem says what is wrong. */
export function scp03Decrypt(senc: Uint8Array, icv: Uint8Array, data: Uint8Array): Unpadded {
  const problem = wholeBlocksProblem(data, 16, 'ciphertext');
  if (problem) return { ok: false, problem };
  return unpad80(aesCbcDecrypt(senc, icv, data), 16);
}

/** C-MAC input (§6.2.4): MCV ‖ CLA (channel 0, SM bit) INS P1 P2 Lc' ‖ data, Lc' counting the MAC. */
export function scp03MacInput(mcv: Uint8Array, header: { cla: number; ins: number; p1: number; p2: number }, data: Uint8Array, macLength: number): Uint8Array {
  const lc = data.length + macLength;
  const lcField = lc > 255 ? Uint8Array.of(0x00, lc >> 8, lc & 0xff) : Uint8Array.of(lc);
  return concat(mcv, Uint8Array.of(macCla(header.cla), header.ins, header.p1, header.p2), lcField, data);
}

/** R-MAC input (§6.2.5): MCV ‖ response data ‖ SW1 SW2. */
export function scp03RmacInput(mcv: Uint8Array, data: Uint8Array, sw: number): Uint8Array {
  return concat(mcv, data, Uint8Array.of(sw >> 8, sw & 0xff));
}

/** C-MAC (§6.2.4): the full 16-byte CMAC, which is the next MCV; its first `macLength` bytes travel with the command. */
export function scp03CommandMac(
  smac: Uint8Array,
  mcv: Uint8Array,
  header: { cla: number; ins: number; p1: number; p2: number },
  data: Uint8Array,
  macLength: 8 | 16,
): Uint8Array {
  return aesCmac(smac, scp03MacInput(mcv, header, data, macLength));
}

/** R-MAC (§6.2.5): CMAC(S-RMAC, MCV ‖ data ‖ SW) cut to `macLength`. */
export function scp03ResponseMac(srmac: Uint8Array, mcv: Uint8Array, data: Uint8Array, sw: number, macLength: 8 | 16): Uint8Array {
  return aesCmac(srmac, scp03RmacInput(mcv, data, sw)).slice(0, macLength);
}

/** C-DECRYPTION (§6.2.6) of the command sent with encryption counter `counter`. */
export function scp03EncryptCommandData(senc: Uint8Array, counter: number, data: Uint8Array, minBlocks = 0): Uint8Array {
  return scp03Encrypt(senc, scp03CommandIcv(senc, counter), data, minBlocks);
}

export function scp03DecryptCommandData(senc: Uint8Array, counter: number, data: Uint8Array): Unpadded {
  return scp03Decrypt(senc, scp03CommandIcv(senc, counter), data);
}

/** R-ENCRYPTION (§6.2.7) of the response to the command sent with encryption counter `counter`. */
export function scp03EncryptResponseData(senc: Uint8Array, counter: number, data: Uint8Array, minBlocks = 0): Uint8Array {
  return scp03Encrypt(senc, scp03ResponseIcv(senc, counter), data, minBlocks);
}

export function scp03DecryptResponseData(senc: Uint8Array, counter: number, data: Uint8Array): Unpadded {
  return scp03Decrypt(senc, scp03ResponseIcv(senc, counter), data);
}

/**
 * Why EXTERNAL AUTHENTICATE cannot ask for `level` (Table 7-6; with the card's `i`, Table 5-1: R-MAC and
 * R-ENCRYPTION need their support bits), or undefined when it can. Host and card apply this one rule.
 */
export function scp03LevelProblem(level: number, i?: number): string | undefined {
  if (!SCP03_LEVELS.includes(level)) return `SCP03 security level ${h2(level)} not defined (Amd D Table 7-6: ${SCP03_LEVELS.map(h2).join(', ')})`;
  if (i === undefined) return undefined;
  if (level & SecurityLevel.RMAC && !(i & Scp03Option.RMAC_SUPPORT)) return `security level ${h2(level)} needs R-MAC, which i=${h2(i)} does not support`;
  if (level & SecurityLevel.RENC && !(i & Scp03Option.RENC_SUPPORT)) return `security level ${h2(level)} needs R-ENCRYPTION, which i=${h2(i)} does not support`;
  return undefined;
}

function h2(n: number): string {
  return n.toString(16).padStart(2, '0').toUpperCase();
}

/** Key sensitive data (§6.2.8): AES-CBC with the static DEK, ICV zero; the caller pads to whole blocks. */
export function scp03EncryptSensitive(dek: Uint8Array, data: Uint8Array): Uint8Array {
  return aesCbcEncrypt(dek, new Uint8Array(16), data);
}

export function scp03DecryptSensitive(dek: Uint8Array, data: Uint8Array): Uint8Array {
  return aesCbcDecrypt(dek, new Uint8Array(16), data);
}

/** Further interindustry CLAs ('40'–'7F', 'C0'–'FF': logical channels 4–19) flag secure messaging with b6. */
function isFurtherInterindustry(cla: number): boolean {
  return (cla & 0x40) !== 0;
}

/** The CLA the MAC covers: logical channel zero, GP proprietary secure messaging (b3 set, b4 clear). */
export function macCla(cla: number): number {
  return (cla & 0x80) | 0x04;
}

/** The CLA sent on the wire: the channel number kept, the secure messaging indication added. */
export function secureMessagingCla(cla: number): number {
  return isFurtherInterindustry(cla) ? cla | 0x20 : cla | 0x04;
}

export function claimsSecureMessaging(cla: number): boolean {
  return isFurtherInterindustry(cla) ? (cla & 0x20) !== 0 : (cla & 0x04) !== 0;
}

export function withoutSecureMessaging(cla: number): number {
  return isFurtherInterindustry(cla) ? cla & ~0x20 : cla & ~0x04;
}

/** '9000' and warnings ('62xx', '63xx') carry protected data; every other SW comes back bare (§6.2.5). */
export function isProtectedSw(sw: number): boolean {
  const sw1 = sw >> 8;
  return sw === 0x9000 || sw1 === 0x62 || sw1 === 0x63;
}
