/**
 * The central TSM's operator API: what the organisation running the TSM sets up outside the SP API — services
 * it offers on an SE, the memory a new version of a service needs — and read-only lookups of what it holds.
 * Lab steps and tests arrange scenarios through it instead of editing the registry. Every change is saved.
 */
import type { TsmRecords } from './records.ts';
import type { Registry, SeLockRecord, ServiceRecord } from './registry.ts';
import { TsmError } from './status.ts';

export class TsmOperator {
  constructor(
    private readonly registry: Registry,
    private readonly records: TsmRecords,
  ) {}

  /** Offers a service on an SE (a copy of `record` is kept; one of the same id on that SE is replaced). */
  registerService(record: ServiceRecord): Readonly<ServiceRecord> {
    if (!this.registry.hasSe(record.seId)) throw TsmError.failed('3.9', `cannot register service ${record.id}: unknown SE "${record.seId}"`);
    if (!this.registry.isServiceProvider(record.serviceProvider)) {
      throw TsmError.failed('3.9', `cannot register service ${record.id}: "${record.serviceProvider}" is not a service provider known to the central TSM`);
    }
    const kept = this.registry.putService(record);
    this.records.save();
    return kept;
  }

  /**
   * A new version of a service needs `bytes` of non-volatile memory (eligibility of pre-personalization and
   * update); the instance already on the card keeps the size it was installed with.
   */
  setInstallSize(seId: string, serviceId: string, bytes: number): Readonly<ServiceRecord> {
    if (!Number.isInteger(bytes) || bytes <= 0) throw new RangeError(`install size of ${serviceId} must be a positive whole number of bytes, not ${bytes}`);
    const s = this.registry.setInstallSize(seId, serviceId, bytes);
    this.records.save();
    return s;
  }

  /** One service as the central TSM records it (3.9 when unknown). */
  service(seId: string, serviceId: string): Readonly<ServiceRecord> {
    return this.registry.service(seId, serviceId);
  }

  /** The services the central TSM knows on an SE. */
  services(seId: string): readonly Readonly<ServiceRecord>[] {
    return this.registry.services(seId);
  }

  /** Every SE the central TSM knows. */
  seIds(): string[] {
    return this.registry.seIds();
  }

  /** The central TSM's lock on an SE, if it holds one. */
  seLock(seId: string): Readonly<SeLockRecord> | undefined {
    return this.registry.seLock(seId);
  }
}
