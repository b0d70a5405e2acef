/** The --tags check: one-line errors naming the position, tags without "@" refused, nearest tags first. */
import { parse } from '@cucumber/tag-expressions';
import { describe, expect, it } from 'vitest';
import { CliError } from '../cli-error.ts';
import { nearestTags, parseTagExpression } from './run-tags.ts';

function problem(expr: string): string {
  try {
    parseTagExpression(expr);
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    return (e as Error).message;
  }
  throw new Error(`"${expr}" was accepted`);
}

describe('--tags expressions', () => {
  it.each([
    ['REQ-PAT-FIG3', '"REQ-PAT-FIG3" at position 1 is not a tag: tags start with "@" (did you mean "@REQ-PAT-FIG3"?)'],
    ['@a and b', '"b" at position 8 is not a tag: tags start with "@" (did you mean "@b"?)'],
    ['@a AND @b', 'expected "and", "or" or ")" at position 4, found "AND"'],
    ['NOT @a', '"NOT" at position 1 is not a tag: the operators are written in lower case (and, or, not)'],
    ['~@slow', '"~@slow" at position 1 is not a tag: write "not @slow" to leave a tag out'],
    ['@a and', 'the expression ends after "and" at position 4: a tag is missing'],
    ['@a and or @b', 'expected a tag, "not" or "(" at position 8, found "or"'],
    ['@a @b', 'expected "and", "or" or ")" at position 4, found "@b" (put "and" or "or" between two tags)'],
    ['(@a or @b', '"(" at position 1 is never closed'],
    ['@a or @b)', '")" at position 9 closes no "("'],
    ['@a and ()', 'expected a tag, "not" or "(" at position 9, found ")"'],
    ['@a\\x', '"\\x" at position 3: a backslash may only escape (, ), \\ or a space'],
    ['@a\\', 'the expression ends with a backslash (position 3)'],
  ])('%s', (expr, message) => {
    const got = problem(expr);
    expect(got).toBe(`--tags "${expr}": ${message}`);
    expect(got).not.toContain('\n');
  });

  it('refuses an empty expression rather than running everything', () => {
    expect(problem('  ')).toBe('--tags is empty: leave it out to run every scenario');
  });

  it('evaluates what it accepts, with escapes, and lists the tags it names with their positions', () => {
    const t = parseTagExpression('@REQ-PAT-FIG3 and not (@slow or @a\\ b)');
    expect(t.tags).toEqual([
      { text: '@REQ-PAT-FIG3', position: 1 },
      { text: '@slow', position: 24 },
      { text: '@a b', position: 33 },
    ]);
    expect(t.evaluate(['@REQ-PAT-FIG3'])).toBe(true);
    expect(t.evaluate(['@REQ-PAT-FIG3', '@a b'])).toBe(false);
    expect(t.evaluate(['@slow'])).toBe(false);
  });

  it('accepts exactly the expressions the tag-expressions library accepts (every sequence of up to 5 tokens)', () => {
    const alphabet = ['@a', '@b', 'and', 'or', 'not', '(', ')'];
    let checked = 0;
    const walk = (words: string[]) => {
      if (words.length > 0) {
        const expr = words.join(' ');
        let library = true;
        try {
          parse(expr);
        } catch {
          library = false;
        }
        let ours = true;
        try {
          parseTagExpression(expr);
        } catch {
          ours = false;
        }
        expect([expr, ours]).toEqual([expr, library]);
        checked++;
      }
      if (words.length < 5) for (const w of alphabet) walk([...words, w]);
    };
    walk([]);
    expect(checked).toBe(19607);
  });
});

describe('nearest tags', () => {
  it('ranks by edit distance, then shared prefix, then name', () => {
    const known = ['@TP-API-001', '@REQ-PAT-FIG10', '@REQ-PAT-FIG4', '@REQ-PAT-FIG3', '@REQ-GPC-11.2'];
    expect(nearestTags(['@REQ-PAT-FIG33'], known)).toEqual(['@REQ-PAT-FIG3', '@REQ-PAT-FIG10', '@REQ-PAT-FIG4', '@REQ-GPC-11.2', '@TP-API-001']);
    expect(nearestTags(['@req-pat-fig3'], known)[0]).toBe('@REQ-PAT-FIG3');
  });

  it('takes the nearest of several wanted tags', () => {
    expect(nearestTags(['@zzz', '@TP-API-01'], ['@REQ-PAT-FIG3', '@TP-API-001'])).toEqual(['@TP-API-001', '@REQ-PAT-FIG3']);
  });
});
