/**
 * Rig profiles: the bench hardware around a reader that tests may switch — today a USB HID relay board
 * (dcttech "USBRelayN" protocol) wired to the card's supply and to the contactless field. The rig's
 * capabilities feed @needs:<capability> applicability (power-control, field-control).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';

export type RelayPolarity = 'closed' | 'open';

export interface RelayWiring {
  /** Relay number on the board, 1-based as printed on it. */
  relay: number;
  /** Whether the switched thing is on when the relay is closed (energized, default) or open (NC wiring). */
  onWhen?: RelayPolarity;
}

export interface RigProfile {
  $schema?: string;
  rig: string;
  description?: string;
  kind: 'hid-relay';
  /** The HID device; the dcttech board is 16c0:05df, product "USBRelay<N>". */
  device: { vendorId: string; productId: string; product?: string; serial?: string; path?: string };
  /** Report layout of the board. */
  protocol: 'dcttech';
  relays: { cardPower?: RelayWiring; field?: RelayWiring };
  /** Wait after switching before the card is used, ms (default 300). */
  settleMs?: number;
}

export interface LoadedRigProfile {
  profile: RigProfile;
  source: string;
  sha256: string;
}

export class RigProfileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join('\n  ')}`);
    this.name = 'RigProfileError';
  }
}

const usbId = { type: 'string', pattern: '^(0x)?[0-9A-Fa-f]{4}$' };
const wiring = {
  type: 'object',
  additionalProperties: false,
  required: ['relay'],
  properties: { relay: { type: 'integer', minimum: 1, maximum: 8 }, onWhen: { enum: ['closed', 'open'] } },
};

export const rigProfileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rig', 'kind', 'device', 'protocol', 'relays'],
  properties: {
    $schema: { type: 'string' },
    rig: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
    description: { type: 'string', maxLength: 500 },
    kind: { enum: ['hid-relay'] },
    device: {
      type: 'object',
      additionalProperties: false,
      required: ['vendorId', 'productId'],
      properties: {
        vendorId: usbId,
        productId: usbId,
        product: { type: 'string', minLength: 1 },
        serial: { type: 'string', pattern: '^[\\x20-\\x7E]{1,5}$' },
        path: { type: 'string', minLength: 1 },
      },
    },
    protocol: { enum: ['dcttech'] },
    relays: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: { cardPower: wiring, field: wiring },
    },
    settleMs: { type: 'integer', minimum: 0, maximum: 10000 },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile<RigProfile>(rigProfileSchema);

function describe(e: ErrorObject): string {
  const at = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') return `unknown field ${e.instancePath}/${(e.params as { additionalProperty: string }).additionalProperty}`;
  if (e.keyword === 'required') return `missing field ${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}`;
  if (e.keyword === 'enum') {
    return `${at} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${at} ${e.message ?? 'is invalid'}`;
}

export function parseRigProfile(json: unknown, source = 'rig profile'): LoadedRigProfile {
  let data = json;
  const text = typeof json === 'string' ? json : JSON.stringify(json);
  if (typeof json === 'string') {
    try {
      data = JSON.parse(json);
    } catch (e) {
      throw new RigProfileError([`${source}: not valid JSON: ${(e as Error).message}`]);
    }
  }
  if (!validate(data)) throw new RigProfileError((validate.errors ?? []).map((e) => `${source}: ${describe(e)}`));
  const { cardPower, field } = data.relays;
  if (cardPower && field && cardPower.relay === field.relay) {
    throw new RigProfileError([`${source}: /relays/field/relay: relay ${field.relay} already switches the card power`]);
  }
  return { profile: data, source, sha256: createHash('sha256').update(text).digest('hex') };
}

export function loadRigProfile(file: string): LoadedRigProfile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new RigProfileError([`${path.basename(file)}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
  return parseRigProfile(text, path.basename(file));
}

/** Capabilities for @needs: tags. */
export function rigCapabilities(p: RigProfile): string[] {
  return [...(p.relays.cardPower ? ['power-control'] : []), ...(p.relays.field ? ['field-control'] : [])];
}

/** "16c0" / "0x16C0" → 0x16c0. */
export function usbIdNumber(id: string): number {
  return parseInt(id.replace(/^0x/i, ''), 16);
}
