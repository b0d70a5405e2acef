/**
 * What the central TSM needs of the operators between it and the SEs: per MNO, a network that reaches an SE
 * over its bearer, within that bearer's limits, while it is up. The simulated networks (simulator/) implement it
 * today and real OTA bearers later; every implementation runs mno-gateway.conformance.ts. Whoever starts the TSM
 * picks the gateway (bin/, the steps' World); the TSM never builds one.
 *
 * Implementations live in layers that cannot know tsm/'s classes, so the contract is structural both ways: a
 * failed carry comes back as a value (CarryFailure), which carryOver() turns into MnoGatewayError, and the link
 * a network sends over is the TSM's card channel wrapped so that a transport failure rejects with a LinkFailure
 * (the network only reads its `kind`).
 */
import { DriverError, type CardChannel } from '../drivers/index.ts';
import type { AnnotatedTransmitOptions, TraceAnnotation } from '../drivers/index.ts';
import { scriptSize, type ApduScript, type ScriptDelivery, type ScriptLimits } from '../gp/index.ts';
import type { Bearer } from '../profiles/index.ts';

export type BearerLimits = ScriptLimits;

/** What a network sends a script's commands over, one exchange at a time: the SE's channel as the TSM hands it. */
export interface GatewayLink {
  readonly name: string;
  /** Passes `opts.annotate` on to the traced channel; rejects with a LinkFailure when the SE cannot be reached. */
  transmit(command: Uint8Array, opts?: AnnotatedTransmitOptions): Promise<Uint8Array>;
}

/** Why a link failed: the SE did not answer (in time, or the wait was cancelled), or it cannot be reached at all. */
export type LinkFailureKind = 'no-response' | 'unreachable';

/** What a link rejects with; a network treats any other rejection as 'unreachable'. */
export class LinkFailure extends Error {
  constructor(
    readonly kind: LinkFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'LinkFailure';
  }
}

/** A script as the TSM hands it to a network: each command may carry its trace annotation. */
export type Script = ApduScript<TraceAnnotation>;
export type Delivery = ScriptDelivery;
export { scriptSize };

/**
 * down: the network refuses everything; limit: the script exceeds the bearer's limits (nothing sent); lost: the
 * network gave up on a segment; unreachable / no-response: the link failed (see LinkFailureKind).
 */
export type MnoFailureKind = 'down' | 'limit' | 'lost' | LinkFailureKind;

export interface CarryFailure {
  ok: false;
  kind: MnoFailureKind;
  message: string;
  /** Responses received before the failure (their commands did execute on the card). */
  partial: Uint8Array[];
}

/** One operator's network as the TSM sees it. */
export interface OperatorNetwork {
  /** The MNO's name, as the fleet names it. */
  readonly name: string;
  readonly bearer: Bearer;
  readonly up: boolean;
  readonly limits: BearerLimits;
  /** Carries one script to the SE behind `link`; refuses it whole (nothing sent) when down or over the limits. */
  carry(link: GatewayLink, script: Script): Promise<Delivery | CarryFailure>;
}

export interface MnoGateway {
  /** The network of an operator; undefined when the gateway has none for it. */
  network(mno: string): OperatorNetwork | undefined;
  networks(): OperatorNetwork[];
}

/** A failure of the operator network, not of the card: asTsmError maps it to 5.x (2.5 for limits). */
export class MnoGatewayError extends Error {
  constructor(
    readonly kind: MnoFailureKind,
    message: string,
    readonly partial: Uint8Array[] = [],
  ) {
    super(message);
    this.name = 'MnoGatewayError';
  }
}

/** Carries a script over `network` to the SE behind `channel`; a failure throws MnoGatewayError. */
export async function carryOver(network: OperatorNetwork, channel: CardChannel, script: Script): Promise<Delivery> {
  const carried = await network.carry(linkTo(channel), script);
  if (!carried.ok) throw new MnoGatewayError(carried.kind, carried.message, carried.partial);
  return carried;
}

/** The channel as a GatewayLink: driver failures become LinkFailures (a timeout or abort is no answer). */
export function linkTo(channel: CardChannel): GatewayLink {
  return {
    name: channel.name,
    async transmit(command, opts) {
      try {
        return await channel.transmit(command, opts);
      } catch (e) {
        if (!(e instanceof DriverError)) throw e;
        const kind = e.kind === 'timeout' || e.kind === 'aborted' ? 'no-response' : 'unreachable';
        throw new LinkFailure(kind, `the SE did not answer (${e.kind}: ${e.message})`);
      }
    },
  };
}
