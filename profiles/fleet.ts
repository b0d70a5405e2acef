/**
 * Loads and validates fleet files: JSON Schema first (path-precise messages), then the cross-checks a schema
 * cannot express (references between SEs, MNOs, SPs, card content; key lengths per SCP).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { fleetSchema } from './fleet-schema.ts';
import type { Fleet, KeySetSpec, SeSpec } from './fleet-types.ts';

export type * from './fleet-types.ts';

/** A fleet file that cannot be used; `problems` lists every finding as "source: /json/path message". */
export class FleetError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join('\n  ')}`);
    this.name = 'FleetError';
  }
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile<Fleet>(fleetSchema);

function describe(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') {
    const field = (e.params as { additionalProperty: string }).additionalProperty;
    return `unknown field ${e.instancePath}/${field}`;
  }
  if (e.keyword === 'required') {
    const field = (e.params as { missingProperty: string }).missingProperty;
    return `missing field ${e.instancePath}/${field}`;
  }
  if (e.keyword === 'pattern') return `${e.instancePath || '/'} has an invalid format (must match ${(e.params as { pattern: string }).pattern})`;
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ');
    return `${e.instancePath || '/'} must be one of ${allowed}`;
  }
  return `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`;
}

/** Validates parsed JSON (or JSON text) as a fleet; `source` names it in messages (e.g. the file name). */
export function parseFleet(json: unknown, source = 'fleet'): Fleet {
  let data = json;
  if (typeof json === 'string') {
    try {
      data = JSON.parse(json);
    } catch (e) {
      throw new FleetError([`${source}: not valid JSON: ${(e as Error).message}`]);
    }
  }
  if (!validate(data)) {
    throw new FleetError((validate.errors ?? []).map((e) => `${source}: ${describe(e)}`));
  }
  const problems = crossCheck(data).map((p) => `${source}: ${p}`);
  if (problems.length) throw new FleetError(problems);
  return data;
}

export function loadFleet(file: string): Fleet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new FleetError([`${path.basename(file)}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
  return parseFleet(text, path.basename(file));
}

const DEFAULT_FLEET = new URL('./default-fleet.json', import.meta.url);

/** The built-in fleet (profiles/default-fleet.json); a fresh copy each call, so callers may mutate it. */
export function defaultFleet(): Fleet {
  return parseFleet(readFileSync(DEFAULT_FLEET, 'utf8'), 'default-fleet.json');
}

function keyProblems(keys: KeySetSpec, at: string): string[] {
  const out: string[] = [];
  const allowed = keys.scp === '03' ? [16, 24, 32] : [16, 24];
  for (const k of ['enc', 'mac', 'dek'] as const) {
    const len = keys[k].length / 2;
    if (!allowed.includes(len)) out.push(`${at}/${k} must be ${allowed.join(', ')} bytes for SCP${keys.scp}, not ${len}`);
  }
  if (keys.scp === '03' && !(keys.enc.length === keys.mac.length && keys.mac.length === keys.dek.length)) {
    out.push(`${at} ENC, MAC and DEK must have the same length for SCP03`);
  }
  return out;
}

const same = (a: string, b: string) => a.toUpperCase() === b.toUpperCase();

