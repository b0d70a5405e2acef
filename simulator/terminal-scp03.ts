/** SCP03 host side for Terminal: waits for gp's Scp03Host. */
import type { HostSecureChannel } from '../gp/secure-channel.ts';
import type { KeySetSpec } from '../profiles/fleet-types.ts';
import type { CardEndpoint } from './endpoint.ts';

export function openScp03Host(
  _card: CardEndpoint,
  _keys: KeySetSpec,
  _level: number,
  _kvn: number,
  _challenge: Uint8Array,
): { sw: number; channel?: HostSecureChannel } {
  throw new Error('SCP03 host not available yet');
}
