// The viewer page: receives compact rows over a WebSocket, keeps them in arrays, and draws only what is on
// screen (list rows and the matching slice of the sequence diagram) once per animation frame.
import { compileFilter, FilterError } from './filter.js';

const ROW_H = 22;
const OVERSCAN = 6;
const LANES = ['harness', 'sp', 'tsm', 'mno', 'se'];
const LANE_NAMES = { harness: 'steps', sp: 'SP TSM', tsm: 'central TSM', mno: 'MNO', se: 'SE' };
const LANE_SHORT = { harness: 'steps', sp: 'SP', tsm: 'TSM', mno: 'MNO', se: 'SE' };

const $ = (id) => document.getElementById(id);
const els = {
  title: $('title'), conn: $('conn'), counts: $('counts'), scenario: $('f-scenario'), lanes: $('f-lanes'),
  command: $('f-command'), expr: $('f-expr'), error: $('f-error'), follow: $('follow'),
  scroll: $('list-scroll'), spacer: $('list-spacer'), rows: $('list-rows'), svg: $('diagram'), view: $('diagram-view'), details: $('details'),
};

/** Every row received, and the indices (into `all`) of the rows that pass the filter. */
let all = [];
let shown = [];
let filter = () => true;
let selected = -1; // store index (row.i) of the selected event
const scenarios = new Map();
let scenarioOptionsDirty = false;
let dirty = false;
const stats = { received: 0, renders: 0, lastRenderMs: 0, maxRenderMs: 0, maxOptionsMs: 0, maxIngestMs: 0, batches: 0 };

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const pad = (n, w = 2) => String(n).padStart(w, '0');
const clock = (t) => {
  const d = new Date(t);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
};

function schedule() {
  if (dirty) return;
  dirty = true;
  requestAnimationFrame(render);
}

// ---------------------------------------------------------------- data in

function addRows(rows) {
  const t0 = performance.now();
  stats.batches++;
  const start = all.length;
  for (const r of rows) {
    all.push(r);
    if (r.sc && !scenarios.has(r.sc)) {
      scenarios.set(r.sc, r.scn ?? r.sc);
      scenarioOptionsDirty = true;
    }
  }
  stats.received = all.length;
  for (let k = start; k < all.length; k++) if (filter(all[k])) shown.push(k);
  stats.maxIngestMs = Math.max(stats.maxIngestMs, performance.now() - t0);
  schedule();
}

function refilter() {
  shown = [];
  for (let k = 0; k < all.length; k++) if (filter(all[k])) shown.push(k);
  schedule();
}

function readFilters() {
  const lanes = [...els.lanes.querySelectorAll('input[data-lane]')].filter((c) => c.checked).map((c) => c.dataset.lane);
  try {
    filter = compileFilter({ scenario: els.scenario.value, lanes: lanes.length === LANES.length ? undefined : lanes, command: els.command.value, expr: els.expr.value });
    els.error.textContent = '';
    els.expr.removeAttribute('aria-invalid');
  } catch (e) {
    if (!(e instanceof FilterError)) throw e;
    els.error.textContent = e.message;
    els.expr.setAttribute('aria-invalid', 'true');
    return;
  }
  refilter();
}

let filterTimer;
for (const el of [els.command, els.expr]) el.addEventListener('input', () => { clearTimeout(filterTimer); filterTimer = setTimeout(readFilters, 120); });
els.scenario.addEventListener('change', readFilters);
els.lanes.addEventListener('change', readFilters);

function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  ws.onopen = () => { els.conn.textContent = 'live'; els.conn.className = 'conn live'; };
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.type === 'hello') {
      // A (re)connection resends the whole backlog.
      all = []; shown = []; scenarios.clear(); scenarioOptionsDirty = true; optionsShown = Infinity;
      document.title = els.title.textContent = msg.title;
    } else if (msg.type === 'rows') addRows(msg.rows);
  };
  ws.onclose = () => {
    els.conn.textContent = 'disconnected — retrying'; els.conn.className = 'conn down';
    setTimeout(connect, 1000);
  };
}

