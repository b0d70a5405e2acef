/** What went to the cards on the wire during a scenario, as the trace recorded it (the same on every target). */
import type { TraceEvent } from '../../trace/index.ts';

type Command = Extract<TraceEvent, { kind: 'apdu.command' }>;

/** The EXTERNAL AUTHENTICATE commands (GP class, INS '82') among `commands` from index `since` on. */
export function externalAuthenticatesSince(world: { commandsSent: readonly Command[] }, since: number): Command[] {
  return world.commandsSent.slice(since).filter((c) => (parseInt(c.hex.slice(0, 2), 16) & 0x80) !== 0 && c.hex.slice(2, 4) === '82');
}
