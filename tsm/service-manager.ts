/**
 * Service management by the central TSM under its own keys: activation, pre-personalization, the update saga of
 * patent FIG 10, deletion, suspend/resume. Each function checks ownership and the service state machine, holds
 * the SE in a central session (SeAccess) and records every state change (ServiceStates).
 * Each writes its intent to the journal before its first card command and each changing step before it is
 * sent (journal.ts); a failure is reconciled with the card before it is answered (recovery.ts).
 * CentralTsm wraps these in its common request frame (trace, idempotency, validity).
 */
import type { CardChannel } from '../drivers/index.ts';
import type { OperatorNetwork } from './mno-gateway.ts';
import type {
  ActivateServiceRequest,
  ActivateServiceResponse,
  DeleteServicesRequest,
  DeleteServicesResponse,
  PrepersonalizeRequest,
  PrepersonalizeResponse,
  RequestContext,
  ResumeServiceRequest,
  ServiceOutcome,
  ServiceStateResponse,
  SuspendServiceRequest,
  UpdateServiceRequest,
  UpdateServiceResponse,
} from './api-types.ts';
import { setApplicationLock, setContactlessAvailability } from './card-commands.ts';
import { CentralSession } from './central-sd.ts';
import { DEFAULT_INSTALL_SIZE, type Registry, type ServiceRecord } from './registry.ts';
import type { Journal, JournalEntry } from './journal.ts';
import { decide } from './decide.ts';
import type { TsmRecords } from './records.ts';
import type { Recovery } from './recovery.ts';
import { authorizeService, resolveSe } from './rules.ts';
import type { SeAccess } from './se-access.ts';
import type { ServiceStates } from './service-states.ts';
import { locateInstance } from './reconcile.ts';
import { cardResources, checkMemory, createSpSd, deleteApplication, installService, isOnCard, temporaryKeySet } from './sagas.ts';
import { checkFunction, type ServiceState } from './service-state.ts';
import { TsmError } from './status.ts';

export { DEFAULT_INSTALL_SIZE };

/** Runs the service functions through its peers: the SE's access, the journal and recovery, the state records. */
export class ServiceManager {
  private readonly journal: Journal;

  constructor(
    private readonly registry: Registry,
    private readonly access: SeAccess,
    records: TsmRecords,
    private readonly recovery: Recovery,
    private readonly states: ServiceStates,
  ) {
    this.journal = records.journal;
  }

  async activateService(ctx: RequestContext, req: ActivateServiceRequest): Promise<ActivateServiceResponse> {
    const seId = resolveSe(this.registry, req, 'seId', req.serviceId);
    await this.recovery.beforeUse(seId);
    const service = this.registry.service(seId, req.serviceId);
    authorizeService(ctx.serviceProvider, service);
    if (!service.instanceAid) throw TsmError.failed('3.8', `service ${service.id} has no instance on ${seId} to activate`);
    checkFunction(service.id, 'activate', service.state);
    const network = this.access.route(seId);
    const instanceAid = service.instanceAid;
    await this.journaled(ctx, { fn: 'activate', seId, serviceId: service.id, from: service.state as ServiceState }, async (entry) => {
      await this.session(seId, network, async (session) => {
        decide('activation', `activating ${instanceAid} of ${service.id} on ${seId} under the central SD`);
        this.journal.step(entry, 'set-status');
        await session.send(setContactlessAvailability(instanceAid, true), `activating ${instanceAid} on the contactless interface (SET STATUS '01')`);
      });
      this.journal.end(entry);
      this.states.set(seId, service.id, 'activated');
    });
    return { status: 'Executed-Success', serviceId: service.id, seId, instanceAid, state: 'activated' };
  }

