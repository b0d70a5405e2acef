/**
 * Applicability of a scenario to the sample and the rig: `@ICS:<feature>` needs the card profile's ICS to claim
 * the feature, `@needs:<capability>` needs the rig to have the capability. A scenario that does not apply is
 * NOT_APPLICABLE with the reason (never silently skipped).
 */

export interface ApplicabilityContext {
  /** Features the ICS claims: a list, or a map feature → supported. */
  icsFeatures: Iterable<string> | Record<string, boolean>;
  /** Capabilities of the rig (reader, power control, field control, ...): a list or a map. */
  capabilities: Iterable<string> | Record<string, boolean>;
  /** The run target: `sim` or a real card (`pcsc...`). Checks @sim-only and @real-card when given. */
  target?: string;
  /** Name of the active profile, quoted in reasons. */
  profileName?: string;
}

export type Applicability =
  | { applicable: true }
  | { applicable: false; reason: string; missingIcs: string[]; missingCapabilities: string[] };

function toSet(v: Iterable<string> | Record<string, boolean>): Set<string> {
  const names = Symbol.iterator in Object(v) ? [...(v as Iterable<string>)] : Object.entries(v).filter(([, on]) => on).map(([k]) => k);
  return new Set(names.map((n) => n.toLowerCase()));
}

/** `@ICS:scp03` → ['ICS', 'scp03']; tags may come with or without the leading '@'. */
function split(tag: string): [string, string] | undefined {
  const t = tag.startsWith('@') ? tag.slice(1) : tag;
  const i = t.indexOf(':');
  return i > 0 ? [t.slice(0, i).toLowerCase(), t.slice(i + 1)] : undefined;
}

export function checkApplicability(tags: Iterable<string>, ctx: ApplicabilityContext): Applicability {
  const ics = toSet(ctx.icsFeatures);
  const caps = toSet(ctx.capabilities);
  const missingIcs: string[] = [];
  const missingCapabilities: string[] = [];
  const reasons: string[] = [];
  const plain = new Set<string>();
  for (const tag of tags) {
    const kv = split(tag);
    if (!kv) {
      plain.add((tag.startsWith('@') ? tag.slice(1) : tag).toLowerCase());
      continue;
    }
    const [key, value] = kv;
    if (key === 'ics' && !ics.has(value.toLowerCase()) && !missingIcs.includes(value)) missingIcs.push(value);
    if (key === 'needs' && !caps.has(value.toLowerCase()) && !missingCapabilities.includes(value)) missingCapabilities.push(value);
  }
  const profile = ctx.profileName ? ` of profile "${ctx.profileName}"` : '';
  if (missingIcs.length) reasons.push(`the ICS${profile} does not claim ${missingIcs.map((f) => `"${f}"`).join(', ')}`);
  if (missingCapabilities.length) reasons.push(`the rig lacks ${missingCapabilities.map((f) => `"${f}"`).join(', ')}`);
  if (ctx.target !== undefined) {
    const onSim = ctx.target === 'sim';
    if (plain.has('sim-only') && !onSim) reasons.push(`the scenario runs on the simulator only (target is "${ctx.target}")`);
    if (plain.has('real-card') && onSim) reasons.push('the scenario needs a real card (target is the simulator)');
  }
  if (reasons.length === 0) return { applicable: true };
  return { applicable: false, reason: reasons.join('; '), missingIcs, missingCapabilities };
}
