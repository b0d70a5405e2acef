/**
 * Viewer benchmark: 100 000 trace events through the server into headless Chromium. Prints a table; asserts
 * nothing (timings depend on the machine).   npx tsx bench/viewer.ts [--events N] [--chromium PATH]
 */
import { chromium, type Page } from 'playwright-core';
import type { TraceEvent } from '../trace/index.ts';
import { startViewer } from '../viewer/index.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const N = Number(arg('events', '100000'));
const CHROMIUM = arg('chromium', process.env.CHROMIUM_PATH ?? '/usr/bin/chromium');

/** A plausible mix: SP requests, decisions, MNO hops, and mostly APDU exchanges (some failing). */
function* events(n: number): Generator<TraceEvent> {
  const t0 = Date.now();
  const cmds = ['00A4040008A000000151000000', '80F24002024F0000', '80CA9F7F00', '80E60C001E05F05041590008F050415900000108F0504159000001010002C90000', '80E2900004DF010100'];
  let seq = 0;
  for (let k = 0; seq < n; k++) {
    const corr = { scenarioId: `tc-${Math.floor(k / 50)}`, scenario: `scenario ${Math.floor(k / 50)}`, step: `step ${k % 7}`, seId: 'se-1' };
    const time = t0 + seq * 0.2;
    const m = k % 10;
    if (m === 0) yield { seq: ++seq, time, corr, kind: 'sp.request', from: 'sp', to: 'tsm', operation: 'sendScript', body: { n: k } };
    else if (m === 1) yield { seq: ++seq, time, corr, kind: 'tsm.decision', from: 'tsm', to: 'tsm', decision: 'route', detail: 'MNO-A http-admin' };
    else if (m === 2) yield { seq: ++seq, time, corr, kind: 'mno.hop', from: 'tsm', to: 'mno', mno: 'MNO-A', bearer: 'http-admin', detail: 'script' };
    else {
      const apduId = `b${k}`;
      const hex = cmds[k % cmds.length];
      yield { seq: ++seq, time, corr, kind: 'apdu.command', from: 'mno', to: 'se', apduId, hex };
      const sw = k % 97 === 0 ? '6A84' : '9000';
      yield { seq: ++seq, time: time + 0.1, corr, kind: 'apdu.response', from: 'se', to: 'mno', apduId, hex: sw, sw, durationMs: 1 + (k % 13) };
    }
  }
}

type Stats = { received: number; shown: number; renders: number; lastRenderMs: number; maxRenderMs: number; maxOptionsMs: number; maxIngestMs: number; batches: number };
const stats = (page: Page) => page.evaluate(() => (window as unknown as { __viewer: { stats(): Stats } }).__viewer.stats());
const waitReceived = (page: Page, n: number) =>
  page.waitForFunction((k) => (window as unknown as { __viewer: { stats(): Stats } }).__viewer.stats().received >= k, n, { timeout: 300_000, polling: 50 });
/** Runs `action` in the page and returns the ms until the next two frames were painted. */
const timed = (page: Page, action: string) =>
  page.evaluate(async (code) => {
    const t0 = performance.now();
    new Function(code)();
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - t0;
  }, action);

async function main(): Promise<void> {
  const rows: [string, string][] = [];
  const all = [...events(N)];
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    // 1. Server ingest, then a page that opens on the whole backlog.
    const v1 = await startViewer({ source: { subscribe: () => () => undefined } });
    let t = performance.now();
    for (const e of all) v1.push(e);
    rows.push(['server ingest (store + rows)', `${(performance.now() - t).toFixed(0)} ms`]);
    const p1 = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    t = performance.now();
    await p1.goto(v1.url);
    await waitReceived(p1, all.length);
    rows.push([`page load with ${N.toLocaleString()} events backlog`, `${(performance.now() - t).toFixed(0)} ms`]);
    let s = await stats(p1);
    rows.push(['  renders / max frame (of which scenario list)', `${s.renders} / ${s.maxRenderMs.toFixed(1)} ms (${s.maxOptionsMs.toFixed(1)} ms)`]);
    rows.push(['  max batch ingest (5000 rows)', `${s.maxIngestMs.toFixed(1)} ms`]);
    rows.push(['filter "sw != 9000" (refilter + paint)', `${(await timed(p1, "window.__viewer.setFilter({ expr: 'sw != 9000' })")).toFixed(1)} ms`]);
    rows.push(['filter command "INSTALL"', `${(await timed(p1, "window.__viewer.setFilter({ command: 'INSTALL' })")).toFixed(1)} ms`]);
    rows.push(['clear filters', `${(await timed(p1, 'window.__viewer.setFilter({})')).toFixed(1)} ms`]);
    const scrollTimes: number[] = [];
    for (const frac of [0.1, 0.5, 0.9, 0.3]) {
      scrollTimes.push(await timed(p1, `const el = document.getElementById('list-scroll'); document.getElementById('follow').checked = false; el.scrollTop = el.scrollHeight * ${frac};`));
    }
    const frames = await p1.evaluate(() => {
      const v = (window as unknown as { __viewer: { renderNow(): number } }).__viewer;
      const el = document.getElementById('list-scroll')!;
      const out: number[] = [];
      for (let k = 0; k < 20; k++) {
        el.scrollTop = (el.scrollHeight * k) / 20;
        out.push(v.renderNow());
      }
      return out;
    });
    frames.sort((a, b) => a - b);
    rows.push(['render after a scroll (median / max of 20, script only)', `${frames[10].toFixed(1)} / ${frames[19].toFixed(1)} ms`]);
    rows.push(['scroll jump (avg of 4, paint)', `${(scrollTimes.reduce((a, b) => a + b, 0) / scrollTimes.length).toFixed(1)} ms`]);
    await p1.close();
    await v1.close();

    // 2. Live: the page is open while events stream in bursts.
    const v2 = await startViewer({ source: { subscribe: () => () => undefined } });
    const p2 = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    await p2.goto(v2.url);
    await p2.locator('#conn.live').waitFor();
    t = performance.now();
    const burst = 2000;
    for (let k = 0; k < all.length; k += burst) {
      for (const e of all.slice(k, k + burst)) v2.push(e);
      await new Promise((r) => setTimeout(r, 5));
    }
    const sent = performance.now() - t;
    await waitReceived(p2, all.length);
    const live = performance.now() - t;
    s = await stats(p2);
    rows.push([`live stream of ${N.toLocaleString()} events (bursts of ${burst})`, `${live.toFixed(0)} ms (server side ${sent.toFixed(0)} ms)`]);
    rows.push(['  batches / renders / max frame (of which scenario list)', `${s.batches} / ${s.renders} / ${s.maxRenderMs.toFixed(1)} ms (${s.maxOptionsMs.toFixed(1)} ms)`]);
    rows.push(['  max batch ingest', `${s.maxIngestMs.toFixed(1)} ms`]);
    rows.push(['  page heap', `${((await p2.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0)) / 1e6).toFixed(0)} MB`]);
    await p2.close();
    await v2.close();
  } finally {
    await browser.close();
  }
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(`\nviewer benchmark (${N.toLocaleString()} events)\n`);
  for (const [k, val] of rows) console.log(`${k.padEnd(w)}  ${val}`);
}

await main();
