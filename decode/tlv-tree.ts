/** BER-TLV as a tree the page can show: tag, name (GP/ISO dictionary), length, value, children, reading. */
import { parseTlv, tagHex, type Tlv } from '../gp/index.ts';
import { lifeCycleName, privilegesNote } from './gp-data.ts';

export interface TlvNode {
  tag: string;
  name?: string;
  length: number;
  /** Value bytes as hex (omitted for constructed objects, whose children carry it). */
  value?: string;
  /** A human reading of the value, when the tag has a known meaning. */
  note?: string;
  children?: TlvNode[];
}

const NAMES: Record<string, string> = {
  '06': 'Object identifier',
  '42': 'Issuer identification number',
  '45': 'Card image number',
  '4F': 'AID',
  '50': 'Application label',
  '5C': 'Tag list',
  '5F50': 'Security Domain manager URL',
  '61': 'Application template',
  '63': 'Card recognition data',
  '64': 'Secure channel protocol and options',
  '66': 'Card data',
  '67': 'Card capability information',
  '6F': 'FCI template',
  '73': 'Security Domain management data',
  '84': 'DF name / executable module AID',
  '9E': 'Signature',
  '9F65': 'Maximum length of data field in command message',
  '9F6E': 'Application production life cycle data',
  '9F70': 'Life cycle state',
  '9F7F': 'Card production life cycle data (CPLC)',
  A5: 'FCI proprietary data',
  B6: 'Control reference template for digital signature',
  C0: 'Key information data',
  C1: 'Sequence counter of the default key version',
  C2: 'Confirmation counter',
  C4: "Application's executable load file AID",
  C5: 'Privileges',
  C6: 'Non-volatile code memory requirement',
  C7: 'Volatile memory quota',
  C8: 'Non-volatile memory quota',
  C9: 'Application specific parameters',
  CA: 'TS 102 226 specific parameters',
  CB: 'Global service parameters',
  CC: "Associated Security Domain's AID",
  CE: 'Executable load file version number',
  CF: 'Implicit selection parameter',
  D3: 'Current security level',
  D7: 'Volatile reserved memory',
  D8: 'Non-volatile reserved memory',
  E0: 'Key information template',
  E3: 'GlobalPlatform Registry related data',
  EA: 'TS 102 226 specific parameters',
  EF: 'System specific parameters',
  FF21: 'Extended card resources information',
};

function note(tag: string, v: Uint8Array): string | undefined {
  if (tag === 'C5') return privilegesNote(v);
  if (tag === '9F70' && v.length === 1) return lifeCycleName(v[0], 'application');
  if ((tag === '50' || tag === '5F50') && v.every((b) => b >= 0x20 && b < 0x7f)) return `"${Buffer.from(v).toString('latin1')}"`;
  if (['C6', 'C7', 'C8', 'D7', 'D8'].includes(tag) && v.length <= 4) return `${v.reduce((n, b) => n * 256 + b, 0)} bytes`;
  if (tag === 'CE') return Array.from(v).join('.');
  return undefined;
}

function toNode(t: Tlv, parent?: string): TlvNode {
  const tag = tagHex(t.tag);
  // Inside FF21 (ETSI TS 102 226 §8.2.1.7.2) the context-specific tags are counters, not the GP meanings.
  const inResources = parent === 'FF21';
  const name = inResources ? { '81': 'Number of installed applications', '82': 'Free non-volatile memory', '83': 'Free volatile memory' }[tag] : NAMES[tag];
  const n: TlvNode = { tag, length: t.value.length };
  if (name) n.name = name;
  if (t.children) n.children = t.children.map((c) => toNode(c, tag));
  else {
    n.value = Buffer.from(t.value).toString('hex').toUpperCase();
    const r = inResources ? `${t.value.reduce((x, b) => x * 256 + b, 0)}${tag === '81' ? '' : ' bytes'}` : note(tag, t.value);
    if (r) n.note = r;
  }
  return n;
}

/** The tree, or undefined when the bytes are not (only) BER-TLV. */
export function tlvTree(bytes: Uint8Array): TlvNode[] | undefined {
  if (bytes.length === 0) return undefined;
  try {
    return parseTlv(bytes).map((t) => toNode(t));
  } catch {
    return undefined;
  }
}
