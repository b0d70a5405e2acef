/**
 * End to end on a real Cucumber run: a fixture suite runs in a child process with the trace hooks, then
 * writeRunReports turns its messages and trace into the certification report, evidence files and pcapng.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Cucumber from '@cucumber/cucumber';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTraceFiles } from '../trace/index.ts';
import { writeRunReports, type RunReportsResult } from './certification.ts';
import type { CucumberHookApi } from './cucumber-hooks.ts';
import { scanForKeys } from './leak-scan.ts';

// The hooks accept cucumber's own exports as they are.
type HookExports = Pick<typeof Cucumber, 'Before' | 'After' | 'BeforeAll' | 'AfterAll' | 'BeforeStep' | 'AfterStep'>;
const _assignable: HookExports extends CucumberHookApi ? true : never = true;
void _assignable;

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KEY = '5A5B5C5D5E5F606162636465666768AB';

const FEATURE = `@REQ-T-1
Feature: Fixture suite
  Background:
    Given the card is present

  @TP-1
  Scenario: passes with APDUs
    When the harness selects the ISD
    Then the card answers 9000
    When the SP rotates its keys

  @TP-2 @ICS:scp02 @needs:reader
  Scenario: needs what the rig lacks
    When the harness selects the ISD

  @TP-3 @REQ-T-9
  Scenario: the card misbehaves
    When the harness reads the CPLC
    Then the card answers 9000

  @TP-4
  Scenario: the card is removed
    When the card is removed

  @TP-5
  Scenario: the budget runs out
    When the authentication budget is exhausted

  @TP-6
  Scenario: flaky harness
    When the harness trips once

  @TP-7
  Scenario: nobody wrote this step
    When nobody defined this

  @TP-8
  Scenario: skipped without a reason
    When the step skips itself

  @TP-9
  Scenario: passes but records a doubt
    When the step records an inconclusive verdict

  @TP-10
  Scenario Outline: outline row <n>
    When the harness selects the ISD
    Examples:
      | n |
      | 1 |
`;

const url = (rel: string) => pathToFileURL(path.join(repo, rel)).href;

const STEPS = `
import { Given, When, Then, Before, After, BeforeAll, AfterAll, BeforeStep, AfterStep } from '@cucumber/cucumber';
import { installTraceHooks } from '${url('reports/cucumber-hooks.ts')}';
import { emit, nextApduId } from '${url('trace/index.ts')}';

installTraceHooks({ Before, After, BeforeAll, AfterAll, BeforeStep, AfterStep }, {
  outDir: process.env.FIXTURE_OUT,
  applicability: () => ({ icsFeatures: ['scp03'], capabilities: [], profileName: 'fixture-card' }),
  redact: { knownKeys: [{ value: '${KEY}', ref: 'SP ENC' }] },
});

function exchange(world, cmd, resp) {
  const apduId = nextApduId();
  emit({ kind: 'apdu.command', from: 'harness', to: 'se', apduId, hex: cmd });
  emit({ kind: 'apdu.response', from: 'se', to: 'harness', apduId, hex: resp, sw: resp.slice(-4), durationMs: 0.5 });
  world.sw = resp.slice(-4);
}

let trips = 0;
Given('the card is present', function () {
  emit({ kind: 'card.reset', from: 'harness', to: 'se', cold: true, atr: '3B8F8001804F0CA000000306030001000000006A' }, { seId: 'se-fixture' });
  exchange(this, '80CA004200', '4204556677889000');
  exchange(this, '80CA004500', '450A0102030405060708090A9000');
});
When('the harness selects the ISD', function () { exchange(this, '00A4040008A00000015100000000', '6F108408A000000151000000A5049F6501FF9000'); });
When('the harness reads the CPLC', function () { exchange(this, '80CA9F7F00', '6A88'); });
Then('the card answers 9000', function () { if (this.sw !== '9000') throw new Error('expected SW 9000, got ' + this.sw); });
When('the SP rotates its keys', function () {
  emit({ kind: 'sp.request', from: 'sp', to: 'tsm', operation: 'rotateKeys', body: { newKeys: { enc: '${KEY}' }, note: 'new ENC ${KEY.toLowerCase()}' } });
  emit({ kind: 'sp.response', from: 'tsm', to: 'sp', operation: 'rotateKeys', status: 'Executed-Success', body: {}, durationMs: 3 });
});
When('the card is removed', function () { const e = new Error('card removed during EXTERNAL AUTHENTICATE'); e.name = 'InconclusiveError'; throw e; });
When('the authentication budget is exhausted', function () { throw new Error('INCONCLUSIVE: failed-authentication budget of 3 exhausted'); });
When('the harness trips once', function () { if (trips++ === 0) { const x = undefined; return x.boom; } });
When('the step skips itself', function () { return 'skipped'; });
When('the step records an inconclusive verdict', function () {
  emit({ kind: 'verdict', from: 'harness', to: 'harness', verdict: 'INCONCLUSIVE', reason: 'the card answered before the field was cut' });
});
`;

const RUNNER = `
import { loadConfiguration, runCucumber } from '@cucumber/cucumber/api';
const { runConfiguration } = await loadConfiguration({ provided: {
  paths: ['features/**/*.feature'], import: ['${path.join(repo, 'tsx-register.js')}', 'steps/*.mjs'], retry: 1,
  format: ['message:out/messages.ndjson'], strict: true } }, { cwd: process.cwd() });
const r = await runCucumber(runConfiguration, { cwd: process.cwd(), env: process.env });
console.log(JSON.stringify({ success: r.success }));
`;

let dir: string;
let out: string;
let result: RunReportsResult;

beforeAll(async () => {
  // Inside the repository (under the ignored reports/out) so the fixture resolves the installed packages.
  mkdirSync(path.join(repo, 'reports', 'out'), { recursive: true });
  dir = mkdtempSync(path.join(repo, 'reports', 'out', 'test-certification-'));
  out = path.join(dir, 'out');
  mkdirSync(path.join(dir, 'features'), { recursive: true });
  mkdirSync(path.join(dir, 'steps'));
  mkdirSync(out);
  writeFileSync(path.join(dir, 'features', 'fixture.feature'), FEATURE);
  writeFileSync(path.join(dir, 'steps', 'steps.mjs'), STEPS);
  writeFileSync(path.join(dir, 'run.mjs'), RUNNER);
  writeFileSync(
    path.join(dir, 'requirements.json'),
    JSON.stringify({
      version: 'fixture-1',
      sources: { T: 'Test requirements' },
      requirements: [
        { id: 'REQ-T-1', source: 'T', clause: '1', title: 'The fixture works' },
        { id: 'REQ-T-2', source: 'T', clause: '2', title: 'Nobody tests this' },
      ],
    }),
  );
  writeFileSync(path.join(dir, 'ics.json'), '{"features":["scp03"]}\n');
  const stdout = execFileSync('node', ['run.mjs'], { cwd: dir, env: { ...process.env, FIXTURE_OUT: out }, encoding: 'utf8' });
  expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ success: false });
  const traces = readdirSync(out).filter((f) => /^trace-\d+\.ndjson$/.test(f)).map((f) => path.join(out, f));
  expect(traces).toHaveLength(1);
  result = await writeRunReports({
    messagesFile: path.join(out, 'messages.ndjson'),
    traceFile: traces,
    outDir: out,
    requirementsFile: path.join(dir, 'requirements.json'),
    featuresDir: path.join(dir, 'features'),
    meta: {
      target: 'sim',
      reader: 'built-in simulator',
      runId: 'run-fixture',
      profiles: [{ role: 'ICS', name: 'fixture-card', path: path.join(dir, 'ics.json') }],
      deviations: [{ description: 'fixture run: no physical sample' }],
    },
  });
}, 60_000);

afterAll(() => {
  if (!process.env.TSMLAB_KEEP_TEST_OUTPUT) rmSync(dir, { recursive: true, force: true });
});

describe('certification report from a real Cucumber run', () => {
  it('gives every scenario and every attempt its verdict', () => {
    const v = Object.fromEntries(result.model.scenarios.map((s) => [s.name, [s.verdict, s.attempts.map((a) => a.verdict), s.reason ?? '']]));
    expect(v['passes with APDUs']).toEqual(['PASS', ['PASS'], '']);
    expect(v['needs what the rig lacks'][0]).toBe('NOT_APPLICABLE');
    expect(v['needs what the rig lacks'][2]).toBe('the ICS of profile "fixture-card" does not claim "scp02"; the rig lacks "reader"');
    expect(v['the card misbehaves']).toEqual(['FAIL', ['FAIL', 'FAIL'], '"Then the card answers 9000": Error: expected SW 9000, got 6A88']);
    expect(v['the card is removed']).toEqual(['INCONCLUSIVE', ['INCONCLUSIVE', 'INCONCLUSIVE'], 'card removed during EXTERNAL AUTHENTICATE']);
    expect(v['the budget runs out']).toEqual(['INCONCLUSIVE', ['INCONCLUSIVE', 'INCONCLUSIVE'], 'failed-authentication budget of 3 exhausted']);
    expect(v['flaky harness'][0]).toBe('PASS');
    expect(v['flaky harness'][1]).toEqual(['ERROR', 'PASS']);
    expect(v['nobody wrote this step'][0]).toBe('ERROR');
    expect(v['nobody wrote this step'][2]).toBe('step "When nobody defined this" is undefined');
    expect(v['skipped without a reason']).toEqual(['ERROR', ['ERROR'], 'skipped without an applicability reason']);
    expect(v['passes but records a doubt']).toEqual(['INCONCLUSIVE', ['INCONCLUSIVE'], 'the card answered before the field was cut']);
    expect(v['outline row 1']).toEqual(['PASS', ['PASS'], '']);
    expect(result.model.counts).toEqual({ PASS: 3, FAIL: 1, INCONCLUSIVE: 3, NOT_APPLICABLE: 1, ERROR: 2 });
    expect(result.model.attemptCounts.FAIL).toBe(2);
  });

  it('keys the trace by attempt and step, and links each attempt to its evidence file', async () => {
    const sc = result.model.scenarios.find((s) => s.name === 'passes with APDUs')!;
    const a = sc.attempts[0];
    expect(a.evidence?.apdus).toBe(3);
    const file = path.join(out, a.evidence!.file);
    expect(a.evidence!.file).toMatch(/^evidence\//);
    const events = await readTraceFiles([file]);
    expect(events.every((e) => e.corr.scenarioId === a.testCaseStartedId)).toBe(true);
    const selects = events.filter((e) => e.kind === 'apdu.command' && e.hex.startsWith('00A4'));
    expect(selects).toHaveLength(1);
    const selectStep = a.steps.find((s) => s.text === 'When the harness selects the ISD')!;
    expect(selects[0].corr.stepId).toBe(selectStep.testStepId);
    expect(selects[0].corr.step).toBe('the harness selects the ISD');
    expect(a.evidence!.perStep[selectStep.testStepId]).toBeGreaterThanOrEqual(3);
    const html = readFileSync(result.reportFile, 'utf8');
    for (const s of result.model.scenarios) for (const at of s.attempts) {
      expect(html).toContain(`id="${at.anchor}"`);
      expect(html).toContain(`href="#${at.anchor}"`);
    }
    expect(html).toContain(`href="${a.evidence!.file}"`);
  });

  it('states the sample, the environment, the profiles with hashes and the deviations', () => {
    const m = result.model;
    expect(m.sample.atr).toBe('3B8F8001804F0CA000000306030001000000006A');
    expect(m.sample.iin).toBe('55667788');
    expect(m.sample.cin).toBe('0102030405060708090A');
    expect(m.sample.seId).toBe('se-fixture');
    expect(m.tool.commit).toMatch(/^[0-9a-f]{40}( \(modified\))?$|^unknown$/);
    expect(m.suiteVersion).toMatch(/^sha256:[0-9a-f]{16} \(1 file\)$/);
    expect(m.profiles[0].sha256).toBe(createHash('sha256').update(readFileSync(path.join(dir, 'ics.json'))).digest('hex'));
    const devs = m.deviations.map((d) => d.description);
    expect(devs).toContain('fixture run: no physical sample');
    expect(devs.some((d) => d.startsWith('tag @REQ-T-9 names no requirement'))).toBe(true);
    expect(devs.filter((d) => d.startsWith('retried:'))).toHaveLength(4);
    const html = readFileSync(result.reportFile, 'utf8');
    expect(html).toContain('3B8F8001804F0CA000000306030001000000006A');
    expect(html).toContain(m.profiles[0].sha256);
    expect(html).not.toMatch(/<script|<link|src="http/);
  });

  it('builds the traceability matrix: covered, uncovered and unknown requirements', () => {
    const t = result.model.traceability!;
    const row = t.rows.find((r) => r.requirement.id === 'REQ-T-1')!;
    expect(row.scenarios).toHaveLength(10);
    expect(row.verdict).toBe('ERROR');
    expect(t.uncovered.map((r) => r.id)).toEqual(['REQ-T-2']);
    expect(t.unknownTags.map((u) => [u.id, u.scenarios.map((s) => s.name)])).toEqual([['REQ-T-9', ['the card misbehaves']]]);
    const html = readFileSync(result.reportFile, 'utf8');
    expect(html).toContain('Requirements with no scenario (1)');
    expect(html).toContain('<code>@REQ-T-9</code>');
  });

  it('exports the run pcapng, attaches step digests, and leaves no key value in any output file', async () => {
    const traces = readdirSync(out).filter((f) => f.startsWith('trace-')).map((f) => path.join(out, f));
    const commands = (await readTraceFiles(traces)).filter((e) => e.kind === 'apdu.command').length;
    expect(commands).toBeGreaterThan(20);
    expect(result.packets).toBe(commands);
    expect(existsSync(result.pcapngFile!)).toBe(true);
    const messages = readFileSync(path.join(out, 'messages.ndjson'), 'utf8');
    expect(messages).toContain('SELECT A000000151000000');
    expect(messages).toContain('application/vnd.tsmlab.verdict+json');
    expect(scanForKeys(out, [{ label: 'SP ENC', value: KEY }])).toEqual([]);
    const evidence = readFileSync(path.join(out, result.model.scenarios[0].attempts[0].evidence!.file), 'utf8');
    expect(evidence).toContain('[key SP ENC kcv=');
  });
});
