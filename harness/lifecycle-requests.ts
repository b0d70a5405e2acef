/**
 * The SP's service-management requests as the lifecycle features name them ("BankCo suspends its service …"),
 * and the way to bring a service into a given state with them: a path through the central TSM's own service
 * state machine (tsm/service-state.ts), so a Given step never sets a state the TSM would not reach itself.
 */
import { allows, TRANSITIONS, type Answer, type ServiceFunction, type ServiceState, type SpClient, type SpResult } from '../tsm/index.ts';

/** Requests of the SP about one service, by the verb the features use. */
export const SERVICE_ACTIONS = ['pre-personalizes', 'updates', 'activates', 'suspends', 'resumes', 'deletes'] as const;
export type ServiceAction = (typeof SERVICE_ACTIONS)[number];

/** Extra fields of a request: the common ones (idempotency, validity) and asynchronous execution. */
export interface RequestExtras {
  functionCallIdentifier?: string;
  requestTimestamp?: string;
  validityPeriod?: number;
  callbackUrl?: string;
  respondAsync?: boolean;
  seId?: string;
}

/** The request named by its plain verb ("pre-personalize", "delete"), as in "asks the central TSM to …". */
export function actionOfVerb(verb: string): ServiceAction {
  const action = `${verb}s`;
  if (!isServiceAction(action)) throw new Error(`"${verb}" is not a request about a service (${SERVICE_ACTIONS.map((a) => a.slice(0, -1)).join(', ')})`);
  return action;
}

export function isServiceAction(s: string): s is ServiceAction {
  return (SERVICE_ACTIONS as readonly string[]).includes(s);
}

/** Sends one request of the SP about a service through its SP client (real HTTP). */
export function sendServiceRequest(client: SpClient, action: ServiceAction, serviceId: string, extras: RequestExtras = {}): Promise<SpResult<Answer>> {
  switch (action) {
    case 'pre-personalizes':
      return client.prepersonalize(serviceId, extras);
    case 'updates':
      return client.updateService(serviceId, extras);
    case 'activates':
      return client.activateService(serviceId, extras);
    case 'suspends':
      return client.suspendService(serviceId, extras);
    case 'resumes':
      return client.resumeService(serviceId, extras);
    case 'deletes':
      return client.deleteServices([serviceId], extras);
  }
}

/** The central TSM's service function behind each request (its transition table decides what each may do). */
const FUNCTION_OF: Record<ServiceAction, ServiceFunction> = {
  'pre-personalizes': 'prepersonalize',
  updates: 'update',
  activates: 'activate',
  suspends: 'suspend',
  resumes: 'resume',
  deletes: 'delete',
};

/**
 * Where a request that succeeds leads from `from`. `resumes` ends where the service was before it was
 * suspended; planning assumes `installed`, which is where the paths below suspend from.
 */
function allowed(from: ServiceState, action: ServiceAction): ServiceState | undefined {
  const fn = FUNCTION_OF[action];
  if (!allows(fn, from)) return undefined;
  const to = TRANSITIONS[fn].to;
  return to === 'before-suspension' ? 'installed' : to;
}

/** The shortest list of SP requests that takes a service from `from` to `to` (throws when none does). */
export function requestsToReach(from: ServiceState, to: ServiceState): ServiceAction[] {
  const seen = new Map<ServiceState, ServiceAction[]>([[from, []]]);
  const queue: ServiceState[] = [from];
  while (queue.length) {
    const s = queue.shift()!;
    const path = seen.get(s)!;
    if (s === to) return path;
    for (const a of SERVICE_ACTIONS) {
      const next = allowed(s, a);
      if (next && !seen.has(next)) {
        seen.set(next, [...path, a]);
        queue.push(next);
      }
    }
  }
  throw new Error(`no SP request leads from "${from}" to "${to}"`);
}
