import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketChannel } from '../../drivers/index.ts';
import { DriverError } from '../../drivers/channel.ts';
import { fromHex, toHex } from '../../gp/index.ts';
import { defaultFleet } from '../../profiles/fleet.ts';

const bin = fileURLToPath(new URL('../tsmlab.js', import.meta.url));

interface Sim {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  exit: Promise<number | null>;
}

function sim(...args: string[]): Sim {
  const child = spawn(process.execPath, [bin, 'sim', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const parts = out.split('\n');
    out = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, lines, stderr: () => err, exit };
}

async function ready(s: Sim): Promise<string[]> {
  const stopped = s.exit.then((code) => {
    throw new Error(`tsmlab sim exited ${code} before "ready": ${s.stderr()}`);
  });
  const seen = new Promise<void>((resolve) => {
    const check = () => (s.lines.includes('ready') ? resolve() : setTimeout(check, 20));
    check();
  });
  await Promise.race([seen, stopped]);
  return s.lines.slice(0, s.lines.indexOf('ready'));
}

describe('tsmlab sim', () => {
  const running: ChildProcess[] = [];
  afterEach(() => {
    for (const c of running.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  });

  it('serves the built-in fleet on the port it reports, then stops cleanly on SIGTERM', async () => {
    const s = sim('--port', '0');
    running.push(s.child);
    const rows = await ready(s);
    const fleet = defaultFleet();
    expect(rows).toHaveLength(fleet.ses.length);
    const urls = rows.map((row, i) => {
      const [seId, type, mno, url] = row.trim().split(/\s+/);
      expect([seId, type, mno]).toEqual([fleet.ses[i].seId, fleet.ses[i].type, fleet.ses[i].mno]);
      expect(url).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:[1-9]\\d*/se/${fleet.ses[i].seId}$`));
      return url;
    });

    const ch = await WebSocketChannel.connect(urls[0]);
    const isd = fleet.ses[0].card.isd.aid;
    const select = fromHex(`00A40400${(isd.length / 2).toString(16).padStart(2, '0')}${isd}00`);
    const r = toHex(await ch.transmit(select));
    expect(r.startsWith('6F')).toBe(true);
    expect(r.endsWith('9000')).toBe(true);
    const listing = (await (await fetch(urls[0].replace(/^ws/, 'http').replace(/\/se\/.*$/, '/se'))).json()) as {
      ses: { seId: string; type: string; mno: string }[];
    };
    expect(listing.ses.map((e) => `${e.seId} ${e.type} ${e.mno}`)).toEqual(fleet.ses.map((e) => `${e.seId} ${e.type} ${e.mno}`));

    s.child.kill('SIGTERM');
    expect(await s.exit).toBe(0);
    const e = await ch.transmit(select).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DriverError);
    expect((e as DriverError).kind).toBe('closed');
  });

  it('serves the SEs of --fleet FILE', async () => {
    const fleet = defaultFleet();
    fleet.ses = fleet.ses.slice(0, 1);
    fleet.ses[0].seId = 'lab-card';
    const dir = mkdtempSync(path.join(tmpdir(), 'tsmlab-sim-'));
    const file = path.join(dir, 'fleet.json');
    writeFileSync(file, JSON.stringify(fleet));
    const s = sim('--port', '0', '--fleet', file);
    running.push(s.child);
    const rows = await ready(s);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/^lab-card\s+eSE\s+MNO-A\s+ws:\/\/127\.0\.0\.1:\d+\/se\/lab-card$/);
    s.child.kill('SIGINT');
    expect(await s.exit).toBe(0);
  });

  it('refuses a broken fleet file with one line naming the JSON path, exit 2', async () => {
    const fleet = defaultFleet() as unknown as { ses: { type: string }[] };
    fleet.ses[0].type = 'SIM-card';
    const dir = mkdtempSync(path.join(tmpdir(), 'tsmlab-sim-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(fleet));
    const s = sim('--port', '0', '--fleet', file);
    expect(await s.exit).toBe(2);
    expect(s.stderr()).toMatch(/\/ses\/0\/type/);
    expect(s.lines).not.toContain('ready');
  });

  it('refuses a bad port with exit 2', async () => {
    const s = sim('--port', 'seventy');
    expect(await s.exit).toBe(2);
    expect(s.stderr()).toMatch(/--port must be a port number/);
  });

  it('--vpcd HOST:PORT attaches the SE to that vpcd slot: a vpcd stand-in reads its ATR', async () => {
    // Plays vpcd's side of the wire: accept the card, ask for its ATR (control 04), read the framed answer.
    const atrs = new Map<number, string>();
    const servers = await Promise.all(
      [0].map(async () => {
        const srv = createServer((sock) => {
          sock.write(Uint8Array.of(0, 1, 0x04));
          sock.once('data', (d: Buffer) => atrs.set((srv.address() as AddressInfo).port, toHex(d.subarray(2, 2 + d.readUInt16BE(0)))));
        });
        await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
        return srv;
      }),
    );
    try {
      const port = (servers[0].address() as AddressInfo).port;
      const fleet = defaultFleet();
      fleet.ses = fleet.ses.slice(0, 1);
      const dir = mkdtempSync(path.join(tmpdir(), 'tsmlab-sim-'));
      const file = path.join(dir, 'fleet.json');
      writeFileSync(file, JSON.stringify(fleet));
      const s = sim('--port', '0', '--fleet', file, '--vpcd', `127.0.0.1:${port}`);
      running.push(s.child);
      await ready(s);
      while (!atrs.has(port)) await new Promise((r) => setTimeout(r, 20));
      const ch = await WebSocketChannel.connect(s.lines[0].trim().split(/\s+/)[3]);
      expect(atrs.get(port)).toBe(toHex(await ch.atr()));
      await ch.close();
      s.child.kill('SIGTERM');
      expect(await s.exit).toBe(0);
      expect(s.stderr()).toMatch(new RegExp(`vpcd ${fleet.ses[0].seId} 127\\.0\\.0\\.1:${port} inserted`));
    } finally {
      for (const srv of servers) srv.close();
    }
  });
});
