/**
 * SimulatedSe: a GlobalPlatform Card Specification 2.3.1 card behind the CardEndpoint contract.
 *
 * Every command runs against a draft copy of the persistent state; the draft replaces the state only when the
 * handler completes, so a command either fully applies or not at all (a refused command, a thrown bug, a
 * process killed mid-command leave the last committed state). `toJSON()`/`fromJSON()` carry the whole
 * persistent state; `onCommit` lets a host persist it after each command.
 */
import { ApduError, type CommandApdu, CommandFormatError, type ResponseApdu, encodeResponse, fromHex, parseCommand } from '../gp/index.ts';
import { type SimulatedSeConfig, buildCardState } from './build.ts';
import { checkAtr } from './atr.ts';
import { externalAuthenticate, initializeUpdate } from './cmd-auth.ts';
import { appCommand } from './cmd-app.ts';
import { sdCommand } from './cmd-sd.ts';
import { select } from './cmd-select.ts';
import type { CardEndpoint } from '../gp/index.ts';
import { SimulatorError, Sw, SwError } from './errors.ts';
import { type CardInspection, inspectCard } from './inspect.ts';
import { findEntry, isdOf } from './registry.ts';
import { type Ctx, type Session, newSession } from './session.ts';
import { type CardState, STATE_FORMAT } from './state.ts';

export interface SimulatedSeOptions {
  /** Called with the new persistent state after every command that changed it (snapshot it, write it). */
  onCommit?: (state: CardState) => void;
  /** Random source for card challenges (tests may fix it). */
  random?: (length: number) => Uint8Array;
  /**
   * For tests only: SCP03 R-ENCRYPTION pads response data over at least this many blocks, like cards in the
   * field that send 11 bytes padded to 32 (gp Scp03Card's responsePaddingBlocks).
   */
  scp03ResponsePaddingBlocks?: number;
}

const SM_BIT = 0x04;
const EMPTY = new Uint8Array(0);

export class SimulatedSe implements CardEndpoint {
  readonly seId: string;
  private state: CardState;
  private session: Session;
  private isPowered = true;

  constructor(
    config: SimulatedSeConfig,
    private readonly opts: SimulatedSeOptions = {},
  ) {
    const blocks = opts.scp03ResponsePaddingBlocks;
    if (blocks !== undefined && (!Number.isInteger(blocks) || blocks < 0 || blocks > 16)) {
      throw new RangeError(`scp03ResponsePaddingBlocks must be a whole number 0..16, got ${blocks}`);
    }
    this.state = buildCardState(config);
    this.seId = this.state.seId;
    this.session = newSession(isdOf(this.state).aid);
  }

  /** Rebuilds a card from `toJSON()` output (a powered card with a fresh session). */
  static fromJSON(snapshot: unknown, opts: SimulatedSeOptions = {}): SimulatedSe {
    const state = validateSnapshot(snapshot);
    const se = Object.create(SimulatedSe.prototype) as SimulatedSe;
    Object.assign(se, { seId: state.seId, state, opts, isPowered: true, session: newSession(isdOf(state).aid) });
    return se;
  }

  /** The whole persistent state (a deep copy; JSON-serializable). */
  toJSON(): CardState {
    return structuredClone(this.state);
  }

  /** Registry, memory, stored data and key set check values, for tests and steps (not for the TSM). */
  inspect(): CardInspection {
    return inspectCard(this.state, this.session);
  }

  get powered(): boolean {
    return this.isPowered;
  }

  atr(): Uint8Array {
    return fromHex(this.state.atr);
  }

  powerOn(): Uint8Array {
    if (!this.isPowered) {
      this.isPowered = true;
      this.endSession();
    }
    return this.atr();
  }

  powerOff(): void {
    this.isPowered = false;
    this.endSession();
  }

  reset(_cold: boolean): Uint8Array {
    this.isPowered = true;
    this.endSession();
    return this.atr();
  }

  process(command: Uint8Array): Uint8Array {
    try {
      if (!this.isPowered) return swBytes(Sw.NO_DIAGNOSIS);
      const r = encodeResponse(this.dispatch(command));
      return r.length >= 2 ? r : swBytes(Sw.NO_DIAGNOSIS);
    } catch {
      // A bug in the model must not reach a transport: the card answers "no precise diagnosis".
      return swBytes(Sw.NO_DIAGNOSIS);
    }
  }

  private endSession(): void {
    this.session.channel?.sc.reset();
    this.session = newSession(isdOf(this.state).aid);
  }

  private dispatch(raw: Uint8Array): ResponseApdu {
    let cmd: CommandApdu;
    try {
      cmd = parseCommand(raw);
    } catch (e) {
      if (e instanceof ApduError) return sw(Sw.WRONG_LENGTH);
      throw e;
    }
    const claSw = checkCla(cmd.cla);
    if (claSw) return sw(claSw);
    if (cmd.ins === 0xc0 && cmd.cla === 0x00) return this.getResponse(cmd);
    this.session.remainder = undefined;
    if (cmd.ins === 0x70 && !(cmd.cla & 0x80)) return sw(Sw.CHANNEL_NOT_SUPPORTED); // MANAGE CHANNEL: basic channel only
    if (cmd.ins === 0xa4 && !(cmd.cla & 0x80)) {
      if (cmd.cla & SM_BIT) return sw(Sw.SM_NOT_SUPPORTED);
      return this.run((ctx) => select(ctx, cmd));
    }
    const current = findEntry(this.state, this.session.selected);
    if (!current) {
      this.session.selected = isdOf(this.state).aid;
      return sw(Sw.CONDITIONS_OF_USE);
    }
    if (current.kind === 'app') return this.run((ctx) => appCommand(ctx, cmd));
    return this.segment(this.securityDomain(cmd), cmd);
  }

