/**
 * The central TSM core: the SP functions (get SE identifier, get SE data, conversations and scripts, activate
 * service), their rules (authorization, limits, time to live, validity period, idempotency) and their trace.
 * Transport-free: the HTTP edge (http.ts) and the steps call the same methods. Refusals throw TsmError;
 * executed functions resolve, possibly with status Failed when a command failed on the card.
 */
import type { CardChannel } from '../drivers/index.ts';
import { encodeCommand, SecureChannelError, SW, toHex } from '../gp/index.ts';
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
import { select } from './card-commands.ts';
import { CentralSession, overNetwork } from './central-sd.ts';
import { TsmEvents } from './events.ts';
import { Operations, type OperationRecord } from './operations.ts';
import { redactKeys } from './redact.ts';
import { SeLocks } from './se-lock.ts';
import { ServiceManager } from './service-manager.ts';
import { systemClock, type Clock } from './clock.ts';
import { ConversationStore, type Conversation } from './conversation.ts';
import { CallLedger, fingerprint, type CallRecord } from './idempotency.ts';
import { validityEnd, validityEndIfValid } from './timestamp.ts';
import { Registry, type ServiceRecord } from './registry.ts';
import { authorizeScript, classifySw, parseScript, reasonForSw, swOf } from './script.ts';
import { checkTransition, TRANSIENT_STATES, type ServiceState } from './service-state.ts';
import { errorFields, TsmError } from './status.ts';
import { MemoryStore, STORE_FORMAT, type TsmStore } from './store.ts';
import { Journal } from './journal.ts';
import { carryOver, MnoGatewayError, scriptSize, type MnoGateway, type OperatorNetwork } from './mno-gateway.ts';
import { Recovery } from './recovery.ts';

/** Opens a channel to an SE (in-process simulator, WebSocket simulator, PC/SC): the TSM never picks a driver. */
export type ChannelFactory = (seId: string) => Promise<CardChannel>;

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

/** Service states in which an SP may hold a conversation with its service. */
const CONVERSATION_STATES: readonly string[] = ['installed', 'activated'];

/** G is the gateway's own type, so whoever composed the TSM can still work its controls (a simulated network's up/down). */
export class CentralTsm<G extends MnoGateway = MnoGateway> {
  readonly registry: Registry;
  readonly gateway: G;
  readonly clock: Clock;
  /** Service state changes and operation progress, for the SP event stream. */
  readonly events = new TsmEvents();
  readonly operations: Operations;
  private readonly conversations = new ConversationStore();
  private readonly ledger = new CallLedger({
    onChange: () => this.persistQuietly(),
    // Temporary keys in an answer are not written to disk: a repeat after a restart shows their check values.
    sanitize: (answer) => redactKeys(answer),
    now: () => this.clock.now(),
  });
  /** Card-changing requests under way (persisted: journal.ts). */
  private readonly journal = new Journal(() => this.persist());
  /** Reconciliation of journaled requests with the card (recovery.ts, reconcile.ts). */
  private readonly recovery: Recovery;
  /** Start-up reconciliation of interrupted requests at the card; SP functions wait for it. */
  private recovering?: Promise<void>;
  private readonly opts: Required<Pick<CentralTsmOptions, 'defaultTimeToLive' | 'maxTimeToLive' | 'warningsStopScripts'>> &
    CentralTsmOptions<G>;
  /** SEs the central TSM is working on itself (activation): SP conversations wait their turn (3.7). */
  private readonly busy = new Set<string>();
  private readonly store: TsmStore;
  private readonly services: ServiceManager;
  private readonly seLocks: SeLocks;

