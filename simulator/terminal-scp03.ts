/** SCP03 handshake of Terminal with gp's Scp03Host (card cryptogram and pseudo-random challenge verified first). */
import { encodeCommand, fromHex, parseResponse, type HostSecureChannel, Scp03Host } from '../gp/index.ts';
import type { KeySetSpec } from '../profiles/index.ts';
import type { CardEndpoint } from '../gp/index.ts';
import { keySetOf } from '../profiles/index.ts';

export function openScp03Host(
  card: CardEndpoint,
  keys: KeySetSpec,
  level: number,
  kvn: number,
  challenge: Uint8Array,
  sdAid?: string,
): { sw: number; channel?: HostSecureChannel } {
  const host = new Scp03Host({
    keys: keySetOf(keys),
    level,
    sdAid: sdAid ? fromHex(sdAid) : undefined,
  });
  const iu = parseResponse(card.process(encodeCommand(host.initializeUpdate(kvn, challenge))));
  if (iu.sw !== 0x9000) throw new Error(`INITIALIZE UPDATE answered ${iu.sw.toString(16)}`);
  try {
    host.onInitializeUpdateResponse(iu.data);
  } catch (e) {
    throw new Error(`card cryptogram: ${(e as Error).message}`);
  }
  const ea = parseResponse(card.process(encodeCommand(host.externalAuthenticate())));
  return { sw: ea.sw, channel: ea.sw === 0x9000 ? host : undefined };
}
