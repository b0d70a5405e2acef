/**
 * Service state changes as the central TSM records them: each one saved with everything else that must survive
 * a restart, traced, and published on the SP event stream. set() is a request's change (checked by the state
 * machine of service-state.ts); record() is what reconciliation found on the card (not a request: unchecked).
 */
import type { Clock } from './clock.ts';
import { decide } from './decide.ts';
import type { TsmEvents } from './events.ts';
import type { TsmRecords } from './records.ts';
import type { Registry } from './registry.ts';
import { checkTransition, type ServiceState } from './service-state.ts';

export class ServiceStates {
  constructor(
    private readonly registry: Registry,
    private readonly records: TsmRecords,
    private readonly events: TsmEvents,
    private readonly clock: Clock,
  ) {}

  /** Moves a service to `to` (checked by the state machine), records it and saves it. */
  set(seId: string, serviceId: string, to: ServiceState, note?: string): void {
    const s = this.registry.service(seId, serviceId);
    checkTransition(serviceId, s.state, to);
    this.change(seId, serviceId, to, note, true);
  }

  /** Records a state the card shows (reconciliation), bypassing the request state machine; the caller saves. */
  record(seId: string, serviceId: string, to: ServiceState, note: string): void {
    this.change(seId, serviceId, to, note, false);
  }

  private change(seId: string, serviceId: string, to: ServiceState, note: string | undefined, save: boolean): void {
    const s = this.registry.service(seId, serviceId);
    const from = s.state;
    this.registry.setServiceState(seId, serviceId, to, this.clock.now(), note);
    if (save) this.records.save();
    decide('service-state', `${serviceId} on ${seId}: ${from} → ${to}${note ? ` (${note})` : ''}`, { seId, serviceId, from, to });
    this.events.publish({ type: 'service-state', serviceProvider: s.serviceProvider, seId, serviceId, from, to, ...(note ? { note } : {}), at: new Date(this.clock.now()).toISOString() });
  }
}