  /**
   * Pre-personalization: eligibility (free memory), the SP SD created with temporary keys when missing, the
   * instance installed from the package pre-loaded under the central SD and extradited to the SP SD.
   */
  async prepersonalize(ctx: RequestContext, req: PrepersonalizeRequest): Promise<PrepersonalizeResponse> {
    const { seId, service, network } = await this.ownService(ctx, req);
    checkFunction(service.id, 'prepersonalize', service.state);
    const central = this.registry.centralSdKeys(seId);
    let temporaryKeys: PrepersonalizeResponse['temporaryKeys'];
    let free = 0;
    await this.journaled(ctx, { fn: 'prepersonalize', seId, serviceId: service.id, from: service.state as ServiceState }, async (entry) => {
      await this.session(seId, network, async (session, link) => {
        const needed = service.installSize ?? DEFAULT_INSTALL_SIZE;
        free = (await checkMemory(session, needed, `service ${service.id}`)).freeNonVolatile;
        decide('eligibility', `${seId} has ${free} bytes free; ${service.id} needs ${needed}`);
        await this.refuseExistingInstance(session, link, seId, service);
        this.states.set(seId, service.id, 'prepersonalizing');
        let sess = session;
        if (!(await isOnCard(link, service.sdAid))) {
          // isOnCard's SELECT ended the central session; open it again after creating the SD.
          sess = await CentralSession.open(link, central);
          temporaryKeys = temporaryKeySet(central.keys.kvn);
          this.journal.step(entry, 'create-sd', { createdSd: true });
          await createSpSd(link, sess, central, service.sdAid, temporaryKeys);
          decide('prepersonalization', `${service.sdAid} created for ${service.serviceProvider} with temporary keys`);
        }
        sess = await CentralSession.open(link, central);
        await installService(sess, service, undefined, (step) => this.journal.step(entry, step));
      });
      delete service.instanceSize;
      this.journal.end(entry);
      this.states.set(seId, service.id, 'installed');
    });
    return {
      status: 'Executed-Success',
      serviceId: service.id,
      seId,
      sdAid: service.sdAid,
      instanceAid: service.instanceAid!,
      state: 'installed',
      ...(temporaryKeys ? { temporaryKeys } : {}),
      freeNonVolatile: free,
    };
  }

  /**
   * Update service (patent FIG 10): technical eligibility first — the card's free non-volatile memory plus what
   * deleting the current instance frees must hold the new one, else 4.8 and nothing is touched; then state
   * "updating", the instance and its data removed, the instance installed again and extradited to the SP SD,
   * state "installed"; then the SP personalizes it.
   */
  async updateService(ctx: RequestContext, req: UpdateServiceRequest): Promise<UpdateServiceResponse> {
    const { seId, service, network } = await this.ownService(ctx, req);
    checkFunction(service.id, 'update', service.state);
    if (!service.instanceAid) throw TsmError.failed('3.8', `service ${service.id} has no instance to update`);
    let available = 0;
    const needed = service.installSize ?? DEFAULT_INSTALL_SIZE;
    // At least what the instance was installed with: its personalization data only frees more.
    const freed = service.instanceSize ?? needed;
    await this.journaled(ctx, { fn: 'update', seId, serviceId: service.id, from: service.state as ServiceState }, async (entry) => {
      await this.session(seId, network, async (session) => {
        const free = (await cardResources(session)).freeNonVolatile;
        available = free + freed;
        if (available < needed) {
          decide('eligibility', `refused: ${seId} has ${free} bytes free and ${freed} once ${service.instanceAid} is removed; ${service.id} needs ${needed}`);
          throw TsmError.failed(
            '4.8',
            `service ${service.id} needs ${needed} bytes of non-volatile memory; the card has ${free} free and removing the current instance frees ${freed}: nothing was changed`,
          );
        }
        decide('eligibility', `${seId} has ${free} bytes free and ${freed} once ${service.instanceAid} is removed; ${service.id} needs ${needed}`);
        // Each step reaches the store before it is sent, so a restart can finish or undo it (reconcile.ts).
        this.journal.step(entry, 'delete');
        this.states.set(seId, service.id, 'updating');
        const gone = await deleteApplication(session, service.instanceAid!);
        decide('update', `${service.instanceAid} ${gone === 'deleted' ? 'deleted with its data' : 'was not on the card'}`);
        await installService(session, service, req.installParameters, (step) => this.journal.step(entry, step));
      });
      delete service.instanceSize;
      delete service.resumeTo;
      this.journal.end(entry);
      this.states.set(seId, service.id, 'installed');
    });
    return { status: 'Executed-Success', serviceId: service.id, seId, instanceAid: service.instanceAid, state: 'installed', freeNonVolatile: available };
  }

