/**
 * The central TSM acting on a card under its own keys: a CentralSession selects an SD the TSM holds keys for
 * (the central SD, or an SP SD it has just created), opens a secure channel with them through the SE's MNO
 * network (like every command it sends), and sends wrapped commands, turning a refusal into a TsmError. A card
 * cryptogram that does not verify stops everything before EXTERNAL AUTHENTICATE (6.1), so a wrong key set never
 * costs an authentication attempt.
 */
import { randomBytes } from 'node:crypto';
import type { CardChannel } from '../drivers/index.ts';
import { secureTransmit, type AnnotatedTransmitOptions } from '../drivers/index.ts';
import {
  CardError,
  encodeCommand,
  fromHex,
  openSecureChannel,
  parseResponse,
  Scp02Host,
  Scp03Option,
  SecureChannelError,
  SecurityLevel,
  SW,
  type CommandApdu,
  type KeySet,
  type OpenedSecureChannel,
  type ResponseApdu,
} from '../gp/index.ts';
import type { KeySetSpec } from '../profiles/index.ts';
import { carryOver, type OperatorNetwork } from './mno-gateway.ts';
import { putAesKeySet, select } from './card-commands.ts';
import { reasonForSw } from './script.ts';
import { asTsmError } from './as-tsm-error.ts';
import { TsmError } from './status.ts';
import { keySetOf, scpOptionOf } from '../profiles/index.ts';

/** A CardChannel whose every exchange travels over the MNO network (one-command scripts). */
export function overNetwork(network: OperatorNetwork, channel: CardChannel, timeoutMs?: number): CardChannel {
  return {
    name: `${network.name}/${channel.name}`,
    async transmit(command: Uint8Array, opts?: AnnotatedTransmitOptions) {
      const annotations = opts?.annotate ? [opts.annotate] : undefined;
      const d = await carryOver(network, channel, { commands: [command], annotations, timeoutMs: opts?.timeoutMs ?? timeoutMs, signal: opts?.signal });
      return d.responses[0];
    },
    atr: (opts) => channel.atr(opts),
    reset: (cold, opts) => channel.reset(cold, opts),
    close: () => channel.close(),
  };
}

export const swHex = (sw: number) => sw.toString(16).toUpperCase().padStart(4, '0');

/** Security level for the central TSM's sessions: SCP03 at the strongest level its i allows, SCP02 with C-MAC. */
function levelFor(keys: KeySetSpec): number {
  if (keys.scp === '02') return SecurityLevel.CMAC;
  const i = keys.i ? parseInt(keys.i, 16) : 0x70;
  let level = SecurityLevel.CMAC | SecurityLevel.CDEC;
  if (i & Scp03Option.RMAC_SUPPORT) level |= SecurityLevel.RMAC;
  if (i & Scp03Option.RMAC_SUPPORT && i & Scp03Option.RENC_SUPPORT) level |= SecurityLevel.RENC;
  return level;
}

/** SCP02 is not built into openSecureChannel: its host comes from here (i from the key set, default 55). */
const scp02Factory = (i: number) => (keys: KeySet, level: number) => new Scp02Host({ keys, level, i });

export class CentralSession {
  private constructor(
    readonly sdAid: string,
    private readonly channel: OpenedSecureChannel,
    readonly keys: KeySetSpec,
    /** The status word of the SD's SELECT: 6283 says the card is CARD_LOCKED. */
    readonly selectSw: number,
  ) {}

  /** Selects `sd` and authenticates with `keys` over the network link (gp's openSecureChannel). */
  static async open(link: CardChannel, sd: { aid: string; keys: KeySetSpec }): Promise<CentralSession> {
    const aid = fromHex(sd.aid);
    const selected = parseResponse(await link.transmit(encodeCommand(select(sd.aid))));
    // 6283: the card is CARD_LOCKED and this SD, its Final Application, is still selected (GPCS §6.4.2.1.2).
    if (selected.sw === SW.FUNCTION_NOT_SUPPORTED) {
      throw TsmError.cardRefused('3.8', `security domain ${sd.aid} cannot be selected: the card refuses selection (SW 6A81, e.g. it is CARD_LOCKED)`, selected.sw);
    }
    if (selected.sw !== 0x9000 && selected.sw !== SW.CARD_LOCKED) {
      throw TsmError.cardRefused(selected.sw === 0x6a82 ? '3.9' : '4.2', `security domain ${sd.aid} could not be selected (SW ${swHex(selected.sw)})`, selected.sw);
    }
    const keys: KeySet = keySetOf(sd.keys);
    const i = scpOptionOf(sd.keys);
    try {
      // Each wrapped command goes with its plain form and level, so the trace and a real card's guard see what an
      // encrypted command does, and the trace gets the plain response from the session's own unwrap.
      const channel = await openSecureChannel(secureTransmit(link), {
        keys,
        level: levelFor(sd.keys),
        sdAid: aid,
        hostChallenge: randomBytes(sd.keys.scp === '03' && i & Scp03Option.S16 ? 16 : 8),
        ...(sd.keys.scp === '02' ? { hostFactory: scp02Factory(i) } : {}),
      });
      return new CentralSession(sd.aid, channel, sd.keys, selected.sw);
    } catch (e) {
      // The card's and the channel's failures are mapped once, by asTsmError; the rest (the operator network's)
      // goes up unchanged for the request front to map.
      if (e instanceof SecureChannelError || e instanceof CardError) throw asTsmError(e, { openingSecureChannelTo: sd.aid });
      throw e;
    }
  }

  /** Sends one command under the secure channel; a status other than 9000 (or `accept`) throws TsmError. */
  async send(command: CommandApdu, what: string, accept: readonly number[] = [0x9000]): Promise<ResponseApdu> {
    const r = await this.channel.transmitSecure(command);
    if (!accept.includes(r.sw)) throw TsmError.cardRefused(reasonForSw(r.sw), `${what} was refused by the card (SW ${swHex(r.sw)})`, r.sw);
    return r;
  }

  /** PUT KEY of a complete AES key set (replacing `oldKvn`, 0 to add) encrypted with this session's DEK. */
  async putKeySet(oldKvn: number, keys: KeySetSpec, what: string): Promise<void> {
    if (keys.scp !== '03' || this.keys.scp !== '03') throw TsmError.failed('3.1', `${what}: only SCP03 (AES) key sets are put by the central TSM`);
    // SCP03 encrypts key components with the static DEK of the session's key set (Amd D §6.2.8).
    const cmd = putAesKeySet(fromHex(this.keys.dek), oldKvn, keys.kvn, { enc: fromHex(keys.enc), mac: fromHex(keys.mac), dek: fromHex(keys.dek) });
    await this.send(cmd, what);
  }
}
