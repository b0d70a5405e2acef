/**
 * Keys never leave the central TSM in clear: before a body goes on the trace bus or into the answers kept for
 * repeats, gp's redactor replaces every key with its check value, written `kcv:XXXXXX` as the SP API documents.
 */
import { redactKeys } from '../gp/index.ts';

const asCheckValue = (kcv: string) => `kcv:${kcv}`;

export function redactForSp<T>(body: T): T {
  return redactKeys(body, { label: asCheckValue });
}
