/**
 * The parts of the PC/SC driver that need no pcscd: reader selection, the reader list format, PC/SC error
 * mapping, and 61xx/6Cxx handling against a simulated card answering with T=0 status words.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../gp/index.ts';
import { T0Card } from '../test/pcsc/t0-card.ts';
import { DriverError } from './channel.ts';
import { parseReaderList, type ReaderInfo } from './pcsc-context.ts';
import { driverErrorOf, PCSC_INSTALL_HINT, scardCodeOf } from './pcsc-native.ts';
import { exchangeT0, getResponseCommand } from './pcsc-t0.ts';
import { parseReaderSelector, selectReader } from './pcsc.ts';
import { newSimulatedSe } from './channel.conformance.ts';

const ISD = 'A000000151000000';

function readers(...specs: [string, boolean][]): ReaderInfo[] {
  return specs.map(([name, present], index) => ({ index, name, present, mute: false, exclusive: false, inUse: false }));
}

describe('reader selection', () => {
  const list = readers(['Gemalto PC Twin Reader 00 00', false], ['Virtual PCD 00 00', true], ['Virtual PCD 00 01', false]);

  it('reads the target forms: empty, index, /pattern/flags, glob, exact name', () => {
    expect(parseReaderSelector('')).toBeUndefined();
    expect(parseReaderSelector(' 2 ')).toBe(2);
    expect(parseReaderSelector('/pcd 00 0[01]/i')).toEqual(/pcd 00 0[01]/i);
    expect((parseReaderSelector('*Twin*') as RegExp).test('Gemalto PC Twin Reader 00 00')).toBe(true);
    expect((parseReaderSelector('Virtual PCD 00 0?') as RegExp).test('Virtual PCD 00 01')).toBe(true);
    expect(parseReaderSelector('Virtual PCD 00 00')).toBe('Virtual PCD 00 00');
    expect(() => parseReaderSelector('/(/')).toThrow(DriverError);
  });

  it('picks by name, index, pattern; without a selector, the only reader holding a card', () => {
    expect(selectReader(list, 'Virtual PCD 00 01').index).toBe(2);
    expect(selectReader(list, 0).name).toBe('Gemalto PC Twin Reader 00 00');
    expect(selectReader(list, /twin/i).index).toBe(0);
    expect(selectReader(list, undefined).name).toBe('Virtual PCD 00 00');
  });

  it('refuses ambiguity and absence, listing the readers', () => {
    expect(() => selectReader(list, /PCD/)).toThrow(/2 readers match .*readers: 0: "Gemalto PC Twin Reader 00 00", 1: "Virtual PCD 00 00" \(card\)/);
    expect(() => selectReader(list, 7)).toThrow(/no reader at index 7/);
    expect(() => selectReader(list, 'virtual pcd 00 00')).toThrow(/no reader named "virtual pcd 00 00"/);
    expect(() => selectReader(readers(['A', true], ['B', true]), undefined)).toThrow(/2 readers hold a card; name one/);
    expect(() => selectReader(readers(['A', false], ['B', false]), undefined)).toThrow(/no reader holds a card/);
    expect(() => selectReader([], undefined)).toThrow(/no PC\/SC reader is connected.*readers: none/);
  });

  it('splits the PC/SC multi-string reader list', () => {
    expect(parseReaderList(Buffer.from('Virtual PCD 00 00\0Virtual PCD 00 01\0\0'))).toEqual(['Virtual PCD 00 00', 'Virtual PCD 00 01']);
    expect(parseReaderList(Buffer.alloc(0))).toEqual([]);
    expect(parseReaderList(undefined)).toEqual([]);
  });
});

describe('PC/SC errors become DriverError kinds', () => {
  const cases: [string, string, RegExp][] = [
    ['SCardEstablishContext error: Service not available.(0x8010001d)', 'unavailable', /pcscd is not running/],
    ['SCardTransmit error: Card was removed.(0x80100069)', 'removed', /the card was removed/],
    ['SCardConnect error: No smart card inserted.(0x8010000c)', 'removed', /the card was removed/],
    ['SCardTransmit error: Card was reset.(0x80100068)', 'removed', /reset by another application/],
    ['SCardConnect error: Sharing violation.(0x8010000b)', 'unavailable', /exclusive use by another application/],
    ['SCardTransmit error: Reader is unavailable.(0x80100017)', 'removed', /reader went away/],
    ['SCardTransmit error: Transaction failed.(0x80100016)', 'removed', /could not complete the exchange \(card gone or not answering\): .*Transaction failed/],
    ['SCardTransmit error: An internal communications error has been detected.(0x80100013)', 'removed', /could not complete the exchange/],
    ['SCardTransmit error: Command cancelled.(0x80100002)', 'protocol', /Command cancelled/],
  ];
  for (const [message, kind, why] of cases) {
    it(`${message.slice(0, 40)}... → ${kind}`, () => {
      const e = driverErrorOf(new Error(message), 'pcsc:R');
      expect(e).toBeInstanceOf(DriverError);
      expect(e.kind).toBe(kind);
      expect(e.message).toMatch(why);
      expect(e.message.startsWith('pcsc:R: ')).toBe(true);
    });
  }

  it('reads the code and leaves DriverErrors alone', () => {
    expect(scardCodeOf(new Error('x.(0x80100069)'))).toBe(0x80100069);
    expect(scardCodeOf(new Error('no code'))).toBeUndefined();
    const d = new DriverError('timeout', 't');
    expect(driverErrorOf(d, 'w')).toBe(d);
  });

  it('names exactly what to install when the native module is missing', () => {
    expect(PCSC_INSTALL_HINT).toBe(
      'PC/SC support needs the pcsclite native module: apt-get install libpcsclite-dev pcscd && npm rebuild pcsclite',
    );
  });
});

describe('61xx and 6Cxx (T=0 status words)', () => {
  function t0(): { card: T0Card; send: (c: Uint8Array) => Promise<Uint8Array> } {
    const card = new T0Card(newSimulatedSe('se-1').se);
    return { card, send: async (c) => card.process(c) };
  }

  it('fetches announced data with GET RESPONSE on the command’s logical channel', async () => {
    const { card, send } = t0();
    const select = fromHex(`00A4040008${ISD}00`);
    const plain = newSimulatedSe('x').se.process(select);
    const r = await exchangeT0(select, send);
    expect(toHex(r)).toBe(toHex(plain));
    expect(card.received).toHaveLength(2);
    expect(card.received[1]).toBe(`00C00000${toHex(Uint8Array.of(plain.length - 2))}`);
  });

  it('re-sends a case-2 command with the Le the card asked for in 6Cxx', async () => {
    const { card, send } = t0();
    const r = await exchangeT0(fromHex('80CA9F7F01'), send);
    expect(toHex(r).startsWith('9F7F2A')).toBe(true);
    expect(toHex(r).endsWith('9000')).toBe(true);
    expect(card.received).toEqual(['80CA9F7F01', '80CA9F7F2D']);
  });

  it('passes other status words through untouched and sends nothing more', async () => {
    const { card, send } = t0();
    expect(toHex(await exchangeT0(fromHex('80000000'), send))).toBe('6D00');
    expect(toHex(await exchangeT0(fromHex('00A4040005A00000000100'), send))).toBe('6A82');
    expect(card.received).toHaveLength(2);
  });

  it('GET RESPONSE keeps the logical channel of the command and uses the interindustry class', () => {
    expect(toHex(getResponseCommand(0x84, 0x10))).toBe('00C0000010');
    expect(toHex(getResponseCommand(0x83, 0x00))).toBe('03C0000000');
    expect(toHex(getResponseCommand(0x45, 0x20))).toBe('45C0000020');
  });

  it('gives up with DriverError(protocol) on a card that never stops announcing data', async () => {
    // The card keeps answering 61 01 to each GET RESPONSE, one byte at a time, forever.
    const send = async (c: Uint8Array) => (c[1] === 0xc0 ? fromHex('AA6101') : fromHex('6101'));
    const e = await exchangeT0(fromHex('00A4040000'), send, { maxGetResponses: 10 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DriverError);
    expect((e as DriverError).message).toMatch(/after 10 GET RESPONSE/);
  });

  it('stops chaining when nobody waits any more', async () => {
    const { card, send } = t0();
    await exchangeT0(fromHex(`00A4040008${ISD}00`), send, { live: () => false });
    expect(card.received).toHaveLength(1);
  });
});
