/** The one error family of CAP file and load file handling. */
export type CapErrorKind =
  | 'not-zip'
  | 'truncated'
  | 'corrupt'
  | 'unsupported'
  | 'missing-component'
  | 'malformed-component';

export class CapError extends Error {
  constructor(
    readonly kind: CapErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'CapError';
  }
}
