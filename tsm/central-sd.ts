/**
 * The central TSM acting on a card under its own keys: a CentralSession selects an SD the TSM holds keys for
 * (the central SD, or an SP SD it has just created), opens a secure channel with them through the SE's MNO
 * network (like every command it sends), and sends wrapped commands, turning a refusal into a TsmError. A card
 * cryptogram that does not verify stops everything before EXTERNAL AUTHENTICATE (6.1), so a wrong key set never
 * costs an authentication attempt.
 */
import { randomBytes } from 'node:crypto';
import type { CardChannel, TransmitOptions } from '../drivers/channel.ts';
import {
  encodeCommand,
  fromHex,
  keyCheckValue,
  parseResponse,
  Scp02Host,
  Scp03Host,
  Scp03Option,
  SecureChannelError,
  SecurityLevel,
  type CommandApdu,
  type HostSecureChannel,
  type ResponseApdu,
} from '../gp/index.ts';
import type { KeySetSpec } from '../profiles/fleet-types.ts';
import type { MnoNetwork } from '../simulator/mno-network.ts';
import { putAesKeySet, select } from './card-commands.ts';
import { reasonForSw } from './script.ts';
import { TsmError } from './status.ts';

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

export const swHex = (sw: number) => sw.toString(16).toUpperCase().padStart(4, '0');

type Host = HostSecureChannel & {
  initializeUpdate(kvn: number, challenge: Uint8Array): CommandApdu;
  onInitializeUpdateResponse(data: Uint8Array): unknown;
  externalAuthenticate(): CommandApdu;
  encryptSensitive(data: Uint8Array): Uint8Array;
};

/**
 * The host side for a key set: SCP03 at the strongest level its i allows (C-MAC, C-DECRYPTION, and R-MAC /
 * R-ENCRYPTION when supported), SCP02 with C-MAC.
 */
function hostFor(keys: KeySetSpec, sdAid: Uint8Array): { host: Host; challengeLength: number } {
  const statics = { enc: fromHex(keys.enc), mac: fromHex(keys.mac), dek: fromHex(keys.dek) };
  if (keys.scp === '02') return { host: new Scp02Host({ keys: statics, i: keys.i ? parseInt(keys.i, 16) : 0x55 }), challengeLength: 8 };
  const i = keys.i ? parseInt(keys.i, 16) : 0x70;
  let level = SecurityLevel.CMAC | SecurityLevel.CDEC;
  if (i & Scp03Option.RMAC_SUPPORT) level |= SecurityLevel.RMAC;
  if (i & Scp03Option.RMAC_SUPPORT && i & Scp03Option.RENC_SUPPORT) level |= SecurityLevel.RENC;
  return { host: new Scp03Host({ keys: statics, level, sdAid }), challengeLength: i & Scp03Option.S16 ? 16 : 8 };
}

export class CentralSession {
  private constructor(
    private readonly link: CardChannel,
    readonly sdAid: string,
    private readonly host: Host,
    readonly keys: KeySetSpec,
  ) {}

  /** Selects `sd` and authenticates with `keys` over the network link. */
  static async open(link: CardChannel, sd: { aid: string; keys: KeySetSpec }): Promise<CentralSession> {
    const aid = fromHex(sd.aid);
    const selected = parseResponse(await link.transmit(encodeCommand(select(sd.aid))));
    if (selected.sw !== 0x9000) throw TsmError.failed(selected.sw === 0x6a82 ? '3.9' : '4.2', `security domain ${sd.aid} could not be selected (SW ${swHex(selected.sw)})`);
    const { host, challengeLength } = hostFor(sd.keys, aid);
    const init = parseResponse(await link.transmit(encodeCommand(host.initializeUpdate(sd.keys.kvn, randomBytes(challengeLength)))));
    if (init.sw !== 0x9000) throw TsmError.failed('6.1', `INITIALIZE UPDATE on ${sd.aid} failed (SW ${swHex(init.sw)})`);
    try {
      host.onInitializeUpdateResponse(init.data);
    } catch (e) {
      if (e instanceof SecureChannelError) {
        throw TsmError.failed('6.1', `the card cryptogram of ${sd.aid} did not verify (${e.kind}); EXTERNAL AUTHENTICATE not sent`);
      }
      throw e;
    }
    const auth = parseResponse(await link.transmit(encodeCommand(host.externalAuthenticate())));
    if (auth.sw !== 0x9000) throw TsmError.failed('6.1', `EXTERNAL AUTHENTICATE on ${sd.aid} failed (SW ${swHex(auth.sw)})`);
    return new CentralSession(link, sd.aid, host, sd.keys);
  }

  /** Sends one command under the secure channel; a status other than 9000 (or `accept`) throws TsmError. */
  async send(command: CommandApdu, what: string, accept: readonly number[] = [0x9000]): Promise<ResponseApdu> {
    const r = this.host.unwrap(await this.link.transmit(this.host.wrap(command)));
    if (!accept.includes(r.sw)) throw TsmError.failed(reasonForSw(r.sw), `${what} was refused by the card (SW ${swHex(r.sw)})`);
    return r;
  }

  /** PUT KEY of a complete AES key set (replacing `oldKvn`, 0 to add) encrypted with this session's DEK. */
  async putKeySet(oldKvn: number, keys: KeySetSpec, what: string): Promise<void> {
    if (keys.scp !== '03' || this.keys.scp !== '03') throw TsmError.failed('3.1', `${what}: only SCP03 (AES) key sets are put by the central TSM`);
    const cmd = putAesKeySet(
      oldKvn,
      keys.kvn,
      { enc: fromHex(keys.enc), mac: fromHex(keys.mac), dek: fromHex(keys.dek) },
      (k) => this.host.encryptSensitive(k),
      (k) => keyCheckValue(k, 'aes'),
    );
    await this.send(cmd, what);
  }
}
