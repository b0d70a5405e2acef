/**
 * After a feature run on simulated cards (the harness holds every session key): every wrapped exchange of the run's
 * trace carries its plain forms. Prints one line per gap (at most 20) and exits 1 when there is one.
 *   npx tsx test/check-plain-forms.ts reports/out
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { plainFormGaps } from '../reports/plain-forms.ts';
import { readTraceFiles } from '../trace/index.ts';

const dir = process.argv[2] ?? 'reports/out';
const files = readdirSync(dir)
  .filter((f) => /^trace.*\.ndjson$/.test(f))
  .map((f) => path.join(dir, f));
if (files.length === 0) {
  console.log(`plain forms: no trace files in ${dir}`);
  process.exit(1);
}
const events = await readTraceFiles(files);
const wrapped = events.filter((e) => e.kind === 'apdu.command' && e.secureChannel).length;
const gaps = plainFormGaps(events);
for (const g of gaps.slice(0, 20)) console.log(`plain forms: ${g.scenario ?? '(no scenario)'} apdu ${g.apduId}: lacks ${g.missing}`);
console.log(`plain forms: ${wrapped} wrapped exchange(s) in ${files.length} trace file(s), ${gaps.length} without their plain forms`);
process.exit(gaps.length === 0 && wrapped > 0 ? 0 : 1);
