/**
 * SCP02 cryptography (GPCS 2.3.1 Appendix E), shared by the host and the card side.
 * Pure functions: no session state lives here.
 */
import { concat } from './bytes.ts';
import { pad80 } from './padding.ts';
import { desEcbEncrypt, retailMac, tdesCbcEncrypt, tdesCbcMac, tdesEcbDecrypt, tdesEcbEncrypt } from './des.ts';
import type { SessionKeys } from './secure-channel.ts';

/** Derivation constants of E.4.1. */
export const Scp02Constant = {
  CMAC: 0x0101,
  RMAC: 0x0102,
  DEK: 0x0181,
  ENC: 0x0182,
} as const;

/** Bits of the SCP02 "i" parameter (Table E-1). */
export const Scp02Option = {
  THREE_KEYS: 0x01,
  CMAC_UNMODIFIED: 0x02,
  EXPLICIT: 0x04,
  ICV_MAC_OVER_AID: 0x08,
  ICV_ENCRYPTION: 0x10,
  RMAC_SUPPORT: 0x20,
  PSEUDO_RANDOM_CHALLENGE: 0x40,
} as const;

/** Static DES key set of a security domain (three 16-byte keys). */
export interface DesKeySet {
  enc: Uint8Array;
  mac: Uint8Array;
  dek: Uint8Array;
}

/** Session key of E.4.1: 3DES-CBC(static key, constant ‖ sequence counter ‖ 00*12), ICV zero. */
export function deriveScp02SessionKey(staticKey: Uint8Array, constant: number, sequenceCounter: Uint8Array): Uint8Array {
  const data = new Uint8Array(16);
  data[0] = constant >> 8;
  data[1] = constant & 0xff;
  data.set(sequenceCounter.subarray(0, 2), 2);
  return tdesCbcEncrypt(staticKey, data);
}

/** All four session keys for one sequence counter value. `smac` is the C-MAC key. */
export function scp02SessionKeys(keys: DesKeySet, sequenceCounter: Uint8Array): Required<SessionKeys> {
  return {
    senc: deriveScp02SessionKey(keys.enc, Scp02Constant.ENC, sequenceCounter),
    smac: deriveScp02SessionKey(keys.mac, Scp02Constant.CMAC, sequenceCounter),
    srmac: deriveScp02SessionKey(keys.mac, Scp02Constant.RMAC, sequenceCounter),
    sdek: deriveScp02SessionKey(keys.dek, Scp02Constant.DEK, sequenceCounter),
  };
}

/** E.4.2.1: full 3DES MAC over host challenge ‖ sequence counter ‖ card challenge. */
export function scp02CardCryptogram(senc: Uint8Array, hostChallenge: Uint8Array, sequenceCounter: Uint8Array, cardChallenge: Uint8Array): Uint8Array {
  return tdesCbcMac(senc, concat(hostChallenge, sequenceCounter, cardChallenge));
}

/** E.4.2.2: full 3DES MAC over sequence counter ‖ card challenge ‖ host challenge. */
export function scp02HostCryptogram(senc: Uint8Array, sequenceCounter: Uint8Array, cardChallenge: Uint8Array, hostChallenge: Uint8Array): Uint8Array {
  return tdesCbcMac(senc, concat(sequenceCounter, cardChallenge, hostChallenge));
}

/** E.4.2.3 (i = '55'): the six leftmost bytes of the retail MAC of the padded AID under the C-MAC session key. */
export function scp02PseudoRandomChallenge(cmacKey: Uint8Array, aid: Uint8Array): Uint8Array {
  return retailMac(cmacKey, aid).slice(0, 6);
}

/** E.3.4: the next command's ICV is the previous C-MAC encrypted with single DES under the C-MAC key's left half. */
export function scp02EncryptIcv(cmacKey: Uint8Array, icv: Uint8Array): Uint8Array {
  return desEcbEncrypt(cmacKey.subarray(0, 8), icv);
}

/** C-MAC (E.4.4): retail MAC with the C-MAC session key over the MAC input, ICV chaining. */
export function scp02Mac(cmacKey: Uint8Array, input: Uint8Array, icv: Uint8Array): Uint8Array {
  return retailMac(cmacKey, input, { icv });
}

/** E.4.6: command data encryption, 3DES-CBC with S-ENC, ICV zero, padding (at least `minBlocks` blocks) becomes part of the data. */
export function scp02EncryptData(senc: Uint8Array, data: Uint8Array, minBlocks = 0): Uint8Array {
  return tdesCbcEncrypt(senc, pad80(data, 8, minBlocks));
}

/** E.4.7 (explicit initiation): sensitive data, 3DES-ECB with the session DEK, no padding. */
export function scp02EncryptSensitive(sdek: Uint8Array, data: Uint8Array): Uint8Array {
  return tdesEcbEncrypt(sdek, data);
}

export function scp02DecryptSensitive(sdek: Uint8Array, data: Uint8Array): Uint8Array {
  return tdesEcbDecrypt(sdek, data);
}

/** Secure messaging indication in a CLA of the first interindustry range ('80'–'87', GPCS Table 11-11). */
export const SCP02_SM_BIT = 0x04;

/** Logical channels 0–3 only: the further-channel CLA range ('C0'–'CF') is not supported by SCP02 here. */
export function scp02BasicChannelCla(cla: number): boolean {
  return (cla & 0x40) === 0;
}

/**
 * The bytes the C-MAC covers (E.4.4): class byte without channel number (SM bit set on the modified APDU),
 * INS P1 P2, Lc (already incremented by 8 on the modified APDU) and the clear data. Le never counts.
 */
export function scp02MacInput(cla: number, ins: number, p1: number, p2: number, data: Uint8Array, modified: boolean): Uint8Array {
  const macCla = modified ? (cla & ~0x03) | SCP02_SM_BIT : cla & ~0x07;
  const lc = modified ? data.length + 8 : data.length;
  return concat(Uint8Array.of(macCla, ins, p1, p2, lc), data);
}

/** The command part of the R-MAC input (E.4.5): stripped header with channel 0, Lc always present. */
export function scp02RmacCommandPart(cla: number, ins: number, p1: number, p2: number, data: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(cla & ~0x07, ins, p1, p2, data.length), data);
}

/** Success and warning status words carry Li ‖ data in the R-MAC input; errors contribute only '00'. */
export function scp02SuccessOrWarning(sw: number): boolean {
  const sw1 = sw >> 8;
  return sw1 === 0x90 || sw1 === 0x61 || sw1 === 0x62 || sw1 === 0x63;
}

/** The response part of the R-MAC input: Li ‖ data (or '00' on an error) ‖ SW1 SW2. */
export function scp02RmacResponsePart(data: Uint8Array, sw: number): Uint8Array {
  const body = scp02SuccessOrWarning(sw) ? data : new Uint8Array(0);
  return concat(Uint8Array.of(body.length & 0xff), body, Uint8Array.of(sw >> 8, sw & 0xff));
}
