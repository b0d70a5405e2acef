/** What went to the cards on the wire during a scenario, as the trace recorded it (the same on every target). */
import { commandHeader, fromHex, Ins, isGpClass } from '../gp/index.ts';
import type { TraceEvent } from '../trace/index.ts';

type Command = Extract<TraceEvent, { kind: 'apdu.command' }>;

/** The EXTERNAL AUTHENTICATE commands (GP class, INS '82') among `commands` from index `since` on. */
export function externalAuthenticatesSince(world: { commandsSent: readonly Command[] }, since: number): Command[] {
  return world.commandsSent.slice(since).filter((c) => {
    const h = commandHeader(fromHex(c.hex));
    return isGpClass(h.cla) && h.ins === Ins.EXTERNAL_AUTHENTICATE;
  });
}
