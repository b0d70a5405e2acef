/**
 * The viewer in a real browser (Debian chromium through playwright-core), fed live by the trace bus while a
 * simulated SE answers real APDUs through the traced in-process driver, with an SCP02 channel wrapping them.
 * No skip when Chromium is missing: the CI installs it, and a skipped browser test proves nothing.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessChannel, traced, type TracedChannel } from '../drivers/index.ts';
import { encodeCommand, fromHex, parseResponse, Scp02Host, toHex, type CommandApdu, type HostSecureChannel } from '../gp/index.ts';
import { defaultSeSpec, SimulatedSe } from '../simulator/index.ts';
import { emit, withCorrelation } from '../trace/index.ts';
import { startViewer, type Viewer } from './index.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const outDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'reports', 'out');
const SCP02_KEY = '404142434445464748494A4B4C4D4E4F';

let viewer: Viewer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's "chromium" package (or set CHROMIUM_PATH)`);
  viewer = await startViewer({ source: 'bus', title: 'tsmlab trace — e2e' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  await page.goto(viewer.url);
  await page.locator('#conn.live').waitFor({ timeout: 10_000 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await viewer?.close();
});

const received = () => page.evaluate(() => (window as unknown as { __viewer: { stats(): { received: number; shown: number } } }).__viewer.stats());

/** The FIG 3 style thread: SP request → central TSM decisions → MNO hop → SE over SCP02 → answers back. */
async function runThread(): Promise<{ events: number; failing: number }> {
  let failing = 0;
  const se = new SimulatedSe(defaultSeSpec({ seId: 'se-e2e', isdKeys: { kvn: 0x20, scp: '02', i: '55', enc: SCP02_KEY, mac: SCP02_KEY, dek: SCP02_KEY } }));
  const channel: TracedChannel = traced(new InProcessChannel(se), { from: 'mno', corr: { seId: 'se-e2e' } });
  const send = async (c: CommandApdu | Uint8Array) => parseResponse(await channel.transmit(c instanceof Uint8Array ? c : encodeCommand(c)));
  const sendWrapped = async (host: HostSecureChannel, c: CommandApdu) => {
    const wire = host.wrap(c);
    const raw = await channel.transmit(wire, { annotate: { plainHex: toHex(encodeCommand(c)), secureChannel: { scp: 'SCP02', level: 'C-DEC C-MAC' } } });
    return host.unwrap(raw);
  };
  await withCorrelation({ scenarioId: 'tcs-e2e-1', scenario: 'BankCo pre-personalizes its payment service', stepId: 'st-1', step: 'BankCo asks to pre-personalize "bankco-pay"', conversationId: 'conv-7' }, async () => {
    emit({ kind: 'scenario.start', from: 'harness', to: 'harness', name: 'BankCo pre-personalizes its payment service', tags: ['@REQ-PAT-FIG3'] });
    emit({ kind: 'step.start', from: 'harness', to: 'harness', text: 'BankCo asks to pre-personalize "bankco-pay"' });
    emit({ kind: 'sp.request', from: 'sp', to: 'tsm', operation: 'prePersonalize', requestId: 'r-1', body: { msi: { msisdn: '+33600000001', mno: 'MNO-A' }, serviceId: 'bankco-pay' } });
    emit({ kind: 'tsm.decision', from: 'tsm', to: 'tsm', decision: 'route', detail: 'se-e2e via MNO-A http-admin' });
    emit({ kind: 'tsm.decision', from: 'tsm', to: 'tsm', decision: 'eligibility', detail: 'free memory 60 KiB ≥ 6 KiB' });
    emit({ kind: 'mno.hop', from: 'tsm', to: 'mno', mno: 'MNO-A', bearer: 'http-admin', detail: 'script of 5 commands' });
    await send({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: fromHex('A000000151000000'), le: 256 });
    const host = new Scp02Host({ keys: { enc: fromHex(SCP02_KEY), mac: fromHex(SCP02_KEY), dek: fromHex(SCP02_KEY) }, level: 0x03, i: 0x55 });
    const iu = await send(host.initializeUpdate(0, fromHex('A1A2A3A4A5A6A7A8')));
    expect(iu.sw).toBe(0x9000);
    host.onInitializeUpdateResponse(iu.data);
    const ea = await send(host.externalAuthenticate());
    expect(ea.sw).toBe(0x9000);
    const status = await sendWrapped(host, { cla: 0x80, ins: 0xf2, p1: 0x40, p2: 0x02, data: fromHex('4F00'), le: 256 });
    expect([0x9000, 0x6310]).toContain(status.sw);
    const cplc = await sendWrapped(host, { cla: 0x80, ins: 0xca, p1: 0x9f, p2: 0x7f, le: 256 });
    expect(cplc.sw).toBe(0x9000);
    const missing = await send({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: fromHex('A0000000FFFF01'), le: 256 });
    expect(missing.sw).not.toBe(0x9000);
    failing++;
    emit({ kind: 'mno.hop', from: 'mno', to: 'tsm', mno: 'MNO-A', bearer: 'http-admin', detail: '5 responses' });
    emit({ kind: 'sp.response', from: 'tsm', to: 'sp', operation: 'prePersonalize', requestId: 'r-1', status: 'Executed-Success', body: {}, durationMs: 12.5 });
    emit({ kind: 'step.end', from: 'harness', to: 'harness', text: 'BankCo asks to pre-personalize "bankco-pay"', status: 'PASSED' });
  });
  // Everything the bus carried reached the viewer's store; the page must end up with the same count.
  return { events: viewer.store.next, failing };
}

