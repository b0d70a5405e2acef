/**
 * The SP API contract: tsm/openapi.json, and request validators derived from it (so the document and the
 * checks cannot drift). A failed check names the field and gives the reason code of the format family.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { ReasonCode } from './status.ts';
import { isRfc3339, parseRfc3339 } from './timestamp.ts';

const OPENAPI_FILE = new URL('./openapi.json', import.meta.url);

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, unknown> };
  [k: string]: unknown;
}

interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: unknown;
}

interface OpenApiOperation {
  operationId: string;
  parameters?: OpenApiParameter[];
  requestBody?: { content: { 'application/json': { schema: unknown } } };
  responses?: Record<string, { content: { 'application/json': { schema: unknown } } }>;
}

let cached: OpenApiDocument | undefined;

export function openApiDocument(): OpenApiDocument {
  cached ??= JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument;
  return cached;
}

/** Rewrites OpenAPI component references into local $defs references. */
function localRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(localRefs);
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', '#/$defs/') : localRefs(v)]),
    );
  }
  return node;
}

export interface ValidationFailure {
  reasonCode: ReasonCode;
  message: string;
}

export interface OperationValidator {
  operationId: string;
  method: string;
  /** Express-style path, e.g. /conversations/:conversationId/scripts. */
  expressPath: string;
  hasBody: boolean;
  /** Checks path and query parameters (headers are the HTTP edge's business). */
  params(values: Record<string, unknown>): ValidationFailure | undefined;
  body(value: unknown): ValidationFailure | undefined;
}

function compiler(doc: OpenApiDocument): (schema: unknown) => ValidateFunction {
  // verbose: a format error carries the value, so the refusal can say what is wrong with the date.
  const ajv = new Ajv2020({ allErrors: false, strict: true, verbose: true });
  ajv.addFormat('date-time', { type: 'string', validate: isRfc3339 });
  const defs = localRefs(doc.components.schemas) as Record<string, unknown>;
  return (schema) => ajv.compile({ $defs: defs, ...(localRefs(schema) as object) });
}

/**
 * Checks an answer against the document's schema for that operation and HTTP status (for tests and strict
 * clients); returns a message naming the first mismatch, or undefined.
 */
export function responseValidator(doc: OpenApiDocument = openApiDocument()): (operationId: string, httpStatus: number, body: unknown) => string | undefined {
  const compile = compiler(doc);
  const cache = new Map<string, ValidateFunction>();
  const ops = new Map<string, OpenApiOperation>();
  for (const methods of Object.values(doc.paths)) for (const op of Object.values(methods)) ops.set(op.operationId, op);
  return (operationId, httpStatus, body) => {
    const op = ops.get(operationId);
    if (!op) return `no operation ${operationId}`;
    const resp = op.responses?.[String(httpStatus)];
    if (!resp) return `${operationId} does not document HTTP ${httpStatus}`;
    const key = `${operationId} ${httpStatus}`;
    let v = cache.get(key);
    if (!v) {
      v = compile(resp.content['application/json'].schema);
      cache.set(key, v);
    }
    if (v(body)) return undefined;
    const e = v.errors?.[0];
    return `${key}: ${e?.instancePath || '/'} ${e?.message ?? 'invalid'}`;
  };
}

/** One validator per operation of the document. */
export function operationValidators(doc: OpenApiDocument = openApiDocument()): OperationValidator[] {
  const compile = compiler(doc);
  const out: OperationValidator[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op.parameters ?? []).filter((p) => p.in !== 'header');
      const paramSchema = {
        type: 'object',
        properties: Object.fromEntries(params.map((p) => [p.name, p.schema])),
        required: params.filter((p) => p.required).map((p) => p.name),
      };
      const checkParams = compile(paramSchema);
      const bodySchema = op.requestBody?.content['application/json'].schema;
      const checkBody = bodySchema ? compile(bodySchema) : undefined;
      out.push({
        operationId: op.operationId,
        method: method.toUpperCase(),
        expressPath: path.replace(/\{([^}]+)\}/g, ':$1'),
        hasBody: !!checkBody,
        params: (v) => (checkParams(v) ? undefined : describe(checkParams.errors ?? [], '')),
        body: (v) => (!checkBody || checkBody(v) ? undefined : describe(checkBody.errors ?? [], '')),
      });
    }
  }
  return out;
}

function describe(errors: ErrorObject[], prefix: string): ValidationFailure {
  const e = errors[0];
  const at = `${prefix}${e?.instancePath ?? ''}` || '/';
  if (!e) return { reasonCode: '2.1', message: 'the request is invalid' };
  switch (e.keyword) {
    case 'required':
      return { reasonCode: '2.2', message: `missing field ${at === '/' ? '' : at}/${(e.params as { missingProperty: string }).missingProperty}` };
    case 'additionalProperties':
      return { reasonCode: '2.1', message: `unknown field ${at === '/' ? '' : at}/${(e.params as { additionalProperty: string }).additionalProperty}` };
    case 'enum':
      return { reasonCode: '2.1', message: `${at} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}` };
    case 'pattern':
      return { reasonCode: '2.1', message: `${at} has an invalid format` };
    case 'format': {
      const why = typeof e.data === 'string' ? parseRfc3339(e.data) : undefined;
      if ((e.params as { format: string }).format === 'date-time' && why && 'error' in why) return { reasonCode: '2.1', message: `${at} "${e.data as string}" ${why.error}` };
      return { reasonCode: '2.1', message: `${at} ${e.message ?? 'is invalid'}` };
    }
    default:
      return { reasonCode: '2.1', message: `${at} ${e.message ?? 'is invalid'}` };
  }
}
