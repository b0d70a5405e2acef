/**
 * Card Production Life Cycle data (GET DATA '9F7F'): 42 bytes of fixed fields. A profile overrides fields by
 * name (matched loosely: "icSerialNumber", "IC Serial Number", "ic-serial-number").
 */
import { createHash } from 'node:crypto';
import { fromHex, toHex, CPLC_LAYOUT, CPLC_SIZE, decodeCplc, encodeCplc } from '../gp/index.ts';
import { SimulatorError } from './errors.ts';

export const CPLC_LENGTH = CPLC_SIZE;

const DEFAULTS: Record<string, string> = {
  icFabricator: '4790',
  icType: '5167',
  operatingSystemId: '4791',
  operatingSystemReleaseDate: '8102',
  operatingSystemReleaseLevel: '2301',
  icFabricationDate: '8200',
  icBatchIdentifier: '0001',
  icModuleFabricator: '4790',
  icModulePackagingDate: '8201',
  iccManufacturer: '0000',
  icEmbeddingDate: '8201',
  icPrePersonalizer: '0000',
  icPrePersonalizationEquipmentDate: '0000',
  icPrePersonalizationEquipmentId: '00000000',
  icPersonalizer: '0000',
  icPersonalizationDate: '0000',
  icPersonalizationEquipmentId: '00000000',
};

const norm = (s: string) => s.replace(/[^a-z0-9]/gi, '').toLowerCase();

/** Builds the CPLC of an SE: defaults, a serial number derived from the SE id, then the profile's overrides. */
export function buildCplc(seId: string, overrides: Record<string, string> = {}): Uint8Array {
  const serial = toHex(createHash('sha256').update(seId).digest().subarray(0, 4));
  const values: Record<string, string> = { ...DEFAULTS, icSerialNumber: serial };
  for (const [key, value] of Object.entries(overrides)) {
    const field = CPLC_LAYOUT.find(([n]) => norm(n) === norm(key));
    if (!field) throw new SimulatorError(`CPLC: unknown field "${key}"`);
    const bytes = fromHex(value);
    if (bytes.length !== field[1]) throw new SimulatorError(`CPLC: field ${field[0]} takes ${field[1]} bytes, got ${bytes.length}`);
    values[field[0]] = toHex(bytes);
  }
  return encodeCplc(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, fromHex(v)])));
}

/** Named fields of a 42-byte CPLC (for inspection). */
export function cplcFields(cplc: Uint8Array): Record<string, string> {
  return Object.fromEntries(decodeCplc(cplc).map((f) => [f.name, f.hex]));
}
