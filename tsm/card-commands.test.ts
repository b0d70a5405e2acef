/**
 * The central TSM's card commands, byte for byte as GPCS 2.3.1 §11 codes them (the same bytes the TSM sent
 * before gp/ built them), and the PUT KEY data as the card side decodes it.
 */
import { describe, expect, it } from 'vitest';
import { decodeScp03PutKeyData, encodeCommand, fromHex, toHex } from '../gp/index.ts';
import {
  deleteObject,
  extradite,
  getCardResources,
  installInstance,
  installSecurityDomain,
  putAesKeySet,
  select,
  setApplicationLock,
  setCardLock,
  setContactlessAvailability,
  setOwnPersonalized,
} from './card-commands.ts';

const hex = (c: Parameters<typeof encodeCommand>[0]) => toHex(encodeCommand(c));
const SD = 'F042414E4B434F2E5344';
const APP = 'F042414E4B434F2E5041592E31';

describe('central TSM card commands', () => {
  it('SELECT, GET DATA FF21, DELETE', () => {
    expect(hex(select(SD))).toBe(`00A404000A${SD}00`);
    expect(hex(getCardResources())).toBe('80CAFF2100');
    expect(hex(deleteObject(APP))).toBe(`80E400000F4F0D${APP}00`);
    expect(hex(deleteObject(APP, true))).toBe(`80E400800F4F0D${APP}00`);
  });

  it('INSTALL [for install and make selectable] of an instance and of an SP SD (Table 11-43)', () => {
    const pkg = 'F042414E4B434F2E504159';
    const mod = 'F042414E4B434F2E5041592E41';
    // load file ‖ module ‖ instance ‖ privileges (3 bytes) ‖ params C9 ‖ token (empty)
    expect(hex(installInstance({ packageAid: pkg, moduleAid: mod, instanceAid: APP, c9: '0102' }))).toBe(
      `80E60C00320B${pkg}0D${mod}0D${APP}03000000` + '04C9020102' + '00' + '00',
    );
    expect(hex(installSecurityDomain(SD))).toBe('80E60C0024' + '07A0000001515350' + '08A000000151535041' + `0A${SD}` + '03800000' + '02C900' + '00' + '00');
  });

  it('INSTALL [for extradition] (Table 11-45)', () => {
    expect(hex(extradite(SD, APP))).toBe('80E610001D' + `0A${SD}` + '00' + `0D${APP}` + '00' + '00' + '00' + '00');
  });

  it('SET STATUS: application lock/unlock, SD PERSONALIZED, card CARD_LOCKED/SECURED, contactless', () => {
    expect(hex(setApplicationLock(APP, true))).toBe(`80F040800D${APP}`);
    expect(hex(setApplicationLock(APP, false))).toBe(`80F040000D${APP}`);
    expect(hex(setOwnPersonalized(SD))).toBe(`80F0400F0A${SD}`);
    expect(hex(setCardLock(true))).toBe('80F0807F');
    expect(hex(setCardLock(false))).toBe('80F0800F');
    expect(hex(setContactlessAvailability(APP, true))).toBe(`80F001010F4F0D${APP}00`);
  });

  it('PUT KEY of an AES key set decodes on the card side to the keys sent, with their check values', () => {
    const dek = fromHex('404142434445464748494A4B4C4D4E4F');
    const keys = { enc: fromHex('11'.repeat(16)), mac: fromHex('22'.repeat(16)), dek: fromHex('33'.repeat(16)) };
    const cmd = putAesKeySet(dek, 0x30, 0x31, keys);
    expect([cmd.cla, cmd.ins, cmd.p1, cmd.p2]).toEqual([0x80, 0xd8, 0x30, 0x81]);
    const decoded = decodeScp03PutKeyData(dek, cmd.data!, cmd.p2);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.kvn).toBe(0x31);
    expect(decoded.keySet).toEqual(keys);
    // The clear length precedes each encrypted component ('88' 11 10 ‖ 16 bytes).
    expect(toHex(cmd.data!.subarray(1, 4))).toBe('881110');
    // A wrong DEK on the card side does not yield these keys.
    const wrong = decodeScp03PutKeyData(fromHex('00'.repeat(16)), cmd.data!, cmd.p2);
    expect(wrong.ok && wrong.keySet).not.toEqual(keys);
  });
});
