/**
 * The viewer in Chromium on an SCP03 channel at level 33 (C-MAC, C-DECRYPTION, R-MAC, R-ENCRYPTION): a simulated
 * SE answers through the traced in-process driver while gp's host wraps. Two pages: one fed the bus (the harness
 * holds the keys: plain forms recorded), one fed the same events without their plain forms (what a party without
 * keys records). On both, PUT KEY, INSTALL [for personalization] and the GET STATUS response show their wire bytes
 * as ciphered data and MACs; only the first page shows what is inside.
 * No skip when Chromium is missing: the CI installs it, and a skipped browser test proves nothing.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessChannel, secureTransmit, traced } from '../drivers/index.ts';
import { encodeCommand, fromHex, getStatus, installForInstall, installForPersonalization, openSecureChannel, parseResponse, scp03PutKey, selectByAid } from '../gp/index.ts';
import { defaultSeSpec, DEFAULT_CENTRAL_SD_AID, DEFAULT_ISD_AID, DEFAULT_KEY, DEFAULT_KVN, SimulatedSe } from '../simulator/index.ts';
import { subscribe, type TraceEvent } from '../trace/index.ts';
import { startViewer, type Viewer } from './index.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const KEY = fromHex(DEFAULT_KEY);
const INSTANCE = 'F05041590000010199';

let withKeys: Viewer;
let withoutKeys: Viewer;
let browser: Browser;

/** The bus, with every APDU event's plain form removed: the trace of a party that holds no keys. */
const keyless = {
  subscribe(listener: (e: TraceEvent) => void) {
    return subscribe((e) => {
      if (e.kind !== 'apdu.command' && e.kind !== 'apdu.response') return listener(e);
      const { plainHex: _p, ...rest } = e;
      listener(rest as TraceEvent);
    });
  },
};

async function run(): Promise<void> {
  const se = new SimulatedSe(defaultSeSpec({ seId: 'se-sc-e2e' }));
  const channel = traced(new InProcessChannel(se), { from: 'mno', corr: { seId: 'se-sc-e2e', scenario: 'wrapped exchanges' } });
  expect(parseResponse(await channel.transmit(encodeCommand(selectByAid(fromHex(DEFAULT_ISD_AID))))).sw).toBe(0x9000);
  const sc = await openSecureChannel(secureTransmit(channel), { keys: { kvn: DEFAULT_KVN, scp: '03', enc: KEY, mac: KEY, dek: KEY }, level: 0x33, sdAid: fromHex(DEFAULT_ISD_AID) });
  for (const c of [
    getStatus({ subset: 'applications' }),
    installForInstall({ loadFileAid: fromHex('F0504159000001'), moduleAid: fromHex('F050415900000101'), aid: fromHex(INSTANCE) }),
    installForPersonalization(fromHex(INSTANCE)),
    scp03PutKey(KEY, DEFAULT_KVN, DEFAULT_KVN + 1, { enc: fromHex('11'.repeat(16)), mac: fromHex('22'.repeat(16)), dek: fromHex('33'.repeat(16)) }),
  ]) {
    expect((await sc.transmitSecure(c)).sw).toBe(0x9000);
  }
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's "chromium" package (or set CHROMIUM_PATH)`);
  withKeys = await startViewer({ source: 'bus', title: 'with keys' });
  withoutKeys = await startViewer({ source: keyless, title: 'without keys' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  await run();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await withKeys?.close();
  await withoutKeys?.close();
});

async function open(viewer: Viewer): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  await page.goto(viewer.url);
  await page.locator('#conn.live').waitFor({ timeout: 10_000 });
  await expect.poll(() => page.locator('#list-rows .row').count()).toBe(viewer.store.next);
  return page;
}

/** Filters the list by command name, opens the row showing `rowText`, and returns the wire sections' text and the plain ones'. */
async function exchange(page: Page, command: string, rowText: string): Promise<{ wire: string; plain: string }> {
  await page.fill('#f-command', command);
  const row = page.locator('#list-rows .row', { hasText: rowText });
  await expect.poll(() => row.count()).toBe(1);
  await row.click();
  const details = page.locator('#details');
  await expect.poll(() => details.innerText()).toContain('secure channel');
  const wire = (await details.locator(':scope > div:not(.plain)').allInnerTexts()).join('\n');
  const plain = (await details.locator(':scope > div.plain').allInnerTexts()).join('\n');
  return { wire, plain };
}

describe('the viewer on a secure channel', () => {
  it('labels ciphered data and MACs on the wire and decodes the plain forms the harness holds', async () => {
    const page = await open(withKeys);
    expect(await page.locator('#list-rows .sc:not(.sc-cipher)').count()).toBe(8);

    const putKey = await exchange(page, 'PUT KEY', 'SCPUT KEY');
    expect(putKey.wire).toMatch(/P1\s+30 key version 48/);
    expect(putKey.wire).toMatch(/ciphered data \(\d+ bytes\)/);
    expect(putKey.wire).toContain('C-MAC (8 bytes)');
    expect(putKey.wire).not.toContain('New key version number');
    expect(putKey.plain).toMatch(/New key version number\s+31/);

    const install = await exchange(page, 'INSTALL', 'INSTALL [for personalization]');
    expect(install.wire).toMatch(/ciphered data \(\d+ bytes\)/);
    expect(install.wire).not.toContain('(empty)');
    expect(install.plain).toContain(INSTANCE.match(/../g)!.join(' '));

    const status = await exchange(page, 'GET STATUS', '(GET STATUS)');
    expect(status.wire).toContain('R-MAC (8 bytes)');
    expect(status.wire).toMatch(/ciphered data \(\d+ bytes\)/);
    expect(status.wire).not.toMatch(/length field/);
    expect(status.wire).not.toContain('GlobalPlatform Registry');
    expect(status.plain).toContain('GlobalPlatform Registry');
    expect(status.plain).toContain(DEFAULT_CENTRAL_SD_AID);
    expect(await page.locator('#details .error').count()).toBe(0);
    await page.close();
  }, 60_000);

  it('without the keys, shows the same labels and never parses what is ciphered', async () => {
    const page = await open(withoutKeys);
    expect(await page.locator('#list-rows .sc.sc-cipher').count()).toBe(8);
    const putKey = await exchange(page, 'PUT KEY', 'SCPUT KEY');
    expect(putKey.plain).toBe('');
    expect(putKey.wire).toContain('C-MAC (8 bytes)');
    expect(putKey.wire).not.toContain('New key version number');
    const install = await exchange(page, 'INSTALL', 'INSTALL [for personalization]');
    expect(install.wire).not.toContain('(empty)');
    expect(install.wire).toMatch(/ciphered data \(\d+ bytes\)/);
    const status = await exchange(page, 'GET STATUS', '(GET STATUS)');
    expect(status.plain).toBe('');
    expect(status.wire).toContain('R-MAC (8 bytes)');
    expect(status.wire).not.toContain('GlobalPlatform Registry');
    expect(await page.locator('#details .error').count()).toBe(0);
    await page.close();
  }, 60_000);
});
