import { describe, expect, it } from 'vitest';
import {
  ApduError,
  CapError,
  CardError,
  CardViewError,
  CommandFormatError,
  DesError,
  DiversificationError,
  expectSw,
  fromHex,
  GpError,
  HexError,
  KeyError,
  checkAesKey,
  parseCommand,
  parsePrivilegeName,
  parseTlv,
  PrivilegeError,
  RegistryDataError,
  SecureChannelError,
  parseSelect,
  TlvError,
  desEcbEncrypt,
  decodeApplicationList,
} from './index.ts';
import { thrown } from '../test/thrown.ts';


describe('GpError: the one error family of gp/', () => {
  it('is what gp functions throw, with a kind and the class name kept', () => {
    const cases: [unknown, new (...a: never[]) => Error, string][] = [
      [thrown(() => fromHex('zz')), HexError, 'bad-hex'],
      [thrown(() => parseCommand(Uint8Array.of(0x80))), ApduError, 'bad-apdu'],
      [thrown(() => desEcbEncrypt(new Uint8Array(3), new Uint8Array(8))), DesError, 'bad-des-input'],
      [thrown(() => checkAesKey(new Uint8Array(5), 'AES key')), KeyError, 'bad-key'],
      [thrown(() => parsePrivilegeName('no-such-privilege')), PrivilegeError, 'unknown-privilege'],
      [thrown(() => parseTlv(Uint8Array.of(0x4f, 0x05, 0x01))), TlvError, 'malformed-tlv'],
      [thrown(() => decodeApplicationList(Uint8Array.of(0x61, 0x05, 0x01))), RegistryDataError, 'malformed-registry-data'],
      [thrown(() => parseSelect({ cla: 0x00, ins: 0xa4, p1: 0x00, p2: 0x00 })), CommandFormatError, 'bad-command'],
      [thrown(() => expectSw(0x6982, 'INSTALL')), CardError, 'card-status'],
    ];
    for (const [e, cls, kind] of cases) {
      expect(e).toBeInstanceOf(cls);
      expect(e).toBeInstanceOf(GpError);
      expect((e as GpError).kind).toBe(kind);
      expect((e as Error).name).toBe(cls.name);
    }
  });

  it('carries the status word where a card answered one', () => {
    const card = thrown(() => expectSw(0x6982, 'INSTALL')) as CardError;
    expect(card.sw).toBe(0x6982);
    expect(card.command).toBe('INSTALL');
    expect((thrown(() => parseSelect({ cla: 0x00, ins: 0xa4, p1: 0x00, p2: 0x00 })) as GpError).sw).toBe(0x6a86);
    expect(new CardViewError('GET STATUS', 'no entries', 0x6a88).sw).toBe(0x6a88);
    expect(new CardViewError('GET STATUS', 'no entries').sw).toBeUndefined();
    expect((thrown(() => fromHex('zz')) as GpError).sw).toBeUndefined();
  });

  it('keeps the finer kinds of secure channel, CAP and diversification errors', () => {
    const sc = new SecureChannelError('card-cryptogram-mismatch', 'x');
    const cap = new CapError('malformed-component', 'y');
    const div = new DiversificationError('kdd', 'z');
    for (const e of [sc, cap, div]) expect(e).toBeInstanceOf(GpError);
    expect(sc.kind).toBe('card-cryptogram-mismatch');
    expect(cap.kind).toBe('malformed-component');
    expect(div.argument).toBe('kdd');
    expect(div.kind).toBe('bad-diversification-input');
  });
});
