import { describe, expect, it } from 'vitest';
import { checkApplicability } from './applicability.ts';
import { buildTraceability, CatalogueError, parseCatalogue, requirementVerdict } from './requirements.ts';
import { classifyVerdict, errorName, parseVerdictMarker, verdictAttachment, worstVerdict, type StepOutcome } from './verdict.ts';

const passed = (text = 'a step'): StepOutcome => ({ status: 'PASSED', isHook: false, text });
const failed = (type: string, message: string, isHook = false): StepOutcome => ({
  status: 'FAILED',
  isHook,
  text: isHook ? 'Before hook (steps/hooks.ts:3)' : 'Then it works',
  message: `${type}: ${message}\n    at somewhere`,
  exception: { type, message },
});

describe('classifyVerdict', () => {
  it('reads the error name from the type, or from the message when the name was set by hand', () => {
    expect(errorName({ exception: { type: 'CardError', message: 'x' } })).toBe('CardError');
    expect(errorName({ exception: { type: 'Error', message: 'x', stackTrace: 'InconclusiveError: x\n at y' } })).toBe('InconclusiveError');
    expect(errorName({ message: 'AssertionError [ERR_ASSERTION]: a == b' })).toBe('AssertionError');
    expect(errorName({})).toBe('Error');
  });

  it('maps failures to FAIL, ERROR or INCONCLUSIVE', () => {
    expect(classifyVerdict({ steps: [passed(), failed('CardError', 'SW 6A88')], markers: [] })).toEqual({ verdict: 'FAIL', reason: '"Then it works": CardError: SW 6A88' });
    expect(classifyVerdict({ steps: [failed('TypeError', 'x is undefined')], markers: [] }).verdict).toBe('ERROR');
    expect(classifyVerdict({ steps: [failed('Error', 'HARNESS: fixture missing')], markers: [] }).verdict).toBe('ERROR');
    expect(classifyVerdict({ steps: [failed('CardError', 'no reader', true)], markers: [] })).toEqual({ verdict: 'ERROR', reason: '"Before hook (steps/hooks.ts:3)" failed: CardError: no reader' });
    expect(classifyVerdict({ steps: [failed('InconclusiveError', 'card removed', true)], markers: [] })).toEqual({ verdict: 'INCONCLUSIVE', reason: 'card removed' });
    expect(classifyVerdict({ steps: [failed('Error', 'INCONCLUSIVE: budget exhausted')], markers: [] })).toEqual({ verdict: 'INCONCLUSIVE', reason: 'budget exhausted' });
    // A driver error after the harness recorded why it could not decide.
    expect(classifyVerdict({ steps: [failed('DriverError', 'timeout')], markers: [{ verdict: 'INCONCLUSIVE', reason: 'card removed', source: 'trace' }] })).toEqual({ verdict: 'INCONCLUSIVE', reason: 'card removed' });
    // A PASS marker never hides a failure.
    expect(classifyVerdict({ steps: [failed('CardError', 'bad')], markers: [{ verdict: 'PASS', source: 'trace' }] }).verdict).toBe('FAIL');
    // Custom rules.
    expect(classifyVerdict({ steps: [failed('DriverError', 'reader gone')], markers: [] }, { inconclusiveErrors: ['DriverError'], harnessErrors: [] }).verdict).toBe('INCONCLUSIVE');
  });

  it('never lets a skip pass silently', () => {
    const skipped: StepOutcome = { status: 'SKIPPED', isHook: false };
    expect(classifyVerdict({ steps: [{ ...skipped, isHook: true }, skipped], markers: [{ verdict: 'NOT_APPLICABLE', reason: 'no reader', source: 'attachment' }] })).toEqual({ verdict: 'NOT_APPLICABLE', reason: 'no reader' });
    expect(classifyVerdict({ steps: [passed(), skipped], markers: [] })).toEqual({ verdict: 'ERROR', reason: 'skipped without an applicability reason' });
    expect(classifyVerdict({ steps: [{ status: 'UNDEFINED', isHook: false, text: 'When x' }], markers: [] })).toEqual({ verdict: 'ERROR', reason: 'step "When x" is undefined' });
    expect(classifyVerdict({ steps: [{ status: 'AMBIGUOUS', isHook: false }], markers: [] }).reason).toBe('step a step is ambiguous');
    expect(classifyVerdict({ steps: [{ status: 'PENDING', isHook: false, text: 'Given y' }], markers: [] }).verdict).toBe('ERROR');
  });

  it('honours markers on passing attempts, the most severe first', () => {
    expect(classifyVerdict({ steps: [passed()], markers: [] })).toEqual({ verdict: 'PASS' });
    expect(
      classifyVerdict({
        steps: [passed()],
        markers: [
          { verdict: 'NOT_APPLICABLE', reason: 'a', source: 'trace' },
          { verdict: 'INCONCLUSIVE', reason: 'b', source: 'attachment' },
        ],
      }),
    ).toEqual({ verdict: 'INCONCLUSIVE', reason: 'b' });
    expect(worstVerdict(['PASS', 'NOT_APPLICABLE', 'FAIL', 'INCONCLUSIVE'])).toBe('FAIL');
    expect(worstVerdict([])).toBeUndefined();
  });

  it('round-trips the marker attachment and rejects strangers', () => {
    const [body, type] = verdictAttachment('NOT_APPLICABLE', 'no reader');
    expect(type).toBe('application/vnd.tsmlab.verdict+json');
    expect(parseVerdictMarker(body)).toEqual({ verdict: 'NOT_APPLICABLE', reason: 'no reader', source: 'attachment' });
    expect(parseVerdictMarker('{"verdict":"MAYBE"}')).toBeUndefined();
    expect(parseVerdictMarker('not json')).toBeUndefined();
  });
});

