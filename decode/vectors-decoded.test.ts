/**
 * The decoder's reading of every command (and response, where the fixture gives one) of the known-answer
 * vectors in test/vectors, held in decode/vectors-decoded.json. A change to the decoder or to gp's tables that
 * alters what a lab engineer sees shows up here as a diff to review. To accept a deliberate change, regenerate:
 *   UPDATE_DECODED_VECTORS=1 npx vitest run decode/vectors-decoded
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SecurityLevel, toHex } from '../gp/index.ts';
import { pysimGpCommands, pysimScp02, pysimScp03 } from '../test/vectors/index.ts';
import { commandSummary, decodeCommand, decodeResponse, type DecodedCommand, type DecodedResponse, type Protection } from './index.ts';

const EXPECTED = new URL('./vectors-decoded.json', import.meta.url);

interface Exchange {
  source: string;
  label: string;
  command?: DecodedCommand;
  response?: DecodedResponse;
  /** For a command the fixture keeps only the start of: the header read alone. */
  summary?: string;
}

/** SW 9000 appended: the fixtures give response data without the status word. */
const ok = (data: Uint8Array) => `${toHex(data)}9000`;

function exchange(source: string, label: string, command: Uint8Array, response?: Uint8Array, protection?: Protection): Exchange {
  const c = toHex(command);
  const e: Exchange = { source, label, command: decodeCommand(c, protection) };
  if (response) e.response = decodeResponse(ok(response), c, protection);
  return e;
}

function gpCommands(): Exchange[] {
  const src = 'pysim-gp-commands-tlv';
  const v = pysimGpCommands();
  const out: Exchange[] = [exchange(src, 'GET DATA 66 (card recognition data)', Uint8Array.of(0x80, 0xca, 0x00, 0x66, 0x00), v.cardRecognitionData)];
  out.push(exchange(src, 'INSTALL [for load]', v.install.installForLoad));
  v.install.loads.forEach((l, i) => out.push({ source: src, label: `LOAD ${i} (header and first data bytes only)`, summary: commandSummary(toHex(l.header)) }));
  out.push(exchange(src, 'INSTALL [for install and make selectable]', v.install.installForInstall));
  out.push(exchange(src, 'DELETE load file and related objects', v.install.deleteLoadFile));
  return out;
}

function scp02(): Exchange[] {
  const src = 'pysim-scp02';
  const v = pysimScp02();
  const level: Protection = { scp: 'SCP02', level: SecurityLevel.CMAC, macLength: 8 };
  return [
    exchange(src, 'INITIALIZE UPDATE', v.initializeUpdate, v.initializeUpdateResponse),
    exchange(src, 'INITIALIZE UPDATE, tampered response', v.initializeUpdate, v.badInitializeUpdateResponse),
    exchange(src, 'EXTERNAL AUTHENTICATE', v.externalAuthenticate),
    ...v.wrapped.flatMap((w, i) => [exchange(src, `#${i + 1} plain`, w.plain), exchange(src, `#${i + 1} on the wire`, w.wire, undefined, level)]),
  ];
}

function scp03(): Exchange[] {
  const src = 'pysim-scp03';
  const v = pysimScp03();
  const out = v.plainCommands.map((c, i) => exchange(src, `${c.label} plain`, c.apdu, i === 0 ? v.eidResponsePlain : undefined));
  for (const k of v.cases) {
    const level: Protection = { scp: 'SCP03', level: k.level, macLength: 8 };
    out.push(exchange(src, `${k.name} INITIALIZE UPDATE`, k.initializeUpdate, k.initializeUpdateResponse));
    out.push(exchange(src, `${k.name} EXTERNAL AUTHENTICATE`, k.externalAuthenticate));
    k.wrapped.forEach((w, i) => out.push(exchange(src, `${k.name} ${v.plainCommands[i].label} on the wire`, w, i === 0 ? k.eidResponse : undefined, level)));
  }
  return out;
}

describe('the decoder on every command of the known-answer vectors', () => {
  const actual = [...gpCommands(), ...scp02(), ...scp03()];

  it('reads them as decode/vectors-decoded.json holds', () => {
    if (process.env.UPDATE_DECODED_VECTORS) writeFileSync(EXPECTED, `${JSON.stringify(actual, null, 1)}\n`);
    const expected = JSON.parse(readFileSync(EXPECTED, 'utf8')) as Exchange[];
    expect(actual.map((e) => `${e.source}: ${e.label}`)).toEqual(expected.map((e) => `${e.source}: ${e.label}`));
    // Compared as JSON so that fields left undefined by the decoder match fields absent from the file.
    expect(JSON.parse(JSON.stringify(actual))).toEqual(expected);
  });

  it('reads every command as a well-formed command of a known instruction', () => {
    for (const e of actual) {
      if (!e.command) continue;
      expect(e.command.error, `${e.source}: ${e.label}`).toBeUndefined();
      expect(e.command.name, `${e.source}: ${e.label}`).not.toMatch(/^INS /);
    }
  });
});