describe('live trace viewer in Chromium', () => {
  it('shows events arriving live, filters them, and decodes an APDU under the secure channel', async () => {
    expect((await received()).received).toBe(0);
    const { events, failing } = await runThread();
    expect(events).toBeGreaterThan(15);
    await page.waitForFunction((n) => (window as unknown as { __viewer: { stats(): { received: number } } }).__viewer.stats().received === n, events, { timeout: 10_000 });
    const list = page.locator('#list-rows');
    await expect.poll(() => list.locator('.row').count()).toBe(events);
    expect(await list.innerText()).toContain('prePersonalize: Executed-Success');
    expect(await list.innerText()).toContain('GET STATUS applications and Security Domains');
    // The diagram drew the lanes' arrows, including the SP → central TSM request.
    expect(await page.locator('#diagram text', { hasText: 'prePersonalize' }).count()).toBeGreaterThanOrEqual(1);
    await expect.poll(() => page.locator('#f-scenario option').count()).toBe(2);

    // Status filter: only the failing exchange remains.
    await page.fill('#f-expr', 'sw != 9000');
    await expect.poll(async () => (await received()).shown).toBe(failing);
    const rows = await list.locator('.row .c-sw').allInnerTexts();
    expect(rows).toHaveLength(failing);
    expect(rows.every((sw) => sw !== '9000' && /^[0-9A-F]{4}$/.test(sw))).toBe(true);
    expect(await list.innerText()).toContain('(SELECT)');

    // A malformed expression says what is wrong and keeps the last good filter.
    await page.fill('#f-expr', 'sw !=');
    await expect.poll(() => page.locator('#f-error').innerText()).toContain('expected a value after "sw !="');
    await page.fill('#f-expr', '');

    // Command filter, then open the wrapped GET STATUS and read its decoding.
    await page.fill('#f-command', 'GET STATUS');
    await expect.poll(async () => (await received()).shown).toBe(2);
    await list.locator('.row', { hasText: 'GET STATUS' }).first().click();
    const details = page.locator('#details');
    await expect.poll(() => details.innerText()).toContain('Plain command under the secure channel');
    const text = await details.innerText();
    expect(text).toContain('Command (on the wire, wrapped)');
    expect(text).toMatch(/P1\s+40 applications and Security Domains/);
    expect(text).toContain('GlobalPlatform Registry');
    expect(text).toContain('F043454E5452414C2E5344'); // the central SD, listed by the card
    expect(text).toContain('security-domain');
    expect(text).toMatch(/SCP02 C-DEC C-MAC/);
    expect(await details.locator('.swbadge.normal').count()).toBeGreaterThanOrEqual(1);

    // The CPLC read: decoded field by field.
    await page.fill('#f-command', 'GET DATA');
    await expect.poll(() => list.innerText()).toContain('GET DATA 9F7F');
    await list.locator('.row', { hasText: '9000' }).first().click();
    await expect.poll(() => details.innerText()).toContain('IC fabricator');
    expect(await details.innerText()).toContain('Card production life cycle data (CPLC)');

    // Back to everything, select the SP request for the screenshot.
    await page.fill('#f-command', '');
    await expect.poll(async () => (await received()).shown).toBe(events);
    await list.locator('.row', { hasText: 'GET STATUS applications' }).first().click();
    await expect.poll(() => details.innerText()).toContain('GlobalPlatform Registry');
    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: path.join(outDir, 'viewer-e2e.png') });
    expect(existsSync(path.join(outDir, 'viewer-e2e.png'))).toBe(true);
  }, 60_000);
});
