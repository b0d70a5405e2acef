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
  Scp03Host,
  Scp03Option,
  SecureChannelError,
  SecurityLevel,
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

type CentralHost = HostSecureChannel & {
  initializeUpdate(kvn: number, challenge: Uint8Array): CommandApdu;
  onInitializeUpdateResponse(data: Uint8Array): unknown;
  externalAuthenticate(): CommandApdu;
};

/**
 * The host side for the central SD's key set: SCP03 at the strongest level its i allows (C-MAC, C-DECRYPTION,
 * and R-MAC / R-ENCRYPTION when supported), SCP02 with C-MAC.
 */
function centralHost(keys: KeySetSpec, sdAid: Uint8Array): { host: CentralHost; challengeLength: number } {
  const statics = { enc: fromHex(keys.enc), mac: fromHex(keys.mac), dek: fromHex(keys.dek) };
  if (keys.scp === '02') return { host: new Scp02Host({ keys: statics, i: keys.i ? parseInt(keys.i, 16) : 0x55 }), challengeLength: 8 };
  const i = keys.i ? parseInt(keys.i, 16) : 0x70;
  let level = SecurityLevel.CMAC | SecurityLevel.CDEC;
  if (i & Scp03Option.RMAC_SUPPORT) level |= SecurityLevel.RMAC;
  if (i & Scp03Option.RMAC_SUPPORT && i & Scp03Option.RENC_SUPPORT) level |= SecurityLevel.RENC;
  return { host: new Scp03Host({ keys: statics, level, sdAid }), challengeLength: i & Scp03Option.S16 ? 16 : 8 };
}

/** Opens the central TSM's own secure channel to the selected central SD. */
async function openCentralChannel(link: CardChannel, keys: KeySetSpec, sdAid: Uint8Array): Promise<HostSecureChannel> {
  const { host, challengeLength } = centralHost(keys, sdAid);
  const init = parseResponse(await link.transmit(encodeCommand(host.initializeUpdate(keys.kvn, randomBytes(challengeLength)))));
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
  const host = await openCentralChannel(link, input.centralSd.keys, sd);
  const answer = host.unwrap(await link.transmit(host.wrap(setContactlessAvailability(input.instanceAid, true))));
  if (answer.sw !== 0x9000) {
    throw TsmError.failed(
      '4.2',
      `the card refused to activate ${input.instanceAid} on the contactless interface (SET STATUS '01', SW ${swHex(answer.sw)})`,
    );
  }
}