  /** A command to the selected SD: secure channel commands, else unwrap → handle → wrap. */
  private securityDomain(cmd: CommandApdu): ResponseApdu {
    const gp = (cmd.cla & ~SM_BIT) === 0x80;
    if (gp && cmd.ins === 0x50) return this.run((ctx) => initializeUpdate(ctx, cmd, { random: this.opts.random, responsePaddingBlocks: this.opts.scp03ResponsePaddingBlocks }));
    if (gp && cmd.ins === 0x82) return this.run((ctx) => externalAuthenticate(ctx, cmd));
    const ch = this.session.channel?.sd === this.session.selected ? this.session.channel : undefined;
    let plain = cmd;
    if (ch) {
      const u = ch.sc.unwrapCommand(cmd);
      if (!u.ok) return sw(u.sw);
      plain = u.command;
    } else if (cmd.cla & SM_BIT) {
      return sw(Sw.SECURITY_STATUS);
    }
    const r = this.run((ctx) => sdCommand(ctx, plain));
    return ch && ch.sc.isOpen ? ch.sc.wrapResponse(r) : r;
  }

  /** Runs a handler on a draft of the state; commits the draft only if the handler returns. */
  private run(handler: (ctx: Ctx) => ResponseApdu): ResponseApdu {
    const draft = structuredClone(this.state);
    const current = findEntry(draft, this.session.selected) ?? isdOf(draft);
    const ctx: Ctx = { state: draft, session: this.session, current };
    let response: ResponseApdu;
    this.session.live = draft;
    try {
      response = handler(ctx);
    } catch (e) {
      // A refused command (ours, or a gp parser's format error) leaves the draft behind: no effect.
      if (e instanceof SwError || e instanceof CommandFormatError) return sw(e.sw);
      throw e;
    } finally {
      this.session.live = undefined;
    }
    const changed = JSON.stringify(draft) !== JSON.stringify(this.state);
    this.state = draft;
    if (changed) this.opts.onCommit?.(structuredClone(draft));
    return response;
  }

  /** Responses longer than 256 bytes go out in pieces fetched with GET RESPONSE (ISO 7816-4, GPCS §11.1.5.2). */
  private segment(r: ResponseApdu, cmd: CommandApdu): ResponseApdu {
    if (r.data.length <= 256 || (cmd.le !== undefined && cmd.le >= r.data.length)) return r;
    this.session.remainder = r.data.slice(256);
    this.session.remainderSw = r.sw;
    return { data: r.data.slice(0, 256), sw: 0x6100 | Math.min(this.session.remainder.length, 256) % 256 };
  }

  private getResponse(cmd: CommandApdu): ResponseApdu {
    const rest = this.session.remainder;
    if (!rest) return sw(Sw.CONDITIONS_OF_USE);
    if (cmd.p1 !== 0 || cmd.p2 !== 0) return sw(Sw.WRONG_P1P2);
    const n = Math.min(rest.length, cmd.le ?? 256);
    const piece = rest.slice(0, n);
    const left = rest.slice(n);
    if (left.length === 0) {
      const final = this.session.remainderSw ?? Sw.OK;
      this.session.remainder = undefined;
      return { data: piece, sw: final };
    }
    this.session.remainder = left;
    return { data: piece, sw: 0x6100 | Math.min(left.length, 256) % 256 };
  }
}

/** Status word for a class byte this card does not take, or undefined (GPCS §11.1.4, ISO 7816-4 §5.4.1). */
function checkCla(cla: number): number | undefined {
  if (cla === 0xff) return Sw.CLA_NOT_SUPPORTED;
  if (cla & 0x40) return Sw.CHANNEL_NOT_SUPPORTED; // further interindustry class: channels 4..19
  if (cla & 0x20) return Sw.CLA_NOT_SUPPORTED;
  if (cla & 0x10) return 0x6884; // command chaining not supported
  if (cla & 0x03) return Sw.CHANNEL_NOT_SUPPORTED;
  if (cla & 0x08) return Sw.SM_NOT_SUPPORTED; // ISO secure messaging
  return undefined;
}

function sw(status: number): ResponseApdu {
  return { data: EMPTY, sw: status };
}

function swBytes(status: number): Uint8Array {
  return Uint8Array.of(status >> 8, status & 0xff);
}

function validateSnapshot(snapshot: unknown): CardState {
  const s = (typeof snapshot === 'string' ? JSON.parse(snapshot) : snapshot) as Partial<CardState> | null;
  if (!s || typeof s !== 'object' || s.format !== STATE_FORMAT) throw new SimulatorError(`snapshot: not a ${STATE_FORMAT} card state`);
  for (const k of ['seId', 'atr', 'iin', 'cin', 'cplc'] as const) {
    if (typeof s[k] !== 'string') throw new SimulatorError(`snapshot.${k}: missing`);
  }
  if (!Array.isArray(s.entries) || !Array.isArray(s.packages) || !s.memory || !s.auth) throw new SimulatorError('snapshot: registry missing');
  if (!s.entries.some((e) => e.kind === 'isd')) throw new SimulatorError('snapshot: no ISD');
  checkAtr(fromHex(s.atr!));
  return structuredClone(s) as CardState;
}
