/**
 * GlobalPlatform privileges (GPCS 2.3.1 §6.6, Tables 11-7 to 11-9): names <-> the 3-byte encoding of INSTALL
 * and GET STATUS tag 'C5'. Some privileges share bits: DAP Verification is '80'+'40' with b1 clear, Mandated
 * DAP Verification '80'+'40'+'01', Delegated Management '80'+'20' — all imply Security Domain.
 */
import { GpError } from './errors.ts';

export const PRIVILEGES = [
  'security-domain',
  'dap-verification',
  'delegated-management',
  'card-lock',
  'card-terminate',
  'card-reset',
  'cvm-management',
  'mandated-dap-verification',
  'trusted-path',
  'authorized-management',
  'token-management',
  'global-delete',
  'global-lock',
  'global-registry',
  'final-application',
  'global-service',
  'receipt-generation',
  'ciphered-load-file-data-block',
  'contactless-activation',
  'contactless-self-activation',
] as const;

export type Privilege = (typeof PRIVILEGES)[number];

/** Privilege number (Tables 11-7..11-9) → display name as the spec writes it. */
export const PRIVILEGE_NAMES: Record<Privilege, string> = {
  'security-domain': 'Security Domain',
  'dap-verification': 'DAP Verification',
  'delegated-management': 'Delegated Management',
  'card-lock': 'Card Lock',
  'card-terminate': 'Card Terminate',
  'card-reset': 'Card Reset',
  'cvm-management': 'CVM Management',
  'mandated-dap-verification': 'Mandated DAP Verification',
  'trusted-path': 'Trusted Path',
  'authorized-management': 'Authorized Management',
  'token-management': 'Token Management',
  'global-delete': 'Global Delete',
  'global-lock': 'Global Lock',
  'global-registry': 'Global Registry',
  'final-application': 'Final Application',
  'global-service': 'Global Service',
  'receipt-generation': 'Receipt Generation',
  'ciphered-load-file-data-block': 'Ciphered Load File Data Block',
  'contactless-activation': 'Contactless Activation',
  'contactless-self-activation': 'Contactless Self-Activation',
};

/** [byte index, bits set by the privilege, bits that must be clear] */
const CODING: Record<Privilege, readonly [number, number, number]> = {
  'security-domain': [0, 0x80, 0],
  'dap-verification': [0, 0xc0, 0x01],
  'delegated-management': [0, 0xa0, 0],
  'card-lock': [0, 0x10, 0],
  'card-terminate': [0, 0x08, 0],
  'card-reset': [0, 0x04, 0],
  'cvm-management': [0, 0x02, 0],
  'mandated-dap-verification': [0, 0xc1, 0],
  'trusted-path': [1, 0x80, 0],
  'authorized-management': [1, 0x40, 0],
  'token-management': [1, 0x20, 0],
  'global-delete': [1, 0x10, 0],
  'global-lock': [1, 0x08, 0],
  'global-registry': [1, 0x04, 0],
  'final-application': [1, 0x02, 0],
  'global-service': [1, 0x01, 0],
  'receipt-generation': [2, 0x80, 0],
  'ciphered-load-file-data-block': [2, 0x40, 0],
  'contactless-activation': [2, 0x20, 0],
  'contactless-self-activation': [2, 0x10, 0],
};

export class PrivilegeError extends GpError<'unknown-privilege'> {
  constructor(message: string) {
    super('unknown-privilege', message);
    this.name = 'PrivilegeError';
  }
}

const ALIASES: Record<string, Privilege> = {
  'token-verification': 'token-management',
  'mandated-dap': 'mandated-dap-verification',
  dap: 'dap-verification',
  sd: 'security-domain',
};

/** Accepts 'Security Domain', 'security-domain', 'SECURITY_DOMAIN', 'securityDomain' and a few aliases. */
export function parsePrivilegeName(name: string): Privilege {
  const key = name
    .trim()
    .replace(/([a-z])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[\s_]+/g, '-');
  if ((PRIVILEGES as readonly string[]).includes(key)) return key as Privilege;
  if (ALIASES[key]) return ALIASES[key];
  throw new PrivilegeError(`unknown privilege "${name}"`);
}

/** Three privilege bytes for a set of privileges. */
export function encodePrivileges(list: readonly (Privilege | string)[]): Uint8Array {
  const out = new Uint8Array(3);
  const set = new Set(list.map((p) => parsePrivilegeName(p)));
  if (set.has('dap-verification') && set.has('mandated-dap-verification')) {
    throw new PrivilegeError('DAP Verification and Mandated DAP Verification are exclusive codings of byte 1');
  }
  for (const p of set) {
    const [i, bits] = CODING[p];
    out[i] |= bits;
  }
  return out;
}

/**
 * Privileges named by 1 or 3 bytes (a 1-byte coding, from GP 2.1.1 cards, leaves bytes 2-3 at zero).
 * Security Domain is reported alongside the privileges that imply it.
 */
export function decodePrivileges(bytes: Uint8Array): Privilege[] {
  if (bytes.length !== 1 && bytes.length !== 3) throw new PrivilegeError(`privileges are 1 or 3 bytes, got ${bytes.length}`);
  const b = [bytes[0], bytes[1] ?? 0, bytes[2] ?? 0];
  const out: Privilege[] = [];
  for (const p of PRIVILEGES) {
    const [i, bits, clear] = CODING[p];
    if ((b[i] & bits) === bits && (b[i] & clear) === 0) out.push(p);
  }
  // Mandated DAP's bits include DAP Verification's; report only the stronger one.
  return out;
}

/** Why a privilege byte string is not a consistent coding, or undefined when it is. */
export function privilegeProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length !== 1 && bytes.length !== 3) return `privileges are 1 or 3 bytes, got ${bytes.length}`;
  const b1 = bytes[0];
  if (!(b1 & 0x80) && b1 & 0x61) return 'byte 1 sets DAP or Delegated Management bits without Security Domain';
  if (bytes.length === 3 && bytes[2] & 0x0f) return 'byte 3 sets RFU bits';
  if ((b1 & 0x01) && (b1 & 0xc0) !== 0xc0) return "byte 1 b1 (Mandated DAP) without b8 and b7";
  return undefined;
}

export function hasPrivilege(bytes: Uint8Array, privilege: Privilege): boolean {
  return decodePrivileges(bytes).includes(privilege);
}

export function describePrivileges(bytes: Uint8Array): string {
  const list = decodePrivileges(bytes);
  return list.length === 0 ? 'none' : list.map((p) => PRIVILEGE_NAMES[p]).join(', ');
}
