/**
 * Safety interlocks against the real simulated SE, which locks itself after a configurable number of failed
 * EXTERNAL AUTHENTICATEs (authFailureLimit): wrong keys spend the budget and end as INCONCLUSIVE before the
 * card locks; a card cryptogram mismatch stops before EXTERNAL AUTHENTICATE; wrong samples are refused;
 * destructive commands need all three permissions.
 */
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { CardError, encodeCommand, fromHex, parseResponse, Scp02Host, toHex, type KeySet } from '../gp/index.ts';
import { parseCardProfile, resolveCardKeys, type CardProfile, type LoadedCardProfile } from '../profiles/index.ts';
import { createSimulatedSe, defaultKeySet, defaultSeSpec, type SimulatedSe } from '../simulator/index.ts';
import { DriverError } from './channel.ts';
import { InProcessChannel } from './inproc.ts';
import {
  assertDestructiveAllowed,
  AuthBudget,
  destructiveReason,
  GuardedCard,
  InconclusiveError,
  inconclusiveFromDriver,
  openGuardedSecureChannel,
  AuthBudgets,
  SafetyError,
  verifySample,
  type DestructiveContext,
} from './safety.ts';

const ISD = 'A000000151000000';
const CENTRAL = 'F043454E5452414C2E5344';
const RIGHT = '404142434445464748494A4B4C4D4E4F';
const WRONG = '000102030405060708090A0B0C0D0E0F';
const KVN = 0x20;

/** A simulated SCP02 card (i=55) that locks itself after `limit` failed EXTERNAL AUTHENTICATEs; logs INS bytes it receives. */
function scp02Card(limit = 5, cplc: Record<string, string> = {}): { se: SimulatedSe; seen: string[] } {
  return logged(
    createSimulatedSe(
      defaultSeSpec({ seId: 'se-safety', isdKeys: defaultKeySet({ scp: '02', key: RIGHT, kvn: KVN, i: '55' }), authFailureLimit: limit, cplc }),
    ),
  );
}

/** The SE with CLA INS of every command it receives appended to `seen`: what reached the card. */
function logged(se: SimulatedSe): { se: SimulatedSe; seen: string[] } {
  const seen: string[] = [];
  const process = se.process.bind(se);
  se.process = (c: Uint8Array) => {
    seen.push(toHex(c.subarray(0, 2)));
    return process(c);
  };
  return { se, seen };
}

function profile(edit: (p: CardProfile) => void = () => {}): LoadedCardProfile {
  const p = JSON.parse(readFileSync(new URL('../profiles/examples/sim-scp02.json', import.meta.url), 'utf8')) as CardProfile;
  edit(p);
  return parseCardProfile(p, { source: 'sim-scp02.json' });
}

const keyEnv = (key: string) => ({ TSMLAB_SCP02_ENC: key, TSMLAB_SCP02_MAC: key, TSMLAB_SCP02_DEK: key });
const allowed: DestructiveContext = { scenarioTags: ['@destructive'], sacrificial: true, allowDestructive: true };
const notAllowed: DestructiveContext = { scenarioTags: ['@smoke'], sacrificial: false, allowDestructive: false };

async function rejection(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!(e instanceof Error)) throw new Error('expected a rejection');
  return e;
}

/** INITIALIZE UPDATE and a deliberately wrong EXTERNAL AUTHENTICATE, as a broken host would send them. */
async function failedAuthentication(card: GuardedCard): Promise<string> {
  const host = new Scp02Host({ keys: { enc: fromHex(RIGHT), mac: fromHex(RIGHT), dek: fromHex(RIGHT) }, i: 0x55 });
  const iu = parseResponse(await card.transmit(encodeCommand(host.initializeUpdate(KVN, fromHex('0011223344556677')))));
  host.onInitializeUpdateResponse(iu.data);
  const ea = host.externalAuthenticate();
  ea.data![0] ^= 0xff;
  return toHex((await card.transmit(encodeCommand(ea))).subarray(-2));
}

// One run per test: a fresh book of budgets.
let budgets = new AuthBudgets();
beforeEach(() => {
  budgets = new AuthBudgets();
});

