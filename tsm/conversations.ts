/**
 * SP conversations (BeginConversation, SendScript, EndConversation): the rules that let an SP talk to its own
 * service (ownership, state, target, limits, time to live), the card channel held open for the conversation
 * through SeAccess, and each script carried over the SE's operator network, stopped at the first failing
 * command. CentralTsm wraps each in its common request frame (trace, idempotency, validity, error mapping).
 */
import { encodeCommand, SW, toHex } from '../gp/index.ts';
import { withCorrelation } from '../trace/index.ts';
import type {
  BeginConversationRequest,
  BeginConversationResponse,
  EndConversationRequest,
  EndConversationResponse,
  RequestContext,
  SendScriptRequest,
  SendScriptResponse,
} from './api-types.ts';
import { asTsmError } from './as-tsm-error.ts';
import { select } from './card-commands.ts';
import type { Clock } from './clock.ts';
import type { Conversation, ConversationStore } from './conversation.ts';
import { decide } from './decide.ts';
import { carryOver, MnoGatewayError, scriptSize, type OperatorNetwork } from './mno-gateway.ts';
import type { Recovery } from './recovery.ts';
import type { Registry } from './registry.ts';
import { authorizeService, authorizeTarget, resolveSe } from './rules.ts';
import { authorizeScript, classifySw, parseScript, reasonForSw, swOf } from './script.ts';
import type { SeAccess } from './se-access.ts';
import { TsmError } from './status.ts';

/** Service states in which an SP may hold a conversation with its service. */
const CONVERSATION_STATES: readonly string[] = ['installed', 'activated'];

export interface ConversationRules {
  /** Time to live of a conversation when the SP asks for none, seconds. */
  defaultTimeToLive: number;
  /** Longest time to live granted, seconds. */
  maxTimeToLive: number;
  /** When true a 62xx/63xx answer stops a script (Failed 4.3); otherwise it is a warning. */
  warningsStopScripts: boolean;
}

export class Conversations {
  constructor(
    private readonly registry: Registry,
    private readonly access: SeAccess,
    private readonly store: ConversationStore,
    private readonly recovery: Recovery,
    private readonly clock: Clock,
    private readonly rules: ConversationRules,
  ) {}

  get(id: string): Conversation | undefined {
    return this.store.get(id);
  }

  async begin(ctx: RequestContext, req: BeginConversationRequest): Promise<BeginConversationResponse> {
    const seId = resolveSe(this.registry, req, 'seId', req.serviceId);
    const service = this.registry.service(seId, req.serviceId);
    authorizeService(ctx.serviceProvider, service);
    if (!CONVERSATION_STATES.includes(service.state)) {
      throw TsmError.failed('3.8', `service ${service.id} is ${service.state} on ${seId}; conversations need it ${CONVERSATION_STATES.join(' or ')}`);
    }
    if (req.serviceQualifier && req.serviceQualifier.serviceProvider !== ctx.serviceProvider) {
      throw TsmError.failed('1.2', `serviceQualifier names ${req.serviceQualifier.serviceProvider}, but the caller is ${ctx.serviceProvider}`);
    }
    if (req.scriptFormat && req.scriptFormat !== 'apdu-hex') throw TsmError.failed('3.1', `script format "${req.scriptFormat}" is not supported (apdu-hex is)`);
    const targetAid = (req.targetAid ?? service.sdAid).toUpperCase();
    authorizeTarget(this.registry, ctx.serviceProvider, service, targetAid);
    await this.recovery.beforeUse(seId);
    this.access.refuseIfLocked(seId);

    const network = this.access.route(seId);
    const limits = network.limits;
    if (req.scriptSize !== undefined && req.scriptSize > limits.maxScriptSize * 64) {
      // Advisory only: a whole conversation may carry many scripts, but not without bound.
      throw TsmError.failed('2.5', `announced script size ${req.scriptSize} exceeds what ${network.name} carries in one conversation`);
    }
    if (this.access.isBusy(seId)) {
      decide('busy', `${seId} already has an open conversation`);
      throw TsmError.failed('3.7', `SE ${seId} is busy with another conversation; try again when it has ended`);
    }
    const ttl = Math.min(req.timeToLive ?? this.rules.defaultTimeToLive, this.rules.maxTimeToLive);
    const now = this.clock.now();
    const id = this.store.nextId();
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
    this.store.add(conv);
    try {
      await withCorrelation({ conversationId: id }, async () => {
        conv.channel = await this.access.open(seId);
        await this.selectTarget(conv, network);
      });
    } catch (e) {
      const ch = this.store.finish(conv, 'ended', this.clock.now());
      await ch?.close().catch(() => undefined);
      // A refusal the recorded state cannot explain (e.g. 6A81: the card is locked): read the card again.
      if (e instanceof TsmError && e.cardSw !== undefined) await this.recovery.recheckSe(seId);
      throw e;
    }
    decide('conversation', `${id}: ${ctx.serviceProvider} on ${seId} for ${service.id} (${req.requestedOperation}), ttl ${ttl}s`, { conversationId: id, ttl });
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
  }

