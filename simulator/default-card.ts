/**
 * Quick builders of card descriptions for fleets and tests: GP default keys, 64 KiB non-volatile and 4 KiB
 * volatile memory, a few pre-loaded packages (associated with the central SD when the SE has one).
 */
import type { CardSpec, InstanceSpec, KeySetSpec, PackageSpec, SecurityDomainSpec, SeSpec } from '../profiles/index.ts';

/** The GlobalPlatform test key 40..4F. */
export const DEFAULT_KEY = '404142434445464748494A4B4C4D4E4F';
export const DEFAULT_ISD_AID = 'A000000151000000';
export const DEFAULT_KVN = 0x30;
export const DEFAULT_MEMORY = { nonVolatile: 64 * 1024, volatile: 4 * 1024 } as const;

/** A key set with the same key for ENC, MAC and DEK (default: 40..4F, KVN 30, SCP03 i=70). */
export function defaultKeySet(opts: Partial<KeySetSpec> & { key?: string } = {}): KeySetSpec {
  const key = opts.key ?? DEFAULT_KEY;
  const scp = opts.scp ?? '03';
  return {
    kvn: opts.kvn ?? DEFAULT_KVN,
    scp,
    i: opts.i ?? (scp === '03' ? '70' : '55'),
    enc: opts.enc ?? key,
    mac: opts.mac ?? key,
    dek: opts.dek ?? key,
  };
}

/** Packages pre-loaded on the default card: sizes in bytes of non-volatile memory. */
export const DEFAULT_PACKAGES: PackageSpec[] = [
  { aid: 'F0504159000001', version: '1.0', size: 6144, applets: ['F050415900000101'] },
  { aid: 'F05452414E0001', version: '1.0', size: 4096, applets: ['F05452414E000101'] },
  { aid: 'F04C4F59414C01', version: '1.1', size: 3072, applets: ['F04C4F59414C0101', 'F04C4F59414C0102'] },
];

export interface DefaultCardOptions {
  isdKeys?: KeySetSpec;
  memory?: { nonVolatile: number; volatile: number };
  packages?: PackageSpec[];
  securityDomains?: SecurityDomainSpec[];
  instances?: InstanceSpec[];
  authFailureLimit?: number;
  atr?: string;
  cplc?: Record<string, string>;
}

/** A CardSpec with the defaults above; anything given replaces the default. */
export function defaultCardSpec(opts: DefaultCardOptions = {}): CardSpec {
  return {
    atr: opts.atr,
    isd: { aid: DEFAULT_ISD_AID, keys: opts.isdKeys ?? defaultKeySet() },
    memory: { ...(opts.memory ?? DEFAULT_MEMORY) },
    cplc: opts.cplc,
    packages: structuredClone(opts.packages ?? DEFAULT_PACKAGES),
    securityDomains: structuredClone(opts.securityDomains ?? []),
    instances: structuredClone(opts.instances ?? []),
    authFailureLimit: opts.authFailureLimit,
  };
}

export interface DefaultSeOptions extends DefaultCardOptions {
  seId?: string;
  type?: SeSpec['type'];
  cin?: string;
  iin?: string;
  mno?: string;
  msisdns?: string[];
  /** Central SD AID and keys (default F0 'CENTRAL.SD' with keys C0..CF / D0..DF / E0..EF). */
  centralSd?: { aid: string; keys: KeySetSpec };
}

export const DEFAULT_CENTRAL_SD_AID = 'F043454E5452414C2E5344';

export function defaultCentralSdKeys(): KeySetSpec {
  return defaultKeySet({
    enc: 'C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF',
    mac: 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF',
    dek: 'E0E1E2E3E4E5E6E7E8E9EAEBECEDEEEF',
  });
}

/** A whole SeSpec around a default card: handy for tests that need an SE without a fleet file. */
export function defaultSeSpec(opts: DefaultSeOptions = {}): SeSpec {
  return {
    seId: opts.seId ?? 'se-default',
    type: opts.type ?? 'eSE',
    cin: opts.cin ?? '0A000000000000000001',
    iin: opts.iin ?? '42000001',
    mno: opts.mno ?? 'MNO-A',
    msisdns: opts.msisdns ?? ['+33600000099'],
    centralSd: opts.centralSd ?? { aid: DEFAULT_CENTRAL_SD_AID, keys: defaultCentralSdKeys() },
    card: defaultCardSpec(opts),
  };
}
