/**
 * The SP API over HTTP (express): JSON in, JSON out, validated against tsm/openapi.json. This is the one place
 * a TsmError becomes an HTTP answer. The caller names itself in X-SP-Name (and X-API-Key when the fleet gives
 * SPs keys).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import express, { type Request, type Response } from 'express';
import { WebSocketServer } from 'ws';
import { emit } from '../trace/index.ts';
import { API_KEY_HEADER, SP_NAME_HEADER, type RequestContext } from './api-types.ts';
import { asTsmError, type AsyncOperation, type CentralTsm } from './central-tsm.ts';
import { openApiDocument, operationValidators, type OperationValidator } from './openapi.ts';
import { errorFields, httpStatusOf, TsmError, type ReasonCode } from './status.ts';

/** Largest request body accepted. */
export const MAX_BODY_BYTES = 1024 * 1024;

type Handler = (tsm: CentralTsm, ctx: RequestContext, params: Record<string, string>, query: Record<string, string>, body: Record<string, unknown>) => Promise<object>;

/** Splits the common request fields from an operation's own. */
function common(body: Record<string, unknown>) {
  const { functionCallIdentifier, requestTimestamp, validityPeriod, ...rest } = body;
  return { common: { functionCallIdentifier, requestTimestamp, validityPeriod } as Omit<RequestContext, 'serviceProvider'>, rest };
}

const handlers: Record<string, Handler> = {
  getSeIdentifier: (tsm, ctx, p, q) => tsm.getSeIdByMsi(ctx, { msisdn: p.msisdn, mno: q.mno }),
  getSeData: (tsm, ctx, p) => tsm.getSeData(ctx, { seId: p.seId }),
  getServiceState: (tsm, ctx, p, q) => tsm.getServiceState(ctx, { serviceId: p.serviceId, ...pick(q, ['seId', 'msisdn', 'mno']) }),
  beginConversation: (tsm, ctx, _p, _q, b) => tsm.beginConversation(ctx, b as never),
  sendScript: (tsm, ctx, p, _q, b) => tsm.sendScript(ctx, { ...(b as { commandApdus: string[] }), conversationId: p.conversationId }),
  endConversation: (tsm, ctx, p, _q, b) => tsm.endConversation(ctx, { ...b, conversationId: p.conversationId }),
  activateService: (tsm, ctx, p, _q, b) => tsm.activateService(ctx, { ...b, serviceId: p.serviceId }),
  prepersonalize: (tsm, ctx, p, _q, b) => tsm.prepersonalize(ctx, { ...b, serviceId: p.serviceId }),
  updateService: (tsm, ctx, p, _q, b) => tsm.updateService(ctx, { ...b, serviceId: p.serviceId }),
  deleteServices: (tsm, ctx, _p, _q, b) => tsm.deleteServices(ctx, b as never),
  suspendService: (tsm, ctx, p, _q, b) => tsm.suspendService(ctx, { ...b, serviceId: p.serviceId }),
  resumeService: (tsm, ctx, p, _q, b) => tsm.resumeService(ctx, { ...b, serviceId: p.serviceId }),
  lockSe: (tsm, ctx, p, _q, b) => tsm.lockSe(ctx, { ...b, seId: p.seId }),
  unlockSe: (tsm, ctx, p, _q, b) => tsm.unlockSe(ctx, { ...b, seId: p.seId }),
  getOperation: async (tsm, ctx, p) => ({ status: 'Executed-Success', operation: tsm.operation(ctx, p.operationId) }),
};

/** Functions that may run asynchronously, by operationId of the OpenAPI document. */
const ASYNC: Record<string, { operation: AsyncOperation; request: (p: Record<string, string>, b: Record<string, unknown>) => object }> = {
  activateService: { operation: 'ActivateService', request: (p, b) => ({ ...b, serviceId: p.serviceId }) },
  prepersonalize: { operation: 'Prepersonalize', request: (p, b) => ({ ...b, serviceId: p.serviceId }) },
  updateService: { operation: 'UpdateService', request: (p, b) => ({ ...b, serviceId: p.serviceId }) },
  deleteServices: { operation: 'DeleteServices', request: (_p, b) => b },
  suspendService: { operation: 'SuspendService', request: (p, b) => ({ ...b, serviceId: p.serviceId }) },
  resumeService: { operation: 'ResumeService', request: (p, b) => ({ ...b, serviceId: p.serviceId }) },
  lockSe: { operation: 'LockSE', request: (p, b) => ({ ...b, seId: p.seId }) },
  unlockSe: { operation: 'UnlockSE', request: (p, b) => ({ ...b, seId: p.seId }) },
};

