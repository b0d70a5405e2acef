/**
 * `the response matches "<JSONata expression>"`: people other than engineers write these expressions, so they
 * are compiled once, guarded (time, depth, sequence size) and their errors are turned into readable sentences.
 */
import jsonata from 'jsonata';

const GUARDS = { timeout: 1000, stack: 200, sequence: 100_000 } as const;
const cache = new Map<string, jsonata.Expression>();

export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

export class MismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MismatchError';
  }
}

interface JsonataFailure {
  code?: string;
  message?: string;
  position?: number;
  token?: string;
}

function pointAt(expression: string, failure: JsonataFailure): string {
  const pos = typeof failure.position === 'number' ? failure.position : undefined;
  const where = pos === undefined ? '' : `\n  ${expression}\n  ${' '.repeat(Math.max(0, pos - 1))}^ (near position ${pos})`;
  return `${failure.message ?? String(failure)}${failure.code ? ` [${failure.code}]` : ''}${where}`;
}

function compile(expression: string): jsonata.Expression {
  let compiled = cache.get(expression);
  if (!compiled) {
    try {
      compiled = jsonata(expression, GUARDS);
    } catch (e) {
      throw new ExpressionError(`the expression "${expression}" is not valid JSONata: ${pointAt(expression, e as JsonataFailure)}`);
    }
    cache.set(expression, compiled);
  }
  return compiled;
}

/** Evaluates `expression` against `value`; resolves only when the result is exactly `true`. */
export async function assertMatches(expression: string, value: unknown): Promise<void> {
  const compiled = compile(expression);
  let result: unknown;
  try {
    result = await compiled.evaluate(value);
  } catch (e) {
    throw new ExpressionError(`the expression "${expression}" could not be evaluated: ${pointAt(expression, e as JsonataFailure)}`);
  }
  if (result !== true) {
    const got = result === undefined ? 'nothing (a path in it is missing from the response)' : JSON.stringify(result);
    throw new MismatchError(
      `expected "${expression}" to be true, it gave ${got}\nresponse: ${JSON.stringify(value, null, 2).slice(0, 2000)}`,
    );
  }
}
