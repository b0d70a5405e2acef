/** Every key value a fleet holds, with a reference to show instead: what the leak scan and the redaction look for. */
import { toHex } from '../../gp/index.ts';
import type { Fleet, KeySetSpec } from '../../profiles/index.ts';
import type { ResolvedCardKeys } from '../../profiles/index.ts';

export interface FleetKey {
  label: string;
  value: string;
}

export function fleetKeys(fleet: Fleet): FleetKey[] {
  const out: FleetKey[] = [];
  const add = (owner: string, ks: KeySetSpec | undefined) => {
    if (!ks) return;
    for (const part of ['enc', 'mac', 'dek'] as const) out.push({ label: `${owner} KVN ${ks.kvn.toString(16).toUpperCase()} ${part.toUpperCase()}`, value: ks[part] });
  };
  for (const se of fleet.ses) {
    add(`${se.seId} ISD`, se.card.isd.keys);
    add(`${se.seId} central SD`, se.centralSd.keys);
    for (const sd of se.card.securityDomains ?? []) add(`${se.seId} SD ${sd.aid}`, sd.keys);
    for (const s of se.services ?? []) add(`${se.seId} ${s.id} SP`, s.spKeys);
  }
  // One value can serve several roles (ENC = MAC = DEK in test keys): scan for it once.
  return [...new Map(out.map((k) => [k.value.toUpperCase(), k])).values()];
}

/** The keys a card profile resolved to (a real card's ISD keys or master key): scanned for like the fleet's. */
export function profileKeys(profile: string, keys: ResolvedCardKeys): FleetKey[] {
  return (['enc', 'mac', 'dek', 'master'] as const).flatMap((role) => {
    const v = keys[role];
    return v ? [{ label: `${profile} ISD KVN ${keys.kvn.toString(16).toUpperCase()} ${role.toUpperCase()}`, value: toHex(v) }] : [];
  });
}
