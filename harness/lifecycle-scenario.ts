/**
 * What the lifecycle steps remember within one scenario, beside the World: the service state changes and network
 * hops the trace showed, the SP's callback endpoint and event streams, a restartable TSM, the last operation id.
 * Kept per World in a WeakMap so the World itself stays as it is.
 */
import type { TraceEvent } from '../trace/index.ts';
import type { Answer, SpEventStream } from '../tsm/index.ts';
import { commandHeader, fromHex, type CommandHeader, type KeySet } from '../gp/index.ts';
import type { KeySetSpec } from '../profiles/index.ts';
import type { CallbackReceiver } from './lifecycle-callback.ts';
import type { RestartableTsm } from './lifecycle-restart.ts';

export interface StateChange {
  seId: string;
  serviceId: string;
  from: string;
  to: string;
}

export interface Hop {
  mno: string;
  bearer: string;
  detail: string;
}

export type ApduCommand = Extract<TraceEvent, { kind: 'apdu.command' }>;

export class LifecycleScenario {
  readonly stateChanges: StateChange[] = [];
  readonly hops: Hop[] = [];
  callbacks?: CallbackReceiver;
  readonly streams = new Map<string, SpEventStream>();
  restartable?: RestartableTsm;
  /** The operation id of the last request accepted for asynchronous execution. */
  operationId?: string;
  /** The keys the SP held for the SD of the service before the last request (to show they did not change). */
  keysBefore?: KeySet;
  /** The temporary keys the central TSM answered, by service id. */
  readonly temporaryKeys = new Map<string, KeySetSpec>();
  /** The first answer to each function call identifier the SP used. */
  readonly firstAnswers = new Map<string, Answer>();
  /** Whether the last request was the SP sending an earlier one again. */
  repeated = false;
  /** A request sent and not awaited (its answer may never come: a crash). */
  pending?: Promise<unknown>;
  /** The last request sent through the lifecycle steps, to send it again. */
  lastRequest?: { sp: string; action: string; serviceId: string; extras: Record<string, unknown> };
  /** The service the last lifecycle step named (the one "BankCo's security domain" belongs to). */
  serviceId?: string;
  /** Cardholder data the SP wrote in this scenario, hex. */
  readonly cardholderHex: string[] = [];
  /** Ends the trace subscription. */
  stopObserving?: () => void;
  /** Where `hops` and `stateChanges` stood at the last mark. */
  private marks = { hops: 0, stateChanges: 0 };

  /** Records what the lifecycle checks read from the trace. */
  observe(e: TraceEvent): void {
    if (e.kind === 'tsm.decision' && e.decision === 'service-state') {
      const d = e.data as Partial<StateChange> | undefined;
      if (d?.serviceId && d.seId && d.from && d.to) this.stateChanges.push({ seId: d.seId, serviceId: d.serviceId, from: d.from, to: d.to });
    } else if (e.kind === 'mno.hop') {
      this.hops.push({ mno: e.mno, bearer: e.bearer, detail: e.detail });
    }
  }

  mark(): void {
    this.marks = { hops: this.hops.length, stateChanges: this.stateChanges.length };
  }

  hopsSinceMark(): Hop[] {
    return this.hops.slice(this.marks.hops);
  }

  /** The states a service went through since the mark, starting with the one it left first. */
  statesSinceMark(serviceId: string): string[] {
    const changes = this.stateChanges.slice(this.marks.stateChanges).filter((c) => c.serviceId === serviceId);
    return changes.length ? [changes[0].from, ...changes.map((c) => c.to)] : [];
  }

  async close(): Promise<void> {
    this.stopObserving?.();
    this.stopObserving = undefined;
    for (const s of this.streams.values()) s.close();
    this.streams.clear();
    await this.callbacks?.close();
    this.callbacks = undefined;
  }
}

const scenarios = new WeakMap<object, LifecycleScenario>();

export function lifecycleOf(world: object): LifecycleScenario {
  let s = scenarios.get(world);
  if (!s) {
    s = new LifecycleScenario();
    scenarios.set(world, s);
  }
  return s;
}

/** Header of a command on the wire, read by gp (the header stays readable under a secure channel). */
export function headerOf(e: ApduCommand): CommandHeader {
  return commandHeader(fromHex(e.hex));
}

export function insOf(e: ApduCommand): number {
  return headerOf(e).ins;
}

/** Commands the central TSM's side (MNO lane) sent to one SE. */
export function tsmCommandsTo(commands: readonly ApduCommand[], seId: string, ins?: number): ApduCommand[] {
  return commands.filter((c) => c.from === 'mno' && c.corr.seId === seId && (ins === undefined || insOf(c) === ins));
}