  constructor(opts: CentralTsmOptions<G>) {
    this.opts = { defaultTimeToLive: 300, maxTimeToLive: 3600, warningsStopScripts: false, ...opts };
    this.registry = new Registry(opts.fleet);
    this.gateway = opts.gateway;
    this.clock = opts.clock ?? systemClock;
    this.store = opts.store ?? new MemoryStore();
    this.operations = new Operations({ events: this.events, clock: this.clock, callbackRetryDelaysMs: opts.callbackRetryDelaysMs, fetch: opts.callbackFetch });
    this.services = new ServiceManager({
      registry: this.registry,
      resolveSe: (req, field, serviceId) => this.resolveSe(req, field, serviceId),
      authorizeService: (sp, service) => this.authorizeService(sp, service),
      route: (seId) => this.route(seId),
      withCentralSession: (seId, network, fn) => this.withCentralSession(seId, network, fn),
      setState: (seId, serviceId, to, note) => this.setState(seId, serviceId, to, note),
      persist: () => this.persist(),
      journal: this.journal,
      afterFailure: (entry, e) => this.recovery.afterFailure(entry, e),
      reconcileFirst: (seId) => this.recovery.beforeUse(seId),
      decide: (decision, detail, data) => this.decide(decision, detail, data),
      asTsmError,
    });
    this.seLocks = new SeLocks({
      registry: this.registry,
      route: (seId) => this.route(seId),
      withCentralSession: (seId, network, fn, o) => this.withCentralSession(seId, network, fn, o),
      persist: () => this.persist(),
      journal: this.journal,
      afterFailure: (entry, e) => this.recovery.afterFailure(entry, e),
      reconcileFirst: (seId) => this.recovery.beforeUse(seId),
      decide: (decision, detail, data) => this.decide(decision, detail, data),
      now: () => this.clock.now(),
    });
    this.recovery = new Recovery({
      registry: this.registry,
      journal: this.journal,
      route: (seId) => this.route(seId),
      withCentralSession: (seId, network, fn) => this.withCentralSession(seId, network, fn, { whileLocked: true, reconciling: true }),
      now: () => this.clock.now(),
      recordServiceState: (seId, serviceId, to, note) => this.recordCardState(seId, serviceId, to, note),
      setSeLock: (seId, lock) => this.registry.setSeLock(seId, lock),
      persist: () => this.persist(),
      decide: (decision, detail, data) => this.decide(decision, detail, data),
      settleCall: (sp, fci, outcome) => this.settleCall(sp, fci, outcome),
      asTsmError,
    });
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
    this.decide('operation', `${rec.operationId}: ${operation} for ${ctx.serviceProvider} runs asynchronously${callbackUrl ? `, result to ${callbackUrl}` : ''}`);
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
      const seId = this.resolveSe(req, 'seId', req.serviceId);
      const s = this.registry.service(seId, req.serviceId);
      this.authorizeService(ctx.serviceProvider, s);
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
    return this.call('BeginConversation', ctx, req, async () => {
      const seId = this.resolveSe(req, 'seId', req.serviceId);
      const service = this.registry.service(seId, req.serviceId);
      this.authorizeService(ctx.serviceProvider, service);
      if (!CONVERSATION_STATES.includes(service.state)) {
        throw TsmError.failed('3.8', `service ${service.id} is ${service.state} on ${seId}; conversations need it ${CONVERSATION_STATES.join(' or ')}`);
      }
      if (req.serviceQualifier && req.serviceQualifier.serviceProvider !== ctx.serviceProvider) {
        throw TsmError.failed('1.2', `serviceQualifier names ${req.serviceQualifier.serviceProvider}, but the caller is ${ctx.serviceProvider}`);
      }
      if (req.scriptFormat && req.scriptFormat !== 'apdu-hex') throw TsmError.failed('3.1', `script format "${req.scriptFormat}" is not supported (apdu-hex is)`);
      const targetAid = (req.targetAid ?? service.sdAid).toUpperCase();
      this.authorizeTarget(ctx.serviceProvider, service, targetAid);
      await this.recovery.beforeUse(seId);
      this.refuseIfLocked(seId);

      const network = this.route(seId);
      const limits = network.limits;
      if (req.scriptSize !== undefined && req.scriptSize > limits.maxScriptSize * 64) {
        // Advisory only: a whole conversation may carry many scripts, but not without bound.
        throw TsmError.failed('2.5', `announced script size ${req.scriptSize} exceeds what ${network.name} carries in one conversation`);
      }
      this.expireStale();
      if (this.busy.has(seId) || this.conversations.openOn(seId)) {
        this.decide('busy', `${seId} already has an open conversation`);
        throw TsmError.failed('3.7', `SE ${seId} is busy with another conversation; try again when it has ended`);
      }
      const ttl = Math.min(req.timeToLive ?? this.opts.defaultTimeToLive, this.opts.maxTimeToLive);
      const now = this.clock.now();
      const id = this.conversations.nextId();
      const conv: Conversation = {
        id,
        serviceProvider: ctx.serviceProvider,
        seId,
        mno: network.name,
        bearer: network.bearer,
        serviceId: service.id,
        targetAid,
        requestedOperation: req.requestedOperation,
        scriptFormat: 'apdu-hex',
        limits,
        createdAt: now,
        expiresAt: now + ttl * 1000,
        state: 'open',
        scriptsExecuted: 0,
        apdusExecuted: 0,
        tail: Promise.resolve(),
      };
      // Reserve the SE before the first await so a concurrent BeginConversation sees it busy.
      this.conversations.add(conv);
      try {
        await withCorrelation({ conversationId: id }, async () => {
          conv.channel = await this.open(seId);
          await this.selectTarget(conv, network);
        });
      } catch (e) {
        const ch = this.conversations.finish(conv, 'ended', this.clock.now());
        await ch?.close().catch(() => undefined);
        // A refusal the recorded state cannot explain (e.g. 6A81: the card is locked): read the card again.
        if (e instanceof TsmError && e.cardSw !== undefined) await this.recovery.recheckSe(seId);
        throw e;
      }
      this.decide('conversation', `${id}: ${ctx.serviceProvider} on ${seId} for ${service.id} (${req.requestedOperation}), ttl ${ttl}s`, {
        conversationId: id,
        ttl,
      });
      return {
        status: 'Executed-Success',
        conversationId: id,
        seId,
        mno: network.name,
        bearer: network.bearer,
        maxApduCount: limits.maxApduCount,
        maxScriptSize: limits.maxScriptSize,
        scriptFormat: 'apdu-hex',
        timeToLiveSeconds: ttl,
        expiresAt: new Date(conv.expiresAt).toISOString(),
        targetAid,
      };
    });
  }

