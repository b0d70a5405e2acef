/**
 * The card side of a secure channel, common to SCP02 (scp02-card.ts) and SCP03 (scp03-card.ts): the session
 * state, the checks INITIALIZE UPDATE and EXTERNAL AUTHENTICATE make before any cryptography, and the abort rule
 * (a security error ends the session and further commands are refused until a new session or selection:
 * GPCS E.1.6, Amd D §5.6). Each protocol brings its cryptography through the abstract members.
 * Never throws on card input: every failure is a status word, as a card would answer.
 */
import { randomBytes } from 'node:crypto';
import type { CommandApdu, ResponseApdu } from './apdu.ts';
import { equalBytes } from './bytes.ts';
import type { SessionKeys } from './secure-channel.ts';

/** Status words both card sides answer with (GPCS E.5, Amd D Tables 7-4 and 7-7, GPCS §11.1.3). */
export const CardSecureChannelSw = {
  OK: 0x9000,
  AUTH_FAILED: 0x6300,
  WRONG_LENGTH: 0x6700,
  SECURITY_NOT_SATISFIED: 0x6982,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  WRONG_P1P2: 0x6a86,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
} as const;

/** One key set of a security domain as the card keeps it. */
export interface CardKeySet<Keys> {
  kvn: number;
  keys: Keys;
  /** Sequence counter of this key set (0 after creation or full replacement). */
  sequenceCounter: number;
}

export interface CardSecureChannelOptions<KeySet> {
  /** The key set with this KVN; for KVN 0 the first available one. Undefined → 6A88. */
  findKeySet(kvn: number): KeySet | undefined;
  /** Key diversification data returned in INITIALIZE UPDATE (10 bytes). */
  kdd: Uint8Array;
  /** AID of the security domain (context of the pseudo-random card challenge). */
  aid: Uint8Array;
  /** i parameter (SCP02 default '15'; SCP03 default '70': pseudo-random challenge, R-MAC and R-ENCRYPTION, S8). */
  i?: number;
  /** Random source for random card challenges; default node:crypto. */
  random?: (length: number) => Uint8Array;
  /**
   * The counter of `kvn` is now `value`: persist it. SCP02 counts on the first verified C-MAC (E.1.2);
   * SCP03 on each INITIALIZE UPDATE in pseudo-random mode (§6.2.2.1).
   */
  onSequenceCounter?(kvn: number, value: number): void;
}

export type CardUnwrapResult = { ok: true; command: CommandApdu } | { ok: false; sw: number };

/** What every open card-side session knows. */
export interface CardSession {
  kvn: number;
  level: number;
  keys: SessionKeys;
}

/**
 * `Pending` is what INITIALIZE UPDATE leaves for EXTERNAL AUTHENTICATE; `Session` what EXTERNAL AUTHENTICATE
 * opens. Subclasses fill in the cryptography; the order of the checks (and so the status word a malformed
 * command gets) is decided here once.
 */
export abstract class CardSecureChannelBase<KeySet, Pending, Session extends CardSession> {
  readonly i: number;
  protected readonly opts: CardSecureChannelOptions<KeySet>;
  /** Host challenge, cryptogram and MAC length. */
  protected readonly blockLength: 8 | 16;
  protected pending?: Pending;
  protected session?: Session;
  private aborted = false;

  /** `name` ('SCP02', 'SCP03') prefixes the construction errors. */
  protected constructor(name: string, opts: CardSecureChannelOptions<KeySet>, i: number, blockLength: 8 | 16) {
    if (opts.kdd.length !== 10) throw new RangeError(`${name} card: key diversification data must be 10 bytes, got ${opts.kdd.length}`);
    this.opts = opts;
    this.i = i;
    this.blockLength = blockLength;
  }

  get isOpen(): boolean {
    return this.session !== undefined;
  }

  /** Current security level, or undefined when no session is open. */
  get level(): number | undefined {
    return this.session?.level;
  }

  /** KVN of the open session. */
  get kvn(): number | undefined {
    return this.session?.kvn;
  }

  get sessionKeys(): Session['keys'] | undefined {
    return this.session?.keys;
  }

  /** Ends the session (new selection, reset, power off, logical channel closed). */
  reset(): void {
    this.pending = undefined;
    this.session = undefined;
    this.aborted = false;
  }

