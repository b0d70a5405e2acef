/**
 * The central TSM's request front: the SP functions (get SE identifier, get SE data, service state,
 * conversations and scripts, service management, SE locking) each validated, run once per functionCallIdentifier
 * (idempotency.ts), dispatched to the peer that does it and answered with one error family (asTsmError).
 * The peers, composed here: SeAccess (routing, card channels, central-SD sessions, one piece of work per SE),
 * Conversations, ServiceManager, SeLocks, Recovery (the journal and reconciliation), ServiceStates, TsmRecords
 * (what survives a restart) and TsmOperator (scenario set-up). Transport-free: the HTTP edge (http.ts) and the
 * steps call the same methods. Refusals throw TsmError; executed functions resolve, possibly with status Failed
 * when a command failed on the card.
 */
import type { Fleet } from '../profiles/index.ts';
import { emit, withCorrelation } from '../trace/index.ts';
import type {
  ActivateServiceRequest,
  ActivateServiceResponse,
  Answer,
  DeleteServicesRequest,
  DeleteServicesResponse,
  PrepersonalizeRequest,
  PrepersonalizeResponse,
  ResumeServiceRequest,
  ServiceStateResponse,
  SuspendServiceRequest,
  UpdateServiceRequest,
  UpdateServiceResponse,
  BeginConversationRequest,
  BeginConversationResponse,
  EndConversationRequest,
  EndConversationResponse,
  GetSeDataRequest,
  GetSeDataResponse,
  GetSeIdRequest,
  GetSeIdResponse,
  GetServiceStateRequest,
  GetServiceStateResponse,
  RequestContext,
  SendScriptRequest,
  SendScriptResponse,
  SeLockRequest,
  SeLockResponse,
  SeUnlockRequest,
} from './api-types.ts';
import { asTsmError } from './as-tsm-error.ts';
import type { ChannelFactory } from './channels.ts';
import { systemClock, type Clock } from './clock.ts';
import { ConversationStore, type Conversation } from './conversation.ts';
import { Conversations } from './conversations.ts';
import { decide } from './decide.ts';
import { TsmEvents } from './events.ts';
import { fingerprint } from './idempotency.ts';
import type { MnoGateway } from './mno-gateway.ts';
import { Operations, type OperationRecord } from './operations.ts';
import { TsmOperator } from './operator.ts';
import { TsmRecords } from './records.ts';
import { Recovery } from './recovery.ts';
import { redactForSp } from './redact.ts';
import { Registry } from './registry.ts';
import { authorizeService, resolveSe } from './rules.ts';
import { SeAccess } from './se-access.ts';
import { SeLocks } from './se-lock.ts';
import { ServiceManager } from './service-manager.ts';
import { TRANSIENT_STATES } from './service-state.ts';
import { ServiceStates } from './service-states.ts';
import { errorFields, TsmError } from './status.ts';
import { MemoryStore, type TsmStore } from './store.ts';
import { validityEnd, validityEndIfValid } from './timestamp.ts';

export { asTsmError };

export interface CentralTsmOptions<G extends MnoGateway = MnoGateway> {
  fleet: Fleet;
  channels: ChannelFactory;
  /** The operator networks that reach the SEs (simulated, or real OTA bearers): the composer picks them. */
  gateway: G;
  clock?: Clock;
  /** Time to live of a conversation when the SP asks for none, seconds (default 300). */
  defaultTimeToLive?: number;
  /** Longest time to live granted, seconds (default 3600). */
  maxTimeToLive?: number;
  /** When true a 62xx/63xx answer stops a script (Failed 4.3); by default it is a warning. */
  warningsStopScripts?: boolean;
  /** Deadline per exchange with a card, ms. */
  exchangeTimeoutMs?: number;
  /** Where service states survive a restart (default: memory only). */
  store?: TsmStore;
  /** Delays between callback attempts of asynchronous operations, ms (default 100, 500, 2000). */
  callbackRetryDelaysMs?: number[];
  /** fetch used for callbacks (tests may observe it). */
  callbackFetch?: typeof fetch;
}

/** Functions an SP may ask to run asynchronously (answered at once; result by callback and event stream). */
export const ASYNC_OPERATIONS = ['ActivateService', 'Prepersonalize', 'UpdateService', 'DeleteServices', 'SuspendService', 'ResumeService', 'LockSE', 'UnlockSE'] as const;
export type AsyncOperation = (typeof ASYNC_OPERATIONS)[number];

