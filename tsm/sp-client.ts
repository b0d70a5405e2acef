/**
 * A typed SP client of the central TSM's SP API (fetch-based): what an SP TSM, the Cucumber steps and the tests
 * use. It never throws for an answer of the TSM — refusals come back as results with their status and reason;
 * it throws SpClientError only when no answer came (network failure, not JSON).
 */
import WebSocket from 'ws';
import type { TsmEvent } from './events.ts';
import type { OperationRecord } from './operations.ts';
import {
  API_KEY_HEADER,
  SP_NAME_HEADER,
  type ActivateServiceRequest,
  type ActivateServiceResponse,
  type Answer,
  type BeginConversationRequest,
  type BeginConversationResponse,
  type CommonRequest,
  type DeleteServicesRequest,
  type DeleteServicesResponse,
  type PrepersonalizeRequest,
  type PrepersonalizeResponse,
  type ServiceRequest,
  type ServiceStateResponse,
  type UpdateServiceRequest,
  type UpdateServiceResponse,
  type EndConversationRequest,
  type EndConversationResponse,
  type GetSeDataResponse,
  type GetServiceStateResponse,
  type GetSeIdResponse,
  type SendScriptResponse,
  type SeLockRequest,
  type SeLockResponse,
} from './api-types.ts';

export interface SpClientOptions {
  /** Base URL of the SP API, e.g. http://127.0.0.1:7080. */
  baseUrl: string;
  /** The SP this client speaks for (sent as X-SP-Name). */
  serviceProvider: string;
  apiKey?: string;
  /** Deadline per request, ms (default 30000). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** An answer of the TSM: the HTTP status and the JSON body (always with `status`). */
export interface SpResult<T extends Answer = Answer> {
  httpStatus: number;
  body: T;
}

/** A failed result has only the common fields for sure; a successful one has the operation's too. */
export type Outcome<T extends Answer> = SpResult<T | Answer>;

export class SpClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpClientError';
  }
}

type Common = Omit<CommonRequest, 'functionCallIdentifier'> & { functionCallIdentifier?: string };

let sequence = 0;

export class SpClient {
  readonly serviceProvider: string;
  private readonly base: string;
  private readonly doFetch: typeof fetch;

  constructor(private readonly opts: SpClientOptions) {
    this.serviceProvider = opts.serviceProvider;
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.doFetch = opts.fetch ?? fetch;
  }

  /** A fresh functionCallIdentifier: unique per client process. */
  newFunctionCallIdentifier(): string {
    return `${this.serviceProvider}-${process.pid.toString(36)}-${Date.now().toString(36)}-${(++sequence).toString(36)}`;
  }

  getSeIdByMsi(msisdn: string, mno: string): Promise<Outcome<GetSeIdResponse>> {
    return this.request('GET', `/msi/${encodeURIComponent(msisdn)}/se?mno=${encodeURIComponent(mno)}`);
  }

  getSeData(seId: string): Promise<Outcome<GetSeDataResponse>> {
    return this.request('GET', `/se/${encodeURIComponent(seId)}`);
  }

  /** GetServiceState: one of the caller's services (give seId or msisdn+mno when the id is on several SEs). */
  getServiceState(serviceId: string, where: { seId?: string; msisdn?: string; mno?: string } = {}): Promise<Outcome<GetServiceStateResponse>> {
    const q = new URLSearchParams(Object.entries(where).filter((e): e is [string, string] => e[1] !== undefined));
    const query = q.size ? `?${q}` : '';
    return this.request('GET', `/services/${encodeURIComponent(serviceId)}/state${query}`);
  }

  beginConversation(req: Omit<BeginConversationRequest, 'functionCallIdentifier'> & Common): Promise<Outcome<BeginConversationResponse>> {
    return this.request('POST', '/conversations', this.withId(req));
  }