describe('sample identity', () => {
  it('accepts the simulated card its profile describes and reads its IC serial number', async () => {
    const { se } = scp02Card();
    const id = await verifySample(new InProcessChannel(se), profile().profile);
    expect(toHex(id.atr)).toBe(toHex(se.atr()));
    expect(id.icSerial).toMatch(/^[0-9A-F]{8}$/);
  });

  it('refuses a card whose ATR does not match, naming both ATRs', async () => {
    const { se } = scp02Card();
    const p = profile((q) => {
      q.ixit.atr = { value: '3B8C80018073C821136605036352000257' };
    });
    const e = await rejection(GuardedCard.open(new InProcessChannel(se), { profile: p, destructive: notAllowed, budgets }));
    expect(e).toBeInstanceOf(SafetyError);
    expect(e.message).toBe(`refusing to run: the card's ATR ${toHex(se.atr())} does not match profile "tsmlab-sim-scp02": expected 3B8C80018073C821136605036352000257`);
    expect((e as SafetyError).details).toEqual({ expected: '3B8C80018073C821136605036352000257', actual: toHex(se.atr()) });
  });

  it('refuses a card whose CPLC differs in a field the profile names', async () => {
    const { se } = scp02Card(5, { icType: 'AAAA' });
    const e = await rejection(GuardedCard.open(new InProcessChannel(se), { profile: profile(), destructive: notAllowed, budgets }));
    expect(e).toBeInstanceOf(SafetyError);
    expect(e.message).toBe(`refusing to run: the card's CPLC does not match profile "tsmlab-sim-scp02": icType expected 5167, card has AAAA`);
  });
});

describe('failed-authentication budget', () => {
  it('wrong authentications spend the budget (3), the run ends INCONCLUSIVE, and the card (limit 5) is never locked', async () => {
    const { se, seen } = scp02Card(5);
    // No keys for the guard: the EXTERNAL AUTHENTICATEs reach the card and fail there.
    const card = await GuardedCard.open(new InProcessChannel(se), { profile: profile(), destructive: notAllowed, budgets });
    expect(card.budget.limit).toBe(3);
    expect(await failedAuthentication(card)).toBe('6300');
    expect(await failedAuthentication(card)).toBe('6300');
    const third = await rejection(failedAuthentication(card));
    expect(third).toBeInstanceOf(InconclusiveError);
    expect(third.message).toMatch(/^INCONCLUSIVE: authentication budget spent \(failed authentications on tsmlab-sim-scp02\/[0-9A-F]{8}: 3 of 3: EXTERNAL AUTHENTICATE answered 6300; .*\); the run stops for this card before it locks itself$/);
    const before = seen.length;
    const fourth = await rejection(card.transmit(fromHex('80CA9F7F00')));
    expect(fourth).toBeInstanceOf(InconclusiveError);
    expect(seen.length).toBe(before);
    expect(se.inspect().auth).toMatchObject({ failures: 3, limit: 5, blocked: false });
    expect(se.inspect().lifeCycle).not.toBe('CARD_LOCKED');
  });

  it('the budget belongs to the card for the whole run: a second scenario’s guard starts where the first stopped', async () => {
    const { se } = scp02Card(5);
    const first = await GuardedCard.open(new InProcessChannel(se), { profile: profile(), destructive: notAllowed, budgets });
    expect(await failedAuthentication(first)).toBe('6300');
    const second = await GuardedCard.open(new InProcessChannel(se), { profile: profile(), destructive: notAllowed, budgets });
    expect(second.budget).toBe(first.budget);
    expect(second.budget.failures).toBe(1);
    const small = await GuardedCard.open(new InProcessChannel(se), { profile: profile(), destructive: notAllowed, budgets, budget: new AuthBudget('x', 1) });
    expect(await rejection(failedAuthentication(small))).toBeInstanceOf(InconclusiveError);
  });
});

