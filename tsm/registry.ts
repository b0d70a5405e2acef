/**
 * The central TSM's registry, seeded from the fleet: MSI (MSISDN + MNO) → SE → SE data and MNO data; service
 * providers and the services and security domains each one owns. Lookups that find nothing throw TsmError 3.9
 * (3.10 when the identifiers exist but do not belong together).
 */
import { normalizeMsisdn } from '../profiles/index.ts';
import type { Bearer, Fleet, KeySetSpec, MnoSpec, SeSpec, SeType, ServiceSpec } from '../profiles/index.ts';
import { TsmError } from './status.ts';

export interface MnoData {
  name: string;
  bearer: Bearer;
  maxApduCount?: number;
  maxScriptSize?: number;
}

/** What the central TSM tells an SP about an SE: the fleet's SE data, without keys, card content or MSISDNs. */
export type SeData = Pick<SeSpec, (typeof SE_DATA_FIELDS)[number]> & { seType: SeType };

/** Non-volatile bytes assumed for an instance whose service does not say (eligibility). */
export const DEFAULT_INSTALL_SIZE = 2048;

const SE_DATA_FIELDS = ['seId', 'cin', 'iin', 'iccid', 'mno', 'profileId', 'masterKeyIndex', 'gpVersion', 'javaCardVersion', 'certificationLevel', 'expiry'] as const;

export interface ServiceRecord {
  id: string;
  seId: string;
  serviceProvider: string;
  sdAid: string;
  packageAid?: string;
  moduleAid?: string;
  instanceAid?: string;
  state: string;
  /** Why the service is in its state when that needs saying (a failed or interrupted saga). */
  note?: string;
  /** When the state last changed (ISO 8601). */
  updatedAt?: string;
  /** Non-volatile bytes an instance needs (eligibility). */
  installSize?: number;
  /**
   * Non-volatile bytes the instance on the card was installed with, when that differs from `installSize` (a
   * newer version needs more): what deleting it frees at least, in the eligibility check of an update.
   */
  instanceSize?: number;
  /** The state a suspended service resumes to. */
  resumeTo?: string;
}

/** An SE the central TSM has locked (card life cycle CARD_LOCKED), and at whose request. */
export interface SeLockRecord {
  seId: string;
  /** The service provider that asked for the lock; only it may ask to unlock. */
  lockedBy: string;
  /** ISO 8601. */
  lockedAt: string;
  reason?: string;
  /**
   * The central TSM found the card CARD_LOCKED without a record of who asked (reconcile.ts): any SP with a
   * service on the SE may unlock it, so the SE is never lost to the API.
   */
  foundOnCard?: true;
}

/** Who a security domain (or application) on an SE belongs to. */
export type Owner = { kind: 'issuer' } | { kind: 'central' } | { kind: 'sp'; name: string } | { kind: 'unknown' };

interface SeEntry {
  spec: SeSpec;
  services: Map<string, ServiceRecord>;
  lock?: SeLockRecord;
}

const upper = (s: string) => s.toUpperCase();

export class Registry {
  private readonly ses = new Map<string, SeEntry>();
  private readonly msi = new Map<string, string>();
  private readonly mnos = new Map<string, MnoSpec>();
  private readonly sps = new Map<string, { name: string; apiKey?: string }>();

  constructor(fleet: Fleet) {
    for (const m of fleet.mnos) this.mnos.set(m.name, m);
    for (const sp of fleet.serviceProviders) this.sps.set(sp.name, { ...sp });
    for (const se of fleet.ses) {
      const services = new Map<string, ServiceRecord>();
      for (const s of se.services ?? []) services.set(s.id, toRecord(se.seId, s));
      this.ses.set(se.seId, { spec: se, services });
      for (const n of se.msisdns) this.msi.set(msiKey(n, se.mno), se.seId);
    }
  }

  /** Get SE identifier by MSI. */
  seIdByMsi(msisdn: string, mno: string): string {
    if (!this.mnos.has(mno)) throw TsmError.failed('3.9', `unknown MNO "${mno}"`);
    const seId = this.msi.get(msiKey(msisdn, mno));
    if (!seId) throw TsmError.failed('3.9', `no SE is known for subscriber ${msisdn} on ${mno}`);
    return seId;
  }

  hasSe(seId: string): boolean {
    return this.ses.has(seId);
  }

  seIds(): string[] {
    return [...this.ses.keys()];
  }

  /** The fleet entry of an SE (card content and keys included): for the TSM's own use, never for SPs. */
  seSpec(seId: string): SeSpec {
    return this.entry(seId).spec;
  }

  seData(seId: string): SeData {
    const se = this.entry(seId).spec;
    const data: Record<string, unknown> = {};
    for (const f of SE_DATA_FIELDS) if (se[f] !== undefined) data[f] = se[f];
    return { ...(data as Omit<SeData, 'seType'>), seType: se.type };
  }

  mno(name: string): MnoData {
    const m = this.mnos.get(name);
    if (!m) throw TsmError.failed('3.9', `unknown MNO "${name}"`);
    return { name: m.name, bearer: m.bearer, maxApduCount: m.maxApduCount, maxScriptSize: m.maxScriptSize };
  }

  mnoOf(seId: string): string {
    return this.entry(seId).spec.mno;
  }

  /** Does the SE answer to this MSISDN on its MNO? */
  msiMatches(seId: string, msisdn: string, mno: string): boolean {
    return this.msi.get(msiKey(msisdn, mno)) === seId;
  }

  isServiceProvider(name: string): boolean {
    return this.sps.has(name);
  }

