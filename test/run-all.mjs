#!/usr/bin/env node
// `npm test`: its own set-up (Debian packages, the pcsclite module), type-check, unit tests (vitest), feature
// suites (cucumber-js) on the simulator, then the PC/SC path through a private pcscd. Ends with one line
// "N passed, N failed" adding up every runner's counts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { ensurePcsclite, ensureSystemPackages } from './prerequisites.mjs';

const out = 'reports/out';
mkdirSync(out, { recursive: true });
const tally = { passed: 0, failed: 0, skipped: 0 };
const rows = [];

function step(name, cmd, args, counts, env = {}) {
  console.log(`\n== ${name}: ${[cmd, ...args].join(' ')}`);
  // A runner that hangs is a failure, not a stuck CI job.
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env }, timeout: 20 * 60 * 1000, killSignal: 'SIGKILL' });
  let c = counts();
  if (!c) c = { passed: r.status === 0 ? 1 : 0, failed: r.status === 0 ? 0 : 1, skipped: 0 };
  // A runner that crashed before counting anything still counts as a failure.
  if (r.status !== 0 && c.failed === 0) c.failed = 1;
  tally.passed += c.passed;
  tally.failed += c.failed;
  tally.skipped += c.skipped ?? 0;
  rows.push([name, c.passed, c.failed, c.skipped ?? 0]);
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

const only = process.argv.slice(2);
const want = (n) => only.length === 0 || only.includes(n);

// A fresh clone where only `npm test` was typed: the npm packages first (this file itself needs none of them).
if (!existsSync('node_modules/.package-lock.json')) {
  console.log('npm test: no node_modules yet: installing the npm packages with npm ci');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.log('npm test: npm ci failed (see above)\n\n0 passed, 1 failed');
    process.exit(1);
  }
}

// Before any tier that needs them (the unit tier holds the pcapng and browser tests): a missing package fails the
// run with the command to install it; it is never a silently skipped tier.
if (want('unit') || want('pcsc')) {
  console.log('\n== set-up: Debian packages of the PC/SC, pcapng and browser tiers; the pcsclite module');
  const problems = ensureSystemPackages();
  if (problems.length === 0) problems.push(...ensurePcsclite());
  for (const p of problems) console.log(`npm test: ${p}`);
  tally.passed += problems.length === 0 ? 1 : 0;
  tally.failed += problems.length;
  rows.push(['set-up', problems.length === 0 ? 1 : 0, problems.length, 0]);
}

if (want('typecheck')) step('typecheck', 'npx', ['tsc', '--noEmit', '-p', '.'], () => undefined);

// The layer rule (docs/architecture.md): a new import across layers fails here, naming the rule and both files.
if (want('layers')) step('layers (dependency-cruiser)', 'npm', ['run', '--silent', 'lint:layers'], () => undefined);

if (want('unit')) {
  step('unit', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}/vitest.json`], () => {
    const j = readJson(`${out}/vitest.json`);
    return j && { passed: j.numPassedTests, failed: j.numFailedTests, skipped: j.numPendingTests + j.numTodoTests };
  });
}

if (want('features')) {
  step('features (simulator over WebSocket)', 'node', ['bin/tsmlab.js', 'run', '--quiet', '--out', `${out}`], () => readJson(`${out}/summary.json`));
  // The harness holds every session key on simulated cards: each wrapped exchange of the run must have its plain forms.
  step('trace: plain forms of wrapped exchanges', 'npx', ['tsx', 'test/check-plain-forms.ts', out], () => undefined);
}

if (want('pcsc')) {
  const script = 'test/pcsc/with-pcscd.sh';
  if (existsSync(script)) {
    step('unit (PC/SC through pcscd + vpcd)', 'bash', [script, 'npx', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}/vitest-pcsc.json`, '--no-file-parallelism', 'drivers/pcsc', 'bin/commands/readers', 'harness/targets-real', 'harness/card-trouble'], () => {
      const j = readJson(`${out}/vitest-pcsc.json`);
      return j && { passed: j.numPassedTests, failed: j.numFailedTests, skipped: j.numPendingTests + j.numTodoTests };
    }, { TSMLAB_PCSCD_NS: '1' });
    if (existsSync('drivers/pcsc.ts')) {
      step('features (PC/SC through pcscd + vpcd)', 'bash', [script, 'node', 'bin/tsmlab.js', 'run', '--quiet', '--target', 'pcsc', '--out', `${out}/pcsc`], () => readJson(`${out}/pcsc/summary.json`), { TSMLAB_PCSCD_NS: '1' });
    }
  }
}

console.log('\n' + ['runner', 'passed', 'failed', 'skipped'].map((h) => h.padEnd(12)).join(' '));
for (const r of rows) console.log(r.map((v, i) => String(v).padEnd(i === 0 ? 40 : 12)).join(' '));
console.log(`\n${tally.passed} passed, ${tally.failed} failed${tally.skipped ? `, ${tally.skipped} skipped` : ''}`);
process.exitCode = tally.failed === 0 ? 0 : 1;