// ---------------------------------------------------------------- rendering

let optionsShown = 0;
function updateScenarioOptions() {
  if (!scenarioOptionsDirty) return;
  scenarioOptionsDirty = false;
  if (scenarios.size < optionsShown) {
    // A reconnection cleared the list: start over.
    els.scenario.innerHTML = '<option value="">all scenarios</option>';
    optionsShown = 0;
  }
  // Only the new scenario attempts are appended: rebuilding a long <select> would cost a frame.
  const html = [];
  let n = 0;
  for (const [id, name] of scenarios) {
    if (++n <= optionsShown) continue;
    html.push(`<option value="${esc(id)}">${n}. ${esc(name)}</option>`);
  }
  optionsShown = n;
  if (html.length) els.scenario.insertAdjacentHTML('beforeend', html.join(''));
}

function laneClass(r) {
  if (r.k === 'apdu.response') return `sw-${r.swc ?? 'unknown'}`;
  if (r.k.startsWith('sp.')) return 'k-sp';
  if (r.k === 'mno.hop') return 'k-mno';
  if (r.k === 'tsm.decision') return 'k-tsm';
  return 'k-se';
}

function listRow(r, k, prev) {
  const delta = prev ? (r.t - prev.t).toFixed(1) : '';
  const isHarness = r.from === 'harness' && r.to === 'harness';
  const cls = `row${isHarness ? ' harness' : ''}${r.k === 'scenario.start' ? ' k-scenario' : ''}${r.i === selected ? ' selected' : ''}`;
  const sw = r.sw ? `<span class="c-sw sw-${esc(r.swc)}">${esc(r.sw)}</span>` : '<span class="c-sw"></span>';
  const card = r.k === 'apdu.response' && r.dur !== undefined ? r.dur.toFixed(2) : '';
  return `<div class="${cls}" data-i="${r.i}" data-k="${k}"><span class="c-n">${r.seq}</span><span class="c-time">${clock(r.t)}</span><span class="c-delta">${delta}</span><span class="c-lane">${esc(LANE_SHORT[r.from] ?? r.from)}→${esc(LANE_SHORT[r.to] ?? r.to)}</span><span class="c-msg" title="${esc(r.label)}">${r.scp ? `<span class="sc${r.plain ? '' : ' sc-cipher'}" title="${esc(r.scp)}; ${r.plain ? 'plain form known' : 'no keys held: protected bytes are labelled, not decoded'}">SC</span>` : ''}${esc(r.label)}</span>${sw}<span class="c-card">${card}</span></div>`;
}

function laneX(width) {
  // Grid of the lane heads: 0.55fr 1fr 1fr 1fr 1fr with 6px gaps and 6px padding.
  const inner = width - 12 - 4 * 6;
  const unit = inner / 4.55;
  const xs = {};
  let x = 6;
  LANES.forEach((l, idx) => {
    const w = idx === 0 ? unit * 0.55 : unit;
    xs[l] = x + w / 2;
    x += w + 6;
  });
  return xs;
}

