import { describe, expect, it } from 'vitest';
import { pysimGpCommands, pysimScp02 } from '../test/vectors/index.ts';
import { toHex } from './bytes.ts';
import { redactKeys } from './key-redaction.ts';

describe('redactKeys, the one redactor', () => {
  it('an SCP02 key set shows 3DES check values (pySim SCP02 vectors), never the keys', () => {
    const v = pysimScp02();
    const body = { keys: { kvn: 0x20, scp: '02', enc: toHex(v.keys.enc), mac: toHex(v.keys.mac), dek: toHex(v.keys.dek) } };
    const r = redactKeys(body);
    expect(r.keys.enc).toBe(`[key kcv=${toHex(v.kcv.enc)}]`);
    expect(r.keys.mac).toBe(`[key kcv=${toHex(v.kcv.mac)}]`);
    expect(r.keys.dek).toBe(`[key kcv=${toHex(v.kcv.dek)}]`);
    expect(JSON.stringify(r)).not.toContain(toHex(v.keys.enc));
  });

  it('an SCP03 key set shows AES check values, written as the caller asks (the SP API writes kcv:XXXXXX)', () => {
    const [k] = pysimGpCommands().aesKcvs;
    const r = redactKeys({ temporaryKeys: { kvn: 0x30, scp: '03', enc: toHex(k.key), mac: toHex(k.key), dek: toHex(k.key) } }, { label: (kcv) => `kcv:${kcv}` });
    expect(r.temporaryKeys).toEqual({ kvn: 0x30, scp: '03', enc: `kcv:${toHex(k.kcv)}`, mac: `kcv:${toHex(k.kcv)}`, dek: `kcv:${toHex(k.kcv)}` });
  });
});
