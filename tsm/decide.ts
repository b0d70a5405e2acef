/** The central TSM's decisions in the trace: one line per rule applied, so a lab engineer can follow why. */
import { emit } from '../trace/index.ts';

export function decide(decision: string, detail: string, data?: unknown): void {
  emit({ kind: 'tsm.decision', from: 'tsm', to: 'tsm', decision, detail, ...(data !== undefined ? { data } : {}) });
}
