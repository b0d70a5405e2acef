/**
 * Real-card safety interlocks, enforced on the channel every real-card run goes through (GuardedCard):
 *  - refuse to start when the card's ATR (masked) or CPLC differ from its profile;
 *  - a failed-authentication budget per card (default 3): EXTERNAL AUTHENTICATE answered 6300/6982 and card
 *    cryptogram mismatches count; when it is spent the run ends for that card as INCONCLUSIVE;
 *  - the card cryptogram of INITIALIZE UPDATE is checked against the profile's keys before an EXTERNAL
 *    AUTHENTICATE can go out; a mismatch stops the scenario as INCONCLUSIVE and no authentication is tried
 *    again through this guard (never an automatic retry);
 *  - commands that can make a card unusable (SET STATUS to CARD_LOCKED/TERMINATED, PUT KEY replacing the
 *    known key set, DELETE of the ISD or central SD or of the known keys) go out only when the scenario is
 *    @destructive, the profile says the sample is sacrificial, and the run was started with --allow-destructive.
 */
import {
  CardLifeCycle,
  cardLifeCycleName,
  commandHeader,
  encodeCommand,
  findKeyScheme,
  findTlv,
  fromHex,
  getData,
  GetDataTag,
  initializeUpdateHead,
  Ins,
  isGpClass,
  openSecureChannel,
  parseCommand,
  parseTlv,
  SecureChannelError,
  selectByAid,
  SW,
  swClass,
  tlv,
  toHex,
  type OpenedSecureChannel,
  type OpenSecureChannelOptions,
} from '../gp/index.ts';
import type { CardProfile, LoadedCardProfile, ResolvedCardKeys } from '../profiles/index.ts';
import { atrMatches, authBudgetOf, cplcBytes, cplcMismatches, parseCplc } from '../profiles/index.ts';
import { InconclusiveError } from '../trace/index.ts';
import { DriverError, type CardChannel, type TransmitOptions } from './channel.ts';
import { secureTransmit, type AnnotatedTransmitOptions } from './extensions.ts';

// The one InconclusiveError lives in trace/, where the verdict classifier knows it; drivers' callers get it here too.
export { InconclusiveError };

/** The harness refuses to go on: wrong sample, or a destructive step without all three permissions. */
export class SafetyError extends Error {
  constructor(
    message: string,
    readonly details: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'SafetyError';
  }
}

/**
 * The verdict meaning of a driver failure, for the step/hook edge: a card that was removed, a channel that
 * closed under the scenario, or an exchange past its deadline leave the outcome undecided, so they become
 * InconclusiveError with the driver's reason. Anything else is returned unchanged.
 */
export function inconclusiveFromDriver(e: unknown): unknown {
  if (e instanceof DriverError && (e.kind === 'removed' || e.kind === 'closed' || e.kind === 'timeout')) {
    const what = e.kind === 'removed' ? 'card removed' : e.kind === 'closed' ? 'card channel closed' : 'card did not answer in time';
    return new InconclusiveError(`${what}: ${e.message}`);
  }
  return e;
}

// ---------------------------------------------------------------------------------------------- destructive

export interface DestructiveContext {
  /** Tags of the running scenario, with or without '@'. */
  scenarioTags: Iterable<string>;
  /** The card profile marks the sample as sacrificial. */
  sacrificial: boolean;
  /** The run was started with --allow-destructive. */
  allowDestructive: boolean;
}

/** What is missing for a destructive operation, or undefined when all three permissions are there. */
export function destructiveRefusal(ctx: DestructiveContext): string | undefined {
  const tagged = [...ctx.scenarioTags].some((t) => t.replace(/^@/, '').toLowerCase() === 'destructive');
  const missing = [
    ...(tagged ? [] : ['the scenario is not tagged @destructive']),
    ...(ctx.sacrificial ? [] : ['the card profile does not mark the sample sacrificial']),
    ...(ctx.allowDestructive ? [] : ['the run was not started with --allow-destructive']),
  ];
  return missing.length ? missing.join('; ') : undefined;
}

/** Throws SafetyError unless the scenario is @destructive, the sample sacrificial and the run allows it. */
export function assertDestructiveAllowed(ctx: DestructiveContext, what = 'a destructive operation'): void {
  const why = destructiveRefusal(ctx);
  if (why) throw new SafetyError(`refused ${what}: ${why}`, { operation: what, missing: why });
}

export interface KnownCard {
  isdAid: string;
  centralSdAid?: string;
  /** Key version of the key set the harness knows (the profile's). */
  kvn: number;
}

