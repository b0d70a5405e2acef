import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { emit, readTraceFiles, recordTrace } from '../trace/index.ts';
import { formatLeakHits, scanForKeys } from './leak-scan.ts';
import { kcvHex as keyCheckValue, redactKeys } from '../gp/index.ts';
import { writePcapng } from './pcapng.ts';
import { pysimGpCommands, pysimScp02 } from '../test/vectors/index.ts';

const KEY = '404142434445464748494A4B4C4D4E4F';
const OTHER = '000102030405060708090A0B0C0D0E0F';

describe('key check values', () => {
  it('matches the pySim AES KCVs (GPCS B.6)', () => {
    const kcvs = pysimGpCommands().aesKcvs;
    expect(kcvs.length).toBe(3);
    for (const { key, kcv } of kcvs) expect(keyCheckValue(Buffer.from(key))).toBe(Buffer.from(kcv).toString('hex').toUpperCase());
  });

  it('computes the 3DES KCV of the pySim SCP02 keys', () => {
    const { keys, kcv } = pysimScp02();
    expect(keyCheckValue(Buffer.from(keys.enc), 'des')).toBe(Buffer.from(kcv.enc).toString('hex').toUpperCase());
  });
});

describe('redactKeys', () => {
  it('replaces key-named fields by their KCV and scrubs known keys from text', () => {
    const body = {
      keySet: { kvn: 0x30, enc: KEY, mac: Buffer.from(OTHER, 'hex'), dek: KEY.toLowerCase(), cMac: '0011223344556677' },
      keyRef: 'ISD-30',
      note: `derived from ${KEY.match(/../g)!.join(' ')} by the KDF`,
      apdu: '80D8000000' + KEY,
    };
    const r = redactKeys(body, { knownKeys: [{ value: KEY, ref: 'ISD ENC' }] });
    expect(r.keySet.enc).toBe(`[key kcv=${keyCheckValue(Buffer.from(KEY, 'hex'))}]`);
    expect(r.keySet.mac).toBe(`[key kcv=${keyCheckValue(Buffer.from(OTHER, 'hex'))}]`);
    expect(r.keySet.kvn).toBe(0x30);
    expect(r.keySet.cMac).toBe('0011223344556677');
    expect(r.keyRef).toBe('ISD-30');
    expect(r.note).toBe(`derived from [key ISD ENC kcv=${keyCheckValue(Buffer.from(KEY, 'hex'))}] by the KDF`);
    expect(r.apdu).not.toContain(KEY);
    expect(JSON.stringify(r)).not.toMatch(new RegExp(KEY, 'i'));
    // The original is untouched, and reveal leaves everything as is.
    expect(body.keySet.enc).toBe(KEY);
    expect(redactKeys(body, { reveal: true })).toBe(body);
  });

  it('plugs into the trace writer so the NDJSON file never holds the key', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsmlab-redact-'));
    const file = path.join(dir, 't.ndjson');
    const rec = recordTrace(file, { transform: (e) => redactKeys(e, { knownKeys: [{ value: KEY }] }) });
    emit({ kind: 'sp.request', from: 'sp', to: 'tsm', operation: 'rotateKeys', body: { newKeys: { enc: KEY, mac: KEY, dek: KEY } } });
    emit({ kind: 'note', from: 'tsm', to: 'tsm', text: `debug ${KEY.toLowerCase()}` });
    rec.close();
    expect(scanForKeys(dir, [{ label: 'ENC', value: KEY }])).toEqual([]);
    const [req] = await readTraceFiles([file]);
    expect(JSON.stringify(req)).toContain('[key kcv=');
  });
});

describe('scanForKeys', () => {
  it('finds a planted key in every form and says where, without printing it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsmlab-leak-'));
    mkdirSync(path.join(dir, 'evidence'));
    writeFileSync(path.join(dir, 'clean.txt'), `nothing here but ${OTHER}\n`);
    writeFileSync(path.join(dir, 'upper.txt'), `xx${KEY}yy`);
    writeFileSync(path.join(dir, 'evidence', 'lower.ndjson'), `{"hex":"80d8${KEY.toLowerCase()}"}\n`);
    writeFileSync(path.join(dir, 'spaced.log'), `key: ${KEY.match(/../g)!.join(' ')}\n`);
    writeFileSync(path.join(dir, 'b64.json'), `{"k":"${Buffer.from(KEY, 'hex').toString('base64')}"}`);
    // The key bytes at an odd offset inside a larger base64 body (e.g. a binary attachment).
    writeFileSync(path.join(dir, 'b64-shifted.json'), `{"body":"${Buffer.concat([Buffer.from('zz'), Buffer.from(KEY, 'hex'), Buffer.from('tail')]).toString('base64')}"}`);
    // A hex key inside a base64-encoded text attachment, as Cucumber writes attachments.
    writeFileSync(path.join(dir, 'messages.ndjson'), JSON.stringify({ attachment: { body: Buffer.from(`session key ${KEY}`).toString('base64'), contentEncoding: 'BASE64' } }) + '\n');
    writeFileSync(path.join(dir, 'raw.bin'), Buffer.concat([Buffer.alloc(100, 0xee), Buffer.from(KEY, 'hex')]));

    const hits = scanForKeys(dir, [{ label: 'ISD ENC', value: KEY }]);
    const byFile = (f: string) => hits.filter((h) => path.relative(dir, h.file) === f).map((h) => h.form);
    expect(byFile('clean.txt')).toEqual([]);
    expect(byFile('upper.txt')).toEqual(['hex']);
    expect(byFile(path.join('evidence', 'lower.ndjson'))).toEqual(['hex']);
    expect(byFile('spaced.log')).toEqual(['hex-spaced']);
    expect(byFile('b64.json')).toContain('base64');
    expect(byFile('b64-shifted.json')).toContain('base64');
    expect(byFile('b64-shifted.json')).toContain('raw in base64 blob');
    expect(byFile('messages.ndjson')).toEqual(['hex in base64 blob']);
    expect(byFile('raw.bin')).toEqual(['raw']);
    expect(hits.find((h) => h.form === 'raw')?.offset).toBe(100);
    const text = formatLeakHits(hits, dir);
    expect(text).toContain('upper.txt: key "ISD ENC" as hex at byte 2');
    expect(text).not.toContain(KEY);
  });

  it('finds a key that straddles a chunk boundary of a large file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsmlab-leak-big-'));
    const at = 8 * 1024 * 1024 - 10;
    const big = Buffer.alloc(at + 64, 0x2e);
    Buffer.from(KEY, 'latin1').copy(big, at);
    writeFileSync(path.join(dir, 'big.ndjson'), big);
    expect(scanForKeys(dir, [{ label: 'k', value: KEY }])).toEqual([{ file: path.join(dir, 'big.ndjson'), key: 'k', form: 'hex', offset: at }]);
  });

  it('sees the raw key in a pcapng written from a trace that carried it in an APDU', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsmlab-leak-pcap-'));
    const corr = {};
    writePcapng(path.join(dir, 'x.pcapng'), [
      { seq: 1, time: 1, corr, kind: 'apdu.command', from: 'harness', to: 'se', apduId: 'a', hex: `80D8010110${KEY}` },
      { seq: 2, time: 2, corr, kind: 'apdu.response', from: 'se', to: 'harness', apduId: 'a', hex: '9000', sw: '9000', durationMs: 1 },
    ]);
    expect(scanForKeys(dir, [{ label: 'k', value: KEY }]).map((h) => h.form)).toEqual(['raw']);
  });
});
