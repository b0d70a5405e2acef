// Row filters of the viewer page. Plain ES module: the page imports it, and so do the unit tests.
//
// Expression language (the "status" box), e.g.  sw != 9000   sw == 6Axx   dur > 50 and lane == se
//   term    := field op value | not term | ( expr )
//   expr    := term { and term } { or ... }        ("and" binds tighter than "or")
//   fields  := sw kind from to lane cmd ins status scenario step label se conv dur
//   ops     := == = != ~ (contains) !~ > < >= <=
// A row without the field never matches a comparison (so "sw != 9000" lists only responses that failed).
// In sw/ins values, x or ? stands for any hex digit and * for any rest.

export class FilterError extends Error {
  constructor(message) {
    super(message);
    this.name = 'FilterError';
  }
}

const FIELDS = {
  sw: (r) => r.sw,
  kind: (r) => r.k,
  from: (r) => r.from,
  to: (r) => r.to,
  lane: (r) => (r.from === undefined ? undefined : [r.from, r.to]),
  cmd: (r) => r.cmd,
  ins: (r) => r.ins,
  status: (r) => r.status,
  scenario: (r) => r.scn ?? r.sc,
  step: (r) => r.st,
  label: (r) => r.label,
  se: (r) => r.se,
  conv: (r) => r.conv,
  dur: (r) => r.dur,
};

const OPS = ['==', '!=', '>=', '<=', '!~', '=', '~', '>', '<'];

function tokenize(text) {
  const out = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '(' || ch === ')') {
      out.push({ t: ch, at: i });
      i++;
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (op) {
      out.push({ t: 'op', v: op === '=' ? '==' : op, at: i });
      i += op.length;
      continue;
    }
    if (ch === '"' || ch === "'") {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) throw new FilterError(`unclosed quote at ${i + 1}`);
      out.push({ t: 'word', v: text.slice(i + 1, end), quoted: true, at: i });
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < text.length && !/[\s()=!~<>"']/.test(text[j])) j++;
    if (j === i) throw new FilterError(`unexpected "${ch}" at ${i + 1}`);
    out.push({ t: 'word', v: text.slice(i, j), at: i });
    i = j;
  }
  return out;
}

function wildcard(value) {
  const re = value
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' || c === 'x' || c === 'X' ? '[0-9a-f]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}$`, 'i');
}

function comparator(field, op, value) {
  const get = FIELDS[field];
  if (!get) throw new FilterError(`unknown field "${field}" (use ${Object.keys(FIELDS).join(', ')})`);
  if (op === '>' || op === '<' || op === '>=' || op === '<=') {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new FilterError(`"${field} ${op}" needs a number, not "${value}"`);
    return (r) => {
      const v = get(r);
      if (typeof v !== 'number') return false;
      return op === '>' ? v > n : op === '<' ? v < n : op === '>=' ? v >= n : v <= n;
    };
  }
  const hexish = field === 'sw' || field === 'ins';
  const eq = hexish && /[xX?*]/.test(value) ? ((re) => (s) => re.test(s))(wildcard(value)) : (s) => s.toLowerCase() === value.toLowerCase();
  const has = (s) => s.toLowerCase().includes(value.toLowerCase());
  const test = op === '==' ? eq : op === '!=' ? (s) => !eq(s) : op === '~' ? has : (s) => !has(s);
  return (r) => {
    const v = get(r);
    if (v === undefined || v === null) return false;
    if (Array.isArray(v)) return op === '!=' || op === '!~' ? v.every((x) => test(String(x))) : v.some((x) => test(String(x)));
    return test(String(v));
  };
}

/** Compiles the expression; empty text matches everything. Throws FilterError with a readable message. */
export function compileExpression(text) {
  const toks = tokenize(text ?? '');
  if (toks.length === 0) return () => true;
  let p = 0;
  const peek = () => toks[p];
  const isWord = (tok, w) => tok && tok.t === 'word' && !tok.quoted && tok.v.toLowerCase() === w;
  const parseOr = () => {
    let left = parseAnd();
    while (isWord(peek(), 'or')) {
      p++;
      const l = left;
      const r = parseAnd();
      left = (row) => l(row) || r(row);
    }
    return left;
  };
  const parseAnd = () => {
    let left = parseTerm();
    while (isWord(peek(), 'and')) {
      p++;
      const l = left;
      const r = parseTerm();
      left = (row) => l(row) && r(row);
    }
    return left;
  };
  const parseTerm = () => {
    const tok = peek();
    if (!tok) throw new FilterError('expression ends too early');
    if (isWord(tok, 'not')) {
      p++;
      const inner = parseTerm();
      return (row) => !inner(row);
    }
    if (tok.t === '(') {
      p++;
      const inner = parseOr();
      if (!peek() || peek().t !== ')') throw new FilterError(`missing ")" for "(" at ${tok.at + 1}`);
      p++;
      return inner;
    }
    if (tok.t !== 'word') throw new FilterError(`expected a field at ${tok.at + 1}`);
    p++;
    const op = peek();
    if (!op || op.t !== 'op') throw new FilterError(`expected an operator after "${tok.v}" (e.g. ${tok.v} != 9000)`);
    p++;
    const val = peek();
    if (!val || val.t !== 'word') throw new FilterError(`expected a value after "${tok.v} ${op.v}"`);
    p++;
    return comparator(tok.v.toLowerCase(), op.v, val.v);
  };
  const fn = parseOr();
  if (p < toks.length) throw new FilterError(`unexpected "${toks[p].v ?? toks[p].t}" at ${toks[p].at + 1} (join terms with and/or)`);
  return fn;
}

/**
 * The page's whole filter: scenario (attempt id or "" for all), lanes (array of lane names shown; a row
 * shows when its from or to lane is shown), command (name substring, or two hex digits matching the INS), and the expression.
 */
export function compileFilter({ scenario = '', lanes, command = '', expr = '' } = {}) {
  const byExpr = compileExpression(expr);
  const laneSet = lanes ? new Set(lanes) : undefined;
  const cmd = command.trim().toLowerCase();
  const insOnly = /^[0-9a-f]{2}$/.test(cmd);
  return (r) => {
    if (scenario && r.sc !== scenario) return false;
    if (laneSet && !laneSet.has(r.from) && !laneSet.has(r.to)) return false;
    if (cmd) {
      if (!r.cmd) return false;
      const byIns = insOnly && (r.ins ?? '').toLowerCase() === cmd;
      if (!byIns && !r.cmd.toLowerCase().includes(cmd)) return false;
    }
    return byExpr(r);
  };
}