  /** INITIALIZE UPDATE (GPCS E.5.1, Amd D §7.1.1). Any earlier session ends here. */
  handleInitializeUpdate(command: CommandApdu): ResponseApdu {
    this.reset();
    const hostChallenge = command.data ?? new Uint8Array(0);
    if (command.p2 !== 0x00) return statusOnly(CardSecureChannelSw.WRONG_P1P2);
    if (hostChallenge.length !== this.blockLength) return statusOnly(CardSecureChannelSw.WRONG_LENGTH);
    const keySet = this.opts.findKeySet(command.p1);
    if (!keySet) return statusOnly(CardSecureChannelSw.REFERENCED_DATA_NOT_FOUND);
    return this.initialize(keySet, hostChallenge);
  }

  /** EXTERNAL AUTHENTICATE (GPCS E.5.2, Amd D §7.1.2) as received: CLA with secure messaging, host cryptogram ‖ C-MAC. */
  handleExternalAuthenticate(command: CommandApdu): ResponseApdu {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return statusOnly(CardSecureChannelSw.CONDITIONS_NOT_SATISFIED);
    const data = command.data ?? new Uint8Array(0);
    if (data.length !== 2 * this.blockLength) return statusOnly(CardSecureChannelSw.WRONG_LENGTH);
    if (command.p2 !== 0x00 || !this.levelAllowed(command.p1)) return statusOnly(CardSecureChannelSw.WRONG_P1P2);
    if (!this.authenticationClaSecured(command.cla)) return statusOnly(CardSecureChannelSw.SECURITY_NOT_SATISFIED);
    const hostCryptogram = data.subarray(0, this.blockLength);
    if (!equalBytes(this.expectedHostCryptogram(pending), hostCryptogram)) return statusOnly(CardSecureChannelSw.AUTH_FAILED);
    const session = this.authenticate(pending, command, hostCryptogram, data.subarray(this.blockLength));
    if (!session) return statusOnly(CardSecureChannelSw.SECURITY_NOT_SATISFIED);
    this.session = session;
    return statusOnly(CardSecureChannelSw.OK);
  }

  /**
   * Checks and strips the secure messaging of a command per the current level.
   * Outside a session commands pass through unless they claim secure messaging.
   */
  unwrapCommand(command: CommandApdu): CardUnwrapResult {
    if (this.aborted) return { ok: false, sw: CardSecureChannelSw.SECURITY_NOT_SATISFIED };
    const s = this.session;
    if (!s) return this.claimsSecureMessaging(command.cla) ? { ok: false, sw: CardSecureChannelSw.SECURITY_NOT_SATISFIED } : { ok: true, command };
    return this.unwrapInSession(s, command);
  }

  /** Protects the response to the last unwrapped command as the session asks; otherwise returns it unchanged. */
  abstract wrapResponse(response: ResponseApdu): ResponseApdu;

  /** Decrypts key sensitive data (PUT KEY key values); undefined without a session or for a wrong length. */
  abstract decryptSensitive(data: Uint8Array): Uint8Array | undefined;

  /** INITIALIZE UPDATE once the common checks passed: derive the session keys, set `pending`, answer. */
  protected abstract initialize(keySet: KeySet, hostChallenge: Uint8Array): ResponseApdu;

  /** Whether EXTERNAL AUTHENTICATE may ask for this security level with this card's i. */
  protected abstract levelAllowed(level: number): boolean;

  protected abstract expectedHostCryptogram(pending: Pending): Uint8Array;

  /** Verifies the C-MAC of EXTERNAL AUTHENTICATE; the session it opens, or undefined on a wrong MAC. */
  protected abstract authenticate(pending: Pending, command: CommandApdu, hostCryptogram: Uint8Array, mac: Uint8Array): Session | undefined;

  /** Whether a command's CLA claims secure messaging. */
  protected abstract claimsSecureMessaging(cla: number): boolean;

  /** unwrapCommand inside a session (not aborted). */
  protected abstract unwrapInSession(s: Session, command: CommandApdu): CardUnwrapResult;

  /** Whether EXTERNAL AUTHENTICATE's CLA carries the secure messaging indication it must have. */
  protected authenticationClaSecured(cla: number): boolean {
    return this.claimsSecureMessaging(cla);
  }

  /** Ends the session after a security error; commands are refused until a new session or selection. */
  protected abort(status: number = CardSecureChannelSw.SECURITY_NOT_SATISFIED): CardUnwrapResult {
    this.session = undefined;
    this.aborted = true;
    return { ok: false, sw: status };
  }

  /** Random card challenge bytes from the configured source. */
  protected random(length: number): Uint8Array {
    return (this.opts.random ?? defaultRandom)(length);
  }
}

/** A response without data. */
export function statusOnly(status: number): ResponseApdu {
  return { data: new Uint8Array(0), sw: status };
}

function defaultRandom(length: number): Uint8Array {
  return new Uint8Array(randomBytes(length));
}
