/**
 * A real card is not made afresh for every scenario, so the run puts it back the way it found it: what a scenario
 * added (applications, security domains, load files) is deleted, an application it deleted is installed again from
 * its load file (when that has one module) and handed back to its security domain, what it locked is unlocked, a
 * locked card is unlocked — all as the issuer, through the ISD. What cannot be put back (a security domain with its
 * keys, an application's data) is said, and the next scenario on that card is INCONCLUSIVE rather than judged on a
 * card that is not the one described.
 */
import { CardLifeCycle, deleteCardContent, fromHex, installForExtradition, installForInstall, setStatus, SW, type CardView, type CardViewEntry, type CommandApdu, type OpenedSecureChannel } from '../gp/index.ts';

export type RestoreAction =
  | { kind: 'unlock-card' }
  | { kind: 'delete'; aid: string; what: string }
  | { kind: 'unlock'; aid: string; what: string }
  | { kind: 'reinstall'; aid: string; what: string; packageAid: string; moduleAid: string; privilegesHex: string; associatedSd: string };

const byAid = (entries: { aid: string }[]) => new Map(entries.map((e) => [e.aid.toUpperCase(), e]));

function entries(view: CardView): CardViewEntry[] {
  return [...view.applications, ...view.securityDomains];
}

/** Depth of an SD below the ISD among `sds`, so that deeper ones are deleted first. */
function depth(sd: CardViewEntry, sds: Map<string, CardViewEntry>): number {
  let n = 0;
  for (let at = sds.get(sd.associatedSd.toUpperCase()); at && n < 16; at = sds.get(at.associatedSd.toUpperCase())) n++;
  return n;
}

/** What the issuer sends to bring the card from `now` back to `baseline`, in an order the card accepts. */
export function planRestore(baseline: CardView, now: CardView): RestoreAction[] {
  const actions: RestoreAction[] = [];
  if (now.lifeCycle === 'CARD_LOCKED' && baseline.lifeCycle !== 'CARD_LOCKED') actions.push({ kind: 'unlock-card' });

  const had = byAid(entries(baseline));
  const addedApps = now.applications.filter((a) => !had.has(a.aid.toUpperCase()));
  for (const a of addedApps) actions.push({ kind: 'delete', aid: a.aid, what: `application ${a.aid}` });
  const sds = byAid(now.securityDomains) as Map<string, CardViewEntry>;
  const addedSds = now.securityDomains.filter((s) => !had.has(s.aid.toUpperCase())).sort((x, y) => depth(y, sds) - depth(x, sds));
  for (const s of addedSds) actions.push({ kind: 'delete', aid: s.aid, what: `security domain ${s.aid}` });
  const hadPackages = byAid(baseline.packages);
  for (const p of now.packages) if (!hadPackages.has(p.aid.toUpperCase())) actions.push({ kind: 'delete', aid: p.aid, what: `load file ${p.aid}` });

  const present = byAid(entries(now));
  const packagesNow = new Map(now.packages.map((p) => [p.aid.toUpperCase(), p]));
  for (const b of baseline.applications) {
    if (present.has(b.aid.toUpperCase()) || !b.packageAid) continue;
    const modules = packagesNow.get(b.packageAid.toUpperCase())?.modules ?? [];
    const home = b.associatedSd.toUpperCase();
    if (modules.length !== 1 || (home !== now.isd.toUpperCase() && !present.has(home))) continue;
    const what = `application ${b.aid}`;
    actions.push({ kind: 'reinstall', aid: b.aid, what, packageAid: b.packageAid, moduleAid: modules[0], privilegesHex: b.privilegesHex, associatedSd: b.associatedSd });
  }

  for (const e of entries(now)) {
    const before = had.get(e.aid.toUpperCase()) as CardViewEntry | undefined;
    if (before && e.lifeCycle === 'LOCKED' && before.lifeCycle !== 'LOCKED') actions.push({ kind: 'unlock', aid: e.aid, what: `${e.kind === 'sd' ? 'security domain' : 'application'} ${e.aid}` });
  }
  return actions;
}