  sendScript(ctx: RequestContext, req: SendScriptRequest): Promise<SendScriptResponse> {
    const conv = this.conversations.get(req.conversationId);
    return this.call('SendScript', ctx, req, async () => {
      const c = this.usableConversation(ctx, req.conversationId);
      const script = parseScript(req.commandApdus);
      const size = scriptSize(script.bytes);
      if (script.bytes.length > c.limits.maxApduCount || size > c.limits.maxScriptSize) {
        this.decide('limits', `refused: ${script.bytes.length} APDUs / ${size} bytes over ${c.limits.maxApduCount} / ${c.limits.maxScriptSize}`);
        throw TsmError.failed(
          '2.5',
          `script of ${script.bytes.length} APDUs and ${size} bytes exceeds the conversation's limits of ${c.limits.maxApduCount} APDUs and ${c.limits.maxScriptSize} bytes; nothing was sent`,
        );
      }
      this.decide('limits', `${script.bytes.length} APDUs / ${size} bytes within ${c.limits.maxApduCount} / ${c.limits.maxScriptSize}`);
      authorizeScript(script, this.registry, c.seId, ctx.serviceProvider);
      // One script at a time per conversation: the card channel carries one exchange at a time.
      const run = c.tail.then(() => this.execute(c, script.bytes));
      c.tail = run.catch(() => undefined);
      return run;
    }, conv ? { seId: conv.seId, conversationId: conv.id } : { conversationId: req.conversationId });
  }

