/** The certification report's HTML: one self-contained page (inline CSS, no scripts, no external resources), printable. */
import type { Verdict } from '../trace/index.ts';
import type { AttemptRow, CertificationModel, ScenarioRow } from './certification-model.ts';
import type { ScenarioEvidence } from './evidence.ts';
import { VERDICTS } from './verdict.ts';

export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const badge = (v: Verdict | undefined, href?: string, label?: string) => {
  const text = esc(label ?? v ?? 'NOT COVERED');
  const cls = `v v-${(v ?? 'none').toLowerCase()}`;
  return href ? `<a class="${cls}" href="${esc(href)}">${text}</a>` : `<span class="${cls}">${text}</span>`;
};

const fmtMs = (ms?: number) => (ms === undefined ? '' : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`);
const fmtTime = (t?: number) => (t === undefined ? '' : new Date(t).toISOString().replace('T', ' ').replace('Z', ' UTC'));

function kv(rows: [string, string | undefined][]): string {
  return `<table class="kv">${rows.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('')}</table>`;
}

const CSS = `
:root { --pass:#1b7f3b; --fail:#c62828; --inc:#b26a00; --na:#6b7280; --err:#6a1b9a; --line:#d0d5dd; }
* { box-sizing: border-box; }
body { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:#111; margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 2px solid #111; padding-bottom: 2px; }
h3 { font-size: 14px; margin: 18px 0 6px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { border: 1px solid var(--line); padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; }
table.kv th { width: 220px; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 12px; word-break: break-all; }
.v { display: inline-block; min-width: 44px; padding: 0 6px; border-radius: 3px; color: #fff; font-weight: 700; font-size: 11px; text-align: center; text-decoration: none; margin: 1px 2px 1px 0; }
.v-pass { background: var(--pass); } .v-fail { background: var(--fail); } .v-inconclusive { background: var(--inc); }
.v-not_applicable { background: var(--na); } .v-error { background: var(--err); } .v-none { background: #fff; color: var(--fail); border: 1px solid var(--fail); }
.sw-normal { color: var(--pass); } .sw-warning { color: var(--inc); } .sw-execution-error { color: var(--fail); } .sw-checking-error { color: var(--err); } .sw-proprietary { color: #0e7490; }
.muted { color: #555; } .reason { color: #333; font-style: italic; }
.summary td, .summary th { text-align: center; }
.attempt { border: 1px solid var(--line); border-radius: 4px; padding: 8px 10px; margin: 10px 0; page-break-inside: avoid; }
.attempt h3 { margin-top: 0; }
.status-FAILED { color: var(--fail); font-weight: 600; } .status-PASSED { color: var(--pass); } .status-SKIPPED { color: var(--na); }
.status-UNDEFINED, .status-AMBIGUOUS, .status-PENDING { color: var(--err); font-weight: 600; }
pre.err { white-space: pre-wrap; margin: 2px 0; font-size: 11px; color: #600; }
@media print {
  body { padding: 0; max-width: none; font-size: 11px; }
  h2 { page-break-after: avoid; } #evidence { page-break-before: always; }
  a { color: inherit; text-decoration: none; }
  .v { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;

function summaryTable(m: CertificationModel): string {
  const head = VERDICTS.map((v) => `<th>${badge(v)}</th>`).join('');
  const row = (label: string, c: Record<Verdict, number>) => `<tr><th>${label}</th>${VERDICTS.map((v) => `<td>${c[v]}</td>`).join('')}<td>${Object.values(c).reduce((a, b) => a + b, 0)}</td></tr>`;
  return `<table class="summary"><tr><th></th>${head}<th>total</th></tr>${row('scenarios (final verdict)', m.counts)}${row('attempts', m.attemptCounts)}</table>`;
}

function environment(m: CertificationModel): string {
  return kv([
    ['Tool version', esc(m.tool.version)],
    ['Tool commit', `<code>${esc(m.tool.commit)}</code>`],
    ['Suite version', `<code>${esc(m.suiteVersion)}</code>`],
    ['Cucumber', m.cucumberVersion ? esc(`cucumber-js ${m.cucumberVersion}`) : undefined],
    ['Run date', esc(m.date)],
    ['Run id', m.runId ? `<code>${esc(m.runId)}</code>` : undefined],
    ['Target', m.target ? esc(m.target === 'sim' ? 'simulator' : m.target) : undefined],
    ['Reader / simulator', esc(m.reader ?? (m.target === 'sim' ? 'built-in simulator' : 'not stated'))],
    ['Operator', m.operator ? esc(m.operator) : undefined],
    ['Key values in outputs', m.revealKeys ? '<strong>revealed (explicit flag)</strong>' : 'never shown (key references and check values only)'],
    ['Report generated', esc(m.generatedAt)],
  ]);
}

function sample(m: CertificationModel): string {
  const s = m.sample;
  const cplc = s.cplcFields
    ? `<table><tr><th>CPLC field</th><th>value</th><th></th></tr>${s.cplcFields.map((f) => `<tr><td>${esc(f.name)}</td><td><code>${esc(f.hex)}</code></td><td class="muted">${esc(f.note ?? '')}</td></tr>`).join('')}</table>`
    : '';
  return (
    kv([
      ['Description', s.description ? esc(s.description) : undefined],
      ['SE identifier', s.seId ? `<code>${esc(s.seId)}</code>` : s.seIds.length ? `<code>${s.seIds.map(esc).join(', ')}</code>` : undefined],
      ['ATR', `<code>${esc(s.atr ?? 'not observed')}</code>`],
      ['IIN (GET DATA 0042)', `<code>${esc(s.iin ?? 'not observed')}</code>`],
      ['CIN (GET DATA 0045)', `<code>${esc(s.cin ?? 'not observed')}</code>`],
      ['CPLC (GET DATA 9F7F)', `<code>${esc(s.cplc ?? 'not observed')}</code>`],
    ]) + cplc
  );
}

function profiles(m: CertificationModel): string {
  if (m.profiles.length === 0) return '<p class="muted">No profile was given for this run.</p>';
  return `<table><tr><th>role</th><th>name</th><th>file</th><th>SHA-256</th></tr>${m.profiles
    .map((p) => `<tr><td>${esc(p.role)}</td><td>${esc(p.name ?? '')}</td><td><code>${esc(p.path)}</code></td><td><code>${esc(p.sha256)}</code></td></tr>`)
    .join('')}</table>`;
}

function results(m: CertificationModel): string {
  const rows = m.scenarios.map((s) => {
    const attempts = s.attempts.map((a) => badge(a.verdict, `#${a.anchor}`, `#${a.attempt + 1} ${a.verdict}`)).join(' ');
    return `<tr id="${esc(s.anchor)}"><td>${esc(s.testPurposes.join(', '))}</td><td>${esc(s.name)}<div class="muted">${esc(s.feature)} · <code>${esc(s.location)}</code></div></td><td class="mono">${esc(s.requirements.join(' '))}</td><td>${badge(s.verdict, s.attempts.length ? `#${s.attempts[s.attempts.length - 1].anchor}` : undefined)}${s.reason ? `<div class="reason">${esc(s.reason)}</div>` : ''}</td><td>${attempts}</td></tr>`;
  });
  return `<table><tr><th>test purpose</th><th>scenario</th><th>requirements</th><th>verdict</th><th>attempts (evidence)</th></tr>${rows.join('')}</table>`;
}

function traceability(m: CertificationModel): string {
  const t = m.traceability;
  if (!t) return '<p><strong>No requirements catalogue was given; the matrix could not be built.</strong></p>';
  const cat = m.catalogue ? `<p class="muted">Catalogue <code>${esc(m.catalogue.file)}</code>${m.catalogue.version ? ` version ${esc(m.catalogue.version)}` : ''}: ${m.catalogue.count} requirements.</p>` : '';
  const sources = m.catalogue?.sources;
  const rows = t.rows.map((r) => {
    const sc = r.scenarios.map((s) => `${badge(s.verdict, s.href)} ${esc(s.name)}`).join('<br>');
    const src = sources?.[r.requirement.source] ? `<span title="${esc(sources[r.requirement.source])}">${esc(r.requirement.source)}</span>` : esc(r.requirement.source);
    return `<tr><td class="mono">${esc(r.requirement.id)}</td><td>${src}</td><td>${esc(r.requirement.clause)}</td><td>${esc(r.requirement.title)}</td><td>${sc || '<em>none</em>'}</td><td>${badge(r.verdict)}</td></tr>`;
  });
  const uncovered = t.uncovered.length
    ? `<h3>Requirements with no scenario (${t.uncovered.length})</h3><ul>${t.uncovered.map((r) => `<li><code>${esc(r.id)}</code> — ${esc(r.title)}</li>`).join('')}</ul>`
    : '<p>Every catalogued requirement is checked by at least one scenario.</p>';
  const unknown = t.unknownTags.length
    ? `<h3>Tags naming no catalogued requirement (${t.unknownTags.length})</h3><ul>${t.unknownTags.map((u) => `<li><code>@${esc(u.id)}</code>: ${u.scenarios.map((s) => `<a href="${esc(s.href)}">${esc(s.name)}</a>`).join(', ')}</li>`).join('')}</ul>`
    : '';
  return `${cat}<table><tr><th>requirement</th><th>source</th><th>clause</th><th>title</th><th>scenarios</th><th>verdict</th></tr>${rows.join('')}</table>${uncovered}${unknown}`;
}

function deviations(m: CertificationModel): string {
  if (m.deviations.length === 0) return '<p>None declared or detected.</p>';
  return `<table><tr><th>origin</th><th>scenario</th><th>deviation</th></tr>${m.deviations
    .map((d) => `<tr><td>${esc(d.origin ?? 'declared')}</td><td>${esc(d.scenario ?? '')}</td><td>${esc(d.description)}</td></tr>`)
    .join('')}</table>`;
}

function digest(ev: ScenarioEvidence): string {
  if (ev.digest.length === 0) return '';
  const rows = ev.digest.map(
    (r) =>
      `<tr><td class="mono">${r.t.toFixed(1)}</td><td>${esc(r.lane)}</td><td>${esc(r.what)}${r.detail ? ` <span class="muted">${esc(r.detail)}</span>` : ''}</td><td class="mono ${r.swClass ? `sw-${esc(r.swClass)}` : ''}">${esc(r.sw ?? '')}</td><td class="mono">${esc(fmtMs(r.durationMs))}</td></tr>`,
  );
  const more = ev.digestOmitted ? `<tr><td colspan="5" class="muted">… ${ev.digestOmitted} more rows in the trace file</td></tr>` : '';
  return `<table><tr><th>t (ms)</th><th>lane</th><th>message</th><th>SW</th><th>time</th></tr>${rows.join('')}${more}</table>`;
}

function attempt(s: ScenarioRow, a: AttemptRow, files: CertificationModel['files']): string {
  const steps = a.steps
    .map((st) => {
      const err = st.status === 'FAILED' || st.status === 'UNDEFINED' || st.status === 'AMBIGUOUS' ? (st.message ?? '').split('\n').slice(0, 3).join('\n') : '';
      const n = a.evidence?.perStep[st.testStepId];
      return `<tr><td>${esc(st.text ?? (st.isHook ? 'hook' : 'step'))}</td><td class="status-${esc(st.status)}">${esc(st.status)}</td><td class="mono">${esc(fmtMs(st.durationMs))}</td><td class="mono">${n ?? ''}</td></tr>${err ? `<tr><td colspan="4"><pre class="err">${esc(err)}</pre></td></tr>` : ''}`;
    })
    .join('');
  const ev = a.evidence;
  const evidence = ev
    ? `<p>Trace: <a href="${esc(ev.file)}"><code>${esc(ev.file)}</code></a> — ${ev.events} events, ${ev.apdus} APDU exchanges, ${ev.spRequests} SP requests${files.pcapng ? `; APDUs also in <a href="${esc(files.pcapng)}"><code>${esc(files.pcapng)}</code></a> (packet comments name this attempt)` : ''}.</p>${digest(ev)}`
    : '<p class="muted">No trace events were recorded for this attempt.</p>';
  return `<div class="attempt" id="${esc(a.anchor)}"><h3>${badge(a.verdict)} ${esc(s.name)} — attempt ${a.attempt + 1}${a.willBeRetried ? ' (retried)' : ''}</h3>
${a.reason ? `<p class="reason">${esc(a.reason)}</p>` : ''}
<p class="muted">Started ${esc(fmtTime(a.startedAt))}${a.durationMs !== undefined ? `, ${esc(fmtMs(a.durationMs))}` : ''} · attempt id <code>${esc(a.testCaseStartedId)}</code> · <a href="#${esc(s.anchor)}">back to results</a></p>
<table><tr><th>step</th><th>status</th><th>duration</th><th>trace events</th></tr>${steps}</table>
${evidence}</div>`;
}

export function renderCertificationHtml(m: CertificationModel): string {
  const evidence = m.scenarios.flatMap((s) => s.attempts.map((a) => attempt(s, a, m.files))).join('\n');
  const runEv = m.runEvidence ? `<h3>Outside any scenario</h3><p>Trace: <a href="${esc(m.runEvidence.file)}"><code>${esc(m.runEvidence.file)}</code></a> — ${m.runEvidence.events} events.</p>` : '';
  const files = kv([
    ['Cucumber messages', m.files.messages ? `<a href="${esc(m.files.messages)}"><code>${esc(m.files.messages)}</code></a>` : undefined],
    ['Trace (NDJSON)', m.files.traces.length ? m.files.traces.map((f) => `<a href="${esc(f)}"><code>${esc(f)}</code></a>`).join('<br>') : undefined],
    ['APDU capture (pcapng)', m.files.pcapng ? `<a href="${esc(m.files.pcapng)}"><code>${esc(m.files.pcapng)}</code></a>` : undefined],
    ['This report as JSON', m.files.json ? `<a href="${esc(m.files.json)}"><code>${esc(m.files.json)}</code></a>` : undefined],
  ]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(m.title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(m.title)}</h1>
<p class="muted">${esc(m.date)} · tsmlab ${esc(m.tool.version)} · suite <code>${esc(m.suiteVersion)}</code></p>
${summaryTable(m)}
<h2 id="environment">1. Test environment</h2>${environment(m)}
<h2 id="sample">2. Sample identity</h2>${sample(m)}
<h2 id="profiles">3. Profiles (ICS / IXIT)</h2>${profiles(m)}
<h2 id="results">4. Verdicts</h2>${results(m)}
<h2 id="traceability">5. Traceability matrix</h2>${traceability(m)}
<h2 id="deviations">6. Deviations</h2>${deviations(m)}
<h2 id="files">7. Output files</h2>${files}
<h2 id="evidence">8. Evidence</h2>${evidence}${runEv}
</body></html>
`;
}
