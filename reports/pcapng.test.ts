import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { emit, nextApduId, recordTrace, withCorrelation } from '../trace/index.ts';
import { exportPcapng, ipv4Checksum, simApduPayload } from './pcapng.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tsmlab-pcapng-'));

/** Sends one exchange through the bus the way a driver does. */
function exchange(commandHex: string, responseHex: string, durationMs = 1.25): void {
  const apduId = nextApduId();
  emit({ kind: 'apdu.command', from: 'harness', to: 'se', apduId, hex: commandHex });
  emit({ kind: 'apdu.response', from: 'se', to: 'harness', apduId, hex: responseHex, sw: responseHex.slice(-4), durationMs });
}

function tshark(args: string[]): string {
  // No skip when tshark is missing: the CI installs it, and a silent skip would hide a broken export.
  return execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('pcapng export (GSMTAP SIM over UDP 4729)', () => {
  it('builds T=0 style payloads: P3 for case 1, no Le after case 4 data', () => {
    expect(Buffer.from(simApduPayload('00A40400', '9000')).toString('hex')).toBe('00a40400009000');
    expect(Buffer.from(simApduPayload('80CA9F7F00', '9F7F01AA9000')).toString('hex')).toBe('80ca9f7f009f7f01aa9000');
    expect(Buffer.from(simApduPayload('8050000008B0B1B2B3B4B5B6B700', '9000')).toString('hex')).toBe('8050000008b0b1b2b3b4b5b6b79000');
    expect(Buffer.from(simApduPayload('80E60C0003010203', '9000')).toString('hex')).toBe('80e60c00030102039000');
  });

  it('computes the RFC 1071 header checksum (RFC 1071 / Wikipedia example header)', () => {
    const h = Uint8Array.from(Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex'));
    expect(ipv4Checksum(h).toString(16)).toBe('b861');
  });

  it('writes a capture from recorded trace events that tshark decodes as GSM SIM with comments', async () => {
    const traceFile = path.join(dir, 'trace.ndjson');
    const rec = recordTrace(traceFile);
    withCorrelation({ scenario: 'Pre-personalize a payment service', scenarioId: 'tcs-42', step: 'the central TSM selects the ISD', stepId: 'step-7' }, () => {
      exchange('00A4040008A000000151000000', '6F108408A000000151000000A5049F6501FF9000');
      exchange('80CA9F7F00', '6A88');
    });
    withCorrelation({ scenario: 'Pre-personalize a payment service', scenarioId: 'tcs-42', step: 'the SE reports its registry', stepId: 'step-8' }, () => {
      exchange('80F24002024F0000', 'E3104F07A00000015153509F700107C5038000009000');
    });
    rec.close();

    const pcap = path.join(dir, 'run.pcapng');
    expect(await exportPcapng([traceFile], pcap)).toBe(3);
    // Section header block magic and byte-order magic.
    const raw = readFileSync(pcap);
    expect(raw.readUInt32LE(0)).toBe(0x0a0d0d0a);
    expect(raw.readUInt32LE(8)).toBe(0x1a2b3c4d);

    const verbose = tshark(['-r', pcap, '-V', '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE']);
    expect(verbose).toContain('GSM SIM');
    expect(verbose).toContain('Instruction: SELECT (0xa4)');
    expect(verbose).toContain('Application ID: a000000151000000');
    expect(verbose).toMatch(/Status Word: 6a88/);
    expect(verbose).toContain('Instruction: GET DATA (0xca)');
    expect(verbose).toMatch(/\[Header checksum status: Good\]/);
    expect(verbose).not.toMatch(/checksum status: Bad/i);
    expect(verbose).toContain('scenario: Pre-personalize a payment service [tcs-42] | step: the central TSM selects the ISD [step-7]');
    expect(verbose).toContain('step: the SE reports its registry [step-8]');

    const rows = tshark(['-r', pcap, '-T', 'fields', '-E', 'separator=/t', '-e', 'frame.protocols', '-e', 'udp.dstport', '-e', 'gsm_sim.apdu.ins', '-e', 'gsm_sim.apdu.sw', '-e', 'udp.payload', '-e', 'frame.comment'])
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(rows).toHaveLength(3);
    const gsmtap = '02040400000000000000000000000000';
    expect(rows[0]).toEqual([
      'raw:ip:udp:gsmtap:gsm_sim',
      '4729',
      '0xa4',
      '0x9000',
      gsmtap + '00a4040008a000000151000000' + '6f108408a000000151000000a5049f6501ff9000',
      expect.stringContaining('step: the central TSM selects the ISD'),
    ]);
    expect(rows[1].slice(0, 5)).toEqual(['raw:ip:udp:gsmtap:gsm_sim', '4729', '0xca', '0x6a88', gsmtap + '80ca9f7f006a88']);
    expect(rows[2][4]).toBe(gsmtap + '80f24002024f00' + 'e3104f07a00000015153509f700107c5038000009000');
    expect(rows[2][5]).toMatch(/apdu: a\d+-\d+ \| sw: 9000 \| duration: 1\.250 ms/);
  });
});
