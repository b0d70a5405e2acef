/**
 * The mobile networks between the central TSM and the SEs: one MnoNetwork per operator, each with its bearer
 * and an up/down state. A network that is down refuses everything (MnoError 'down') and touches no card; the
 * other networks are unaffected.
 */
import type { CardChannel } from '../drivers/channel.ts';
import type { MnoSpec } from '../profiles/fleet-types.ts';
import { emit } from '../trace/index.ts';
import { createBearer, MnoError, type Bearer, type BearerLimits, type Delivery, type Script } from './mno-bearer.ts';

export * from './mno-bearer.ts';

export class MnoNetwork {
  readonly name: string;
  readonly bearer: Bearer;
  private isUp: boolean;

  constructor(spec: MnoSpec) {
    this.name = spec.name;
    this.bearer = createBearer(spec.bearer, {
      mno: spec.name,
      limits: { maxApduCount: spec.maxApduCount, maxScriptSize: spec.maxScriptSize },
      latencyMs: spec.latencyMs,
      segmentSize: spec.segmentSize,
      lossPercent: spec.lossPercent,
      seed: spec.seed,
    });
    this.isUp = spec.up ?? true;
  }

  get up(): boolean {
    return this.isUp;
  }

  get limits(): BearerLimits {
    return this.bearer.limits;
  }

  setUp(up: boolean): void {
    if (up === this.isUp) return;
    this.isUp = up;
    emit({ kind: 'mno.hop', from: 'mno', to: 'mno', mno: this.name, bearer: this.bearer.kind, detail: up ? 'network up' : 'network down' });
  }

  /** Throws MnoError('down') when the network is down. */
  ensureUp(): void {
    if (!this.isUp) throw new MnoError('down', `${this.name} is down: the SE cannot be reached`);
  }

  /** Carries one script to the SE behind `channel`; refuses it whole when down or over the limits. */
  async carry(channel: CardChannel, script: Script): Promise<Delivery> {
    this.ensureUp();
    return this.bearer.deliver(channel, script);
  }
}

/** All networks of a fleet, by operator name. */
export class MnoNetworks {
  private readonly byName = new Map<string, MnoNetwork>();

  constructor(specs: MnoSpec[]) {
    for (const s of specs) this.byName.set(s.name, new MnoNetwork(s));
  }

  get(name: string): MnoNetwork | undefined {
    return this.byName.get(name);
  }

  all(): MnoNetwork[] {
    return [...this.byName.values()];
  }

  /** Switches a network up or down; throws for an unknown operator. */
  setUp(name: string, up: boolean): void {
    const n = this.byName.get(name);
    if (!n) throw new Error(`unknown MNO "${name}"`);
    n.setUp(up);
  }
}
