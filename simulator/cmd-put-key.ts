/**
 * PUT KEY (GPCS 2.3.1 §11.8) into the acting SD: add a key set (P1 00) or replace one (P1 = its KVN), one key
 * (P2 = key id) or several (P2 b8, ids counting up). Key components arrive encrypted (SCP02: session DEK,
 * SCP03: static DEK) with an optional clear length prefix when padded; check values are verified (6982 on a
 * mismatch). The response carries the new KVN and the check values as presented.
 */
import { type CommandApdu, type ResponseApdu, concat, keyCheckValue } from '../gp/index.ts';
import { requireCardNotLocked, requireSecureChannel } from './authz.ts';
import { SwError, Sw } from './errors.ts';
import { Footprint, allocate } from './memory.ts';
import type { Ctx } from './session.ts';
import type { KeySetState } from './state.ts';

interface ParsedKey {
  id: number;
  type: number;
  value: Uint8Array;
  kcv: Uint8Array;
}

const KEY_LENGTHS: Record<number, number[]> = { 0x80: [16, 24], 0x88: [16, 24, 32] };

export function putKey(ctx: Ctx, cmd: CommandApdu): ResponseApdu {
  requireSecureChannel(ctx);
  requireCardNotLocked(ctx);
  const ch = ctx.session.channel!;
  const data = cmd.data ?? new Uint8Array(0);
  const oldKvn = cmd.p1 & 0x7f;
  const multiple = (cmd.p2 & 0x80) !== 0;
  let id = cmd.p2 & 0x7f;
  if (multiple && id === 0) id = 1;
  if (data.length < 1) throw new SwError(Sw.WRONG_LENGTH, 'PUT KEY without data');
  const newKvn = data[0];
  if (newKvn < 0x01 || newKvn > 0x7f) throw new SwError(Sw.WRONG_DATA, `new KVN ${newKvn.toString(16)} outside 01..7F`);
  const keys: ParsedKey[] = [];
  let i = 1;
  const byte = (what: string): number => {
    if (i >= data.length) throw new SwError(Sw.WRONG_DATA, `PUT KEY: ${what} truncated`);
    return data[i++];
  };
  const berLen = (what: string): number => {
    const first = byte(what);
    if (first <= 0x80) return first;
    const n = first & 0x7f;
    if (n > 2) throw new SwError(Sw.WRONG_DATA, `PUT KEY: ${what} length of ${n} bytes`);
    let len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + byte(what);
    return len;
  };
  const bytes = (n: number, what: string): Uint8Array => {
    if (i + n > data.length) throw new SwError(Sw.WRONG_DATA, `PUT KEY: ${what} truncated`);
    const v = data.slice(i, i + n);
    i += n;
    return v;
  };
  while (i < data.length) {
    let type = byte('key type');
    const extended = type === 0xff;
    if (extended) type = byte('key type');
    if (!KEY_LENGTHS[type]) throw new SwError(Sw.WRONG_DATA, `key type ${type.toString(16)} not supported (80 DES, 88 AES)`);
    const block = bytes(berLen('key component'), 'key component');
    const kcv = bytes(byte('check value length'), 'check value');
    if (extended) {
      bytes(byte('key usage length'), 'key usage');
      bytes(byte('key access length'), 'key access');
    }
    const value = decryptComponent(ch.decryptKey, block, type === 0x88 ? 16 : 8);
    if (!KEY_LENGTHS[type].includes(value.length)) throw new SwError(Sw.WRONG_DATA, `${value.length}-byte key for type ${type.toString(16)}`);
    if (kcv.length > 0) {
      const expected = keyCheckValue(value, type, kcv.length);
      if (expected.length !== kcv.length || expected.some((b, k) => b !== kcv[k])) {
        throw new SwError(Sw.SECURITY_STATUS, `check value mismatch for key ${id + keys.length}`);
      }
    }
    keys.push({ id: id + keys.length, type, value, kcv });
  }
  if (keys.length === 0) throw new SwError(Sw.WRONG_DATA, 'PUT KEY carries no key');
  if (!multiple && keys.length > 1) throw new SwError(Sw.WRONG_DATA, 'several keys without P2 b8');
  const type = keys[0].type;
  if (keys.some((k) => k.type !== type)) throw new SwError(Sw.WRONG_DATA, 'mixed key types in one key set');

  const sd = ctx.current;
  let set: KeySetState | undefined;
  if (oldKvn === 0) {
    if (sd.keySets.some((k) => k.kvn === newKvn)) throw new SwError(Sw.WRONG_DATA, `key set ${newKvn.toString(16)} already exists`);
    const scp = type === 0x88 ? '03' : '02';
    const like = sd.keySets.find((k) => k.scp === scp);
    set = { kvn: newKvn, scp, i: like?.i ?? (scp === '03' ? 0x70 : 0x55), keyType: type, keys: {}, sequenceCounter: 0 };
    sd.keySets.push(set);
    allocate(ctx.state, sd, 'nv', Footprint.keySet);
  } else {
    set = sd.keySets.find((k) => k.kvn === oldKvn);
    if (!set) throw new SwError(Sw.DATA_NOT_FOUND, `no key set ${oldKvn.toString(16)}`);
    if (newKvn !== oldKvn && sd.keySets.some((k) => k.kvn === newKvn)) {
      throw new SwError(Sw.WRONG_DATA, `key set ${newKvn.toString(16)} already exists`);
    }
    for (const k of keys) {
      const existing = set.keys[String(k.id)];
      if (existing === undefined) throw new SwError(Sw.DATA_NOT_FOUND, `no key ${k.id} in key set ${oldKvn.toString(16)}`);
      if (k.type !== set.keyType || existing.length / 2 !== k.value.length) {
        throw new SwError(Sw.WRONG_DATA, 'a replacing key keeps the type and length of the key it replaces');
      }
    }
    set.kvn = newKvn;
  }
  for (const k of keys) set.keys[String(k.id)] = Buffer.from(k.value).toString('hex').toUpperCase();
  return { data: concat(Uint8Array.of(newKvn), ...keys.map((k) => k.kcv)), sw: Sw.OK };
}

/** Table 11-70/11-71: a block that is not a whole number of cipher blocks starts with the clear key length. */
function decryptComponent(decrypt: (b: Uint8Array) => Uint8Array | undefined, block: Uint8Array, size: number): Uint8Array {
  let clearLen: number | undefined;
  let enc = block;
  if (block.length % size !== 0) {
    let j = 0;
    let len = block[j++] ?? 0;
    if (len > 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + (block[j++] ?? 0);
    }
    clearLen = len;
    enc = block.subarray(j);
  }
  const plain = decrypt(enc);
  if (!plain) throw new SwError(Sw.WRONG_DATA, 'key component cannot be decrypted');
  if (clearLen === undefined) return plain;
  if (clearLen > plain.length) throw new SwError(Sw.WRONG_DATA, 'key length prefix longer than the key');
  return plain.slice(0, clearLen);
}
