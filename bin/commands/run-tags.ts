/**
 * The `--tags` expression of `tsmlab run`, checked before anything runs. @cucumber/tag-expressions parses it,
 * but its errors name no position and it takes any word as a tag, so a tag typed without its "@" silently
 * matches nothing: this walk over the same grammar names the first problem and where it is (1-based).
 */
import { parse } from '@cucumber/tag-expressions';
import { CliError } from '../cli-error.ts';

export interface TagToken {
  text: string;
  /** 1-based position of the token's first character in the expression. */
  position: number;
}

export interface TagExpression {
  text: string;
  /** The tags the expression names, in order (repeats kept). */
  tags: TagToken[];
  evaluate(tags: readonly string[]): boolean;
}

const OPERATORS = new Set(['and', 'or', 'not']);

/** Splits like @cucumber/tag-expressions: spaces and parentheses separate; a backslash escapes ( ) \ or a space. */
function tokenize(expr: string, fail: (message: string) => never): TagToken[] {
  const tokens: TagToken[] = [];
  let word = '';
  let start = 0;
  const flush = () => {
    if (word) tokens.push({ text: word, position: start + 1 });
    word = '';
  };
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === '\\') {
      const next = expr[i + 1];
      if (next === undefined) fail(`the expression ends with a backslash (position ${i + 1})`);
      if (next !== '(' && next !== ')' && next !== '\\' && !/\s/.test(next)) {
        fail(`"\\${next}" at position ${i + 1}: a backslash may only escape (, ), \\ or a space`);
      }
      if (!word) start = i;
      word += next;
      i++;
    } else if (c === '(' || c === ')' || /\s/.test(c)) {
      flush();
      if (c === '(' || c === ')') tokens.push({ text: c, position: i + 1 });
    } else {
      if (!word) start = i;
      word += c;
    }
  }
  flush();
  return tokens;
}

function notATag(t: TagToken): string {
  const where = `"${t.text}" at position ${t.position}`;
  if (OPERATORS.has(t.text.toLowerCase())) return `${where} is not a tag: the operators are written in lower case (and, or, not)`;
  if (t.text.startsWith('~@')) return `${where} is not a tag: write "not ${t.text.slice(1)}" to leave a tag out`;
  return `${where} is not a tag: tags start with "@" (did you mean "@${t.text}"?)`;
}

/** Parses a `--tags` expression or throws a one-line CliError naming the position of the first problem. */
export function parseTagExpression(expr: string): TagExpression {
  const fail = (message: string): never => {
    throw new CliError(`--tags "${expr}": ${message}`);
  };
  if (!expr.trim()) throw new CliError('--tags is empty: leave it out to run every scenario');
  const tokens = tokenize(expr, fail);
  const tags: TagToken[] = [];
  const open: TagToken[] = [];
  let wantOperand = true;
  let last: TagToken | undefined;
  for (const t of tokens) {
    const found = `at position ${t.position}, found "${t.text}"`;
    if (wantOperand) {
      if (t.text === 'and' || t.text === 'or' || t.text === ')') fail(`expected a tag, "not" or "(" ${found}`);
      if (t.text === '(') open.push(t);
      else if (t.text !== 'not') {
        if (!t.text.startsWith('@')) fail(notATag(t));
        tags.push(t);
        wantOperand = false;
      }
    } else if (t.text === ')') {
      if (!open.pop()) fail(`")" at position ${t.position} closes no "("`);
    } else if (t.text !== 'and' && t.text !== 'or') {
      fail(`expected "and", "or" or ")" ${found}${t.text.startsWith('@') ? ' (put "and" or "or" between two tags)' : ''}`);
    } else wantOperand = true;
    last = t;
  }
  if (wantOperand && last) fail(`the expression ends after "${last.text}" at position ${last.position}: a tag is missing`);
  const unclosed = open.pop();
  if (unclosed) fail(`"(" at position ${unclosed.position} is never closed`);
  let node: ReturnType<typeof parse>;
  try {
    node = parse(expr);
  } catch (e) {
    // The walk above accepts only what the library accepts; this is a guard, still one line.
    fail((e as Error).message.replace(/^.*syntax error: /, ''));
  }
  return { text: expr, tags, evaluate: (t) => node.evaluate([...t]) };
}

/** Levenshtein distance, case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

function sharedPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n].toLowerCase() === b[n].toLowerCase()) n++;
  return n;
}

/** The known tags ordered nearest first to any of `wanted`: edit distance, then longer shared prefix, then name. */
export function nearestTags(wanted: readonly string[], known: Iterable<string>): string[] {
  const score = (k: string) => ({
    d: Math.min(...wanted.map((w) => distance(w, k))),
    p: Math.max(...wanted.map((w) => sharedPrefix(w, k))),
  });
  return [...new Set(known)]
    .map((k) => ({ k, ...score(k) }))
    .sort((x, y) => x.d - y.d || y.p - x.p || x.k.localeCompare(y.k))
    .map((x) => x.k);
}