/** G is the gateway's own type, so whoever composed the TSM can still work its controls (a simulated network's up/down). */
export class CentralTsm<G extends MnoGateway = MnoGateway> {
  readonly registry: Registry;
  readonly gateway: G;
  readonly clock: Clock;
  /** Service state changes and operation progress, for the SP event stream. */
  readonly events = new TsmEvents();
  readonly operations: Operations;
  /** Scenario set-up and read-only lookups for the organisation running the TSM (operator.ts). */
  readonly operator: TsmOperator;
  private readonly records: TsmRecords;
  private readonly recovery: Recovery;
  private readonly conversations: Conversations;
  private readonly services: ServiceManager;
  private readonly seLocks: SeLocks;
  /** Start-up reconciliation of interrupted requests at the card; SP functions wait for it. */
  private recovering?: Promise<void>;

  constructor(opts: CentralTsmOptions<G>) {
    this.registry = new Registry(opts.fleet);
    this.gateway = opts.gateway;
    this.clock = opts.clock ?? systemClock;
    this.records = new TsmRecords(opts.store ?? new MemoryStore(), this.registry, this.clock);
    this.operations = new Operations({ events: this.events, clock: this.clock, callbackRetryDelaysMs: opts.callbackRetryDelaysMs, fetch: opts.callbackFetch });
    this.operator = new TsmOperator(this.registry, this.records);
    const store = new ConversationStore();
    const access = new SeAccess({ registry: this.registry, gateway: opts.gateway, channels: opts.channels, conversations: store, clock: this.clock, exchangeTimeoutMs: opts.exchangeTimeoutMs });
    const states = new ServiceStates(this.registry, this.records, this.events, this.clock);
    this.recovery = new Recovery(this.registry, access, this.records, states, this.clock);
    this.conversations = new Conversations(this.registry, access, store, this.recovery, this.clock, {
      defaultTimeToLive: opts.defaultTimeToLive ?? 300,
      maxTimeToLive: opts.maxTimeToLive ?? 3600,
      warningsStopScripts: opts.warningsStopScripts ?? false,
    });
    this.services = new ServiceManager(this.registry, access, this.records, this.recovery, states);
    this.seLocks = new SeLocks(this.registry, access, this.records, this.recovery, this.clock);
    this.recover();
  }

  /**
   * Starts a management function in the background and answers at once with its operation record; the result
   * follows on the event stream, at GET /operations/{id} and, with `callbackUrl`, by POST there.
   */
  startOperation(operation: AsyncOperation, ctx: RequestContext, req: object, callbackUrl?: string): OperationRecord {
    if (!this.registry.isServiceProvider(ctx.serviceProvider)) {
      throw TsmError.failed('1.1', `"${ctx.serviceProvider}" is not a service provider known to the central TSM`);
    }
    const run = () => {
      switch (operation) {
        case 'ActivateService':
          return this.activateService(ctx, req as ActivateServiceRequest);
        case 'Prepersonalize':
          return this.prepersonalize(ctx, req as PrepersonalizeRequest);
        case 'UpdateService':
          return this.updateService(ctx, req as UpdateServiceRequest);
        case 'DeleteServices':
          return this.deleteServices(ctx, req as DeleteServicesRequest);
        case 'SuspendService':
          return this.suspendService(ctx, req as SuspendServiceRequest);
        case 'ResumeService':
          return this.resumeService(ctx, req as ResumeServiceRequest);
        case 'LockSE':
          return this.lockSe(ctx, req as SeLockRequest);
        case 'UnlockSE':
          return this.unlockSe(ctx, req as SeUnlockRequest);
      }
    };
    const rec = this.operations.start(operation, ctx.serviceProvider, ctx.functionCallIdentifier, callbackUrl, run);
    decide('operation', `${rec.operationId}: ${operation} for ${ctx.serviceProvider} runs asynchronously${callbackUrl ? `, result to ${callbackUrl}` : ''}`);
    return rec;
  }

  /** An operation of the caller's (1.2 for another SP's, 3.9 when unknown). */
  operation(ctx: RequestContext, operationId: string): OperationRecord {
    const rec = this.operations.get(operationId);
    if (!rec) throw TsmError.failed('3.9', `unknown operation "${operationId}"`);
    if (rec.serviceProvider !== ctx.serviceProvider) throw TsmError.failed('1.2', `operation ${operationId} belongs to another service provider`);
    return rec;
  }

  // ---- SP functions -------------------------------------------------------------------------------------

  getSeIdByMsi(ctx: RequestContext, req: GetSeIdRequest): Promise<GetSeIdResponse> {
    return this.call('GetSEIdentifier', ctx, req, async () => {
      const seId = this.registry.seIdByMsi(req.msisdn, req.mno);
      const d = this.registry.seData(seId);
      return { status: 'Executed-Success', seId, cin: d.cin, ...(d.iccid ? { iccid: d.iccid } : {}), mno: d.mno };
    });
  }

