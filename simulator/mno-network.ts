/**
 * The simulated mobile networks between the central TSM and the SEs: one MnoNetwork per operator, each with its
 * bearer and an up/down state. A network that is down refuses everything (the 'down' failure) and touches no
 * card; the other networks are unaffected. MnoNetworks is the simulated MNO gateway the central TSM is given
 * (its contract: tsm/mno-gateway.ts, checked by its conformance suite).
 */
import type { MnoSpec } from '../profiles/index.ts';
import { emit } from '../trace/index.ts';
import { createBearer, mnoFailure, type SimulatedBearer, type BearerKind, type BearerLimits, type BearerLink, type BearerScript, type Carried } from './mno-bearer.ts';

export * from './mno-bearer.ts';

export class MnoNetwork {
  readonly name: string;
  private readonly carrier: SimulatedBearer;
  private isUp: boolean;

  constructor(spec: MnoSpec) {
    this.name = spec.name;
    this.carrier = createBearer(spec.bearer, {
      mno: spec.name,
      limits: { maxApduCount: spec.maxApduCount, maxScriptSize: spec.maxScriptSize },
      latencyMs: spec.latencyMs,
      segmentSize: spec.segmentSize,
      lossPercent: spec.lossPercent,
      seed: spec.seed,
    });
    this.isUp = spec.up ?? true;
  }

  get bearer(): BearerKind {
    return this.carrier.kind;
  }

  get up(): boolean {
    return this.isUp;
  }

  get limits(): BearerLimits {
    return this.carrier.limits;
  }

  setUp(up: boolean): void {
    if (up === this.isUp) return;
    this.isUp = up;
    emit({ kind: 'mno.hop', from: 'mno', to: 'mno', mno: this.name, bearer: this.carrier.kind, detail: up ? 'network up' : 'network down' });
  }

  /** Carries one script to the SE behind `link`; refuses it whole when down or over the limits. */
  async carry<N>(link: BearerLink<N>, script: BearerScript<N>): Promise<Carried> {
    if (!this.isUp) return mnoFailure('down', `${this.name} is down: the SE cannot be reached`);
    return this.carrier.deliver(link, script);
  }
}

/** All networks of a fleet, by operator name. */
export class MnoNetworks {
  private readonly byName = new Map<string, MnoNetwork>();

  constructor(specs: MnoSpec[]) {
    for (const s of specs) this.byName.set(s.name, new MnoNetwork(s));
  }

  network(name: string): MnoNetwork | undefined {
    return this.byName.get(name);
  }

  networks(): MnoNetwork[] {
    return [...this.byName.values()];
  }

  /** Switches a network up or down (the lab's control, not the TSM's); throws for an unknown operator. */
  setUp(name: string, up: boolean): void {
    const n = this.byName.get(name);
    if (!n) throw new Error(`unknown MNO "${name}" (the fleet has ${this.networks().map((x) => x.name).join(', ')})`);
    n.setUp(up);
  }
}
