/**
 * Java Card CAP files (JCVM 3.0.5 §6): the components a converter writes into a ZIP, the package they
 * describe, and the Load File Data Block that LOAD sends (GPCS 2.3.1 §11.6, C.2).
 */
import { createHash } from 'node:crypto';
import { concat } from './bytes.ts';
import { CapError } from './cap-error.ts';
import { readZip } from './cap-zip.ts';
import { encodeLength } from './tlv.ts';

export { CapError, type CapErrorKind } from './cap-error.ts';

/** Component tags (JCVM §6.1). */
export const CapComponent = {
  Header: 1,
  Directory: 2,
  Applet: 3,
  Import: 4,
  ConstantPool: 5,
  Class: 6,
  Method: 7,
  StaticField: 8,
  RefLocation: 9,
  Export: 10,
  Descriptor: 11,
  Debug: 12,
} as const;

const NAME_BY_TAG = new Map<number, string>(Object.entries(CapComponent).map(([name, tag]) => [tag, name]));

/** Order of the Load File Data Block (JCVM §6.2 / GPCS C.2); Descriptor optionally last, Debug never. */
export const LOAD_ORDER: readonly number[] = [
  CapComponent.Header,
  CapComponent.Directory,
  CapComponent.Import,
  CapComponent.Applet,
  CapComponent.Class,
  CapComponent.Method,
  CapComponent.StaticField,
  CapComponent.Export,
  CapComponent.ConstantPool,
  CapComponent.RefLocation,
];

const REQUIRED: readonly number[] = [
  CapComponent.Header,
  CapComponent.Directory,
  CapComponent.Import,
  CapComponent.Class,
  CapComponent.Method,
  CapComponent.StaticField,
  CapComponent.ConstantPool,
  CapComponent.RefLocation,
];

export interface CapVersion {
  major: number;
  minor: number;
}

export interface CapApplet {
  aid: Uint8Array;
  installMethodOffset: number;
}

export interface CapImport {
  aid: Uint8Array;
  version: CapVersion;
}

/** A parsed package: from a CAP file, or from a Load File Data Block received by a card. */
export interface CapPackage {
  /** CAP format version from the Header component. */
  formatVersion: CapVersion;
  /** Header flags: ACC_INT 01, ACC_EXPORT 02, ACC_APPLET 04. */
  flags: number;
  packageAid: Uint8Array;
  packageVersion: CapVersion;
  /** Fully qualified package name (CAP 2.2 and later), when present. */
  packageName?: string;
  applets: CapApplet[];
  imports: CapImport[];
  /** Each component's bytes, tag and size included, by tag. */
  components: ReadonlyMap<number, Uint8Array>;
}

export function componentName(tag: number): string {
  return NAME_BY_TAG.get(tag) ?? `component ${tag}`;
}

export function formatCapVersion(v: CapVersion): string {
  return `${v.major}.${v.minor}`;
}

/** Parses a CAP file (a ZIP archive of components). Throws CapError. */
export function parseCap(file: Uint8Array): CapPackage {
  const entries = readZip(file);
  const byTag = new Map<number, Uint8Array>();
  let directory: string | undefined;
  for (const e of entries) {
    const slash = e.name.lastIndexOf('/');
    const base = e.name.slice(slash + 1);
    const m = /^([A-Za-z]+)\.cap$/.exec(base);
    const tag = m ? (CapComponent as Record<string, number>)[m[1]] : undefined;
    if (tag === undefined) continue;
    const dir = e.name.slice(0, slash + 1);
    if (directory !== undefined && dir !== directory) {
      throw new CapError('unsupported', `CAP holds components in two folders (${directory}, ${dir}): one package per CAP file`);
    }
    directory = dir;
    checkComponent(tag, e.data, e.name);
    byTag.set(tag, e.data);
  }
  if (byTag.size === 0) throw new CapError('missing-component', 'ZIP archive holds no CAP components (no Header.cap)');
  return describe(byTag);
}

/** Splits a Load File Data Block (components concatenated) back into a package. Throws CapError. */
export function parseLoadFileDataBlock(lfdb: Uint8Array): CapPackage {
  const byTag = new Map<number, Uint8Array>();
  let i = 0;
  while (i < lfdb.length) {
    if (i + 3 > lfdb.length) throw new CapError('truncated', `load file truncated in a component header at offset ${i}`);
    const tag = lfdb[i];
    const size = (lfdb[i + 1] << 8) | lfdb[i + 2];
    if (!NAME_BY_TAG.has(tag) && tag !== 13) throw new CapError('malformed-component', `unknown component tag ${tag} at offset ${i}`);
    if (i + 3 + size > lfdb.length) throw new CapError('truncated', `load file truncated inside the ${componentName(tag)} component`);
    if (byTag.has(tag)) throw new CapError('malformed-component', `${componentName(tag)} component appears twice`);
    byTag.set(tag, lfdb.slice(i, i + 3 + size));
    i += 3 + size;
  }
  if (lfdb.length > 0 && lfdb[0] !== CapComponent.Header) throw new CapError('malformed-component', 'load file does not start with the Header component');
  return describe(byTag);
}