  /** SendScript: hex command APDUs (or bytes). */
  sendScript(conversationId: string, commandApdus: (string | Uint8Array)[], common: Common = {}): Promise<Outcome<SendScriptResponse>> {
    const hex = commandApdus.map((c) => (typeof c === 'string' ? c : Buffer.from(c).toString('hex').toUpperCase()));
    return this.request('POST', `/conversations/${encodeURIComponent(conversationId)}/scripts`, this.withId({ ...common, commandApdus: hex }));
  }

  endConversation(conversationId: string, req: Omit<EndConversationRequest, 'conversationId' | 'functionCallIdentifier'> & Common = {}): Promise<Outcome<EndConversationResponse>> {
    return this.request('POST', `/conversations/${encodeURIComponent(conversationId)}/end`, this.withId(req));
  }

  activateService(serviceId: string, req: Omit<ActivateServiceRequest, 'serviceId' | 'functionCallIdentifier'> & Common = {}): Promise<Outcome<ActivateServiceResponse>> {
    return this.request('POST', `/services/${encodeURIComponent(serviceId)}/activate`, this.withId(req));
  }

  prepersonalize(serviceId: string, req: Omit<PrepersonalizeRequest, 'serviceId' | 'functionCallIdentifier'> & Common = {}): Promise<Outcome<PrepersonalizeResponse>> {
    return this.request('POST', `/services/${encodeURIComponent(serviceId)}/prepersonalize`, this.withId(req));
  }

  updateService(serviceId: string, req: Omit<UpdateServiceRequest, 'serviceId' | 'functionCallIdentifier'> & Common = {}): Promise<Outcome<UpdateServiceResponse>> {
    return this.request('POST', `/services/${encodeURIComponent(serviceId)}/update`, this.withId(req));
  }

  deleteServices(serviceIds: string[], req: Omit<DeleteServicesRequest, 'serviceIds' | 'functionCallIdentifier'> & Common = {}): Promise<Outcome<DeleteServicesResponse>> {
    return this.request('POST', '/services/delete', this.withId({ ...req, serviceIds }));
  }

  suspendService(serviceId: string, req: Omit<ServiceRequest, 'serviceId' | 'functionCallIdentifier'> & Common = {}): Promise<Outcome<ServiceStateResponse>> {
    return this.request('POST', `/services/${encodeURIComponent(serviceId)}/suspend`, this.withId(req));
  }

  resumeService(serviceId: string, req: Omit<ServiceRequest, 'serviceId' | 'functionCallIdentifier'> & Common = {}): Promise<Outcome<ServiceStateResponse>> {
    return this.request('POST', `/services/${encodeURIComponent(serviceId)}/resume`, this.withId(req));
  }

  /** LockSE: the central TSM locks the whole SE (card CARD_LOCKED); only an SP with a service on it may ask. */
  lockSe(seId: string, req: Omit<SeLockRequest, 'seId' | 'functionCallIdentifier'> & Common = {}): Promise<Outcome<SeLockResponse>> {
    return this.request('POST', `/se/${encodeURIComponent(seId)}/lock`, this.withId(req));
  }

  /** UnlockSE: the SE back to SECURED; only the SP that asked for the lock may ask. */
  unlockSe(seId: string, req: Omit<SeLockRequest, 'seId' | 'functionCallIdentifier' | 'reason'> & Common = {}): Promise<Outcome<SeLockResponse>> {
    return this.request('POST', `/se/${encodeURIComponent(seId)}/unlock`, this.withId(req));
  }

  /** An asynchronous operation's state and, once done, its result. */
  getOperation(operationId: string): Promise<Outcome<Answer & { operation: OperationRecord }>> {
    return this.request('GET', `/operations/${encodeURIComponent(operationId)}`);
  }

  /** Opens the caller's event stream (service state changes, operation progress); resolves once subscribed. */
  openEvents(): Promise<SpEventStream> {
    const url = `${this.base.replace(/^http/, 'ws')}/events`;
    const headers: Record<string, string> = { [SP_NAME_HEADER]: this.serviceProvider };
    if (this.opts.apiKey) headers[API_KEY_HEADER] = this.opts.apiKey;
    return SpEventStream.connect(url, headers, this.opts.timeoutMs ?? 30000);
  }