  endConversation(ctx: RequestContext, req: EndConversationRequest): Promise<EndConversationResponse> {
    const conv = this.conversations.get(req.conversationId);
    return this.call('EndConversation', ctx, req, async () => {
      const c = this.usableConversation(ctx, req.conversationId);
      await c.tail;
      c.spStatus = req.spStatus;
      const ch = this.conversations.finish(c, 'ended', this.clock.now());
      await ch?.close().catch(() => undefined);
      this.decide('conversation', `${c.id} ended by ${ctx.serviceProvider}${req.spStatus ? ` (${req.spStatus})` : ''}`);
      return { status: 'Executed-Success', conversationId: c.id, scriptsExecuted: c.scriptsExecuted, apdusExecuted: c.apdusExecuted };
    }, conv ? { seId: conv.seId, conversationId: conv.id } : { conversationId: req.conversationId });
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

  /** A locked SE allows no conversation and no service management until it is unlocked (3.8, nothing sent). */
  private refuseIfLocked(seId: string): void {
    const lock = this.registry.seLock(seId);
    if (!lock) return;
    this.decide('se-lock', `refused: ${seId} is locked`);
    throw TsmError.failed('3.8', `SE ${seId} is locked (card life cycle CARD_LOCKED since ${lock.lockedAt}); nothing was sent until it is unlocked`);
  }

  /**
   * Runs `fn` in the central TSM's own session to the central SD of an SE, holding the SE (3.7 for others).
   * A locked SE is refused (3.8) unless `whileLocked` (unlocking it).
   */
  private async withCentralSession(
    seId: string,
    network: OperatorNetwork,
    fn: (session: CentralSession, link: CardChannel) => Promise<void>,
    opts: { whileLocked?: boolean; reconciling?: boolean } = {},
  ): Promise<void> {
    if (!opts.reconciling) await this.recovery.beforeUse(seId);
    if (!opts.whileLocked) this.refuseIfLocked(seId);
    this.expireStale();
    if (this.busy.has(seId) || this.conversations.openOn(seId)) {
      throw TsmError.failed('3.7', `SE ${seId} is busy with a conversation or another operation; try again when it has ended`);
    }
    this.busy.add(seId);
    let channel: CardChannel | undefined;
    try {
      channel = await this.open(seId);
      const link = overNetwork(network, channel, this.opts.exchangeTimeoutMs);
      const central = this.registry.centralSdKeys(seId);
      this.decide('central-session', `central TSM opens its own secure channel to ${central.aid} on ${seId}`);
      const session = await CentralSession.open(link, central);
      if (session.selectSw === SW.CARD_LOCKED && !opts.whileLocked) {
        // The card is locked though the central TSM has no lock recorded: the caller reconciles (recovery.ts).
        this.decide('se-lock', `${seId} answered 6283: CARD_LOCKED on the card, not in the central TSM's records`);
        throw TsmError.cardRefused('3.8', `SE ${seId} is CARD_LOCKED on the card though the central TSM had not recorded a lock; nothing was sent`, SW.CARD_LOCKED);
      }
      await fn(session, link);
    } finally {
      this.busy.delete(seId);
      await channel?.close().catch(() => undefined);
    }
  }

  // ---- service states ------------------------------------------------------------------------------

  /** Moves a service to `to` (checked by the state machine), records it and persists it. */
  private setState(seId: string, serviceId: string, to: ServiceState, note?: string): void {
    const s = this.registry.service(seId, serviceId);
    checkTransition(serviceId, s.state, to);
    const from = s.state;
    this.registry.setServiceState(seId, serviceId, to, this.clock.now(), note);
    this.persist();
    this.decide('service-state', `${serviceId} on ${seId}: ${from} → ${to}${note ? ` (${note})` : ''}`, { seId, serviceId, from, to });
    this.events.publish({
      type: 'service-state',
      serviceProvider: s.serviceProvider,
      seId,
      serviceId,
      from,
      to,
      ...(note ? { note } : {}),
      at: new Date(this.clock.now()).toISOString(),
    });
  }

  private persist(): void {
    const seLocks = this.registry.allSeLocks();
    const operations = this.ledger.records();
    const journal = this.journal.all();
    this.store.save({
      format: STORE_FORMAT,
      services: this.registry.allServices(),
      ...(seLocks.length ? { seLocks } : {}),
      ...(operations.length ? { operations } : {}),
      ...(journal.length ? { journal } : {}),
    });
  }

  /** persist() for the ledger, whose changes land after an answer: a failing store is traced, not thrown. */
  private persistQuietly(): void {
    try {
      this.persist();
    } catch (e) {
      this.decide('store', `the functionCallIdentifier ledger could not be saved: ${(e as Error).message}`);
    }
  }

  /**
   * Loads stored states, SE locks and the functionCallIdentifier ledger (requests still running become
   * interrupted). Every card-changing request left in the journal is reconciled with its card in the
   * background (recovery.ts; SP functions wait for it); a service found in a running state without a journal
   * entry is marked failed.
   */
  private recover(): void {
    const saved = this.store.load();
    if (saved) this.registry.restore(saved.services);
    for (const lock of saved?.seLocks ?? []) if (this.registry.hasSe(lock.seId)) this.registry.setSeLock(lock.seId, lock);
    const interrupted = this.ledger.restore(saved?.operations ?? []);
    if (interrupted) this.decide('idempotency', `${interrupted} request(s) were running when the central TSM stopped: their identifiers answer "interrupted" (5.4) until reconciled`);
    const known = (e: { seId: string; serviceId?: string }) =>
      this.registry.hasSe(e.seId) && (e.serviceId === undefined || this.registry.services(e.seId).some((x) => x.id === e.serviceId));
    const pending = this.journal.restore((saved?.journal ?? []).filter(known), (saved?.sagas ?? []).filter(known));
    for (const s of this.registry.allServices()) {
      if ((TRANSIENT_STATES as readonly string[]).includes(s.state) && !pending.some((e) => e.seId === s.seId && e.serviceId === s.id)) {
        this.registry.setServiceState(s.seId, s.id, 'failed', this.clock.now(), `interrupted while ${s.state}; the card may hold part of it`);
      }
    }
    this.persist();
    if (pending.length) {
      this.recovering = this.recovery.startUp(pending).finally(() => {
        this.recovering = undefined;
      });
    }
  }

  /** Records a state the card shows (reconciliation), bypassing the request state machine, with its event. */
  private recordCardState(seId: string, serviceId: string, to: ServiceState, note: string): void {
    const s = this.registry.service(seId, serviceId);
    const from = s.state;
    this.registry.setServiceState(seId, serviceId, to, this.clock.now(), note);
    this.decide('service-state', `${serviceId} on ${seId}: ${from} → ${to} (${note})`, { seId, serviceId, from, to });
    this.events.publish({ type: 'service-state', serviceProvider: s.serviceProvider, seId, serviceId, from, to, note, at: new Date(this.clock.now()).toISOString() });
  }

  /** An interrupted request's identifier answers what reconciliation decided (the ledger's stored outcome). */
  private settleCall(sp: string, fci: string, outcome: { answer: Answer } | { error: TsmError }): void {
    const rec = this.ledger.records().find((r) => r.serviceProvider === sp && r.functionCallIdentifier === fci);
    if (!rec || rec.state !== 'interrupted') return;
    const settled: CallRecord =
      'answer' in outcome
        ? { ...rec, state: 'done', answer: redactKeys(outcome.answer) }
        : { ...rec, state: 'done', error: { status: outcome.error.status, reasonCode: outcome.error.reasonCode, message: outcome.error.message, ...(outcome.error.data ? { data: outcome.error.data } : {}) } };
    this.ledger.restore([settled]);
    this.persistQuietly();
  }

  // ---- inspection (steps, tests) ----------------------------------------------------------------------

  conversation(id: string): Readonly<Conversation> | undefined {
    return this.conversations.get(id);
  }

  /** Waits for running operations, closes every open conversation's channel and the store. */
  async close(): Promise<void> {
    await this.recovering;
    await this.operations.idle();
    const now = this.clock.now();
    for (const c of this.conversations.all()) {
      if (c.state !== 'open') continue;
      await this.conversations.finish(c, 'ended', now)?.close().catch(() => undefined);
    }
    this.store.close();
  }

  // ---- rules --------------------------------------------------------------------------------------------

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
      emit({ kind: 'sp.request', from: 'sp', to: 'tsm', operation, requestId: ctx.functionCallIdentifier, body: redactKeys({ serviceProvider: ctx.serviceProvider, ...req }) });
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
        const result = await this.ledger.run(ctx.serviceProvider, ctx.functionCallIdentifier, key, () => {
          this.checkValidity(ctx);
          return fn();
        }, {
          onRepeat: () => this.decide('idempotency', `repeat of functionCallIdentifier ${ctx.functionCallIdentifier}: answering the first result, executing nothing`),
          validUntil: validityEndIfValid(ctx, this.clock.now()),
        });
        respond(result.status, result.reasonCode, redactKeys(result));
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
      this.decide('validity', `validity period ended at ${new Date(until).toISOString()}: nothing done`);
      throw TsmError.expired('5.3', `the request's validity period ended at ${new Date(until).toISOString()}; nothing was done`);
    }
  }

  private authorizeService(sp: string, service: ServiceRecord): void {
    if (service.serviceProvider !== sp) {
      this.decide('authorization', `refused: ${sp} asked for ${service.id} of ${service.serviceProvider}`);
      throw TsmError.failed('1.2', `${sp} may not act on service ${service.id}: it belongs to ${service.serviceProvider}`);
    }
    this.decide('authorization', `${sp} owns ${service.id} on ${service.seId}`);
  }

  private authorizeTarget(sp: string, service: ServiceRecord, targetAid: string): void {
    const owner = this.registry.ownerOf(service.seId, targetAid);
    if (owner.kind !== 'sp' || owner.name !== sp) {
      this.decide('authorization', `refused: ${sp} targeted ${targetAid} (${owner.kind})`);
      throw TsmError.failed('1.2', `${sp} may not address ${targetAid}: it is not one of its security domains or applications`);
    }
  }

  /** Finds the SE from seId and/or MSI (or, for a service id carried by one SE only, from the service). */
  private resolveSe(req: { seId?: string; msisdn?: string; mno?: string }, field: string, serviceId?: string): string {
    if (req.msisdn !== undefined || req.mno !== undefined) {
      if (req.msisdn === undefined || req.mno === undefined) throw TsmError.failed('2.3', 'msisdn and mno go together: give both or neither');
      const bySubscriber = this.registry.seIdByMsi(req.msisdn, req.mno);
      if (req.seId !== undefined && req.seId !== bySubscriber) {
        throw TsmError.failed('3.10', `SE ${req.seId} is not the SE of subscriber ${req.msisdn} on ${req.mno}`);
      }
      return bySubscriber;
    }
    if (req.seId !== undefined) {
      if (!this.registry.hasSe(req.seId)) throw TsmError.failed('3.9', `unknown SE "${req.seId}"`);
      return req.seId;
    }
    if (serviceId !== undefined) {
      const ses = this.registry.sesWithService(serviceId);
      if (ses.length === 1) return ses[0];
      if (ses.length === 0) throw TsmError.failed('3.9', `service "${serviceId}" is not known`);
    }
    throw TsmError.failed('2.2', `${field} (or msisdn and mno) is required`);
  }

  /** Picks the network that reaches the SE; a network that is down answers 5.1 and nothing is sent. */
  private route(seId: string): OperatorNetwork {
    const mno = this.registry.mnoOf(seId);
    const network = this.gateway.network(mno);
    if (!network) throw TsmError.failed('5.1', `no network is configured for ${mno}`);
    if (!network.up) {
      this.decide('routing', `${seId} is reached through ${mno}, which is down`);
      throw TsmError.failed('5.1', `SE ${seId} is inaccessible: ${mno} is down`);
    }
    this.decide('routing', `${seId} through ${mno} over ${network.bearer}`, { mno, bearer: network.bearer });
    return network;
  }

  private async open(seId: string): Promise<CardChannel> {
    try {
      return await this.opts.channels(seId);
    } catch (e) {
      throw TsmError.failed('5.1', `SE ${seId} is inaccessible: ${(e as Error).message}`);
    }
  }

  /** Makes the conversation's target the selected application, so the SP's first command reaches it. */
  private async selectTarget(c: Conversation, network: OperatorNetwork): Promise<void> {
    const d = await carryOver(network, c.channel!, { commands: [encodeCommand(select(c.targetAid))], timeoutMs: this.opts.exchangeTimeoutMs });
    const sw = swOf(d.responses[0]);
    if (classifySw(sw) === 'failure') {
      throw TsmError.cardRefused(sw === 0x6a82 ? '3.9' : sw === SW.FUNCTION_NOT_SUPPORTED ? '3.8' : '4.2', `the target ${c.targetAid} could not be selected on ${c.seId} (SW ${sw.toString(16).toUpperCase().padStart(4, '0')})`, sw);
    }
  }

  /** The conversation a script or an end refers to, if the caller may still use it. */
  private usableConversation(ctx: RequestContext, id: string): Conversation {
    const c = this.conversations.get(id);
    if (!c) throw TsmError.failed('3.9', `unknown conversation "${id}"`);
    if (c.serviceProvider !== ctx.serviceProvider) {
      this.decide('authorization', `refused: ${ctx.serviceProvider} used ${id} of ${c.serviceProvider}`);
      throw TsmError.failed('1.2', `conversation ${id} belongs to another service provider`);
    }
    if (c.state === 'open' && this.clock.now() > c.expiresAt) this.expire(c);
    if (c.state === 'expired') throw TsmError.expired('4.10', `conversation ${id} expired at ${new Date(c.expiresAt).toISOString()}; nothing was sent`);
    if (c.state === 'ended') throw TsmError.failed('3.8', `conversation ${id} has ended; nothing was sent`);
    return c;
  }

  private expire(c: Conversation): void {
    const ch = this.conversations.finish(c, 'expired', this.clock.now());
    this.decide('conversation', `${c.id} expired (time to live passed)`, { conversationId: c.id });
    void ch?.close().catch(() => undefined);
  }

  private expireStale(): void {
    const now = this.clock.now();
    for (const c of this.conversations.all()) if (c.state === 'open' && now > c.expiresAt) this.expire(c);
  }

  private async execute(c: Conversation, commands: Uint8Array[]): Promise<SendScriptResponse> {
    if (c.state !== 'open' || !c.channel) throw TsmError.failed('3.8', `conversation ${c.id} has ended; nothing was sent`);
    const network = this.gateway.network(c.mno)!;
    if (!network.up) {
      this.decide('routing', `${c.seId} is reached through ${c.mno}, which is down`);
      throw TsmError.failed('5.1', `SE ${c.seId} is inaccessible: ${c.mno} is down; nothing was sent`);
    }
    const stopOnWarning = this.opts.warningsStopScripts;
    let delivery;
    try {
      delivery = await carryOver(network, c.channel, {
        commands,
        timeoutMs: this.opts.exchangeTimeoutMs,
        shouldStop: (r) => {
          const k = classifySw(swOf(r));
          return k === 'failure' || (k === 'warning' && stopOnWarning);
        },
      });
    } catch (e) {
      if (e instanceof MnoGatewayError) c.apdusExecuted += e.partial.length;
      throw asTsmError(e);
    }
    c.scriptsExecuted++;
    c.apdusExecuted += delivery.responses.length;
    const responseApdus = delivery.responses.map((r) => toHex(r));
    const warnings = delivery.responses.map((r, i) => (classifySw(swOf(r)) === 'warning' ? i : -1)).filter((i) => i >= 0);
    const base = { conversationId: c.id, responseApdus, networkMs: delivery.networkMs };
    if (delivery.stoppedAt !== undefined) {
      const i = delivery.stoppedAt;
      const sw = swOf(delivery.responses[i]);
      const swHex = sw.toString(16).toUpperCase().padStart(4, '0');
      const onWarning = classifySw(sw) === 'warning';
      const skipped = commands.length - i - 1;
      this.decide('script', `stopped at APDU ${i} (SW ${swHex}); ${skipped} command(s) not sent`);
      return {
        status: 'Failed',
        reasonCode: onWarning ? '4.3' : reasonForSw(sw),
        message: `command ${i} failed with SW ${swHex}; ${skipped} later command(s) were not sent`,
        ...base,
        failedApduIndex: i,
        ...(warnings.length && !onWarning ? { warningApduIndexes: warnings.filter((w) => w < i) } : {}),
      };
    }
    if (warnings.length) {
      return { status: 'Executed-WithWarning', message: `command(s) ${warnings.join(', ')} answered a warning`, ...base, warningApduIndexes: warnings };
    }
    return { status: 'Executed-Success', ...base };
  }

  private decide(decision: string, detail: string, data?: unknown): void {
    emit({ kind: 'tsm.decision', from: 'tsm', to: 'tsm', decision, detail, ...(data !== undefined ? { data } : {}) });
  }
}

/** Maps anything thrown below the core to the one TSM error family. */
export function asTsmError(e: unknown): TsmError {
  if (e instanceof TsmError) return e;
  if (e instanceof MnoGatewayError) {
    switch (e.kind) {
      case 'limit':
        return TsmError.failed('2.5', e.message);
      case 'down':
      case 'unreachable':
        return TsmError.failed('5.1', e.message, e.partial.length ? { responseApdus: e.partial.map((r) => toHex(r)) } : undefined);
      default:
        return TsmError.failed(e.partial.length ? '5.4' : '5.1', e.message, e.partial.length ? { responseApdus: e.partial.map((r) => toHex(r)) } : undefined);
    }
  }
  if (e instanceof SecureChannelError) return TsmError.failed('6.1', `secure channel: ${e.kind}: ${e.message}`);
  return TsmError.failed('4.2', `internal error: ${(e as Error)?.message ?? String(e)}`);
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