describe('card cryptogram checked before EXTERNAL AUTHENTICATE', () => {
  it('with the wrong keys: INCONCLUSIVE on INITIALIZE UPDATE, EXTERNAL AUTHENTICATE never sent, no retry', async () => {
    const { se, seen } = scp02Card(5);
    const p = profile();
    const card = await GuardedCard.open(new InProcessChannel(se), { profile: p, keys: resolveCardKeys(p, keyEnv(WRONG)), destructive: notAllowed, budgets });
    const host = new Scp02Host({ keys: { enc: fromHex(WRONG), mac: fromHex(WRONG), dek: fromHex(WRONG) }, i: 0x55 });
    const e = await rejection(card.transmit(encodeCommand(host.initializeUpdate(KVN, fromHex('1122334455667788')))));
    expect(e).toBeInstanceOf(InconclusiveError);
    expect(e.message).toMatch(/^INCONCLUSIVE: card cryptogram mismatch on INITIALIZE UPDATE \(ISD A000000151000000, key set 20, key scheme none\): the keys of sim-scp02\.json are not this card's; EXTERNAL AUTHENTICATE not sent \(failed authentications on .*: 1 of 3\)$/);
    // Even a host that ignores the error cannot authenticate or try again through the guard.
    const ea = await rejection(card.transmit(fromHex('8482010010' + '00'.repeat(16))));
    expect(ea.message).toMatch(/^INCONCLUSIVE: card cryptogram mismatch.*never an automatic retry\)$/);
    const again = await rejection(card.transmit(encodeCommand(host.initializeUpdate(KVN, fromHex('1122334455667788')))));
    expect(again).toBeInstanceOf(InconclusiveError);
    expect(seen.filter((ins) => ins.endsWith('82'))).toEqual([]);
    expect(seen.filter((ins) => ins.endsWith('50'))).toHaveLength(1);
    expect(se.inspect().auth.failures).toBe(0);
    expect(card.budget.failures).toBe(1);
  });

  it('with the right keys: the channel opens and nothing is counted', async () => {
    const { se } = scp02Card(5);
    const p = profile();
    const card = await GuardedCard.open(new InProcessChannel(se), { profile: p, keys: resolveCardKeys(p, keyEnv(RIGHT)), destructive: notAllowed, budgets });
    const host = new Scp02Host({ keys: { enc: fromHex(RIGHT), mac: fromHex(RIGHT), dek: fromHex(RIGHT) }, i: 0x55 });
    const iu = parseResponse(await card.transmit(encodeCommand(host.initializeUpdate(KVN, fromHex('1122334455667788')))));
    host.onInitializeUpdateResponse(iu.data);
    expect(toHex(await card.transmit(encodeCommand(host.externalAuthenticate())))).toBe('9000');
    expect(card.budget.failures).toBe(0);
  });

  it('host code that finds a mismatch on another SD reports it: counted, INCONCLUSIVE, no retry', async () => {
    const { se } = scp02Card(5);
    const card = await GuardedCard.open(new InProcessChannel(se), { profile: profile(), destructive: notAllowed, budgets });
    expect(() => card.reportAuthFailure('card cryptogram mismatch on the SP SD')).toThrow(InconclusiveError);
    await expect(card.transmit(fromHex('8050000008' + '11'.repeat(8) + '00'))).rejects.toThrow(/never an automatic retry/);
    expect(card.budget.failures).toBe(1);
  });
});