  /** The SP an API key belongs to, when the fleet gives SPs keys. */
  serviceProviderByKey(apiKey: string): string | undefined {
    for (const sp of this.sps.values()) if (sp.apiKey === apiKey) return sp.name;
    return undefined;
  }

  /** Whether any SP of the fleet has an API key (then the key is required). */
  requiresApiKeys(): boolean {
    return [...this.sps.values()].some((sp) => sp.apiKey !== undefined);
  }

  apiKeyOf(name: string): string | undefined {
    return this.sps.get(name)?.apiKey;
  }

  service(seId: string, serviceId: string): ServiceRecord {
    const s = this.entry(seId).services.get(serviceId);
    if (!s) throw TsmError.failed('3.9', `service "${serviceId}" is not known on SE ${seId}`);
    return s;
  }

  /** SEs carrying a service with this id. */
  sesWithService(serviceId: string): string[] {
    return [...this.ses.values()].filter((e) => e.services.has(serviceId)).map((e) => e.spec.seId);
  }

  services(seId: string): ServiceRecord[] {
    return [...this.entry(seId).services.values()];
  }

  servicesOf(sp: string): ServiceRecord[] {
    return [...this.ses.values()].flatMap((e) => [...e.services.values()].filter((s) => s.serviceProvider === sp));
  }

  setServiceState(seId: string, serviceId: string, state: string, at?: number, note?: string): ServiceRecord {
    const s = this.service(seId, serviceId);
    s.state = state;
    if (at !== undefined) s.updatedAt = new Date(at).toISOString();
    if (note !== undefined) s.note = note;
    else delete s.note;
    return s;
  }

  /**
   * A new version of a service needs `bytes` of non-volatile memory: the instance already on the card keeps
   * the size it was installed with (an update counts it as freed).
   */
  setInstallSize(seId: string, serviceId: string, bytes: number): ServiceRecord {
    const s = this.service(seId, serviceId);
    if (s.instanceAid && s.instanceSize === undefined) s.instanceSize = s.installSize ?? DEFAULT_INSTALL_SIZE;
    s.installSize = bytes;
    return s;
  }

  /** Adds (or replaces) a service record on its SE: services the central TSM installs itself. */
  putService(record: ServiceRecord): ServiceRecord {
    const copy = { ...record };
    this.entry(record.seId).services.set(record.id, copy);
    return copy;
  }

  /** Every service record of every SE (for the store). */
  allServices(): ServiceRecord[] {
    return [...this.ses.values()].flatMap((e) => [...e.services.values()].map((s) => ({ ...s })));
  }

  /** Overlays stored records on the fleet's; records of SEs no longer in the fleet are ignored (returned). */
  restore(records: ServiceRecord[]): ServiceRecord[] {
    const ignored: ServiceRecord[] = [];
    for (const r of records) {
      if (this.ses.has(r.seId)) this.putService(r);
      else ignored.push(r);
    }
    return ignored;
  }

  /** The central TSM's lock on an SE, if it has locked it. */
  seLock(seId: string): SeLockRecord | undefined {
    const lock = this.entry(seId).lock;
    return lock ? { ...lock } : undefined;
  }

  /** Records (or, with undefined, lifts) the lock of an SE. */
  setSeLock(seId: string, lock: SeLockRecord | undefined): void {
    const e = this.entry(seId);
    if (lock) e.lock = { ...lock, seId };
    else delete e.lock;
  }

  /** Every SE lock (for the store). */
  allSeLocks(): SeLockRecord[] {
    return [...this.ses.values()].flatMap((e) => (e.lock ? [{ ...e.lock }] : []));
  }

  /** Owner of an SD or application AID on an SE, from the fleet's card content and services. */
  ownerOf(seId: string, aid: string): Owner {
    const { spec, services } = this.entry(seId);
    const a = upper(aid);
    if (a === upper(spec.card.isd.aid)) return { kind: 'issuer' };
    if (a === upper(spec.centralSd.aid)) return { kind: 'central' };
    for (const s of services.values()) {
      if (upper(s.sdAid) === a || (s.instanceAid && upper(s.instanceAid) === a)) return { kind: 'sp', name: s.serviceProvider };
    }
    // Instances not named by a service belong to the owner of their SD.
    const inst = (spec.card.instances ?? []).find((i) => upper(i.aid) === a);
    if (inst && upper(inst.sd) !== a) return this.ownerOf(seId, inst.sd);
    return { kind: 'unknown' };
  }

  /** The central TSM's own keys for the central SD of an SE. */
  centralSdKeys(seId: string): { aid: string; keys: KeySetSpec } {
    return this.entry(seId).spec.centralSd;
  }

  private entry(seId: string): SeEntry {
    const e = this.ses.get(seId);
    if (!e) throw TsmError.failed('3.9', `unknown SE "${seId}"`);
    return e;
  }
}

function msiKey(msisdn: string, mno: string): string {
  return `${mno}|${normalizeMsisdn(msisdn)}`;
}

function toRecord(seId: string, s: ServiceSpec): ServiceRecord {
  return {
    id: s.id,
    seId,
    serviceProvider: s.serviceProvider,
    sdAid: s.sdAid,
    ...(s.packageAid ? { packageAid: s.packageAid } : {}),
    ...(s.moduleAid ? { moduleAid: s.moduleAid } : {}),
    ...(s.instanceAid ? { instanceAid: s.instanceAid } : {}),
    state: s.state ?? 'installed',
    ...(s.installSize !== undefined ? { installSize: s.installSize } : {}),
  };
}
