/**
 * The fleet file: the world a run happens in. The simulator reads `ses[].card`; the central TSM reads the rest
 * (its registry is seeded from it). Hex strings at this edge; gp/ converts to bytes.
 */

export type Bearer = 'sms' | 'http-admin' | 'local';
export type SeType = 'eSE' | 'UICC';

export interface KeySetSpec {
  /** Key version number, e.g. 48 (0x30). */
  kvn: number;
  /** SCP of the key set: "03" (AES) or "02" (3DES). */
  scp: '02' | '03';
  /** SCP03/SCP02 implementation option i, hex, e.g. "70" or "55". */
  i?: string;
  enc: string;
  mac: string;
  dek: string;
}

export interface MnoSpec {
  name: string;
  bearer: Bearer;
  /** Bearer limits the central TSM advertises in BeginConversation. */
  maxApduCount?: number;
  maxScriptSize?: number;
  /** Simulated one-way latency per script, ms. */
  latencyMs?: number;
  /** Whether the network is up when the run starts (default true). */
  up?: boolean;
  /** Seed of the bearer's deterministic loss pattern (sms). */
  seed?: number;
  /** Share of lost segments the bearer retransmits, 0..90 (sms; default 0). */
  lossPercent?: number;
  /** Bytes per bearer segment (sms: one short message of user data; default 140). */
  segmentSize?: number;
}

export interface ServiceProviderSpec {
  name: string;
  /** API credential the SP presents (X-SP-Name header in this harness; mTLS in production). */
  apiKey?: string;
}

export interface PackageSpec {
  aid: string;
  version?: string;
  /** Non-volatile bytes the package occupies. */
  size: number;
  /** Applet classes (module AIDs) in the package. */
  applets: string[];
}

export interface SecurityDomainSpec {
  aid: string;
  /** Associated SD (parent); the ISD when absent. */
  parent?: string;
  privileges?: string[];
  keys?: KeySetSpec;
  lifeCycle?: 'INSTALLED' | 'SELECTABLE' | 'PERSONALIZED' | 'LOCKED';
}

export interface InstanceSpec {
  aid: string;
  packageAid: string;
  moduleAid: string;
  /** SD the instance is associated with. */
  sd: string;
  lifeCycle?: 'INSTALLED' | 'SELECTABLE' | 'PERSONALIZED' | 'LOCKED';
  /** Non-volatile bytes the instance occupies. */
  size?: number;
}

export interface CardSpec {
  atr?: string;
  isd: { aid: string; keys: KeySetSpec };
  /** Extended card resources (GET DATA FF21). */
  memory: { nonVolatile: number; volatile: number };
  /** CPLC fields that differ from the defaults. */
  cplc?: Record<string, string>;
  packages?: PackageSpec[];
  securityDomains?: SecurityDomainSpec[];
  instances?: InstanceSpec[];
  /** Lock the card after this many failed EXTERNAL AUTHENTICATEs (real cards do). */
  authFailureLimit?: number;
}

export interface ServiceSpec {
  id: string;
  serviceProvider: string;
  /** SP SD that holds the service's instance. */
  sdAid: string;
  packageAid?: string;
  moduleAid?: string;
  instanceAid?: string;
  state?: string;
  /** SP's own keys for its SD (the SP TSM holds them; the central TSM must not need them). */
  spKeys?: KeySetSpec;
  /** Non-volatile bytes an instance needs (the central TSM's eligibility check; default 2048). */
  installSize?: number;
}

export interface SeSpec {
  seId: string;
  type: SeType;
  cin: string;
  iin: string;
  iccid?: string;
  mno: string;
  msisdns: string[];
  profileId?: string;
  masterKeyIndex?: number;
  gpVersion?: string;
  javaCardVersion?: string;
  certificationLevel?: string;
  expiry?: string;
  /** The central SD the central TSM owns on this SE. */
  centralSd: { aid: string; keys: KeySetSpec };
  services?: ServiceSpec[];
  card: CardSpec;
}

export interface Fleet {
  /** Editor hint; ignored. */
  $schema?: string;
  mnos: MnoSpec[];
  serviceProviders: ServiceProviderSpec[];
  ses: SeSpec[];
}