  sendScript(ctx: RequestContext, req: SendScriptRequest): Promise<SendScriptResponse> {
    const c = this.usable(ctx, req.conversationId);
    const script = parseScript(req.commandApdus);
    const size = scriptSize(script.bytes);
    if (script.bytes.length > c.limits.maxApduCount || size > c.limits.maxScriptSize) {
      decide('limits', `refused: ${script.bytes.length} APDUs / ${size} bytes over ${c.limits.maxApduCount} / ${c.limits.maxScriptSize}`);
      throw TsmError.failed(
        '2.5',
        `script of ${script.bytes.length} APDUs and ${size} bytes exceeds the conversation's limits of ${c.limits.maxApduCount} APDUs and ${c.limits.maxScriptSize} bytes; nothing was sent`,
      );
    }
    decide('limits', `${script.bytes.length} APDUs / ${size} bytes within ${c.limits.maxApduCount} / ${c.limits.maxScriptSize}`);
    authorizeScript(script, this.registry, c.seId, ctx.serviceProvider);
    // One script at a time per conversation: the card channel carries one exchange at a time.
    const run = c.tail.then(() => this.execute(c, script.bytes));
    c.tail = run.catch(() => undefined);
    return run;
  }

  async end(ctx: RequestContext, req: EndConversationRequest): Promise<EndConversationResponse> {
    const c = this.usable(ctx, req.conversationId);
    await c.tail;
    c.spStatus = req.spStatus;
    const ch = this.store.finish(c, 'ended', this.clock.now());
    await ch?.close().catch(() => undefined);
    decide('conversation', `${c.id} ended by ${ctx.serviceProvider}${req.spStatus ? ` (${req.spStatus})` : ''}`);
    return { status: 'Executed-Success', conversationId: c.id, scriptsExecuted: c.scriptsExecuted, apdusExecuted: c.apdusExecuted };
  }

  /** Ends every open conversation and closes its channel (the central TSM stops). */
  async closeAll(): Promise<void> {
    const now = this.clock.now();
    for (const c of this.store.all()) {
      if (c.state !== 'open') continue;
      await this.store.finish(c, 'ended', now)?.close().catch(() => undefined);
    }
  }

  /** Makes the conversation's target the selected application, so the SP's first command reaches it. */
  private async selectTarget(c: Conversation, network: OperatorNetwork): Promise<void> {
    const d = await carryOver(network, c.channel!, { commands: [encodeCommand(select(c.targetAid))], timeoutMs: this.access.exchangeTimeoutMs });
    const sw = swOf(d.responses[0]);
    if (classifySw(sw) === 'failure') {
      throw TsmError.cardRefused(sw === 0x6a82 ? '3.9' : sw === SW.FUNCTION_NOT_SUPPORTED ? '3.8' : '4.2', `the target ${c.targetAid} could not be selected on ${c.seId} (SW ${sw.toString(16).toUpperCase().padStart(4, '0')})`, sw);
    }
  }

  /** The conversation a script or an end refers to, if the caller may still use it. */
  private usable(ctx: RequestContext, id: string): Conversation {
    const c = this.store.get(id);
    if (!c) throw TsmError.failed('3.9', `unknown conversation "${id}"`);
    if (c.serviceProvider !== ctx.serviceProvider) {
      decide('authorization', `refused: ${ctx.serviceProvider} used ${id} of ${c.serviceProvider}`);
      throw TsmError.failed('1.2', `conversation ${id} belongs to another service provider`);
    }
    if (c.state === 'open' && this.clock.now() > c.expiresAt) this.store.expire(c, this.clock.now());
    if (c.state === 'expired') throw TsmError.expired('4.10', `conversation ${id} expired at ${new Date(c.expiresAt).toISOString()}; nothing was sent`);
    if (c.state === 'ended') throw TsmError.failed('3.8', `conversation ${id} has ended; nothing was sent`);
    return c;
  }

  private async execute(c: Conversation, commands: Uint8Array[]): Promise<SendScriptResponse> {
    if (c.state !== 'open' || !c.channel) throw TsmError.failed('3.8', `conversation ${c.id} has ended; nothing was sent`);
    const network = this.access.stillUp(c.seId, c.mno);
    const stopOnWarning = this.rules.warningsStopScripts;
    let delivery;
    try {
      delivery = await carryOver(network, c.channel, {
        commands,
        timeoutMs: this.access.exchangeTimeoutMs,
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
      decide('script', `stopped at APDU ${i} (SW ${swHex}); ${skipped} command(s) not sent`);
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
}
