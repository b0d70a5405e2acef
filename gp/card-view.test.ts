/**
 * readCardView's decoding and failure modes. Card conversations run against the simulator (the card double);
 * malformed answers come from a proxy that alters one of the simulator's real responses. Agreement with the
 * simulator's own view in every state is proven by simulator/card-view.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { cardViewOf, createSimulatedSe, defaultCardSpec, DEFAULT_CENTRAL_SD_AID, DEFAULT_ISD_AID, defaultCentralSdKeys, defaultSeSpec, type SimulatedSe } from '../simulator/index.ts';
import { parseCommand, type CommandApdu } from './apdu.ts';
import { concat, fromHex, toHex } from './bytes.ts';
import { CardViewError, entryLifeCycleName, readCardView } from './card-view.ts';
import { setStatus } from './commands.ts';
import { type IssuerKeys, openIssuerChannel, openIssuerSession } from './issuer-session.ts';
import { type Transmit } from './open-secure-channel.ts';
import { decodeGetStatusResponse } from './registry-data.ts';
import { SecureChannelError } from './secure-channel.ts';

const h = fromHex;
const ISD = h(DEFAULT_ISD_AID);
const KEY = h('404142434445464748494A4B4C4D4E4F');
const ISD_KEYS: IssuerKeys = { scp: '03', i: 0x70, kvn: 0x30, keyScheme: 'none', enc: KEY, mac: KEY, dek: KEY };

describe('GET STATUS response data assembled by hand from GPCS 2.3.1 Tables 11-36 and 11-37', () => {
  it('decodes an application entry (4F, 9F70, C5, CF, C4, CC)', () => {
    const raw = h(
      'E3' + '27' +
        '4F' + '08' + 'D07002CA44900101' +
        '9F70' + '01' + '07' +
        'C5' + '03' + '000000' +
        'CF' + '01' + '81' +
        'C4' + '05' + 'D07002CA44' +
        'CC' + '08' + 'A000000151000000',
    );
    const [e] = decodeGetStatusResponse(raw, { format: 'tlv', subset: 'applications' });
    expect(toHex(e.aid)).toBe('D07002CA44900101');
    expect(e.lifeCycle).toBe(0x07);
    expect(toHex(e.privileges!)).toBe('000000');
    expect(e.implicitSelection).toEqual([0x81]);
    expect(toHex(e.loadFileAid!)).toBe('D07002CA44');
    expect(toHex(e.sdAid!)).toBe('A000000151000000');
  });

  it('decodes a load file entry with its version and modules (4F, 9F70, CE, 84, 84, CC)', () => {
    const raw = h('E3' + '2D' + '4F05D07002CA44' + '9F700101' + 'CE020103' + '8408D07002CA44900101' + '8408D07002CA44900102' + 'CC08A000000151000000');
    const [e] = decodeGetStatusResponse(raw, { format: 'tlv', subset: 'load-files-and-modules' });
    expect(toHex(e.aid)).toBe('D07002CA44');
    expect(e.lifeCycle).toBe(0x01);
    expect(toHex(e.version!)).toBe('0103');
    expect(e.modules!.map((m) => toHex(m))).toEqual(['D07002CA44900101', 'D07002CA44900102']);
    expect(toHex(e.sdAid!)).toBe('A000000151000000');
  });
});

describe('entryLifeCycleName', () => {
  it('names the states of Tables 11-4 and 11-5; every locked state is LOCKED', () => {
    expect(entryLifeCycleName(0x03, 'app')).toBe('INSTALLED');
    expect(entryLifeCycleName(0x07, 'app')).toBe('SELECTABLE');
    expect(entryLifeCycleName(0x0f, 'sd')).toBe('PERSONALIZED');
    expect(entryLifeCycleName(0x87, 'app')).toBe('LOCKED');
    expect(entryLifeCycleName(0x8f, 'sd')).toBe('LOCKED');
  });
});

/** A transmit onto the simulator that lets `alter` replace the response to commands it picks. */
function tampered(se: SimulatedSe, alter: (cmd: CommandApdu, response: Uint8Array) => Uint8Array | undefined): Transmit {
  return async (raw) => {
    const response = se.process(raw);
    return alter(parseCommand(raw), response) ?? response;
  };
}

function read(transmit: Transmit): Promise<unknown> {
  return readCardView(transmit, { aid: ISD, open: (tx) => openIssuerChannel(tx, ISD, ISD_KEYS) });
}

async function failure(transmit: Transmit): Promise<CardViewError> {
  const e = await read(transmit).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(CardViewError);
  return e as CardViewError;
}

const sw = (hex: string) => h(hex);
const isGetStatus = (c: CommandApdu, p1: number) => c.ins === 0xf2 && c.p1 === p1;

