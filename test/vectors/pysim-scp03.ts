/**
 * Loader for pysim-scp03.txt: pySim's SCP03 sessions (nine cases: AES-128/192/256 × security levels
 * 11, 03, 33), the five plain commands every case wraps, the key sets and the SD AID of the
 * pseudo-random challenge.
 */
import { FixtureLines, readVectorFile } from './fixture.ts';

export const PYSIM_SCP03_FILE = 'pysim-scp03.txt';

export interface Scp03VectorKeySet {
  name: string;
  kvn: number;
  enc: Uint8Array;
  mac: Uint8Array;
  dek: Uint8Array;
}

export interface Scp03PlainCommand {
  /** The label of the file, e.g. "#3 case 2". */
  label: string;
  apdu: Uint8Array;
}

export interface Scp03VectorCase {
  /** Short name, e.g. "AES128_33". */
  name: string;
  keySet: Scp03VectorKeySet;
  level: number;
  hostChallenge: Uint8Array;
  initializeUpdate: Uint8Array;
  initializeUpdateResponse: Uint8Array;
  cardChallenge: Uint8Array;
  cardCryptogram: Uint8Array;
  sequenceCounter: Uint8Array;
  senc: Uint8Array;
  smac: Uint8Array;
  srmac: Uint8Array;
  hostCryptogram: Uint8Array;
  externalAuthenticate: Uint8Array;
  /** The five plain commands wrapped in order, one session. */
  wrapped: Uint8Array[];
  /** The GET EID response data as the card sends it (protected as the level says, SW not included). */
  eidResponse: Uint8Array;
}

export interface PysimScp03 {
  plainCommands: Scp03PlainCommand[];
  /** The clear GET EID response data. */
  eidResponsePlain: Uint8Array;
  /** The AID of the SD whose pseudo-random card challenges the cases carry. */
  sdAid: Uint8Array;
  keySets: Scp03VectorKeySet[];
  /** Key check values of the AES128 key set. */
  aes128Kcv: { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array };
  cases: Scp03VectorCase[];
}

const WRAPPED_LABELS = ['#1 GET EID wrapped', '#2 case 1 wrapped', '#3 case 2 wrapped', '#4 case 3 wrapped', '#5 case 4 wrapped'];

export function parsePysimScp03(text: string, file = PYSIM_SCP03_FILE): PysimScp03 {
  const all = FixtureLines.of(file, text);
  const firstCase = all.one(/^Case /, '"Case ..." heading');
  const common = all.slice(1, firstCase.line, 'the common data before the first case');

  const plainCommands = common.expectCount(
    common.all(/^\s+(#\d [^:]*?)\s{2,}(\S+)\s*$/).map((f) => ({ label: f.match[1], apdu: common.hex(f, f.match[2], `plain command ${f.match[1]}`) })),
    5,
    'plain commands ("#1 GET EID (STORE DATA)  80E2...")',
  );
  const eid = common.one(/plaintext GET EID response data\s*:\s*(\S*)\s*$/, 'plaintext GET EID response data');
  const aid = common.one(/AID = (\S+)/, '"AID = <hex>" of the SD');

  const keySets = common.expectCount(
    common.all(/^\s+(AES\d+): KVN (\S+)\s*$/).map((f) => {
      const keyLine = (offset: number, name: string) => {
        const at = { line: f.line + offset };
        const m =
          new RegExp(`^\\s+${name} (\\S*)\\s*$`).exec(common.text(at.line)) ??
          common.fail(at.line, `expected "${name} <hex>" of key set ${f.match[1]}, found "${common.text(at.line).trim()}"`);
        return common.hex(at, m[1], `${f.match[1]} ${name}`, Number(f.match[1].slice(3)) / 8);
      };
      return { name: f.match[1], kvn: common.hex(f, f.match[2], `KVN of ${f.match[1]}`, 1)[0], enc: keyLine(1, 'ENC'), mac: keyLine(2, 'MAC'), dek: keyLine(3, 'DEK') };
    }),
    3,
    'key sets ("AES128: KVN 30")',
  );
  const kcv = common.one(/^\s+ENC (\S+)\s+MAC (\S+)\s+DEK (\S+)\s*$/, 'KCV line "ENC ... MAC ... DEK ..."');

  const parts = all.split(/^Case SCP03_Test_(\S+):/, (m) => `case SCP03_Test_${m[1]}`, /^Not covered/);
  const cases = parts.map(({ head, part }) => {
    const h = /^Case SCP03_Test_((AES\d+)_\d\d): key set (AES\d+), security level (\S+)/.exec(head.match.input);
    if (!h) return part.fail(head.line, `case heading not understood: "${head.match.input.trim()}"`);
    const keySet = keySets.find((k) => k.name === h[3]) ?? part.fail(head.line, `key set ${h[3]} is not among ${keySets.map((k) => k.name).join(', ')}`);
    const response = part.one(/#1 GET EID response \(as received from card, SW 9000 not included\):\s*$/, 'GET EID response heading');
    return {
      name: h[1],
      keySet,
      level: part.hex(head, h[4], 'security level', 1)[0],
      hostChallenge: part.field('host challenge', 8),
      initializeUpdate: part.field('INITIALIZE UPDATE C-APDU', 14),
      initializeUpdateResponse: part.field('INITIALIZE UPDATE response', 32),
      cardChallenge: part.field('card challenge', 8),
      cardCryptogram: part.field('card cryptogram', 8),
      sequenceCounter: part.field('sequence counter', 3),
      senc: part.field('S-ENC', keySet.enc.length),
      smac: part.field('S-MAC', keySet.enc.length),
      srmac: part.field('S-RMAC', keySet.enc.length),
      hostCryptogram: part.field('host cryptogram', 8),
      externalAuthenticate: part.field('EXTERNAL AUTHENTICATE C-APDU', 21),
      wrapped: WRAPPED_LABELS.map((l) => part.field(l)),
      eidResponse: part.hex({ line: response.line + 1 }, part.text(response.line + 1), 'GET EID response (the line after its heading)'),
    };
  });
  all.expectCount(cases, 9, 'cases ("Case SCP03_Test_...")');

  return {
    plainCommands,
    eidResponsePlain: common.hex(eid, eid.match[1], 'plaintext GET EID response data'),
    sdAid: common.hex(aid, aid.match[1], 'SD AID', 16),
    keySets,
    aes128Kcv: { enc: common.hex(kcv, kcv.match[1], 'KCV ENC', 3), mac: common.hex(kcv, kcv.match[2], 'KCV MAC', 3), dek: common.hex(kcv, kcv.match[3], 'KCV DEK', 3) },
    cases,
  };
}

let cached: PysimScp03 | undefined;

/** The parsed fixture, read once per test file. */
export function pysimScp03(): PysimScp03 {
  return (cached ??= parsePysimScp03(readVectorFile(PYSIM_SCP03_FILE)));
}

/** The case named e.g. "AES128_33". */
export function pysimScp03Case(name: string): Scp03VectorCase {
  const c = pysimScp03().cases.find((x) => x.name === name);
  if (!c) throw new Error(`${PYSIM_SCP03_FILE} has no case ${name}`);
  return c;
}

/** The plain command labelled e.g. "#3 case 2". */
export function pysimScp03Plain(label: string): Uint8Array {
  const c = pysimScp03().plainCommands.find((x) => x.label === label);
  if (!c) throw new Error(`${PYSIM_SCP03_FILE} has no plain command "${label}"`);
  return c.apdu;
}
