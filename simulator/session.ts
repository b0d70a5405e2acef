/**
 * Volatile card session: what a real card forgets at power off or reset (selected application, secure channel,
 * chaining buffers, GET STATUS paging, personalization session, a LOAD in progress).
 */
import { type CommandApdu, type ResponseApdu, type LoadReceiver } from '../gp/index.ts';
import type { CardState, CardEntry } from './state.ts';

export type UnwrapResult = { ok: true; command: CommandApdu } | { ok: false; sw: number };

/** What the simulator needs from a card-side secure channel (gp's Scp02Card and Scp03Card have this shape). */
export interface CardSecureChannel {
  readonly isOpen: boolean;
  readonly level: number | undefined;
  readonly kvn: number | undefined;
  reset(): void;
  handleInitializeUpdate(command: CommandApdu): ResponseApdu;
  handleExternalAuthenticate(command: CommandApdu): ResponseApdu;
  unwrapCommand(command: CommandApdu): UnwrapResult;
  wrapResponse(response: ResponseApdu): ResponseApdu;
}

export interface OpenChannel {
  /** AID of the SD whose keys the channel uses. */
  sd: string;
  scp: '02' | '03';
  sc: CardSecureChannel;
  /** Decrypts a secret key component of PUT KEY (SCP02: session DEK; SCP03: static DEK). */
  decryptKey(block: Uint8Array): Uint8Array | undefined;
}

export interface GetStatusPaging {
  p1: number;
  format: number;
  pending: Uint8Array[];
}

export interface Session {
  /** AID of the application selected on the basic logical channel. */
  selected: string;
  channel?: OpenChannel;
  /** GP command chaining (P1 b8) of INSTALL, DELETE, PUT KEY. */
  chain?: { ins: number; p1: number; p2: number; parts: Uint8Array[] };
  getStatus?: GetStatusPaging;
  /** INSTALL [for personalization] target and the next STORE DATA block number. */
  perso?: { target: string };
  storeBlock: number;
  load?: { receiver: LoadReceiver; sd: string; minNv: number; minV: number };
  /** Response data still to fetch with GET RESPONSE (ISO 7816-4 '61xx'). */
  remainder?: Uint8Array;
  /** The state the running command works on (secure channel callbacks read and update keys and counters here). */
  live?: CardState;
  /** Status word that ends the segmented response. */
  remainderSw?: number;
}

export function newSession(isdAid: string): Session {
  return { selected: isdAid, storeBlock: 0 };
}

/** What a command handler works with: the draft state (committed only if the handler returns) and the session. */
export interface Ctx {
  state: CardState;
  session: Session;
  /** The selected entry (in the draft). */
  current: CardEntry;
}