  getSeData(ctx: RequestContext, req: GetSeDataRequest): Promise<GetSeDataResponse> {
    return this.call('GetSEData', ctx, req, async () => {
      const data = this.registry.seData(req.seId);
      const services = this.registry
        .services(req.seId)
        .filter((s) => s.serviceProvider === ctx.serviceProvider)
        .map(({ seId: _omit, ...s }) => s);
      return { status: 'Executed-Success', ...data, bearer: this.registry.mno(data.mno).bearer, locked: this.registry.seLock(req.seId) !== undefined, services };
    }, { seId: req.seId });
  }

  /** GetServiceState: the state of one of the caller's services, with the note a failed state carries. */
  getServiceState(ctx: RequestContext, req: GetServiceStateRequest): Promise<GetServiceStateResponse> {
    return this.call('GetServiceState', ctx, req, async () => {
      const seId = resolveSe(this.registry, req, 'seId', req.serviceId);
      const s = this.registry.service(seId, req.serviceId);
      authorizeService(ctx.serviceProvider, s);
      return {
        status: 'Executed-Success',
        serviceId: s.id,
        seId,
        sdAid: s.sdAid,
        ...(s.instanceAid ? { instanceAid: s.instanceAid } : {}),
        state: s.state,
        ...(s.note ? { note: s.note } : {}),
        ...(s.updatedAt ? { updatedAt: s.updatedAt } : {}),
      };
    }, { seId: req.seId });
  }

  beginConversation(ctx: RequestContext, req: BeginConversationRequest): Promise<BeginConversationResponse> {
    return this.call('BeginConversation', ctx, req, () => this.conversations.begin(ctx, req), { seId: req.seId });
  }

  sendScript(ctx: RequestContext, req: SendScriptRequest): Promise<SendScriptResponse> {
    const conv = this.conversations.get(req.conversationId);
    return this.call('SendScript', ctx, req, async () => this.conversations.sendScript(ctx, req), conv ? { seId: conv.seId, conversationId: conv.id } : { conversationId: req.conversationId });
  }

  endConversation(ctx: RequestContext, req: EndConversationRequest): Promise<EndConversationResponse> {
    const conv = this.conversations.get(req.conversationId);
    return this.call('EndConversation', ctx, req, () => this.conversations.end(ctx, req), conv ? { seId: conv.seId, conversationId: conv.id } : { conversationId: req.conversationId });
  }

  activateService(ctx: RequestContext, req: ActivateServiceRequest): Promise<ActivateServiceResponse> {
    return this.call('ActivateService', ctx, req, () => this.services.activateService(ctx, req), { seId: req.seId });
  }

  /** Pre-personalization: SP SD with temporary keys when missing, instance from the pre-loaded package, extradition. */
  prepersonalize(ctx: RequestContext, req: PrepersonalizeRequest): Promise<PrepersonalizeResponse> {
    return this.call('Prepersonalize', ctx, req, () => this.services.prepersonalize(ctx, req), { seId: req.seId });
  }

  /** Update service (patent FIG 10). */
  updateService(ctx: RequestContext, req: UpdateServiceRequest): Promise<UpdateServiceResponse> {
    return this.call('UpdateService', ctx, req, () => this.services.updateService(ctx, req), { seId: req.seId });
  }

  deleteServices(ctx: RequestContext, req: DeleteServicesRequest): Promise<DeleteServicesResponse> {
    return this.call('DeleteServices', ctx, req, () => this.services.deleteServices(ctx, req), { seId: req.seId });
  }

  suspendService(ctx: RequestContext, req: SuspendServiceRequest): Promise<ServiceStateResponse> {
    return this.call('SuspendService', ctx, req, () => this.services.suspendService(ctx, req), { seId: req.seId });
  }

  resumeService(ctx: RequestContext, req: ResumeServiceRequest): Promise<ServiceStateResponse> {
    return this.call('ResumeService', ctx, req, () => this.services.resumeService(ctx, req), { seId: req.seId });
  }

  /** LockSE: the whole SE CARD_LOCKED by the central SD (se-lock.ts says who may ask). */
  lockSe(ctx: RequestContext, req: SeLockRequest): Promise<SeLockResponse> {
    return this.call('LockSE', ctx, req, () => this.seLocks.lockSe(ctx, req), { seId: req.seId });
  }

  /** UnlockSE: the SE back to SECURED, asked by the SP that locked it. */
  unlockSe(ctx: RequestContext, req: SeUnlockRequest): Promise<SeLockResponse> {
    return this.call('UnlockSE', ctx, req, () => this.seLocks.unlockSe(ctx, req), { seId: req.seId });
  }

