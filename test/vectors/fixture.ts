/**
 * Reading the known-answer text fixtures of test/vectors/. The files are written for people (labels, notes,
 * aligned columns), so each loader picks its values out by pattern; when a pattern finds nothing or a value
 * is not what it should be, the error names the file and the line, so a damaged fixture is found at once
 * instead of surfacing as a wrong byte deep inside some crypto test.
 */
import { readFileSync } from 'node:fs';

export class FixtureError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    detail: string,
  ) {
    super(`${file}${line === undefined ? '' : ` line ${line}`}: ${detail}`);
    this.name = 'FixtureError';
  }
}

/** The text of a fixture in test/vectors/. */
export function readVectorFile(name: string): string {
  return readFileSync(new URL(name, import.meta.url), 'utf8');
}

export interface Found {
  /** 1-based line number in the file. */
  line: number;
  match: RegExpExecArray;
}

/**
 * A range of a fixture's lines with searches that fail loudly. `where` says which part of the file the
 * range is (a case name, a section) so a missing value is reported as "in case X", not just "somewhere".
 */
export class FixtureLines {
  private constructor(
    readonly file: string,
    private readonly lines: readonly string[],
    /** Index of the first line of the range in `lines` (0-based). */
    readonly start: number,
    /** Index one past the last line of the range. */
    readonly end: number,
    readonly where: string,
  ) {}

  static of(file: string, text: string): FixtureLines {
    const lines = text.split(/\r?\n/);
    return new FixtureLines(file, lines, 0, lines.length, 'the file');
  }

  fail(line: number | undefined, detail: string): never {
    throw new FixtureError(this.file, line, detail);
  }

  /** Every line of the range that matches, in order. */
  all(re: RegExp): Found[] {
    const out: Found[] = [];
    for (let i = this.start; i < this.end; i++) {
      const m = re.exec(this.lines[i]);
      if (m) out.push({ line: i + 1, match: m });
    }
    return out;
  }

  /** The first line of the range that matches; `what` describes it for the error when none does. */
  one(re: RegExp, what: string): Found {
    const [first] = this.all(re);
    if (!first) this.fail(undefined, `no ${what} in ${this.where} (lines ${this.start + 1}-${this.end})`);
    return first;
  }

  /** The text of a 1-based line (empty past the end, so a value expected on the next line fails as "missing"). */
  text(line: number): string {
    return this.lines[line - 1] ?? '';
  }

  /** The sub-range from the line `from` (1-based, inclusive) to `to` (exclusive), named `where`. */
  slice(from: number, to: number, where: string): FixtureLines {
    return new FixtureLines(this.file, this.lines, from - 1, Math.min(to - 1, this.lines.length), where);
  }

  /** Splits the range at every line matching `head`; each part runs to the next head (or the end, or `stop`). */
  split(head: RegExp, name: (m: RegExpExecArray) => string, stop?: RegExp): { head: Found; part: FixtureLines }[] {
    const heads = this.all(head);
    const stopAt = stop ? this.all(stop)[0]?.line : undefined;
    return heads.map((h, k) => {
      const next = heads[k + 1]?.line ?? (stopAt !== undefined && stopAt > h.line ? stopAt : this.end + 1);
      return { head: h, part: this.slice(h.line, next, name(h.match)) };
    });
  }

  /**
   * Hex digits (spaces allowed) to bytes; `bytes` is the length the value must have when it is fixed.
   * The error quotes the value and names the line.
   */
  hex(found: { line: number }, value: string, what: string, bytes?: number): Uint8Array {
    const digits = value.replace(/\s+/g, '');
    if (!/^(?:[0-9a-fA-F]{2})+$/.test(digits)) this.fail(found.line, `${what} is not an even number of hex digits: "${value.trim()}"`);
    const out = new Uint8Array(digits.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
    if (bytes !== undefined && out.length !== bytes) this.fail(found.line, `${what} has ${out.length} bytes, expected ${bytes}`);
    return out;
  }

  /**
   * The hex value of the first `label : <hex>` line of the range (an optional [SOURCE]/[DERIVED] tag before
   * it, an optional comment after it, separated by spaces).
   */
  field(label: string, bytes?: number): Uint8Array {
    const f = this.one(new RegExp(`^\\s*(?:\\[(?:SOURCE|DERIVED)\\]\\s*)?${escape(label)}\\s*:\\s*(\\S*)`), `"${label} : <hex>" line`);
    return this.hex(f, f.match[1], label, bytes);
  }

  /** A count check with an error that says what was found. */
  expectCount<T>(items: T[], n: number, what: string): T[] {
    if (items.length !== n) this.fail(undefined, `expected ${n} ${what} in ${this.where}, found ${items.length}`);
    return items;
  }
}

export function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\#-]/g, (c) => `\\${c}`);
}
