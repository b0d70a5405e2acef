/**
 * Loader for pysim-scp02.txt: pySim's one SCP02 session (3DES, i=15 style ICV encryption, C-MAC only):
 * static keys, INITIALIZE UPDATE and its response, session keys, cryptograms, EXTERNAL AUTHENTICATE and
 * four wrapped commands sent in that order.
 */
import { FixtureLines, readVectorFile } from './fixture.ts';

export const PYSIM_SCP02_FILE = 'pysim-scp02.txt';

export interface PysimScp02 {
  /** The KVN the host asks for in INITIALIZE UPDATE P1 (the card answers another one). */
  kvn: number;
  keys: { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array };
  kcv: { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array };
  hostChallenge: Uint8Array;
  initializeUpdate: Uint8Array;
  initializeUpdateResponse: Uint8Array;
  /** The same response with its last byte replaced; a host must reject it. */
  badInitializeUpdateResponse: Uint8Array;
  /** The response's fields as the file breaks them down. */
  response: { kdd: Uint8Array; kvn: number; scpId: number; sequenceCounter: Uint8Array; cardChallenge: Uint8Array; cardCryptogram: Uint8Array };
  sessionKeys: { senc: Uint8Array; cmac: Uint8Array; rmac: Uint8Array; sdek: Uint8Array };
  cardCryptogram: Uint8Array;
  hostCryptogram: Uint8Array;
  externalAuthenticate: Uint8Array;
  /** Plain command → command on the wire, in the order of the session. */
  wrapped: { plain: Uint8Array; wire: Uint8Array }[];
}

export function parsePysimScp02(text: string, file = PYSIM_SCP02_FILE): PysimScp02 {
  const f = FixtureLines.of(file, text);
  const key = (name: string, variable: string) => f.field(`static ${name} (variable "${variable}")`, 16);
  const kcv = f.one(/KCV \(3DES-ECB of 8x00, first 3 bytes\)\s+ENC=(\S+)\s+MAC=(\S+)\s+DEK=(\S+)\s*$/, 'DES KCV line "ENC=.. MAC=.. DEK=.."');
  const respHead = f.one(/INITIALIZE UPDATE response data \(without SW\):\s*$/, 'INITIALIZE UPDATE response heading');
  const respLine = { line: respHead.line + 1 };
  const bad = f.one(/same response with the last byte replaced by FF\s*$/, 'negative case heading');
  const badValue = /^\s*\((\S+)\)/.exec(f.text(bad.line + 1)) ?? f.fail(bad.line + 1, 'expected "(<hex>)": the response with its last byte replaced');
  const wrapped = f.expectCount(
    f.all(/^\[SOURCE\] case (\d)\s+plain (\S+)\s+-> (\S+)\s*$/).map((w) => ({
      plain: f.hex(w, w.match[2], `case ${w.match[1]} plain`),
      wire: f.hex(w, w.match[3], `case ${w.match[1]} wrapped`),
    })),
    4,
    'wrapped commands ("[SOURCE] case N  plain .. -> ..")',
  );
  return {
    kvn: f.field('KVN used in INITIALIZE UPDATE P1', 1)[0],
    keys: { enc: key('ENC', 'KIC'), mac: key('MAC', 'KID'), dek: key('DEK', 'KIK') },
    kcv: { enc: f.hex(kcv, kcv.match[1], 'KCV ENC', 3), mac: f.hex(kcv, kcv.match[2], 'KCV MAC', 3), dek: f.hex(kcv, kcv.match[3], 'KCV DEK', 3) },
    hostChallenge: f.field('[SOURCE] host challenge', 8),
    initializeUpdate: f.field('INITIALIZE UPDATE C-APDU', 14),
    initializeUpdateResponse: f.hex(respLine, f.text(respLine.line), 'INITIALIZE UPDATE response data (the line after its heading)', 28),
    badInitializeUpdateResponse: f.hex({ line: bad.line + 1 }, badValue[1], 'negative INITIALIZE UPDATE response', 28),
    response: {
      kdd: f.field('key diversification data (10 B)', 10),
      kvn: f.field('key version number (1 B)', 1)[0],
      scpId: f.field('SCP identifier (1 B)', 1)[0],
      sequenceCounter: f.field('sequence counter (2 B)', 2),
      cardChallenge: f.field('card challenge (6 B)', 6),
      cardCryptogram: f.field('card cryptogram (8 B)', 8),
    },
    sessionKeys: { senc: f.field('S-ENC', 16), cmac: f.field('C-MAC', 16), rmac: f.field('R-MAC', 16), sdek: f.field('S-DEK', 16) },
    cardCryptogram: f.field('[DERIVED] card cryptogram', 8),
    hostCryptogram: f.field('[DERIVED] host cryptogram', 8),
    externalAuthenticate: f.field('EXTERNAL AUTHENTICATE C-APDU', 21),
    wrapped,
  };
}

let cached: PysimScp02 | undefined;

/** The parsed fixture, read once per test file. */
export function pysimScp02(): PysimScp02 {
  return (cached ??= parsePysimScp02(readVectorFile(PYSIM_SCP02_FILE)));
}