describe('readCardView on a card that answers garbage', () => {
  it('names GET STATUS and the offset when an E3 template is truncated', async () => {
    const se = createSimulatedSe(defaultSeSpec());
    const e = await failure(tampered(se, (c) => (isGetStatus(c, 0x40) ? concat(h('E3034F05'), sw('9000')) : undefined)));
    expect(e.command).toBe("GET STATUS '40'");
    expect(e.message).toMatch(/offset/);
  });

  it('says which object is missing or malformed in a registry entry', async () => {
    const cases: [string, RegExp][] = [
      ['E3054F03A00000', /AID A00000 of 3 bytes/],
      ['E30A4F05A000000001C5030000', /offset|truncated|length/i],
      ['E30C4F05A000000001C503000000', /life cycle state/],
      ['E30F4F05A0000000019F700107C5020000', /'C5' of 3 bytes/],
      ['6103' + '4F0100', /not an 'E3'/],
    ];
    for (const [data, message] of cases) {
      const se = createSimulatedSe(defaultSeSpec());
      const e = await failure(tampered(se, (c) => (isGetStatus(c, 0x40) ? concat(h(data), sw('9000')) : undefined)));
      expect(e.command, data).toBe("GET STATUS '40'");
      expect(e.message, data).toMatch(message);
    }
  });

  it('names the SW of a refused GET STATUS', async () => {
    const se = createSimulatedSe(defaultSeSpec());
    const e = await failure(tampered(se, (c) => (isGetStatus(c, 0x80) ? sw('6982') : undefined)));
    expect(e).toMatchObject({ command: "GET STATUS '80'", sw: 0x6982 });
    expect(e.message).toMatch(/6982/);
  });

  it('gives up on a card that answers 6310 forever', async () => {
    const se = createSimulatedSe(defaultSeSpec());
    let first: Uint8Array | undefined;
    const e = await failure(
      tampered(se, (c, r) => {
        if (!isGetStatus(c, 0x40)) return undefined;
        first ??= concat(r.subarray(0, r.length - 2), sw('6310'));
        return first;
      }),
    );
    expect(e.command).toBe("GET STATUS '40'");
    expect(e.message).toMatch(/6310.*pages/);
  });

  it('names the SD whose key information template is malformed, and a response shorter than a status word', async () => {
    const se = createSimulatedSe(defaultSeSpec());
    const e = await failure(tampered(se, (c) => (c.ins === 0xca && c.p2 === 0xe0 ? concat(h('E005C003'), sw('9000')) : undefined)));
    expect(e.command).toBe(`GET DATA '00E0' of ${DEFAULT_CENTRAL_SD_AID}`);
    const short = await failure(tampered(createSimulatedSe(defaultSeSpec()), (c) => (c.ins === 0xa4 && c.data?.length === 11 ? h('90') : undefined)));
    expect(short.command).toBe(`SELECT of ${DEFAULT_CENTRAL_SD_AID}`);
    expect(short.message).toMatch(/shorter than a status word/);
  });

  it('refuses malformed extended card resources, but leaves free memory out when FF21 is refused', async () => {
    const e = await failure(tampered(createSimulatedSe(defaultSeSpec()), (c) => (c.ins === 0xca && c.p1 === 0xff ? concat(h('FF2103810101'), sw('9000')) : undefined)));
    expect(e.command).toBe("GET DATA 'FF21'");
    const view = await read(tampered(createSimulatedSe(defaultSeSpec()), (c) => (c.ins === 0xca && c.p1 === 0xff ? sw('6A88') : undefined)));
    expect(view).not.toHaveProperty('freeNonVolatile');
  });

  it('leaves key versions out when an SD refuses SELECT or GET DATA E0, without failing', async () => {
    const se = createSimulatedSe(defaultSeSpec());
    const view = (await read(tampered(se, (c) => (c.ins === 0xca && c.p2 === 0xe0 ? sw('6D00') : undefined)))) as { securityDomains: object[] };
    expect(view.securityDomains).toHaveLength(1);
    expect(view.securityDomains[0]).not.toHaveProperty('keyVersions');
  });

  it('wraps a card cryptogram mismatch, keeping the secure channel error as the cause', async () => {
    const se = createSimulatedSe(defaultSeSpec());
    const wrong: IssuerKeys = { ...ISD_KEYS, enc: h('00'.repeat(16)), mac: h('00'.repeat(16)) };
    const e = await readCardView(async (c) => se.process(c), { aid: ISD, open: (tx) => openIssuerChannel(tx, ISD, wrong) }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CardViewError);
    expect((e as CardViewError).command).toBe('opening the secure channel with the ISD');
    expect((e as CardViewError).cause).toBeInstanceOf(SecureChannelError);
    expect(((e as CardViewError).cause as SecureChannelError).kind).toBe('card-cryptogram-mismatch');
    expect(se.inspect().auth.failures).toBe(0);
  });
});

describe('readCardView on an empty registry', () => {
  it("takes GET STATUS '40' answering 6A88 as no applications and no security domains", async () => {
    const se = createSimulatedSe({ seId: 'se-bare', cin: '0A000000000000000002', iin: '42000001', card: defaultCardSpec() });
    const sws: string[] = [];
    const view = await read(tampered(se, (c, r) => void (isGetStatus(c, 0x40) && sws.push(toHex(r.subarray(r.length - 2))))));
    expect(sws).toEqual(['6A88']);
    expect(view).toMatchObject({ securityDomains: [], applications: [] });
    expect(view).toStrictEqual(cardViewOf(se.inspect()));
  });
});

describe('readCardView on a locked card', () => {
  it('cannot select the ISD when another SD holds Final Application (GPCS §5.1.1.4), and says so', async () => {
    const spec = defaultSeSpec({ securityDomains: [{ aid: DEFAULT_CENTRAL_SD_AID, privileges: ['SecurityDomain', 'CardLock', 'FinalApplication'], lifeCycle: 'PERSONALIZED' }] });
    const se = createSimulatedSe(spec);
    const k = defaultCentralSdKeys();
    const central: IssuerKeys = { scp: '03', i: 0x70, kvn: k.kvn, keyScheme: 'none', enc: h(k.enc), mac: h(k.mac), dek: h(k.dek) };
    const transmit: Transmit = async (c) => se.process(c);
    const session = await openIssuerSession(transmit, h(DEFAULT_CENTRAL_SD_AID), central);
    expect((await session.transmitSecure(setStatus('isd', 0x7f))).sw).toBe(0x9000);
    const e = await failure(transmit);
    expect(e).toMatchObject({ command: 'SELECT of the ISD', sw: 0x6a81 });
  });
});