/** The command's data field; a command gp cannot parse gives all it carries after the header (the cautious reading). */
function body(command: Uint8Array): Uint8Array {
  try {
    return parseCommand(command).data ?? new Uint8Array(0);
  } catch {
    return command.subarray(Math.min(command.length, 5));
  }
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * Why `command` could make the card unusable, or undefined. `plain` is the command before secure-channel
 * wrapping when the sender knows it; without it, a DELETE whose data cannot be read counts as destructive.
 * `selected` is the AID of the selected SD when known: PUT KEY over the known key version matters in the ISD and
 * the central SD (whose keys the lab holds), not in a service provider's SD getting its first own keys.
 */
export function destructiveReason(command: Uint8Array, known: KnownCard, plain?: Uint8Array, selected?: string): string | undefined {
  const c = plain ?? command;
  if (c.length < 4) return undefined;
  const { cla, ins, p1, p2 } = commandHeader(c);
  if ((cla & 0x80) === 0) return undefined;
  if (ins === Ins.SET_STATUS && p1 === 0x80 && (p2 === CardLifeCycle.CARD_LOCKED || p2 === CardLifeCycle.TERMINATED)) {
    return `SET STATUS of the card to ${cardLifeCycleName(p2)}`;
  }
  const keysTheLabHolds = !selected || [known.isdAid, known.centralSdAid].some((a) => a?.toUpperCase() === selected.toUpperCase());
  if (ins === Ins.PUT_KEY && keysTheLabHolds && (p1 & 0x7f) !== 0 && (p1 & 0x7f) === known.kvn) {
    return `PUT KEY replacing key set ${toHex(Uint8Array.of(known.kvn))}, the last known keys`;
  }
  if (ins === Ins.DELETE) {
    const data = body(c);
    const targets: [string, string][] = [[known.isdAid, 'the ISD']];
    if (known.centralSdAid) targets.push([known.centralSdAid, 'the central SD']);
    for (const [aid, name] of targets) {
      const a = fromHex(aid);
      if (contains(data, tlv(0x4f, a))) return `DELETE of ${name} (${aid.toUpperCase()})`;
    }
    // Deleting keys: 'D2' key version number (Table 11-24).
    if (contains(data, tlv(0xd2, Uint8Array.of(known.kvn)))) return `DELETE of key set ${toHex(Uint8Array.of(known.kvn))}, the last known keys`;
    const encrypted = !plain && (cla & 0x04) !== 0 && data[0] !== 0x4f && data[0] !== 0xd0 && data[0] !== 0xd2;
    if (encrypted) return 'DELETE whose target cannot be read (encrypted, and no plain command was given)';
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------- auth budget

/** Failed authentications tolerated on one card during a run. */
export class AuthBudget {
  private readonly failureReasons: string[] = [];

  constructor(
    /** Which card (profile and IC serial number). */
    readonly card: string,
    readonly limit = 3,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`authentication budget must be a positive integer, got ${limit}`);
  }

  get failures(): number {
    return this.failureReasons.length;
  }
  get remaining(): number {
    return Math.max(0, this.limit - this.failures);
  }
  get exhausted(): boolean {
    return this.failures >= this.limit;
  }
  get reasons(): readonly string[] {
    return this.failureReasons;
  }

  recordFailure(reason: string): void {
    this.failureReasons.push(reason);
  }

  /** "failed authentications: 2 of 3" */
  describe(): string {
    return `failed authentications on ${this.card}: ${this.failures} of ${this.limit}`;
  }

  /** Throws InconclusiveError once the budget is spent. */
  assertAvailable(): void {
    if (this.exhausted) {
      throw new InconclusiveError(
        `authentication budget spent (${this.describe()}: ${this.failureReasons.join('; ')}); the run stops for this card before it locks itself`,
      );
    }
  }
}

/**
 * The budgets of the cards one run reaches, by card (profile and IC serial number): a card's failed
 * authentications count across every scenario of the run. The run owns it and hands it to every guard.
 */
export class AuthBudgets {
  private readonly byCard = new Map<string, AuthBudget>();

  /** The budget of `card`, created with `limit` on first use. */
  for(card: string, limit: number): AuthBudget {
    let b = this.byCard.get(card);
    if (!b) {
      b = new AuthBudget(card, limit);
      this.byCard.set(card, b);
    }
    return b;
  }
}

// ------------------------------------------------------------------------------------------- sample check

export interface SampleIdentity {
  atr: Uint8Array;
  /** The CPLC (42 bytes) when the card gave it. */
  cplc?: Uint8Array;
  /** IC serial number from the CPLC (hex). */
  icSerial?: string;
}

const selectIsd = (aid: string) => encodeCommand(selectByAid(fromHex(aid)));
const GET_CPLC = encodeCommand(getData(GetDataTag.CPLC));
const swOf = (r: Uint8Array) => (r.length >= 2 ? (r[r.length - 2] << 8) | r[r.length - 1] : -1);

/** Reads the ATR and CPLC and refuses (SafetyError with both values) when they do not match the profile. */
export async function verifySample(channel: CardChannel, profile: CardProfile, opts: TransmitOptions = {}): Promise<SampleIdentity> {
  const name = `profile "${profile.profile}"`;
  const atr = await channel.atr(opts);
  if (!atrMatches(profile, atr)) {
    const expected = profile.ixit.atr.mask ? `${profile.ixit.atr.value.toUpperCase()} (mask ${profile.ixit.atr.mask.toUpperCase()})` : profile.ixit.atr.value.toUpperCase();
    throw new SafetyError(`refusing to run: the card's ATR ${toHex(atr)} does not match ${name}: expected ${expected}`, {
      expected,
      actual: toHex(atr),
    });
  }
  await channel.transmit(selectIsd(profile.ixit.isdAid), opts);
  const r = await channel.transmit(GET_CPLC, opts);
  const wantCplc = Object.keys(profile.ixit.cplc ?? {}).length > 0;
  if (swOf(r) !== SW.OK) {
    if (wantCplc) {
      throw new SafetyError(`refusing to run: the card did not give its CPLC (GET DATA 9F7F answered ${toHex(r.subarray(-2))}); ${name} expects one`, {
        expected: 'CPLC',
        actual: toHex(r),
      });
    }
    return { atr };
  }
  const data = r.subarray(0, -2);
  const mismatches = cplcMismatches(profile, data);
  if (mismatches.length) {
    const list = mismatches.map((m) => `${m.field} expected ${m.expected}, card has ${m.actual}`).join('; ');
    throw new SafetyError(`refusing to run: the card's CPLC does not match ${name}: ${list}`, {
      expected: mismatches.map((m) => `${m.field}=${m.expected}`).join(','),
      actual: mismatches.map((m) => `${m.field}=${m.actual}`).join(','),
    });
  }
  const fields = parseCplc(data);
  const raw = cplcBytes(data);
  return { atr, cplc: fields && raw ? raw.slice() : undefined, icSerial: fields?.icSerialNumber };
}

// ------------------------------------------------------------------------------------------- guarded card

export interface GuardOptions {
  profile: LoadedCardProfile;
  /** The ISD keys of the profile, resolved: with them the guard checks card cryptograms itself. */
  keys?: ResolvedCardKeys;
  destructive: DestructiveContext;
  /** The run's budgets: the guard takes the one of this profile and IC serial number. */
  budgets: AuthBudgets;
  /** A budget of its own instead (tests). */
  budget?: AuthBudget;
  /** Deadline for the identity check exchanges. */
  timeoutMs?: number;
}

/**
 * A CardChannel that enforces the interlocks around another one. Open it with GuardedCard.open (which checks
 * the sample first); the harness maps InconclusiveError to INCONCLUSIVE and SafetyError to a refusal.
 */
export class GuardedCard implements CardChannel {
  readonly name: string;
  private selected: string;
  private hostChallenge: Uint8Array | undefined;
  /** A card cryptogram mismatch was seen: no more authentication through this guard. */
  private mismatch: string | undefined;
  private readonly known: KnownCard;

  private constructor(
    private readonly inner: CardChannel,
    private readonly opts: GuardOptions,
    readonly identity: SampleIdentity,
    readonly budget: AuthBudget,
  ) {
    this.name = `guarded:${inner.name}`;
    const ixit = opts.profile.profile.ixit;
    this.known = { isdAid: ixit.isdAid.toUpperCase(), centralSdAid: ixit.centralSdAid?.toUpperCase(), kvn: ixit.secureChannel.kvn };
    this.selected = this.known.isdAid;
  }

  /** Checks the sample (ATR, CPLC) and wraps the channel; SafetyError when it is not the profile's card. */
  static async open(inner: CardChannel, opts: GuardOptions): Promise<GuardedCard> {
    const p = opts.profile.profile;
    const identity = await verifySample(inner, p, { timeoutMs: opts.timeoutMs });
    const who = `${p.profile}/${identity.icSerial ?? toHex(identity.atr)}`;
    const budget = opts.budget ?? opts.budgets.for(who, authBudgetOf(p));
    const guard = new GuardedCard(inner, opts, identity, budget);
    return guard;
  }

  /** For host code that found a card cryptogram mismatch the guard could not check (an SD other than the ISD). */
  reportAuthFailure(reason: string): never {
    this.mismatch = reason;
    this.budget.recordFailure(reason);
    throw new InconclusiveError(`${reason}; authentication is not retried (${this.budget.describe()})`);
  }

  assertDestructiveAllowed(what: string): void {
    assertDestructiveAllowed(this.opts.destructive, what);
  }

  async transmit(command: Uint8Array, opts?: AnnotatedTransmitOptions): Promise<Uint8Array> {
    this.budget.assertAvailable();
    const { cla, ins, p1 } = command.length >= 4 ? commandHeader(command) : { cla: command[0], ins: -1, p1: -1 };
    const isAuth = isGpClass(cla) && (ins === Ins.INITIALIZE_UPDATE || ins === Ins.EXTERNAL_AUTHENTICATE);
    if (isAuth && this.mismatch) {
      throw new InconclusiveError(`${this.mismatch}; no further authentication is sent to this card in this scenario (never an automatic retry)`);
    }
    const plain = opts?.annotate?.plainHex ? fromHex(opts.annotate.plainHex) : undefined;
    const danger = destructiveReason(command, this.known, plain, this.selected);
    if (danger) this.assertDestructiveAllowed(danger);
    if (ins === Ins.INITIALIZE_UPDATE && isGpClass(cla)) this.hostChallenge = body(command).slice();

    const response = await this.inner.transmit(command, opts);
    const sw = swOf(response);

    // A warning ('6283': CARD_LOCKED, the Final Application selected) still selects: the SD changed all the same.
    if (ins === Ins.SELECT && p1 === 0x04 && (sw === SW.OK || swClass(sw) === 'warning')) this.noteSelected(command, response);
    if (ins === Ins.INITIALIZE_UPDATE && isGpClass(cla) && sw === SW.OK) this.checkCardCryptogram(command, response.subarray(0, -2));
    if (ins === Ins.EXTERNAL_AUTHENTICATE && isGpClass(cla) && (sw === SW.AUTH_FAILED || sw === SW.SECURITY_STATUS_NOT_SATISFIED)) {
      this.budget.recordFailure(`EXTERNAL AUTHENTICATE answered ${toHex(response.subarray(-2))}`);
      this.budget.assertAvailable();
    }
    return response;
  }

  private noteSelected(command: Uint8Array, response: Uint8Array): void {
    try {
      const fci = findTlv(parseTlv(response.subarray(0, -2)), 0x6f);
      const aid = fci && findTlv(fci.children, 0x84);
      if (aid) {
        this.selected = toHex(aid.value);
        return;
      }
    } catch {
      // No parsable FCI: fall back to the AID that was asked for.
    }
    const data = body(command);
    this.selected = data.length ? toHex(data) : this.known.isdAid;
  }

  private checkCardCryptogram(command: Uint8Array, data: Uint8Array): void {
    const keys = this.opts.keys;
    const challenge = this.hostChallenge;
    this.hostChallenge = undefined;
    // Only the ISD's key set is known to the profile; other SDs' mismatches are reported by the host code.
    const head = initializeUpdateHead(data);
    if (!keys || !challenge || this.selected !== this.known.isdAid || !head) return;
    if (head.kvn !== keys.kvn) return;
    const check = keys.keyScheme === 'none' ? (head.scpId === 0x02 ? keys.enc : keys.mac) : keys.master;
    if (!check) return;
    const scheme = keys.keyScheme;
    if (findKeyScheme(data, challenge, check, [scheme])) return;
    const reason =
      `card cryptogram mismatch on INITIALIZE UPDATE (ISD ${this.known.isdAid}, key set ${toHex(Uint8Array.of(keys.kvn))}, ` +
      `key scheme ${scheme}): the keys of ${this.opts.profile.source} are not this card's; EXTERNAL AUTHENTICATE not sent`;
    this.mismatch = reason;
    this.budget.recordFailure(reason);
    throw new InconclusiveError(`${reason} (${this.budget.describe()})`);
  }

  atr(opts?: TransmitOptions): Promise<Uint8Array> {
    return this.inner.atr(opts);
  }

  async reset(cold?: boolean, opts?: TransmitOptions): Promise<Uint8Array> {
    const atr = await this.inner.reset(cold, opts);
    this.selected = this.known.isdAid;
    this.hostChallenge = undefined;
    return atr;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * Opens a secure channel through the guard with gp's openSecureChannel (card cryptogram checked before
 * EXTERNAL AUTHENTICATE). A mismatch the guard could not see itself (keys it does not hold, another SD) is
 * reported to it: counted against the budget and turned into InconclusiveError; nothing is retried.
 */
export async function openGuardedSecureChannel(guard: GuardedCard, opts: OpenSecureChannelOptions): Promise<OpenedSecureChannel> {
  try {
    return await openSecureChannel(secureTransmit(guard), opts);
  } catch (e) {
    if (e instanceof SecureChannelError && e.kind === 'card-cryptogram-mismatch') {
      guard.reportAuthFailure(`card cryptogram mismatch on INITIALIZE UPDATE (${e.message}); EXTERNAL AUTHENTICATE not sent`);
    }
    throw e;
  }
}