  /**
   * Loads stored states, SE locks and the functionCallIdentifier ledger (requests still running become
   * interrupted). Every card-changing request left in the journal is reconciled with its card in the
   * background (recovery.ts; SP functions wait for it); a service found in a running state without a journal
   * entry is marked failed.
   */
  private recover(): void {
    const saved = this.records.load();
    if (saved) this.registry.restore(saved.services);
    for (const lock of saved?.seLocks ?? []) if (this.registry.hasSe(lock.seId)) this.registry.setSeLock(lock.seId, lock);
    const interrupted = this.records.ledger.restore(saved?.operations ?? []);
    if (interrupted) decide('idempotency', `${interrupted} request(s) were running when the central TSM stopped: their identifiers answer "interrupted" (5.4) until reconciled`);
    const known = (e: { seId: string; serviceId?: string }) =>
      this.registry.hasSe(e.seId) && (e.serviceId === undefined || this.registry.services(e.seId).some((x) => x.id === e.serviceId));
    const pending = this.records.journal.restore((saved?.journal ?? []).filter(known), (saved?.sagas ?? []).filter(known));
    for (const s of this.registry.allServices()) {
      if ((TRANSIENT_STATES as readonly string[]).includes(s.state) && !pending.some((e) => e.seId === s.seId && e.serviceId === s.id)) {
        this.registry.setServiceState(s.seId, s.id, 'failed', this.clock.now(), `interrupted while ${s.state}; the card may hold part of it`);
      }
    }
    this.records.save();
    if (pending.length) {
      this.recovering = this.recovery.startUp(pending).finally(() => {
        this.recovering = undefined;
      });
    }
  }

  // ---- inspection (steps, tests) ----------------------------------------------------------------------

  conversation(id: string): Readonly<Conversation> | undefined {
    return this.conversations.get(id);
  }

  /** Waits for running operations, closes every open conversation's channel and the store. */
  async close(): Promise<void> {
    await this.recovering;
    await this.operations.idle();
    await this.conversations.closeAll();
    this.records.close();
  }

  // ---- the request frame ------------------------------------------------------------------------------

  /**
   * Common frame of every SP function: trace, caller identity, idempotency, validity period, error envelope.
   */
  private async call<T extends Answer>(
    operation: string,
    ctx: RequestContext,
    req: object,
    fn: () => Promise<T>,
    corr: { seId?: string; conversationId?: string } = {},
  ): Promise<T> {
    const started = performance.now();
    return withCorrelation(definedOnly(corr), async () => {
      emit({ kind: 'sp.request', from: 'sp', to: 'tsm', operation, requestId: ctx.functionCallIdentifier, body: redactForSp({ serviceProvider: ctx.serviceProvider, ...req }) });
      const respond = (status: string, reasonCode: string | undefined, body: unknown) =>
        emit({
          kind: 'sp.response',
          from: 'tsm',
          to: 'sp',
          operation,
          requestId: ctx.functionCallIdentifier,
          status,
          ...(reasonCode ? { reasonCode } : {}),
          body,
          durationMs: performance.now() - started,
        });
      try {
        if (!this.registry.isServiceProvider(ctx.serviceProvider)) {
          throw TsmError.failed('1.1', `"${ctx.serviceProvider}" is not a service provider known to the central TSM`);
        }
        if (this.recovering) await this.recovering;
        const key = fingerprint(operation, { ...req, requestTimestamp: ctx.requestTimestamp, validityPeriod: ctx.validityPeriod });
        const result = await this.records.ledger.run(ctx.serviceProvider, ctx.functionCallIdentifier, key, () => {
          this.checkValidity(ctx);
          return fn();
        }, {
          onRepeat: () => decide('idempotency', `repeat of functionCallIdentifier ${ctx.functionCallIdentifier}: answering the first result, executing nothing`),
          validUntil: validityEndIfValid(ctx, this.clock.now()),
        });
        respond(result.status, result.reasonCode, redactForSp(result));
        return result;
      } catch (e) {
        const err = asTsmError(e);
        respond(err.status, err.reasonCode, errorFields(err));
        throw err;
      }
    });
  }

  private checkValidity(ctx: RequestContext): void {
    const until = validityEnd(ctx, this.clock.now());
    if (until !== undefined && this.clock.now() > until) {
      decide('validity', `validity period ended at ${new Date(until).toISOString()}: nothing done`);
      throw TsmError.expired('5.3', `the request's validity period ended at ${new Date(until).toISOString()}; nothing was done`);
    }
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