  /** Deletes one or more of the SP's services on one SE (their instances and data); one outcome per service. */
  async deleteServices(ctx: RequestContext, req: DeleteServicesRequest): Promise<DeleteServicesResponse> {
    if (!req.serviceIds.length) throw TsmError.failed('2.2', 'serviceIds is empty');
    if (new Set(req.serviceIds).size !== req.serviceIds.length) throw TsmError.failed('2.1', 'serviceIds lists a service twice');
    const seId = resolveSe(this.registry, req, 'seId', req.serviceIds.length === 1 ? req.serviceIds[0] : undefined);
    await this.recovery.beforeUse(seId);
    // Every service is checked before anything is sent: one refusal refuses the whole request.
    const services = req.serviceIds.map((id) => {
      const s = this.registry.service(seId, id);
      authorizeService(ctx.serviceProvider, s);
      checkFunction(s.id, 'delete', s.state);
      return s;
    });
    const network = this.access.route(seId);
    const results: ServiceOutcome[] = [];
    const entries = services.map((s) => this.begin(ctx, { fn: 'delete', seId, serviceId: s.id, from: s.state as ServiceState }));
    const failures: { index: number; entry: JournalEntry; e: unknown }[] = [];
    try {
      await this.session(seId, network, async (session) => {
        for (const [i, s] of services.entries()) {
          const entry = entries[i];
          try {
            this.journal.step(entry, 'delete');
            this.states.set(seId, s.id, 'deleting');
            const r = s.instanceAid ? await deleteApplication(session, s.instanceAid) : 'absent';
            this.journal.end(entry);
            delete s.resumeTo;
            this.states.set(seId, s.id, 'deleted', r === 'absent' ? 'the instance was not on the card' : undefined);
            results[i] = { serviceId: s.id, status: 'Executed-Success', state: 'deleted' };
          } catch (e) {
            // Reconciled once the session is closed (it needs a session of its own).
            failures.push({ index: i, entry, e });
          }
        }
      });
    } catch (e) {
      // The session itself failed: every service not done yet fails with it.
      for (const [i, entry] of entries.entries()) if (!results[i] && !failures.some((f) => f.index === i)) failures.push({ index: i, entry, e });
    }
    const errors: TsmError[] = [];
    for (const f of failures) {
      const err = await this.recovery.afterFailure(f.entry, f.e);
      errors.push(err);
      const state = this.registry.service(seId, services[f.index].id).state;
      results[f.index] = { serviceId: services[f.index].id, status: 'Failed', reasonCode: err.reasonCode, message: err.message, state };
    }
    const failed = results.filter((r) => r.status === 'Failed');
    if (!failed.length) return { status: 'Executed-Success', seId, results };
    if (failed.length === results.length) {
      // Nothing done and nothing sent (busy, locked, network down): a plain refusal, as before any card command.
      const first = failures[0];
      if (failures.every((f) => f.e === first.e) && first.entry.step === 'begin') throw errors[0];
      return { status: 'Failed', reasonCode: failed[0].reasonCode, message: failed[0].message, seId, results };
    }
    return { status: 'Executed-WithWarning', message: `${failed.length} of ${results.length} services could not be deleted`, seId, results };
  }

  /** Suspend (lock) a service: its instance LOCKED on the card by the central SD; resume returns it. */
  suspendService(ctx: RequestContext, req: SuspendServiceRequest): Promise<ServiceStateResponse> {
    return this.lockService(ctx, req, true);
  }

  resumeService(ctx: RequestContext, req: ResumeServiceRequest): Promise<ServiceStateResponse> {
    return this.lockService(ctx, req, false);
  }