function seProblems(se: SeSpec, i: number, fleet: Fleet): string[] {
  const at = `/ses/${i}`;
  const out: string[] = [];
  if (!fleet.mnos.some((m) => m.name === se.mno)) out.push(`${at}/mno "${se.mno}" is not an MNO of the fleet`);
  out.push(...keyProblems(se.card.isd.keys, `${at}/card/isd/keys`));
  out.push(...keyProblems(se.centralSd.keys, `${at}/centralSd/keys`));

  const card = se.card;
  const sds = card.securityDomains ?? [];
  const sdAids = new Map<string, number>();
  const known = (aid: string) => same(aid, card.isd.aid) || sdAids.has(aid.toUpperCase());
  sds.forEach((sd, j) => {
    const key = sd.aid.toUpperCase();
    if (sdAids.has(key) || same(sd.aid, card.isd.aid)) out.push(`${at}/card/securityDomains/${j}/aid ${sd.aid} is defined twice`);
    sdAids.set(key, j);
    if (sd.keys) out.push(...keyProblems(sd.keys, `${at}/card/securityDomains/${j}/keys`));
  });
  sds.forEach((sd, j) => {
    if (sd.parent && !known(sd.parent)) out.push(`${at}/card/securityDomains/${j}/parent ${sd.parent} is not a security domain of the card`);
  });
  const central = sdAids.get(se.centralSd.aid.toUpperCase());
  if (central === undefined) out.push(`${at}/centralSd/aid ${se.centralSd.aid} is not in /ses/${i}/card/securityDomains`);
  else {
    const sdKeys = sds[central].keys;
    if (sdKeys && !sameKeys(sdKeys, se.centralSd.keys)) out.push(`${at}/centralSd/keys differ from the keys of that SD in the card`);
  }

  const pkgs = new Map((card.packages ?? []).map((p) => [p.aid.toUpperCase(), p]));
  const instAids = new Set<string>();
  (card.instances ?? []).forEach((inst, j) => {
    const p = pkgs.get(inst.packageAid.toUpperCase());
    if (!p) out.push(`${at}/card/instances/${j}/packageAid ${inst.packageAid} is not a package of the card`);
    else if (!p.applets.some((a) => same(a, inst.moduleAid))) {
      out.push(`${at}/card/instances/${j}/moduleAid ${inst.moduleAid} is not a module of package ${inst.packageAid}`);
    }
    if (!known(inst.sd)) out.push(`${at}/card/instances/${j}/sd ${inst.sd} is not a security domain of the card`);
    if (instAids.has(inst.aid.toUpperCase()) || known(inst.aid)) out.push(`${at}/card/instances/${j}/aid ${inst.aid} is defined twice`);
    instAids.add(inst.aid.toUpperCase());
  });

  const serviceIds = new Set<string>();
  (se.services ?? []).forEach((svc, j) => {
    const sat = `${at}/services/${j}`;
    if (serviceIds.has(svc.id)) out.push(`${sat}/id "${svc.id}" is defined twice on this SE`);
    serviceIds.add(svc.id);
    if (!fleet.serviceProviders.some((sp) => sp.name === svc.serviceProvider)) {
      out.push(`${sat}/serviceProvider "${svc.serviceProvider}" is not a service provider of the fleet`);
    }
    if (svc.spKeys) out.push(...keyProblems(svc.spKeys, `${sat}/spKeys`));
    const sdIndex = sdAids.get(svc.sdAid.toUpperCase());
    if (sdIndex !== undefined && svc.spKeys && sds[sdIndex].keys && !sameKeys(sds[sdIndex].keys!, svc.spKeys)) {
      out.push(`${sat}/spKeys differ from the keys of security domain ${svc.sdAid} on the card`);
    }
    if (same(svc.sdAid, se.centralSd.aid) || same(svc.sdAid, card.isd.aid)) {
      out.push(`${sat}/sdAid ${svc.sdAid} is the central SD or the ISD, not an SP security domain`);
    }
    if (svc.packageAid && svc.moduleAid) {
      const p = pkgs.get(svc.packageAid.toUpperCase());
      if (p && !p.applets.some((a) => same(a, svc.moduleAid!))) out.push(`${sat}/moduleAid ${svc.moduleAid} is not a module of package ${svc.packageAid}`);
    }
    const inst = (card.instances ?? []).find((x) => svc.instanceAid && same(x.aid, svc.instanceAid));
    if (inst && !same(inst.sd, svc.sdAid)) out.push(`${sat}/instanceAid ${svc.instanceAid} belongs to ${inst.sd}, not to ${svc.sdAid}`);
  });
  return out;
}

function sameKeys(a: KeySetSpec, b: KeySetSpec): boolean {
  return a.kvn === b.kvn && a.scp === b.scp && same(a.enc, b.enc) && same(a.mac, b.mac) && same(a.dek, b.dek);
}

function crossCheck(fleet: Fleet): string[] {
  const out: string[] = [];
  const names = (list: { name: string }[], at: string) => {
    const seen = new Set<string>();
    list.forEach((x, i) => {
      if (seen.has(x.name)) out.push(`${at}/${i}/name "${x.name}" is defined twice`);
      seen.add(x.name);
    });
  };
  names(fleet.mnos, '/mnos');
  names(fleet.serviceProviders, '/serviceProviders');

  const seIds = new Set<string>();
  const cins = new Set<string>();
  const msis = new Map<string, string>();
  const serviceOwner = new Map<string, string>();
  fleet.ses.forEach((se, i) => {
    if (seIds.has(se.seId)) out.push(`/ses/${i}/seId "${se.seId}" is defined twice`);
    seIds.add(se.seId);
    if (cins.has(se.cin.toUpperCase())) out.push(`/ses/${i}/cin ${se.cin} is used by another SE`);
    cins.add(se.cin.toUpperCase());
    se.msisdns.forEach((msisdn, j) => {
      const key = `${se.mno}|${normalizeMsisdn(msisdn)}`;
      const other = msis.get(key);
      if (other) out.push(`/ses/${i}/msisdns/${j} ${msisdn} on ${se.mno} already reaches ${other}`);
      else msis.set(key, se.seId);
    });
    (se.services ?? []).forEach((svc, j) => {
      const owner = serviceOwner.get(svc.id);
      if (owner && owner !== svc.serviceProvider) {
        out.push(`/ses/${i}/services/${j}/id "${svc.id}" belongs to ${owner} elsewhere in the fleet`);
      }
      serviceOwner.set(svc.id, svc.serviceProvider);
    });
    out.push(...seProblems(se, i, fleet));
  });
  return out;
}

/** MSISDNs compare without spaces, dashes or a leading '+'. */
export function normalizeMsisdn(msisdn: string): string {
  return msisdn.replace(/[\s-]/g, '').replace(/^\+/, '');
}
