/**
 * Loader for pysim-gp-commands-tlv.txt: pySim's GlobalPlatform samples — AES key check values, key
 * information entries, card recognition data, install parameters, the facts of the HelloSTK load file
 * (AIDs, sizes; its bytes are not in the repository) and the HelloSTK installation command layouts.
 */
import { FixtureLines, readVectorFile } from './fixture.ts';

export const PYSIM_GP_FILE = 'pysim-gp-commands-tlv.txt';

export interface KeyInformationVector {
  /** The whole C0 object, e.g. C0 04 01 70 80 10. */
  tlv: Uint8Array;
  kid: number;
  kvn: number;
  algorithm: 'DES' | 'AES';
  length: number;
}

export interface PysimGpCommands {
  aesKcvs: { key: Uint8Array; kcv: Uint8Array }[];
  keyInformation: KeyInformationVector[];
  /** GET DATA '66' response data (card recognition data). */
  cardRecognitionData: Uint8Array;
  installParameters: {
    /** The TS 102 226 (STK) parameters that go into tag CA. */
    stkParameters: Uint8Array;
    /** Quotas 256/256 with the STK parameters. */
    quotas256: Uint8Array;
    /** No parameters at all. */
    none: Uint8Array;
    /** Quotas 255/255 with the STK parameters (the HelloSTK installation). */
    quotas255: Uint8Array;
  };
  /** The HelloSTK load file: its facts; the bytes themselves stay out of the repository (licence). */
  helloStk: {
    loadFileAid: Uint8Array;
    appletAid: Uint8Array;
    loadFileSize: number;
    /** Component name → size including its 3-byte tag/size header. */
    componentSizes: Record<string, number>;
  };
  /** The HelloSTK installation as pySim lays it out. */
  install: {
    isdAid: Uint8Array;
    /** INSTALL [for load] with pySim's trailing Le 00. */
    installForLoad: Uint8Array;
    /** Length of the LOAD data (C4 ‖ length ‖ load file) and the block size pySim splits it in. */
    loadDataLength: number;
    blockSize: number;
    /** Per LOAD command: its 5-byte header and the first 8 data bytes. */
    loads: { header: Uint8Array; start: Uint8Array }[];
    /** INSTALL [for install and make selectable] as laid out, without the Le 00 pySim appends. */
    installForInstall: Uint8Array;
    /** DELETE of the load file and related objects, with Le 00. */
    deleteLoadFile: Uint8Array;
  };
}