function diagram(first, last, offset) {
  const w = els.view.clientWidth;
  const h = els.view.clientHeight;
  const xs = laneX(w);
  const parts = [];
  for (const l of LANES) parts.push(`<line class="life" x1="${xs[l]}" y1="0" x2="${xs[l]}" y2="${h}"/>`);
  for (let n = first; n < last; n++) {
    const r = all[shown[n]];
    const y = n * ROW_H - offset;
    const mid = y + ROW_H / 2;
    if (r.i === selected) parts.push(`<rect class="sel" x="0" y="${y}" width="${w}" height="${ROW_H}"/>`);
    const fromX = xs[r.from] ?? xs.harness;
    const toX = xs[r.to] ?? xs.harness;
    const label = esc(r.label.length > 46 ? `${r.label.slice(0, 45)}…` : r.label);
    const cls = laneClass(r);
    const tcls = cls.replace(/^sw-/, 'tsw-').replace(/^k-/, 't-');
    if (r.from === 'harness' && r.to === 'harness') {
      parts.push(`<rect class="band" x="2" y="${y + 2}" width="${w - 4}" height="${ROW_H - 4}" rx="3"/><text class="band-text" x="8" y="${mid + 3.5}">${label}</text>`);
    } else if (r.from === r.to) {
      parts.push(`<rect class="box" x="${fromX - 5}" y="${y + 4}" width="10" height="${ROW_H - 8}"/><text class="${tcls}" x="${fromX + 9}" y="${mid + 3.5}">${label}</text>`);
    } else {
      const dir = toX > fromX ? 1 : -1;
      const tip = toX - dir * 1;
      parts.push(`<path class="arrow ${cls}" d="M${fromX},${mid} L${tip},${mid} M${tip - dir * 6},${mid - 3.5} L${tip},${mid} L${tip - dir * 6},${mid + 3.5}"/>`);
      const tx = Math.min(fromX, toX) + 4;
      parts.push(`<text class="${tcls}" x="${tx}" y="${mid - 3}">${label}</text>`);
    }
  }
  els.svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  els.svg.innerHTML = parts.join('');
}

function render() {
  dirty = false;
  const t0 = performance.now();
  updateScenarioOptions();
  stats.maxOptionsMs = Math.max(stats.maxOptionsMs, performance.now() - t0);
  els.spacer.style.height = `${shown.length * ROW_H}px`;
  if (els.follow.checked) els.scroll.scrollTop = els.scroll.scrollHeight;
  const top = els.scroll.scrollTop;
  const height = els.scroll.clientHeight;
  const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
  const last = Math.min(shown.length, Math.ceil((top + height) / ROW_H) + OVERSCAN);
  const html = [];
  for (let n = first; n < last; n++) html.push(listRow(all[shown[n]], n, n > 0 ? all[shown[n - 1]] : undefined));
  els.rows.style.transform = `translateY(${first * ROW_H}px)`;
  els.rows.innerHTML = html.join('');
  // The diagram shows exactly the rows in view (no overscan): same row height, same scroll offset.
  const dFirst = Math.floor(top / ROW_H);
  const dLast = Math.min(shown.length, Math.ceil((top + height) / ROW_H));
  diagram(dFirst, dLast, top);
  els.counts.textContent = `${shown.length.toLocaleString()} shown of ${all.length.toLocaleString()} events · ${scenarios.size} scenario attempts`;
  stats.renders++;
  stats.lastRenderMs = performance.now() - t0;
  stats.maxRenderMs = Math.max(stats.maxRenderMs, stats.lastRenderMs);
}

els.scroll.addEventListener('scroll', () => {
  // Scrolling up by hand stops following; scrolling back to the bottom resumes it.
  const atBottom = els.scroll.scrollTop + els.scroll.clientHeight >= els.scroll.scrollHeight - ROW_H;
  if (els.follow.checked !== atBottom) els.follow.checked = atBottom;
  schedule();
});
els.view.addEventListener('wheel', (e) => { els.scroll.scrollTop += e.deltaY; e.preventDefault(); }, { passive: false });
window.addEventListener('resize', schedule);
els.follow.addEventListener('change', schedule);

// ---------------------------------------------------------------- selection and details

els.rows.addEventListener('click', (e) => {
  const rowEl = e.target.closest('.row');
  if (rowEl) select(Number(rowEl.dataset.i));
});
els.svg.addEventListener('click', (e) => {
  const n = Math.floor((e.offsetY + els.scroll.scrollTop) / ROW_H);
  if (n >= 0 && n < shown.length) select(all[shown[n]].i);
});
els.scroll.addEventListener('keydown', (e) => {
  if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
  const pos = shown.findIndex((k) => all[k].i === selected);
  const next = Math.max(0, Math.min(shown.length - 1, pos + (e.key === 'ArrowDown' ? 1 : -1)));
  if (shown[next] !== undefined) {
    select(all[shown[next]].i);
    const y = next * ROW_H;
    if (y < els.scroll.scrollTop || y > els.scroll.scrollTop + els.scroll.clientHeight - ROW_H) els.scroll.scrollTop = y - els.scroll.clientHeight / 2;
  }
  e.preventDefault();
});

