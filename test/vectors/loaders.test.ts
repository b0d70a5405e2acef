import { describe, expect, it } from 'vitest';
import { FixtureError, readVectorFile } from './fixture.ts';
import { parsePysimGpCommands, PYSIM_GP_FILE, pysimGpCommands } from './pysim-gp-commands-tlv.ts';
import { parsePysimScp02, PYSIM_SCP02_FILE, pysimScp02 } from './pysim-scp02.ts';
import { parsePysimScp03, PYSIM_SCP03_FILE, pysimScp03 } from './pysim-scp03.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The 1-based number of the first line of `text` containing `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`"${needle}" is not in the fixture any more: update this test`);
  return i + 1;
}

function errorOf(f: () => unknown): FixtureError {
  try {
    f();
  } catch (e) {
    if (e instanceof FixtureError) return e;
    throw e;
  }
  throw new Error('no FixtureError thrown');
}

describe('pysim-scp03.txt loader', () => {
  const text = readVectorFile(PYSIM_SCP03_FILE);

  it('finds the nine cases, five plain commands and three key sets', () => {
    const v = pysimScp03();
    expect(v.cases.map((c) => c.name)).toEqual(['AES128_11', 'AES128_03', 'AES128_33', 'AES192_11', 'AES192_03', 'AES192_33', 'AES256_11', 'AES256_03', 'AES256_33']);
    expect(v.cases.map((c) => c.level)).toEqual([0x11, 0x03, 0x33, 0x11, 0x03, 0x33, 0x11, 0x03, 0x33]);
    expect(v.cases.every((c) => c.wrapped.length === 5)).toBe(true);
    expect(v.plainCommands.map((c) => c.label)).toEqual(['#1 GET EID (STORE DATA)', '#2 case 1', '#3 case 2', '#4 case 3', '#5 case 4']);
    expect(v.keySets.map((k) => [k.name, k.kvn, k.enc.length])).toEqual([
      ['AES128', 0x30, 16],
      ['AES192', 0x31, 24],
      ['AES256', 0x32, 32],
    ]);
    // Each case carries the key set of its own name, and its values sit where the file puts them.
    const last = v.cases[8];
    expect(last.keySet.name).toBe('AES256');
    expect(hex(last.hostChallenge)).toBe('97b2055fe58599fd');
    expect(hex(last.sequenceCounter)).toBe('000002');
    expect(hex(v.aes128Kcv.enc)).toBe('c35280');
  });

  it('a malformed value names the file, the line and the field', () => {
    const at = lineOf(text, '[DERIVED] S-ENC                         : ee54985e');
    const broken = text.replace('ee54985e150155e021725489f717d645', 'ee54985e150155e021725489f717d64');
    const e = errorOf(() => parsePysimScp03(broken));
    expect(e.message).toBe(`${PYSIM_SCP03_FILE} line ${at}: S-ENC is not an even number of hex digits: "ee54985e150155e021725489f717d64"`);
    expect(e.line).toBe(at);
  });

  it('a value of the wrong length is refused', () => {
    const at = lineOf(text, 'host challenge                 : 8e1552d0513c60f3');
    const e = errorOf(() => parsePysimScp03(text.replace('host challenge                 : 8e1552d0513c60f3', 'host challenge                 : 8e1552d0513c60')));
    expect(e.message).toBe(`${PYSIM_SCP03_FILE} line ${at}: host challenge has 7 bytes, expected 8`);
  });

  it('a missing line names the case it is missing from', () => {
    const broken = text.replace('[DERIVED] S-RMAC                        : 5942bf778c5942f17037da8278f9330d\n', '');
    expect(() => parsePysimScp03(broken)).toThrow(/^pysim-scp03\.txt: no "S-RMAC : <hex>" line in case SCP03_Test_AES128_03 \(lines \d+-\d+\)$/);
  });

  it('a lost case is counted', () => {
    const broken = text.replace('Case SCP03_Test_AES192_03:', 'Kase SCP03_Test_AES192_03:');
    expect(() => parsePysimScp03(broken)).toThrow(`${PYSIM_SCP03_FILE}: expected 9 cases ("Case SCP03_Test_...") in the file, found 8`);
  });
});