  private async lockService(ctx: RequestContext, req: SuspendServiceRequest, lock: boolean): Promise<ServiceStateResponse> {
    const { seId, service, network } = await this.ownService(ctx, req);
    if (!service.instanceAid) throw TsmError.failed('3.8', `service ${service.id} has no instance on ${seId}`);
    checkFunction(service.id, lock ? 'suspend' : 'resume', service.state);
    const to: ServiceState = lock ? 'suspended' : ((service.resumeTo as ServiceState | undefined) ?? 'installed');
    const instanceAid = service.instanceAid;
    const from = service.state as ServiceState;
    await this.journaled(ctx, { fn: lock ? 'suspend' : 'resume', seId, serviceId: service.id, from, to }, async (entry) => {
      await this.session(seId, network, async (session) => {
        this.journal.step(entry, 'set-status');
        await session.send(setApplicationLock(instanceAid, lock), `SET STATUS ${lock ? 'LOCKED' : 'unlock'} of ${instanceAid}`);
      });
      this.journal.end(entry);
      if (lock) service.resumeTo = from;
      else delete service.resumeTo;
      this.states.set(seId, service.id, to);
    });
    return { status: 'Executed-Success', serviceId: service.id, seId, instanceAid, state: to };
  }

  /** Records the intent of a request (journal.ts) before anything reaches the card. */
  private begin(ctx: RequestContext, what: Pick<JournalEntry, 'fn' | 'seId' | 'serviceId' | 'from' | 'to'>): JournalEntry {
    return this.journal.begin({
      ...what,
      serviceProvider: ctx.serviceProvider,
      ...(ctx.functionCallIdentifier !== undefined ? { functionCallIdentifier: ctx.functionCallIdentifier } : {}),
    });
  }

  /** Runs `work` under a journal entry; a failure is reconciled with the card before it is answered. */
  private async journaled(ctx: RequestContext, what: Pick<JournalEntry, 'fn' | 'seId' | 'serviceId' | 'from' | 'to'>, work: (entry: JournalEntry) => Promise<void>): Promise<void> {
    const entry = this.begin(ctx, what);
    try {
      await work(entry);
    } catch (e) {
      throw await this.recovery.afterFailure(entry, e);
    }
  }

  /**
   * Pre-personalization creates nothing when the service's instance AID is already on the card (the issuer or an
   * earlier, unrecorded installation put it there): the central TSM neither adopts nor overwrites content it did
   * not install, so it refuses (3.8) before any SD or temporary key is made. GET STATUS from the central SD,
   * then SELECT (which ends the central session: the caller opens a new one).
   */
  private async refuseExistingInstance(session: CentralSession, link: CardChannel, seId: string, service: ServiceRecord): Promise<void> {
    if (!service.instanceAid) return;
    const where = await locateInstance(session, link, service.instanceAid);
    if (where.at === 'absent') return;
    const under = where.at === 'central' ? `under the central security domain ${session.sdAid}` : where.sdAid ? `under ${where.sdAid}` : 'under a security domain the central TSM cannot see';
    decide('prepersonalization', `refused: ${service.instanceAid} is already on ${seId} ${under}`);
    throw TsmError.failed(
      '3.8',
      `the instance ${service.instanceAid} of service ${service.id} is already on SE ${seId} (${under}); nothing was created — the issuer must remove it first`,
    );
  }

  /** The caller's service named by a request, its SE and the network reaching it (authorized, routed). */
  private async ownService(ctx: RequestContext, req: { serviceId: string; seId?: string; msisdn?: string; mno?: string }) {
    const seId = resolveSe(this.registry, req, 'seId', req.serviceId);
    await this.recovery.beforeUse(seId);
    const service = this.registry.service(seId, req.serviceId);
    authorizeService(ctx.serviceProvider, service);
    const network = this.access.route(seId);
    return { seId, service, network };
  }

  /** The central session on the SE, once what an earlier request left unreconciled there is settled. */
  private async session(seId: string, network: OperatorNetwork, fn: (session: CentralSession, link: CardChannel) => Promise<void>): Promise<void> {
    await this.recovery.beforeUse(seId);
    await this.access.withCentralSession(seId, network, fn);
  }

}