function refuse(res: Response, operation: string, reasonCode: ReasonCode, message: string, spName?: string, httpStatus?: number): void {
  const err = TsmError.failed(reasonCode, message);
  const body = errorFields(err);
  // Refused at the edge: the core never saw it, so the edge traces it.
  emit({ kind: 'sp.request', from: 'sp', to: 'tsm', operation, body: { serviceProvider: spName } });
  emit({ kind: 'sp.response', from: 'tsm', to: 'sp', operation, status: err.status, reasonCode, body, durationMs: 0 });
  res.status(httpStatus ?? httpStatusOf(err)).json(body);
}

export function createSpApi(tsm: CentralTsm): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const doc = openApiDocument();
  app.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });
  // Bodies are read raw so malformed JSON is answered in the API's own terms (2.1), not express's.
  app.use(express.raw({ type: () => true, limit: MAX_BODY_BYTES }));

  for (const v of operationValidators(doc)) {
    const route = app.route(v.expressPath);
    const handle = (req: Request, res: Response) => serve(tsm, v, req, res);
    if (v.method === 'GET') route.get(handle);
    else if (v.method === 'POST') route.post(handle);
  }

  app.use((req: Request, res: Response) => {
    refuse(res, `${req.method} ${req.path}`, '3.1', `no function ${req.method} ${req.path} (see /openapi.json)`, req.get(SP_NAME_HEADER), 404);
  });
  // Body too large and the like: still an answer in the API's terms, never express's HTML page.
  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: express.NextFunction) => {
    const tooLarge = err.type === 'entity.too.large';
    refuse(res, `${req.method} ${req.path}`, '2.1', tooLarge ? `the request body exceeds ${MAX_BODY_BYTES} bytes` : `the request could not be read: ${err.message}`);
  });
  return app;
}