export function parsePysimGpCommands(text: string, file = PYSIM_GP_FILE): PysimGpCommands {
  const f = FixtureLines.of(file, text);

  const aesKcvs = f.expectCount(
    f.all(/^\[SOURCE\] AES (\S+) -> (\S+)\s*$/).map((k) => ({ key: f.hex(k, k.match[1], 'AES key', 16), kcv: f.hex(k, k.match[2], 'AES KCV', 3) })),
    3,
    'AES key check values ("[SOURCE] AES <key> -> <kcv>")',
  );

  // Two entries per line: "c00401708010  KID 1, KVN 0x70 (112), DES 16     c00402708010  KID 2, ...".
  const keyInformation = f.expectCount(
    f.all(/^c004/).flatMap((found) =>
      [...f.text(found.line).matchAll(/(\S+)\s+KID (\d+), KVN (0x[0-9a-fA-F]+|\d+)(?: \(\d+\))?, (DES|AES) (\d+)/g)].map((m) => ({
        tlv: f.hex(found, m[1], 'key information entry', 6),
        kid: Number(m[2]),
        kvn: m[3].startsWith('0x') ? parseInt(m[3], 16) : Number(m[3]),
        algorithm: m[4] as 'DES' | 'AES',
        length: Number(m[5]),
      })),
    ),
    12,
    'key information entries ("c004.... KID n, KVN n, DES 16")',
  );

  const crd = f.one(/^66[0-9a-fA-F]{2} /, 'card recognition data line ("6631 732f ...")');
  const crdBytes = f.hex(crd, `${crd.match.input} ${f.text(crd.line + 1)}`, 'card recognition data (two lines)');
  if (crdBytes.length !== crdBytes[1] + 2) f.fail(crd.line, `card recognition data has ${crdBytes.length} bytes but its tag 66 announces ${crdBytes[1]} + 2`);

  const hexAfter = (heading: RegExp, what: string, bytes?: number) => {
    const h = f.one(heading, what);
    return f.hex({ line: h.line + 1 }, f.text(h.line + 1), `${what} (the line after its heading)`, bytes);
  };
  const stk = f.one(/^non-volatile quota 256, volatile quota 256, STK params (\S+):\s*$/, 'install parameters heading "non-volatile quota 256, ..."');
  const none = f.one(/^no parameters: (\S+)\s*$/, '"no parameters: <hex>" line');

  const loadFileAid = f.field('load file AID', 5);
  const size = f.one(/\[SOURCE\] load file \((\d+) bytes;/, '"[SOURCE] load file (N bytes;" line');
  const sizes = f.one(/^\s+component sizes incl\. 3-byte tag\/size header: (.*)$/, 'component sizes line');
  const componentSizes: Record<string, number> = {};
  for (const m of `${sizes.match[1]} ${f.text(sizes.line + 1)}`.matchAll(/([A-Za-z]+) (\d+)/g)) componentSizes[m[1]] = Number(m[2]);
  const sum = Object.values(componentSizes).reduce((a, b) => a + b, 0);
  if (sum !== Number(size.match[1])) f.fail(sizes.line, `component sizes add up to ${sum}, the load file has ${size.match[1]} bytes`);

  const isd = f.one(/HelloSTK installation sequence .*ISD AID (\S+?)\)/, 'HelloSTK installation heading with the ISD AID');
  const load = f.one(/\[LAYOUT\] LOAD .*load file = (\d+) bytes, split in (\d+)-byte blocks/, 'LOAD layout heading');
  const loads = f.expectCount(
    f.all(/^\s+80E8/).flatMap((found) =>
      [...f.text(found.line).matchAll(/(80E8\S{6})\s+([0-9a-fA-F]{16})\.\.\./g)].map((m) => ({ header: f.hex(found, m[1], 'LOAD header', 5), start: f.hex(found, m[2], 'LOAD data start', 8) })),
    ),
    3,
    'LOAD commands ("80E8.... <16 hex digits>...")',
  );
  // INSTALL [for install and make selectable] spans two lines; "(+ Le 00)" is a remark, not a byte.
  const ifi = f.one(/^\s+80E60C/, 'INSTALL [for install and make selectable] layout');
  const ifiText = `${f.text(ifi.line)} ${f.text(ifi.line + 1).replace(/\(\+ Le 00\)\s*$/, '')}`;
  const del = f.one(/^\s+80E4\S*( [0-9a-fA-F]+)+\s*$/, 'DELETE layout line');

  return {
    aesKcvs,
    keyInformation,
    cardRecognitionData: crdBytes,
    installParameters: {
      stkParameters: f.hex(stk, stk.match[1], 'STK parameters', 18),
      quotas256: hexAfter(/^non-volatile quota 256, volatile quota 256/, 'install parameters with quotas 256'),
      none: f.hex(none, none.match[1], 'empty install parameters'),
      quotas255: hexAfter(/quotas 255\/255 \+ same STK params:\s*$/, 'install parameters with quotas 255'),
    },
    helloStk: { loadFileAid, appletAid: f.field('applet AID', 8), loadFileSize: Number(size.match[1]), componentSizes },
    install: {
      isdAid: f.hex(isd, isd.match[1], 'ISD AID', 8),
      installForLoad: hexAfter(/^\[LAYOUT\] INSTALL \[for load\]/, 'INSTALL [for load] layout'),
      loadDataLength: Number(load.match[1]),
      blockSize: Number(load.match[2]),
      loads,
      installForInstall: f.hex(ifi, ifiText, 'INSTALL [for install and make selectable] layout (two lines)'),
      deleteLoadFile: f.hex(del, del.match.input, 'DELETE layout'),
    },
  };
}

let cached: PysimGpCommands | undefined;

/** The parsed fixture, read once per test file. */
export function pysimGpCommands(): PysimGpCommands {
  return (cached ??= parsePysimGpCommands(readVectorFile(PYSIM_GP_FILE)));
}
