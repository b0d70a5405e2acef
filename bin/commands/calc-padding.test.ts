/**
 * `tsmlab calc scp03 --response` on a card's R-ENCRYPTION answer padded over two blocks (11 bytes of data,
 * '80', twenty '00'), the transcript a real card produced. The transcript comes from the toolkit's own card
 * side (Scp03Card told to pad that far) and host side, so the calculator sees exactly what a trace holds.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  aesCbcEncrypt,
  type CommandApdu,
  concat,
  encodeCommand,
  encodeResponse,
  fromHex,
  parseCommand,
  Scp03Card,
  Scp03Host,
  scp03ResponseIcv,
  scp03ResponseMac,
  toHex,
} from '../../gp/index.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));

function tsmlab(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin/tsmlab.js'), ...args], { cwd: repo, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const h = fromHex;
const KEYS = { enc: h('404142434445464748494A4B4C4D4E4F'), mac: h('505152535455565758595A5B5C5D5E5F'), dek: h('606162636465666768696A6B6C6D6E6F') };
const ELEVEN = h('BF3E085A06898821199000');
const GET_DATA: CommandApdu = { cla: 0x80, ins: 0xca, p1: 0x00, p2: 0x66, le: 256 };

/** One session at level 33: INITIALIZE UPDATE response, the plain command, and the card's wrapped answer. */
function transcript(i: number, answer: (card: Scp03Card, host: Scp03Host, wire: Uint8Array) => Uint8Array) {
  const card = new Scp03Card({
    findKeySet: () => ({ kvn: 0x30, keys: KEYS, sequenceCounter: 4 }),
    kdd: h('00010203040506070809'),
    aid: h('A000000151000000'),
    i,
    responsePaddingBlocks: 2,
  });
  const host = new Scp03Host({ keys: KEYS, level: 0x33 });
  const hostChallenge = new Uint8Array(i & 0x01 ? 16 : 8).fill(0x5a);
  const iu = card.handleInitializeUpdate(parseCommand(encodeCommand(host.initializeUpdate(0x30, hostChallenge))));
  host.onInitializeUpdateResponse(iu.data);
  expect(card.handleExternalAuthenticate(parseCommand(encodeCommand(host.externalAuthenticate()))).sw).toBe(0x9000);
  const wire = host.wrap(GET_DATA);
  expect(card.unwrapCommand(parseCommand(wire)).ok).toBe(true);
  const args = [
    ...['--enc', toHex(KEYS.enc), '--mac', toHex(KEYS.mac), '--level', '33'],
    ...['--host-challenge', toHex(hostChallenge), '--init-update-response', toHex(iu.data)],
    ...['--apdu', toHex(encodeCommand(GET_DATA)), '--response', toHex(answer(card, host, wire))],
  ];
  return args;
}

describe('tsmlab calc scp03 --response with padding over two blocks', () => {
  it('gives the 11 plain bytes and exit 0', () => {
    const args = transcript(0x70, (card) => {
      const r = encodeResponse(card.wrapResponse({ data: ELEVEN, sw: 0x9000 }));
      expect(r.length).toBe(32 + 8 + 2);
      return r;
    });
    const out = tsmlab('calc', 'scp03', ...args, '--json');
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout).unwrapped).toEqual([toHex(ELEVEN) + '9000']);
    const text = tsmlab('calc', 'scp03', ...args);
    expect(text.stdout).toMatch(new RegExp(`^unwrapped #1 +${toHex(ELEVEN)}9000$`, 'm'));
  });

  it("refuses a '01' after the '80' with the reason on stderr, exit 1", () => {
    // S16: the whole C-MAC (the MCV) is on the wire, so the test can give the answer a valid R-MAC.
    const args = transcript(0x71, (_card, host, wire) => {
      const plain = concat(ELEVEN, h('80'), new Uint8Array(20));
      plain[30] = 0x01;
      const senc = host.sessionKeys.senc;
      const cipher = aesCbcEncrypt(senc, scp03ResponseIcv(senc, 1), plain);
      const mcv = wire.subarray(wire.length - 17, wire.length - 1);
      return concat(cipher, scp03ResponseMac(host.sessionKeys.srmac, mcv, cipher, 0x9000, 16), h('9000'));
    });
    const out = tsmlab('calc', 'scp03', ...args, '--json');
    expect(out.code).toBe(1);
    expect(JSON.parse(out.stdout).unwrapped).toEqual([null]);
    expect(out.stderr).toMatch(/--response \(#1\): R-ENCRYPTION: 32 bytes .*'01' at offset 30 before 1 trailing '00': padding is '80' followed only by '00'/);
    expect(tsmlab('calc', 'scp03', ...args).stdout).toContain('unwrapped #1           does not verify (reason on stderr)');
  });
});