let detailSeq = 0;
async function select(i) {
  selected = i;
  schedule();
  const mine = ++detailSeq;
  els.details.innerHTML = '<p class="hint">loading…</p>';
  const res = await fetch(`api/event/${i}`);
  if (mine !== detailSeq) return;
  if (!res.ok) {
    els.details.innerHTML = `<p class="error">${esc((await res.json()).error)}</p>`;
    return;
  }
  els.details.innerHTML = renderDetail(await res.json());
  els.details.querySelectorAll('a.pair').forEach((a) => a.addEventListener('click', () => select(Number(a.dataset.i))));
}

const spaced = (hex) => esc((hex ?? '').replace(/(..)/g, '$1 ').trim());

function kv(rows) {
  return `<table>${rows.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('')}</table>`;
}

function tlvTree(nodes) {
  if (!nodes?.length) return '';
  return `<ul class="tlv">${nodes
    .map((n) => `<li><span class="tag">${esc(n.tag)}</span> <span class="name">${esc(n.name ?? '')}</span> <span class="muted">(${n.length})</span>${n.value !== undefined && n.value !== '' ? ` <span class="hex">${spaced(n.value)}</span>` : ''}${n.note ? ` <span class="note">${esc(n.note)}</span>` : ''}${tlvTree(n.children)}</li>`)
    .join('')}</ul>`;
}

function fields(list) {
  if (!list?.length) return '';
  return `<table>${list.map((f) => `<tr><th>${esc(f.label)}</th><td><span class="hex">${spaced(f.hex)}</span>${f.note ? ` <span class="note">${esc(f.note)}</span>` : ''}</td></tr>`).join('')}</table>`;
}

function command(c, heading, extraClass = '') {
  if (!c) return '';
  return `<div class="${extraClass}"><h3>${esc(heading)}</h3>
<p class="hex">${spaced(c.hex)}</p>
${c.error ? `<p class="error">${esc(c.error)}</p>` : ''}
${kv([
    ['command', `<strong class="cmd-name">${esc(c.name)}</strong>`],
    ['CLA', c.cla ? `<span class="hex">${esc(c.cla)}</span> ${esc(c.claInfo)}` : undefined],
    ['INS', c.ins ? `<span class="hex">${esc(c.ins)}</span>` : undefined],
    ['P1', c.p1 ? `<span class="hex">${esc(c.p1)}</span> ${esc(c.p1Meaning ?? '')}` : undefined],
    ['P2', c.p2 ? `<span class="hex">${esc(c.p2)}</span> ${esc(c.p2Meaning ?? '')}` : undefined],
    ['Lc', c.lc !== undefined ? String(c.lc) : undefined],
    ['Le', c.le !== undefined ? String(c.le) : undefined],
    ['case', c.ins ? `${c.case}${c.extended ? ' (extended length)' : ''}` : undefined],
    ['secure channel', c.protection ? esc(c.protection) : undefined],
  ])}
${fields(c.fields)}${tlvTree(c.tlv)}</div>`;
}

function registry(entries) {
  if (!entries?.length) return '';
  return `<h3>GlobalPlatform Registry</h3><table><tr><th>AID</th><th>kind</th><th>life cycle</th><th>privileges</th></tr>${entries
    .map((e) => `<tr><td class="hex">${esc(e.aid)}${e.loadFileAid ? `<div class="muted">ELF ${esc(e.loadFileAid)}</div>` : ''}</td><td>${esc(e.kind)}</td><td>${esc(e.lifeCycle ?? '')} <span class="muted">${esc(e.lifeCycleByte ?? '')}</span></td><td>${esc((e.privileges ?? []).join(', '))}${e.privilegesHex ? ` <span class="muted">${esc(e.privilegesHex)}</span>` : ''}</td></tr>`)
    .join('')}</table>`;
}