/** How `now` differs from `baseline` in what the suites rely on; empty when the card is as the run found it. */
export function cardDifferences(baseline: CardView, now: CardView): string[] {
  const out: string[] = [];
  if (now.lifeCycle !== baseline.lifeCycle) out.push(`the card is ${now.lifeCycle}, was ${baseline.lifeCycle}`);
  const nowEntries = byAid(entries(now)) as Map<string, CardViewEntry>;
  const had = byAid(entries(baseline)) as Map<string, CardViewEntry>;
  for (const [aid, b] of had) {
    const e = nowEntries.get(aid);
    if (!e) {
      out.push(`${b.kind === 'sd' ? 'security domain' : 'application'} ${b.aid} is gone`);
      continue;
    }
    if (e.lifeCycle !== b.lifeCycle) out.push(`${e.aid} is ${e.lifeCycle}, was ${b.lifeCycle}`);
    if (e.associatedSd.toUpperCase() !== b.associatedSd.toUpperCase()) out.push(`${e.aid} is under ${e.associatedSd}, was under ${b.associatedSd}`);
    const kv = (x: CardViewEntry) => (x.keyVersions ?? []).join(',');
    if (b.keyVersions && e.keyVersions && kv(e) !== kv(b)) out.push(`${e.aid} holds key versions ${kv(e) || 'none'}, had ${kv(b) || 'none'}`);
  }
  for (const [aid, e] of nowEntries) if (!had.has(aid)) out.push(`${e.kind === 'sd' ? 'security domain' : 'application'} ${e.aid} was added`);
  const hadPackages = byAid(baseline.packages);
  const nowPackages = byAid(now.packages);
  for (const aid of hadPackages.keys()) if (!nowPackages.has(aid)) out.push(`load file ${aid} is gone`);
  for (const aid of nowPackages.keys()) if (!hadPackages.has(aid)) out.push(`load file ${aid} was added`);
  return out;
}

/** The commands that carry out one restore action, sent as the issuer from the ISD `isdAid`. */
export function restoreCommands(a: RestoreAction, isdAid: string): CommandApdu[] {
  if (a.kind === 'unlock-card') return [setStatus('isd', CardLifeCycle.SECURED)];
  if (a.kind === 'unlock') return [setStatus('application', 0x00, fromHex(a.aid))];
  if (a.kind === 'delete') return [deleteCardContent(fromHex(a.aid))];
  const aid = fromHex(a.aid);
  const install = installForInstall({ loadFileAid: fromHex(a.packageAid), moduleAid: fromHex(a.moduleAid), aid, privileges: fromHex(a.privilegesHex), makeSelectable: true });
  return a.associatedSd.toUpperCase() === isdAid.toUpperCase() ? [install] : [install, installForExtradition({ sdAid: fromHex(a.associatedSd), aid })];
}

const VERB: Record<RestoreAction['kind'], string> = { 'unlock-card': 'SET STATUS', unlock: 'SET STATUS', delete: 'DELETE', reinstall: 'INSTALL' };

/**
 * Carries out the plan in one issuer session; every refusal is collected (one failed DELETE must not leave the rest
 * undone) and returned as text.
 */
export async function applyRestore(session: Pick<OpenedSecureChannel, 'transmitSecure'>, actions: RestoreAction[], isdAid: string): Promise<string[]> {
  const refused: string[] = [];
  for (const a of actions) {
    for (const command of restoreCommands(a, isdAid)) {
      const r = await session.transmitSecure(command);
      if (r.sw === SW.OK) continue;
      refused.push(`${VERB[a.kind]} of ${a.kind === 'unlock-card' ? 'the card' : a.what} answered ${r.sw.toString(16).toUpperCase().padStart(4, '0')}`);
      break;
    }
  }
  return refused;
}
