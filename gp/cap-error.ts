/** CAP file and load file errors; a part of gp's one family (GpError), with a finer kind of their own. */
import { GpError } from './errors.ts';

export type CapErrorKind =
  | 'not-zip'
  | 'truncated'
  | 'corrupt'
  | 'unsupported'
  | 'missing-component'
  | 'malformed-component';

export class CapError extends GpError<CapErrorKind> {
  constructor(kind: CapErrorKind, message: string) {
    super(kind, message);
    this.name = 'CapError';
  }
}