describe('pysim-scp02.txt loader', () => {
  const text = readVectorFile(PYSIM_SCP02_FILE);

  it('finds the session: keys, response fields, four wrapped commands', () => {
    const v = pysimScp02();
    expect(v.kvn).toBe(0x20);
    expect(v.response.kvn).toBe(0x70);
    expect(hex(v.response.cardChallenge)).toBe('6b4524abee7c');
    expect(v.wrapped).toHaveLength(4);
    expect(hex(v.wrapped[3].plain)).toBe('80f28002024f0000');
    expect(hex(v.badInitializeUpdateResponse).slice(0, -2)).toBe(hex(v.initializeUpdateResponse).slice(0, -2));
    expect(hex(v.badInitializeUpdateResponse).slice(-2)).toBe('ff');
    expect(hex(v.kcv.dek)).toBe('3178a9');
  });

  it('a damaged response line names its line', () => {
    const at = lineOf(text, '         00000000000000000000700200016B4524ABEE7CF32EA3838BC148F3');
    const broken = text.replace('         00000000000000000000700200016B4524ABEE7CF32EA3838BC148F3', '         00000000000000000000700200016B4524ABEE7CF32EA3838BC148');
    expect(() => parsePysimScp02(broken)).toThrow(`${PYSIM_SCP02_FILE} line ${at}: INITIALIZE UPDATE response data (the line after its heading) has 27 bytes, expected 28`);
  });

  it('a lost wrapped command is counted', () => {
    const broken = text.replace('[SOURCE] case 3', '[SOURCE] kase 3');
    expect(() => parsePysimScp02(broken)).toThrow(`${PYSIM_SCP02_FILE}: expected 4 wrapped commands ("[SOURCE] case N  plain .. -> ..") in the file, found 3`);
  });
});

describe('pysim-gp-commands-tlv.txt loader', () => {
  const text = readVectorFile(PYSIM_GP_FILE);

  it('finds KCVs, key information entries, the recognition data, install parameters and the HelloSTK layouts', () => {
    const v = pysimGpCommands();
    expect(v.aesKcvs).toHaveLength(3);
    expect(v.keyInformation).toHaveLength(12);
    expect(v.keyInformation.filter((k) => k.algorithm === 'AES').map((k) => hex(k.tlv))).toEqual(['c00402038810']);
    expect(v.keyInformation[0]).toMatchObject({ kid: 1, kvn: 0x70, algorithm: 'DES', length: 16 });
    expect(v.cardRecognitionData.length).toBe(0x33);
    expect(hex(v.installParameters.none)).toBe('c900');
    expect(v.helloStk.loadFileSize).toBe(569);
    expect(Object.keys(v.helloStk.componentSizes)).toHaveLength(10);
    expect(v.install.loads.map((l) => hex(l.header))).toEqual(['80e80000f0', '80e80001f0', '80e880025d']);
    expect(hex(v.install.installForInstall).slice(0, 10)).toBe('80e60c003c');
    expect(v.install.installForInstall.length).toBe(5 + 0x3c);
    expect(hex(v.install.deleteLoadFile)).toBe('80e40080074f05d07002ca4400');
  });

  it('recognition data whose length disagrees with its tag is refused at its line', () => {
    const at = lineOf(text, '6631 732f');
    expect(() => parsePysimGpCommands(text.replace('6631 732f', '6632 732f'))).toThrow(`${PYSIM_GP_FILE} line ${at}: card recognition data has 51 bytes but its tag 66 announces 50 + 2`);
  });

  it('component sizes must add up to the load file size', () => {
    const broken = text.replace('Method 112,', 'Method 111,');
    expect(() => parsePysimGpCommands(broken)).toThrow(/^pysim-gp-commands-tlv\.txt line \d+: component sizes add up to 568, the load file has 569 bytes$/);
  });

  it('a lost key information entry is counted', () => {
    const broken = text.replace('c00402038810  KID 2, KVN 3, AES 16', '');
    expect(() => parsePysimGpCommands(broken)).toThrow(`${PYSIM_GP_FILE}: expected 12 key information entries ("c004.... KID n, KVN n, DES 16") in the file, found 11`);
  });
});
