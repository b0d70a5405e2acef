/** BER-TLV as a tree the page can show: tag, name (GP/ISO dictionary), length, value, children, reading. */
import { DATA_OBJECTS, EXTENDED_CARD_RESOURCES_OBJECTS, parseTlv, tagHex, type Tlv } from '../gp/index.ts';
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
  const name = (inResources ? EXTENDED_CARD_RESOURCES_OBJECTS : DATA_OBJECTS)[t.tag];
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
