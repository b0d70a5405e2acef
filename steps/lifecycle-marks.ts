/**
 * The lifecycle request helpers several step files share (step files never import each other): mark where the
 * checks of a request count from, and send it.
 */
import type { PrepersonalizeResponse } from '../tsm/index.ts';
import { sendServiceRequest, type RequestExtras, type ServiceAction, lifecycleOf } from '../harness/index.ts';
import type { TsmWorld } from './world.ts';
import { keySetOf } from '../profiles/index.ts';

/** Marks the point the checks of a request count from: commands, trace, the SP's keys. */
export function markRequest(world: TsmWorld, serviceId: string): void {
  const s = lifecycleOf(world);
  s.serviceId = serviceId;
  s.mark();
  s.repeated = false;
  world.commandsAtEnd = world.commandsSent.length;
  try {
    s.keysBefore = world.keysFor(serviceId);
  } catch {
    s.keysBefore = undefined;
  }
}

/** Marks the point the checks of a request count from, then sends it. */
export async function sendRequest(world: TsmWorld, sp: string, action: ServiceAction, serviceId: string, extras: RequestExtras = {}) {
  const s = lifecycleOf(world);
  markRequest(world, serviceId);
  s.lastRequest = { sp, action, serviceId, extras: { ...extras } };
  const r = world.remember(await sendServiceRequest(world.sp(sp), action, serviceId, extras));
  const body = r.body as Partial<PrepersonalizeResponse>;
  if (action === 'pre-personalizes' && body.status === 'Executed-Success' && body.temporaryKeys && body.sdAid) {
    s.temporaryKeys.set(serviceId, body.temporaryKeys);
    // From here on the SP holds these keys for its SD (until it rotates them).
    world.spKeys.set(body.sdAid, keySetOf(body.temporaryKeys));
  }
  return r;
}