describe('destructive operations', () => {
  const known = { isdAid: ISD, centralSdAid: CENTRAL, kvn: KVN };

  it('recognises what can make a card unusable, and what cannot', () => {
    expect(destructiveReason(fromHex('80F0807F00'), known)).toBe('SET STATUS of the card to CARD_LOCKED');
    expect(destructiveReason(fromHex('80F080FF00'), known)).toBe('SET STATUS of the card to TERMINATED');
    expect(destructiveReason(fromHex('80F0400F0BF043454E5452414C2E5344'), known)).toBeUndefined();
    expect(destructiveReason(fromHex(`80E400000A4F08${ISD}`), known)).toBe(`DELETE of the ISD (${ISD})`);
    expect(destructiveReason(fromHex(`80E400800D4F0B${CENTRAL}00`), known)).toBe(`DELETE of the central SD (${CENTRAL})`);
    expect(destructiveReason(fromHex('80E4000007 4F05F000000001'), known)).toBeUndefined();
    expect(destructiveReason(fromHex('80E4000003D20120'), known)).toBe('DELETE of key set 20, the last known keys');
    expect(destructiveReason(fromHex('80D8208100'), known)).toBe('PUT KEY replacing key set 20, the last known keys');
    expect(destructiveReason(fromHex('80D8008100'), known)).toBeUndefined();
    // In the ISD or the central SD the lab's keys are at stake; a service provider's new SD takes its own.
    expect(destructiveReason(fromHex('80D8208100'), known, undefined, ISD)).toBe('PUT KEY replacing key set 20, the last known keys');
    expect(destructiveReason(fromHex('80D8208100'), known, undefined, CENTRAL.toLowerCase())).toBe('PUT KEY replacing key set 20, the last known keys');
    expect(destructiveReason(fromHex('80D8208100'), known, undefined, 'F042414E4B434F2E5344')).toBeUndefined();
    // Under C-DECRYPTION the target is unreadable: destructive unless the plain command is given.
    const wrapped = fromHex('84E4000018' + 'A5'.repeat(16) + '0102030405060708');
    expect(destructiveReason(wrapped, known)).toMatch(/cannot be read/);
    expect(destructiveReason(wrapped, known, fromHex('80E40000074F05F000000001'))).toBeUndefined();
    expect(destructiveReason(wrapped, known, fromHex(`80E400000A4F08${ISD}`))).toBe(`DELETE of the ISD (${ISD})`);
  });

  it('assertDestructiveAllowed names every missing permission', () => {
    expect(() => assertDestructiveAllowed(notAllowed, 'SET STATUS of the card to TERMINATED')).toThrow(
      'refused SET STATUS of the card to TERMINATED: the scenario is not tagged @destructive; the card profile does not mark the sample sacrificial; the run was not started with --allow-destructive',
    );
    expect(() => assertDestructiveAllowed({ ...allowed, allowDestructive: false })).toThrow(/^refused a destructive operation: the run was not started with --allow-destructive$/);
    expect(() => assertDestructiveAllowed(allowed)).not.toThrow();
  });

  it('the guarded channel never transmits a destructive command without all three, and does with them', async () => {
    const { se, seen } = scp02Card();
    const guarded = await GuardedCard.open(new InProcessChannel(se), { profile: profile(), destructive: { ...allowed, sacrificial: false }, budgets });
    const before = seen.length;
    const e = await rejection(guarded.transmit(fromHex('80F0807F00')));
    expect(e).toBeInstanceOf(SafetyError);
    expect(e.message).toBe('refused SET STATUS of the card to CARD_LOCKED: the card profile does not mark the sample sacrificial');
    await expect(guarded.transmit(fromHex(`80E400000A4F08${ISD}00`))).rejects.toThrow(/refused DELETE of the ISD/);
    expect(seen.length).toBe(before);
    // An ordinary command passes.
    expect(toHex((await guarded.transmit(fromHex('80CA9F7F00'))).subarray(-2))).toBe('9000');
    const open = await GuardedCard.open(new InProcessChannel(se), { profile: profile(), destructive: allowed, budgets });
    const r = await open.transmit(fromHex('80F0807F00'));
    // It reached the card (which wants a secure channel for it).
    expect(seen.at(-1)).toBe('80F0');
    expect(r.length).toBe(2);
  });
});

