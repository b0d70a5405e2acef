/** The one place a fleet's key set (hex, as the file holds it) becomes gp's key bytes. */
import { fromHex, type KeySet } from '../gp/index.ts';
import type { KeySetSpec } from './fleet-types.ts';

export function keySetOf(spec: KeySetSpec): KeySet {
  return { kvn: spec.kvn, scp: spec.scp, enc: fromHex(spec.enc), mac: fromHex(spec.mac), dek: fromHex(spec.dek) };
}

/** The key set's SCP implementation option i: the spec's, else the usual one ('55' for SCP02, '70' for SCP03). */
export function scpOptionOf(spec: KeySetSpec): number {
  return spec.i ? parseInt(spec.i, 16) : spec.scp === '02' ? 0x55 : 0x70;
}
