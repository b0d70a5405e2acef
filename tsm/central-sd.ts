/**
 * The central TSM acting on a card under its own keys: it opens an SCP03 session to the central SD (through the
 * SE's MNO network, like every command it sends) and activates a service instance there.
 */
import type { CardChannel, TransmitOptions } from '../drivers/channel.ts';
import type { KeySetSpec } from '../profiles/fleet-types.ts';
import type { MnoNetwork } from '../simulator/mno-network.ts';
import { TsmError } from './status.ts';

export interface ActivationInput {
  network: MnoNetwork;
  /** Channel to the SE (opened by the TSM's channel factory). */
  channel: CardChannel;
  centralSd: { aid: string; keys: KeySetSpec };
  instanceAid: string;
  timeoutMs?: number;
}

/** A CardChannel whose every exchange travels over the MNO network (one-command scripts). */
export function overNetwork(network: MnoNetwork, channel: CardChannel, timeoutMs?: number): CardChannel {
  return {
    name: `${network.name}/${channel.name}`,
    async transmit(command: Uint8Array, opts?: TransmitOptions) {
      const d = await network.carry(channel, { commands: [command], timeoutMs: opts?.timeoutMs ?? timeoutMs, signal: opts?.signal });
      return d.responses[0];
    },
    atr: (opts) => channel.atr(opts),
    reset: (cold, opts) => channel.reset(cold, opts),
    close: () => channel.close(),
  };
}

export async function activateOnCard(input: ActivationInput): Promise<void> {
  void overNetwork(input.network, input.channel, input.timeoutMs);
  throw TsmError.failed('3.1', 'service activation needs the SCP03 host of gp/ (not available in this build yet)');
}