/** Header, Directory, Import, Applet, Class, Method, StaticField, Export, ConstantPool, RefLocation [, Descriptor]. */
export function loadFileDataBlock(cap: CapPackage, opts: { descriptor?: boolean } = {}): Uint8Array {
  const order = opts.descriptor ? [...LOAD_ORDER, CapComponent.Descriptor] : LOAD_ORDER;
  return concat(...order.flatMap((tag) => cap.components.get(tag) ?? []));
}

/** LOAD command data: tag 'C4' with a BER length, then the Load File Data Block (GPCS §11.6.2.3). */
export function loadFileData(lfdb: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(0xc4), encodeLength(lfdb.length), lfdb);
}

export type LoadFileHashAlgorithm = 'sha256' | 'sha1';

/** Load File Data Block hash for INSTALL [for load] and DAP (GPCS §C.2). */
export function loadFileDataBlockHash(lfdb: Uint8Array, algorithm: LoadFileHashAlgorithm = 'sha256'): Uint8Array {
  return new Uint8Array(createHash(algorithm).update(lfdb).digest());
}

function checkComponent(tag: number, data: Uint8Array, where: string): void {
  if (data.length < 3) throw new CapError('truncated', `${where}: component shorter than its header`);
  if (data[0] !== tag) throw new CapError('malformed-component', `${where}: tag ${data[0]}, expected ${tag} (${componentName(tag)})`);
  const size = (data[1] << 8) | data[2];
  if (size !== data.length - 3) {
    throw new CapError(size > data.length - 3 ? 'truncated' : 'malformed-component', `${where}: size field ${size}, ${data.length - 3} bytes present`);
  }
}

/** A bounds-checked reader over one component's info bytes. */
class Reader {
  private p = 3;
  constructor(
    private readonly b: Uint8Array,
    private readonly what: string,
  ) {}
  get left(): number {
    return this.b.length - this.p;
  }
  u1(): number {
    this.need(1);
    return this.b[this.p++];
  }
  u2(): number {
    this.need(2);
    const v = (this.b[this.p] << 8) | this.b[this.p + 1];
    this.p += 2;
    return v;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.b.slice(this.p, this.p + n);
    this.p += n;
    return v;
  }
  aid(): Uint8Array {
    const len = this.u1();
    if (len < 5 || len > 16) throw new CapError('malformed-component', `${this.what}: AID length ${len} outside 5..16`);
    return this.bytes(len);
  }
  private need(n: number): void {
    if (this.p + n > this.b.length) throw new CapError('truncated', `${this.what} component truncated`);
  }
}

function describe(byTag: Map<number, Uint8Array>): CapPackage {
  for (const tag of REQUIRED) {
    if (!byTag.has(tag)) throw new CapError('missing-component', `CAP has no ${componentName(tag)} component`);
  }
  const header = new Reader(byTag.get(CapComponent.Header)!, 'Header');
  const magic = header.bytes(4);
  if (magic[0] !== 0xde || magic[1] !== 0xca || magic[2] !== 0xff || magic[3] !== 0xed) {
    throw new CapError('malformed-component', 'Header component lacks the DECAFFED magic');
  }
  const formatMinor = header.u1();
  const formatMajor = header.u1();
  const flags = header.u1();
  if (formatMajor !== 2) throw new CapError('unsupported', `CAP format ${formatMajor}.${formatMinor} (only 2.x)`);
  if (formatMinor >= 3 && flags & 0x08) throw new CapError('unsupported', 'extended CAP format (Java Card 3.1) is not supported');
  const pkgMinor = header.u1();
  const pkgMajor = header.u1();
  const packageAid = header.aid();
  let packageName: string | undefined;
  if (formatMinor >= 2 && header.left > 0) {
    const n = header.u1();
    if (n > 0) packageName = new TextDecoder().decode(header.bytes(n));
  }

  const applets: CapApplet[] = [];
  const appletComponent = byTag.get(CapComponent.Applet);
  if (appletComponent) {
    const r = new Reader(appletComponent, 'Applet');
    const count = r.u1();
    for (let k = 0; k < count; k++) applets.push({ aid: r.aid(), installMethodOffset: r.u2() });
  }

  const imports: CapImport[] = [];
  const r = new Reader(byTag.get(CapComponent.Import)!, 'Import');
  const count = r.u1();
  for (let k = 0; k < count; k++) {
    const minor = r.u1();
    const major = r.u1();
    imports.push({ version: { major, minor }, aid: r.aid() });
  }

  return {
    formatVersion: { major: formatMajor, minor: formatMinor },
    flags,
    packageAid,
    packageVersion: { major: pkgMajor, minor: pkgMinor },
    packageName,
    applets,
    imports,
    components: byTag,
  };
}