describe('checkApplicability', () => {
  const ctx = { icsFeatures: { scp03: true, scp02: false, 'delegated-management': true }, capabilities: ['reader', 'power-control'] };
  it('applies when the ICS and the rig have everything the tags ask for', () => {
    expect(checkApplicability(['@REQ-GPC-11.5', '@ICS:SCP03', '@needs:reader', '@ICS:delegated-management'], ctx)).toEqual({ applicable: true });
  });
  it('names everything that is missing', () => {
    expect(checkApplicability(['@ICS:scp02', '@ICS:scp11', '@needs:field-control', '@needs:reader'], { ...ctx, profileName: 'jcop4' })).toEqual({
      applicable: false,
      reason: 'the ICS of profile "jcop4" does not claim "scp02", "scp11"; the rig lacks "field-control"',
      missingIcs: ['scp02', 'scp11'],
      missingCapabilities: ['field-control'],
    });
  });
  it('checks @sim-only and @real-card against the target', () => {
    expect(checkApplicability(['@sim-only'], { ...ctx, target: 'pcsc:ACS ACR39U' })).toMatchObject({ applicable: false, reason: 'the scenario runs on the simulator only (target is "pcsc:ACS ACR39U")' });
    expect(checkApplicability(['@real-card'], { ...ctx, target: 'sim' })).toMatchObject({ applicable: false, reason: 'the scenario needs a real card (target is the simulator)' });
    expect(checkApplicability(['@sim-only'], { ...ctx, target: 'sim' })).toEqual({ applicable: true });
  });
});

describe('requirements catalogue', () => {
  it('rejects malformed catalogues with the JSON path of the problem', () => {
    const bad = (json: unknown) => () => parseCatalogue(json, 'req.json');
    expect(bad([])).toThrow(CatalogueError);
    expect(bad({ requirements: [{ id: 'REQ-GPC-11.5', source: 'GPC', clause: '11.5' }] })).toThrow('req.json: $.requirements[0].title: must be a non-empty string');
    expect(bad({ requirements: [{ id: 'GPC-11.5', source: 'GPC', clause: '11.5', title: 't' }] })).toThrow('$.requirements[0].id: "GPC-11.5" is not of the form REQ-<source>-<clause>');
    expect(bad({ requirements: [{ id: 'REQ-GPC-1', source: 'PAT', clause: '1', title: 't' }] })).toThrow('$.requirements[0].source: "PAT" does not match the id "REQ-GPC-1"');
    const dup = { id: 'REQ-A-1', source: 'A', clause: '1', title: 't' };
    expect(bad({ requirements: [dup, dup] })).toThrow('$.requirements[1].id: "REQ-A-1" is listed twice');
  });

  it('aggregates requirement verdicts: problems first, PASS beats NOT_APPLICABLE', () => {
    expect(requirementVerdict([])).toBeUndefined();
    expect(requirementVerdict(['PASS', 'NOT_APPLICABLE'])).toBe('PASS');
    expect(requirementVerdict(['NOT_APPLICABLE'])).toBe('NOT_APPLICABLE');
    expect(requirementVerdict(['PASS', 'INCONCLUSIVE'])).toBe('INCONCLUSIVE');
    expect(requirementVerdict(['INCONCLUSIVE', 'FAIL', 'PASS'])).toBe('FAIL');
  });

  it('the repository catalogue is valid and covers every @REQ- tag of the features', async () => {
    const { loadCatalogue, requirementTags } = await import('./requirements.ts');
    const { readdirSync, readFileSync, statSync } = await import('node:fs');
    const path = await import('node:path');
    const root = new URL('../features/', import.meta.url).pathname;
    const cat = loadCatalogue(path.join(root, 'requirements.json'));
    const tags = new Set<string>();
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = path.join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (n.endsWith('.feature')) for (const t of readFileSync(p, 'utf8').match(/@REQ-[^\s]+/g) ?? []) tags.add(t);
      }
    };
    walk(root);
    const t = buildTraceability(cat, [{ name: 'all features', uri: '', tags: [...tags], verdict: 'PASS', href: '#' }]);
    expect(t.unknownTags.map((u) => u.id)).toEqual([]);
    expect(requirementTags(tags).length).toBeGreaterThan(0);
  });
});