describe('with gp openSecureChannel (SCP03) through the guard', () => {
  const SCP03_KVN = 0x30;
  function scp03Card(limit = 5): { se: SimulatedSe; seen: string[] } {
    return logged(createSimulatedSe(defaultSeSpec({ seId: 'se-scp03', isdKeys: defaultKeySet({ scp: '03', key: RIGHT, kvn: SCP03_KVN }), authFailureLimit: limit })));
  }
  const scp03Profile = (keys: 'env' | 'none' = 'env') =>
    parseCardProfile(
      (() => {
        const p = JSON.parse(readFileSync(new URL('../profiles/examples/sim-scp03.json', import.meta.url), 'utf8')) as CardProfile;
        p.ixit.keys = keys === 'env' ? { enc: 'env:K_ENC', mac: 'env:K_MAC', dek: 'env:K_DEK' } : p.ixit.keys;
        return p;
      })(),
      { source: 'sim-scp03.json' },
    );
  const env3 = (key: string) => ({ K_ENC: key, K_MAC: key, K_DEK: key });
  const keySet = (key: string): KeySet => ({ scp: '03', kvn: SCP03_KVN, enc: fromHex(key), mac: fromHex(key), dek: fromHex(key) });

  it('right keys: the channel opens and a command goes through it', async () => {
    const { se } = scp03Card();
    const p = scp03Profile();
    const guard = await GuardedCard.open(new InProcessChannel(se), { profile: p, keys: resolveCardKeys(p, env3(RIGHT)), destructive: notAllowed, budgets });
    const sc = await openGuardedSecureChannel(guard, { keys: keySet(RIGHT), level: 0x01 });
    expect((await sc.transmitSecure({ cla: 0x80, ins: 0xca, p1: 0x00, p2: 0x66, le: 256 })).sw).toBe(0x9000);
    expect(guard.budget.failures).toBe(0);
  });

  it('the host code’s own check: keys the guard does not hold are wrong → counted, INCONCLUSIVE, EXTERNAL AUTHENTICATE never sent', async () => {
    const { se, seen } = scp03Card();
    const guard = await GuardedCard.open(new InProcessChannel(se), { profile: scp03Profile(), destructive: notAllowed, budgets });
    const e = await rejection(openGuardedSecureChannel(guard, { keys: keySet(WRONG), level: 0x01 }));
    expect(e).toBeInstanceOf(InconclusiveError);
    expect(e.message).toMatch(/^INCONCLUSIVE: card cryptogram mismatch on INITIALIZE UPDATE .*EXTERNAL AUTHENTICATE not sent; authentication is not retried \(failed authentications on .*: 1 of 3\)$/);
    expect(seen.filter((h) => h.endsWith('82'))).toEqual([]);
    expect(se.inspect().auth.failures).toBe(0);
    // No automatic retry: the next attempt through this guard is refused before it reaches the card.
    const before = seen.length;
    await expect(openGuardedSecureChannel(guard, { keys: keySet(RIGHT), level: 0x01 })).rejects.toThrow(/never an automatic retry/);
    expect(seen.length).toBe(before);
  });

  it('the guard’s own check: the profile’s keys are wrong → it stops at INITIALIZE UPDATE even if the host would go on', async () => {
    const { se, seen } = scp03Card();
    const p = scp03Profile();
    const guard = await GuardedCard.open(new InProcessChannel(se), { profile: p, keys: resolveCardKeys(p, env3(WRONG)), destructive: notAllowed, budgets });
    // The host holds the right keys, the profile does not: the guard's check decides, before EXTERNAL AUTHENTICATE.
    const e = await rejection(openGuardedSecureChannel(guard, { keys: keySet(RIGHT), level: 0x01 }));
    expect(e).toBeInstanceOf(InconclusiveError);
    expect(e.message).toMatch(/key scheme none\): the keys of sim-scp03\.json are not this card's; EXTERNAL AUTHENTICATE not sent/);
    expect(seen.filter((h) => h.endsWith('82'))).toEqual([]);
    expect(guard.budget.failures).toBe(1);
  });

  it('a wrong EXTERNAL AUTHENTICATE answer (6300) is counted and reaches the caller as a CardError until the budget is spent', async () => {
    const { se } = scp03Card(5);
    const guard = await GuardedCard.open(new InProcessChannel(se), { profile: scp03Profile(), destructive: notAllowed, budgets, budget: new AuthBudget('scp03', 2) });
    // A host that gets the card cryptogram right but sends a broken host cryptogram.
    const broken = (c: Uint8Array) => (c[1] === 0x82 ? guard.transmit(Uint8Array.from(c, (b, n) => (n === 5 ? b ^ 0xff : b))) : guard.transmit(c));
    const { openSecureChannel } = await import('../gp/index.ts');
    expect(await rejection(openSecureChannel(broken, { keys: keySet(RIGHT), level: 0x01 }))).toBeInstanceOf(CardError);
    expect(await rejection(openSecureChannel(broken, { keys: keySet(RIGHT), level: 0x01 }))).toBeInstanceOf(InconclusiveError);
    expect(se.inspect().auth).toMatchObject({ failures: 2, blocked: false });
  });
});

describe('driver failures at the verdict edge', () => {
  it('a removed card, a closed channel or a missed deadline become INCONCLUSIVE with the reason; others pass through', () => {
    const removed = inconclusiveFromDriver(new DriverError('removed', 'pcsc:R: the card was removed from the reader'));
    expect(removed).toBeInstanceOf(InconclusiveError);
    expect((removed as Error).message).toBe('INCONCLUSIVE: card removed: pcsc:R: the card was removed from the reader');
    expect((inconclusiveFromDriver(new DriverError('timeout', 'x')) as Error).message).toBe('INCONCLUSIVE: card did not answer in time: x');
    const protocol = new DriverError('protocol', 'bad');
    expect(inconclusiveFromDriver(protocol)).toBe(protocol);
    const other = new TypeError('bug');
    expect(inconclusiveFromDriver(other)).toBe(other);
  });
});