function cplc(list) {
  if (!list?.length) return '';
  return `<h3>CPLC</h3><table>${list.map((f) => `<tr><th>${esc(f.name)}</th><td><span class="hex">${esc(f.hex)}</span> <span class="muted">${esc(f.note ?? '')}</span></td></tr>`).join('')}</table>`;
}

function response(r, heading, extraClass = '') {
  if (!r) return '';
  return `<div class="${extraClass}"><h3>${esc(heading)}</h3>
<p><span class="swbadge ${esc(r.swClass)}">${esc(r.sw)}</span> <span class="sw-meaning">${esc(r.swMeaning)}</span></p>
${r.data ? `<p class="hex">${spaced(r.data)}</p>` : ''}
${r.protection ? `<p class="muted">secure channel: ${esc(r.protection)}</p>` : ''}
${r.error ? `<p class="error">${esc(r.error)}</p>` : ''}
${r.protection ? `<p class="muted">${esc(r.protection)}</p>` : ''}
${fields(r.fields)}${registry(r.registry)}${cplc(r.cplc)}${r.registry ? '' : tlvTree(r.tlv)}</div>`;
}

function renderDetail(d) {
  const e = d.event;
  const c = e.corr ?? {};
  const head = `<h2>${esc(e.kind)} <span class="muted">${esc(LANE_NAMES[e.from] ?? e.from)} → ${esc(LANE_NAMES[e.to] ?? e.to)}</span></h2>
${kv([
    ['time', `${clock(e.time)} <span class="muted">#${e.seq}</span>`],
    ['scenario', c.scenario ? esc(c.scenario) : c.scenarioId ? esc(c.scenarioId) : undefined],
    ['step', c.step ? esc(c.step) : undefined],
    ['conversation', c.conversationId ? esc(c.conversationId) : undefined],
    ['SE', c.seId ? esc(c.seId) : undefined],
    ['APDU id', e.apduId ? `${esc(e.apduId)}${d.pairIndex !== undefined ? ` · <a class="pair" data-i="${d.pairIndex}">${e.kind === 'apdu.command' ? 'go to response' : 'go to command'}</a>` : ''}` : undefined],
    ['secure channel', e.secureChannel ? esc(`${e.secureChannel.scp} ${e.secureChannel.level}`) : undefined],
    ['card time', e.kind === 'apdu.response' ? `${e.durationMs.toFixed(3)} ms` : undefined],
    ['round trip', e.kind === 'sp.response' ? `${e.durationMs.toFixed(1)} ms` : undefined],
  ])}`;
  if (e.kind === 'apdu.command' || e.kind === 'apdu.response') {
    return `${head}
${command(d.command, d.plainCommand ? 'Command (on the wire, wrapped)' : d.command?.protection ? 'Command (on the wire, wrapped; no plain form: keys not held)' : 'Command')}
${command(d.plainCommand, 'Plain command under the secure channel', 'plain')}
${response(d.response, d.plainResponse ? 'Response (on the wire)' : d.response?.protection ? 'Response (on the wire; no plain form)' : 'Response')}
${response(d.plainResponse, 'Plain response under the secure channel', 'plain')}
${d.response ? '' : '<p class="muted">No response (yet).</p>'}`;
  }
  const body = e.body !== undefined ? `<h3>body</h3><pre>${esc(JSON.stringify(e.body, null, 2))}</pre>` : '';
  const { seq, time, corr, kind, from, to, body: _b, ...rest } = e;
  return `${head}${Object.keys(rest).length ? `<h3>fields</h3><pre>${esc(JSON.stringify(rest, null, 2))}</pre>` : ''}${body}`;
}

// Handles for tests and the benchmark.
window.__viewer = {
  stats: () => ({ ...stats, shown: shown.length, scenarios: scenarios.size }),
  select,
  /** Renders synchronously and returns the time it took (benchmark). */
  renderNow: () => { render(); return stats.lastRenderMs; },
  setFilter: ({ command = '', expr = '', scenario = '' } = {}) => { els.command.value = command; els.expr.value = expr; els.scenario.value = scenario; readFilters(); },
};

connect();
