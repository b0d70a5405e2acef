/**
 * Keys never appear in traces: before a body goes on the trace bus, every key set in it (an object with enc,
 * mac and dek hex strings) shows its key check values instead of its keys.
 */
import { fromHex, keyCheckValue, toHex } from '../gp/index.ts';

function kcv(hex: unknown, scp: unknown): string {
  if (typeof hex !== 'string') return 'redacted';
  try {
    return `kcv:${toHex(keyCheckValue(fromHex(hex), scp === '02' ? 'des' : 'aes'))}`;
  } catch {
    return 'redacted';
  }
}

export function redactKeys<T>(body: T): T {
  if (Array.isArray(body)) return body.map(redactKeys) as T;
  if (!body || typeof body !== 'object') return body;
  const o = body as Record<string, unknown>;
  const isKeySet = ['enc', 'mac', 'dek'].every((k) => typeof o[k] === 'string');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    out[k] = isKeySet && (k === 'enc' || k === 'mac' || k === 'dek') ? kcv(v, o.scp) : redactKeys(v);
  }
  return out as T;
}
