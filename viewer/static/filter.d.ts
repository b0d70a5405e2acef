// Types of filter.js (plain JS so the page can load it without a build step).
export class FilterError extends Error {}
export interface FilterRow {
  k: string;
  from: string;
  to: string;
  label: string;
  sc?: string;
  scn?: string;
  st?: string;
  cmd?: string;
  ins?: string;
  sw?: string;
  status?: string;
  se?: string;
  conv?: string;
  dur?: number;
}
export function compileExpression(text: string): (row: FilterRow) => boolean;
export function compileFilter(opts?: { scenario?: string; lanes?: string[]; command?: string; expr?: string }): (row: FilterRow) => boolean;