async function serve(tsm: CentralTsm, v: OperationValidator, req: Request, res: Response): Promise<void> {
  const spName = req.get(SP_NAME_HEADER);
  if (!spName) return refuse(res, v.operationId, '1.1', `the ${SP_NAME_HEADER} header naming the service provider is missing`);
  if (tsm.registry.requiresApiKeys() && req.get(API_KEY_HEADER) !== tsm.registry.apiKeyOf(spName)) {
    return refuse(res, v.operationId, '1.1', `the ${API_KEY_HEADER} header does not authenticate ${spName}`, spName);
  }
  const params = { ...(req.params as Record<string, string>) };
  const query = Object.fromEntries(Object.entries(req.query).filter(([, x]) => typeof x === 'string')) as Record<string, string>;
  const paramFailure = v.params({ ...params, ...query });
  if (paramFailure) return refuse(res, v.operationId, paramFailure.reasonCode, paramFailure.message, spName);

  let body: Record<string, unknown> = {};
  if (v.hasBody) {
    const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (bytes.length) {
      const wrongType = contentTypeProblem(req.get('content-type'));
      if (wrongType) return refuse(res, v.operationId, '2.1', wrongType, spName, 415);
    }
    let raw: string;
    try {
      raw = utf8.decode(bytes);
    } catch {
      return refuse(res, v.operationId, '2.1', 'the request body is not UTF-8 (JSON is sent as UTF-8, RFC 8259)', spName);
    }
    if (!raw.trim()) return refuse(res, v.operationId, '2.2', 'the request body is missing (a JSON object is expected)', spName);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (e) {
      return refuse(res, v.operationId, '2.1', `the request body is not valid JSON: ${(e as Error).message}`, spName);
    }
    const failure = v.body(parsed);
    if (failure) return refuse(res, v.operationId, failure.reasonCode, failure.message, spName);
    body = parsed as Record<string, unknown>;
  }
  const { common: fields, rest } = common(body);
  const ctx: RequestContext = { serviceProvider: spName, ...definedOnly(fields) };
  const { callbackUrl, respondAsync, ...own } = rest as { callbackUrl?: string; respondAsync?: boolean };
  try {
    const async = ASYNC[v.operationId];
    if (async && (callbackUrl !== undefined || respondAsync === true)) {
      const rec = tsm.startOperation(async.operation, ctx, async.request(params, own), callbackUrl);
      res.status(202).json({
        status: 'Executed-Success',
        message: `accepted: ${rec.operation} runs as ${rec.operationId}; its result follows on GET /operations/${rec.operationId}, the /events stream${callbackUrl ? ' and the callback' : ''}`,
        operationId: rec.operationId,
        operation: rec.operation,
        state: rec.state,
      });
      return;
    }
    const result = await handlers[v.operationId](tsm, ctx, params, query, own);
    res.status(200).json(result);
  } catch (e) {
    const err = asTsmError(e);
    res.status(httpStatusOf(err)).json(errorFields(err));
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Why a request body's Content-Type is not acceptable, or undefined: only application/json, and only as UTF-8
 * (a charset parameter, if any, must say so). JSON sent as text/plain or form-encoded is a client that does
 * not mean JSON (or a browser form posting across sites), so it is refused rather than read.
 */
function contentTypeProblem(header: string | undefined): string | undefined {
  const expected = 'the request body must be sent with Content-Type: application/json';
  if (!header?.trim()) return `${expected} (the header is missing)`;
  const [type, ...params] = header.split(';').map((p) => p.trim());
  if (type.toLowerCase() !== 'application/json') return `${expected}, not ${type}`;
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const charset = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') return `the request body must be UTF-8 JSON, not charset=${charset}`;
  }
  return undefined;
}

/** The named query parameters that were given. */
function pick(q: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(names.filter((n) => q[n] !== undefined).map((n) => [n, q[n]]));
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as Partial<T>;
}

export interface SpApiServer {
  readonly url: string;
  readonly port: number;
  /** ws:// URL of the caller's event stream (add the X-SP-Name header, or ?sp=NAME). */
  readonly eventsUrl: string;
  close(): Promise<void>;
}

/** GET /events over WebSocket: the caller's service state changes and operation progress, as JSON text. */
function attachEventStream(tsm: CentralTsm, server: Server): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refuse = (code: number, why: string) => {
      socket.end(`HTTP/1.1 ${code} ${why}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${why}\n`);
    };
    if (url.pathname !== '/events') return refuse(404, 'no such stream (GET /events)');
    const header = (name: string) => {
      const h = req.headers[name.toLowerCase()];
      return Array.isArray(h) ? h[0] : h;
    };
    const sp = header(SP_NAME_HEADER) ?? url.searchParams.get('sp') ?? undefined;
    if (!sp || !tsm.registry.isServiceProvider(sp)) return refuse(401, `unknown service provider (${SP_NAME_HEADER} header or ?sp=)`);
    if (tsm.registry.requiresApiKeys() && (header(API_KEY_HEADER) ?? url.searchParams.get('key')) !== tsm.registry.apiKeyOf(sp)) {
      return refuse(401, `the API key does not authenticate ${sp}`);
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const unsubscribe = tsm.events.subscribe((e) => {
        if (e.serviceProvider === sp && ws.readyState === ws.OPEN) ws.send(JSON.stringify(e));
      });
      ws.on('close', unsubscribe);
      ws.on('error', unsubscribe);
      // Unknown messages get a JSON error, never a dropped connection.
      ws.on('message', () => ws.send(JSON.stringify({ type: 'error', message: 'the event stream is one-way: nothing is expected from the client' })));
      ws.send(JSON.stringify({ type: 'hello', serviceProvider: sp }));
    });
  });
  return wss;
}

/** Serves the SP API; port 0 (the default) picks a free port. */
export async function startSpApi(tsm: CentralTsm, opts: { port?: number; host?: string } = {}): Promise<SpApiServer> {
  const host = opts.host ?? '127.0.0.1';
  const app = createSpApi(tsm);
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(opts.port ?? 0, host, (err?: Error) => (err ? reject(err) : resolve(s)));
    s.once('error', reject);
  });
  const wss = attachEventStream(tsm, server);
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    eventsUrl: `ws://${shownHost}:${port}/events`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.close(1001, 'central TSM stopping');
        wss.close();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
