/**
 * The central TSM acting on a card under its own keys: it selects the central SD, opens a secure channel with
 * the central TSM's key set (through the SE's MNO network, like every command it sends), and sends the
 * contactless activation SET STATUS of GP Amendment C for a service instance. A card cryptogram that does not
 * verify stops everything before EXTERNAL AUTHENTICATE (6.1), so a wrong key set never costs an attempt.
 */
import { randomBytes } from 'node:crypto';
import type { CardChannel, TransmitOptions } from '../drivers/channel.ts';
import {
  encodeCommand,
  fromHex,
  parseResponse,
  Scp02Host,
  SecureChannelError,
  type CommandApdu,
  type HostSecureChannel,
} from '../gp/index.ts';
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

/** Amendment C Table 3-19: status type '01', availability state over the contactless interface. */
export const STATUS_TYPE_CONTACTLESS_AVAILABILITY = 0x01;
/** Amendment C Table 8-1: ACTIVATED '01', DEACTIVATED '00'. */
export const CONTACTLESS_ACTIVATED = 0x01;
export const CONTACTLESS_DEACTIVATED = 0x00;

/** SET STATUS (Amendment C §3.11.4) switching one application's contactless availability; data '4F' AID. */
export function setContactlessAvailability(aidHex: string, activated: boolean): CommandApdu {
  const aid = fromHex(aidHex);
  return {
    cla: 0x80,
    ins: 0xf0,
    p1: STATUS_TYPE_CONTACTLESS_AVAILABILITY,
    p2: activated ? CONTACTLESS_ACTIVATED : CONTACTLESS_DEACTIVATED,
    data: Uint8Array.from([0x4f, aid.length, ...aid]),
  };
}

const swHex = (sw: number) => sw.toString(16).toUpperCase().padStart(4, '0');

/** Opens the central TSM's own secure channel to the selected central SD. */
async function openCentralChannel(link: CardChannel, keys: KeySetSpec): Promise<HostSecureChannel> {
  if (keys.scp !== '02') {
    throw TsmError.failed('3.1', `the central SD's key set is SCP${keys.scp}; this build opens SCP02 only until gp/ offers an SCP03 host`);
  }
  const host = new Scp02Host({
    keys: { enc: fromHex(keys.enc), mac: fromHex(keys.mac), dek: fromHex(keys.dek) },
    i: keys.i ? parseInt(keys.i, 16) : 0x55,
  });
  const init = parseResponse(await link.transmit(encodeCommand(host.initializeUpdate(keys.kvn, randomBytes(8)))));
  if (init.sw !== 0x9000) throw TsmError.failed('6.1', `INITIALIZE UPDATE on the central SD failed (SW ${swHex(init.sw)})`);
  try {
    host.onInitializeUpdateResponse(init.data);
  } catch (e) {
    if (e instanceof SecureChannelError) {
      throw TsmError.failed('6.1', `the central SD's card cryptogram did not verify (${e.kind}); EXTERNAL AUTHENTICATE not sent`);
    }
    throw e;
  }
  const auth = parseResponse(await link.transmit(encodeCommand(host.externalAuthenticate())));
  if (auth.sw !== 0x9000) throw TsmError.failed('6.1', `EXTERNAL AUTHENTICATE on the central SD failed (SW ${swHex(auth.sw)})`);
  return host;
}

export async function activateOnCard(input: ActivationInput): Promise<void> {
  const link = overNetwork(input.network, input.channel, input.timeoutMs);
  const sd = fromHex(input.centralSd.aid);
  const selected = parseResponse(await link.transmit(encodeCommand({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: sd, le: 256 })));
  if (selected.sw !== 0x9000) throw TsmError.failed('4.2', `the central SD ${input.centralSd.aid} could not be selected (SW ${swHex(selected.sw)})`);
  const host = await openCentralChannel(link, input.centralSd.keys);
  const answer = host.unwrap(await link.transmit(host.wrap(setContactlessAvailability(input.instanceAid, true))));
  if (answer.sw !== 0x9000) {
    throw TsmError.failed(
      '4.2',
      `the card refused to activate ${input.instanceAid} on the contactless interface (SET STATUS '01', SW ${swHex(answer.sw)})`,
    );
  }
}