  /** The OpenAPI document the TSM serves. */
  async openApi(): Promise<Record<string, unknown>> {
    const r = await this.send('GET', '/openapi.json');
    return r.body as unknown as Record<string, unknown>;
  }

  /** Sends a raw body as is (for malformed-request tests): the answer is still parsed. */
  raw(method: 'GET' | 'POST', path: string, body?: string, headers: Record<string, string> = {}): Promise<SpResult> {
    return this.send(method, path, body, headers);
  }

  private withId<T extends { functionCallIdentifier?: string }>(req: T): T & { functionCallIdentifier: string } {
    return { ...req, functionCallIdentifier: req.functionCallIdentifier ?? this.newFunctionCallIdentifier() };
  }

  private request<T extends Answer>(method: 'GET' | 'POST', path: string, body?: object): Promise<Outcome<T>> {
    return this.send(method, path, body === undefined ? undefined : JSON.stringify(body)) as Promise<Outcome<T>>;
  }

  private async send(method: string, path: string, body?: string, extra: Record<string, string> = {}): Promise<SpResult> {
    const headers: Record<string, string> = { [SP_NAME_HEADER]: this.serviceProvider, accept: 'application/json', ...extra };
    if (this.opts.apiKey) headers[API_KEY_HEADER] = this.opts.apiKey;
    if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    let res: globalThis.Response;
    try {
      res = await this.doFetch(`${this.base}${path}`, { method, headers, body, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30000) });
    } catch (e) {
      throw new SpClientError(`${method} ${path}: no answer from the central TSM at ${this.base}: ${(e as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new SpClientError(`${method} ${path}: HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 120)}`);
    }
    return { httpStatus: res.status, body: json as Answer };
  }
}

/** The SP's event stream: events are buffered as they come; `next` takes the first one that matches. */
export class SpEventStream {
  private readonly buffer: TsmEvent[] = [];
  private readonly waiters: { match: (e: TsmEvent) => boolean; resolve: (e: TsmEvent) => void }[] = [];
  private closedWith?: string;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      let msg: { type?: string };
      try {
        msg = JSON.parse(String(data));
      } catch {
        return;
      }
      if (msg.type !== 'service-state' && msg.type !== 'operation') return;
      const e = msg as TsmEvent;
      const w = this.waiters.findIndex((x) => x.match(e));
      if (w >= 0) this.waiters.splice(w, 1)[0].resolve(e);
      else this.buffer.push(e);
    });
    ws.on('close', () => (this.closedWith = 'the event stream closed'));
  }

  static connect(url: string, headers: Record<string, string>, timeoutMs: number): Promise<SpEventStream> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs });
      const stream = new SpEventStream(ws);
      ws.once('message', () => resolve(stream));
      ws.once('unexpected-response', (_req, res) => reject(new SpClientError(`event stream refused: HTTP ${res.statusCode}`)));
      ws.once('error', (e) => reject(new SpClientError(`event stream: ${e.message}`)));
    });
  }

  /** The first event (already received or still to come) that matches, within `timeoutMs`. */
  next(match: (e: TsmEvent) => boolean = () => true, timeoutMs = 10000): Promise<TsmEvent> {
    const i = this.buffer.findIndex(match);
    if (i >= 0) return Promise.resolve(this.buffer.splice(i, 1)[0]);
    if (this.closedWith) return Promise.reject(new SpClientError(this.closedWith));
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (e: TsmEvent) => (clearTimeout(timer), resolve(e)) };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new SpClientError(`no matching event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Everything received and not yet taken. */
  pending(): TsmEvent[] {
    return [...this.buffer];
  }

  close(): void {
    this.ws.close();
  }
}
