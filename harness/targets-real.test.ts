/**
 * `tsmlab run --target pcsc:READER --profile FILE` on a card this process does not hold: `tsmlab sim --vpcd`, a
 * separate process, puts the fleet's SEs into the private pcscd's vpcd readers (test/pcsc/with-pcscd.sh); the run
 * reaches se-1 only through pcscd and the safety guard. Outside the private pcscd this file is skipped, saying why.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vpcdSlots } from './vpcd-cards.ts';
import { defaultFleet } from '../profiles/fleet.ts';
import { loadCardProfile } from '../profiles/index.ts';
import { insidePrivatePcscd, SKIP_REASON } from '../test/pcsc/namespace.ts';
import { isRealCardTarget, profiledSe, realCardsOf } from './targets-real.ts';

const repo = fileURLToPath(new URL('../', import.meta.url));
const example = path.join(repo, 'profiles/examples/sim-scp03.json');

if (!insidePrivatePcscd) console.warn(`harness/targets-real.test.ts skipped: ${SKIP_REASON}`);

function tsmlab(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', ['bin/tsmlab.js', ...args], { cwd: repo, env: process.env, maxBuffer: 32 * 1024 * 1024 }, (e, stdout, stderr) => {
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe.skipIf(!insidePrivatePcscd)('a real-card run against a card another process puts into vpcd', () => {
  let sim: ChildProcess;
  let reader: string;
  const tmp = mkdtempSync(path.join(tmpdir(), 'tsmlab-real-card-'));

  beforeAll(async () => {
    const slot = vpcdSlots()[0];
    reader = slot.reader;
    sim = spawn('node', ['bin/tsmlab.js', 'sim', '--port', '0', '--vpcd', `127.0.0.1:${slot.port}`], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    sim.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    // "ready" once the WebSocket side listens; then wait until pcscd sees the card in the first reader.
    await new Promise<void>((resolve, reject) => {
      let out = '';
      sim.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (/^ready$/m.test(out)) resolve();
      });
      sim.once('exit', (code) => reject(new Error(`tsmlab sim exited (${code}): ${err}`)));
    });
    for (let i = 0; ; i++) {
      const r = await tsmlab(['readers', '--json']);
      const found = r.code === 0 && (JSON.parse(r.stdout) as { readers: { name: string; atr?: string }[] }).readers.some((x) => x.name === reader && x.atr);
      if (found) break;
      if (i > 50) throw new Error(`pcscd never saw the card in ${reader}: ${r.stdout} ${r.stderr} ${err}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }, 60_000);

  afterAll(async () => {
    if (sim && sim.exitCode === null) {
      const exited = new Promise((res) => sim.once('exit', res));
      sim.kill('SIGTERM');
      await exited;
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  it('runs the SP API suite and the conversation rules on it; scenarios that inspect the card are not applicable', async () => {
    const out = path.join(tmp, 'ok');
    // TP-CONV-006 reaches every SE of the fleet: a real-card run holds one.
    const r = await tsmlab([
      'run', '--quiet', '--target', `pcsc:${reader}`, '--profile', example, '--out', out, '--tags', 'not @TP-CONV-006',
      'features/sp-api', 'features/conversations/conversation-rules.feature',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as {
      passed: number;
      failed: number;
      skipped: number;
      scenarios: { name: string; status: string }[];
    };
    expect(summary.passed).toBeGreaterThan(0);
    expect(summary.failed).toBe(0);
    const inspecting = summary.scenarios.find((s) => s.name === "A service provider cannot activate another provider's service");
    expect(inspecting?.status).toBe('SKIPPED');
    expect(summary.scenarios.find((s) => s.name.startsWith('A script sent on an ended conversation'))?.status).toBe('PASSED');
    // The card was reached through the guard: its sample check (SELECT ISD, GET DATA CPLC) is on the wire.
    const trace = readdirSync(out).filter((f) => /^trace-\d+\.ndjson$/.test(f)).map((f) => readFileSync(path.join(out, f), 'utf8')).join('');
    expect(trace).toContain('"80CA9F7F00"');
  }, 180_000);

  it('runs every suite on the three cards of the fleet, each read through its ISD and put back after every scenario', async () => {
    const base = JSON.parse(readFileSync(example, 'utf8')) as { profile: string; ixit: { seId?: string; reader?: string; keys: Record<string, string> } };
    const profiles = defaultFleet().ses.map((se, n) => {
      const p = structuredClone(base);
      p.profile = `sim-${se.seId}`;
      p.ixit.seId = se.seId;
      p.ixit.reader = vpcdSlots()[n].reader;
      for (const role of Object.keys(p.ixit.keys)) p.ixit.keys[role] = `file:${path.join(repo, 'profiles/default-fleet.json')}#/ses/${n}/card/isd/keys/${role}`;
      const file = path.join(tmp, `${se.seId}.json`);
      writeFileSync(file, JSON.stringify(p));
      return file;
    });
    const out = path.join(tmp, 'cards');
    const r = await tsmlab(['run', '--quiet', '--target', 'cards', ...profiles.flatMap((f) => ['--profile', f]), '--out', out]);
    expect(r.code, r.stdout.split('\n').filter((l) => /^(FAIL|ERROR|INCONCLUSIVE)/.test(l)).join('\n') + r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(path.join(out, 'certification.json'), 'utf8')) as { scenarios: { name: string; tags: string[]; verdict: string }[] };
    const verdicts = new Map(report.scenarios.map((s) => [s.name, s.verdict]));
    // Routing reaches every SE; pre-personalization creates an SD and an instance that must be gone for the next scenario.
    expect(verdicts.get("The central TSM reaches each secure element through its own operator's network")).toBe('PASS');
    expect(report.scenarios.filter((s) => s.tags.includes('@TP-PRE-001')).map((s) => s.verdict)).toEqual(['PASS']);
    expect(report.scenarios.filter((s) => s.tags.includes('@TP-PRE-003')).map((s) => s.verdict)).toEqual(['PASS', 'PASS']);
    // Only what needs to look inside a card, or to make one unusable, is not applicable.
    for (const s of report.scenarios) {
      const expected = s.tags.includes('@needs:card-internals') || s.tags.includes('@destructive') ? 'NOT_APPLICABLE' : 'PASS';
      expect(`${s.name}: ${s.verdict}`).toBe(`${s.name}: ${expected}`);
    }
    // The harness read the cards through their ISDs (GET STATUS of applications and SDs).
    const trace = readdirSync(out).filter((f) => /^trace-\d+\.ndjson$/.test(f)).map((f) => readFileSync(path.join(out, f), 'utf8')).join('');
    expect(trace).toMatch(/"from":"harness","to":"se","apduId":"[^"]+","hex":"84F24002/);
  }, 600_000);

  it('refuses a card whose ATR is not the profile\'s, naming both ATRs', async () => {
    const wrong = JSON.parse(readFileSync(example, 'utf8')) as { ixit: { atr: { value: string }; keys: Record<string, string> } };
    const cardAtr = wrong.ixit.atr.value;
    wrong.ixit.atr.value = '3B8F8001804F0CA000000306030001000000006A';
    // The copy lives elsewhere: its key references must still reach the fleet file.
    for (const role of Object.keys(wrong.ixit.keys)) {
      wrong.ixit.keys[role] = wrong.ixit.keys[role].replace('file:../', `file:${path.join(repo, 'profiles')}/`);
    }
    const file = path.join(tmp, 'wrong-atr.json');
    writeFileSync(file, JSON.stringify(wrong));
    const out = path.join(tmp, 'wrong');
    const r = await tsmlab(['run', '--quiet', '--target', `pcsc:${reader}`, '--profile', file, '--out', out, '--tags', '@TP-API-001', 'features/sp-api']);
    expect(r.code).toBe(1);
    const text = r.stdout + r.stderr + readFileSync(path.join(out, 'messages.ndjson'), 'utf8');
    expect(text).toMatch(new RegExp(`refusing to run: the card's ATR ${cardAtr} does not match profile "tsmlab-sim-scp03": expected 3B8F8001804F0CA000000306030001000000006A`, 'i'));
  }, 120_000);
});

describe('which card a real-card run is', () => {
  it('is a named reader with a profile; plain pcsc stays the simulated cards in vpcd', () => {
    expect(isRealCardTarget('pcsc:Virtual PCD 00 00', { TSMLAB_PROFILE: example })).toBe(true);
    expect(isRealCardTarget('pcsc', { TSMLAB_PROFILE: example })).toBe(false);
    expect(isRealCardTarget('pcsc:Virtual PCD 00 00', {})).toBe(false);
  });

  it("stands for the profile's seId, else the first SE with the profile's ISD and central SD, else the first", () => {
    const fleet = defaultFleet();
    const loaded = loadCardProfile(example);
    expect(profiledSe(fleet, loaded).seId).toBe('se-1');
    const withSeId = (seId?: string) => ({ ...loaded, profile: { ...loaded.profile, ixit: { ...loaded.profile.ixit, seId } } });
    expect(profiledSe(fleet, withSeId('se-2')).seId).toBe('se-2');
    const moved = { ...fleet, ses: fleet.ses.map((s, i) => (i === 0 ? { ...s, centralSd: { ...s.centralSd, aid: 'F000000001' } } : s)) };
    expect(profiledSe(moved, withSeId(undefined)).seId).toBe(fleet.ses[1].seId);
    expect(profiledSe(moved, loaded).seId).toBe('se-1');
    expect(() => profiledSe(fleet, withSeId('se-9'))).toThrow(/se-9.*not an SE of the fleet/);
  });

  it('takes one card per profile with --target cards, each in its own reader, and refuses unclear runs', () => {
    const fleet = defaultFleet();
    const dir = mkdtempSync(path.join(tmpdir(), 'tsmlab-cards-'));
    const write = (name: string, change: (ixit: Record<string, unknown>) => void) => {
      const p = JSON.parse(readFileSync(example, 'utf8')) as { ixit: Record<string, unknown> & { keys: Record<string, string> } };
      for (const role of Object.keys(p.ixit.keys)) p.ixit.keys[role] = p.ixit.keys[role].replace('file:../', `file:${path.join(repo, 'profiles')}/`);
      change(p.ixit);
      writeFileSync(path.join(dir, name), JSON.stringify(p));
      return path.join(dir, name);
    };
    const a = write('a.json', () => undefined);
    const b = write('b.json', (x) => Object.assign(x, { seId: 'se-2', reader: 'Virtual PCD 00 01' }));
    const env = (...files: string[]) => ({ TSMLAB_PROFILE: files.join(path.delimiter) });
    expect(isRealCardTarget('cards', {})).toBe(true);
    expect(realCardsOf(fleet, 'cards', env(a, b)).map((c) => `${c.se.seId} ${c.target}`)).toEqual(['se-1 pcsc:Virtual PCD 00 00', 'se-2 pcsc:Virtual PCD 00 01']);
    expect(realCardsOf(fleet, 'pcsc:2', env(a)).map((c) => c.target)).toEqual(['pcsc:2']);
    expect(() => realCardsOf(fleet, 'pcsc:2', env(a, b))).toThrow(/one reader: give one --profile, or use --target cards/);
    expect(() => realCardsOf(fleet, 'cards', env())).toThrow(/needs a card profile/);
    const twin = write('twin.json', (x) => Object.assign(x, { reader: 'Virtual PCD 2 00 00' }));
    expect(() => realCardsOf(fleet, 'cards', env(a, twin))).toThrow(/a\.json and twin\.json both stand for se-1: give each card its own \/ixit\/seId/);
    const nowhere = write('nowhere.json', (x) => Object.assign(x, { seId: 'se-3', reader: undefined }));
    expect(() => realCardsOf(fleet, 'cards', env(nowhere))).toThrow(/nowhere\.json: \/ixit\/reader is needed with --target cards/);
    rmSync(dir, { recursive: true, force: true });
  });
});
