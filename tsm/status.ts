/**
 * The status and reason model of every central-TSM answer. Reason codes follow the GP/GSMA messaging family
 * ("x.y": 1 access, 2 format, 3 conditions of use, 4 processing, 5 transport, 6 security); codes marked
 * `extension` are tsmlab's own where the family defines none. The table is documented in docs/sp-api.md.
 */

export type ExecutionStatus = 'Executed-Success' | 'Executed-WithWarning' | 'Failed' | 'Expired';

export const EXECUTION_STATUSES: readonly ExecutionStatus[] = ['Executed-Success', 'Executed-WithWarning', 'Failed', 'Expired'];

export interface ReasonInfo {
  /** Short name from the messaging family. */
  name: string;
  /** When the central TSM answers it. */
  meaning: string;
  /** True when tsmlab defines the code (the family has none for the case). */
  extension?: boolean;
}

export const REASONS = {
  '1.1': { name: 'Unknown (identification or authentication)', meaning: 'the caller is not a service provider the central TSM knows' },
  '1.2': { name: 'Not Allowed (authorisation)', meaning: 'the caller may not act on that service, security domain or SE' },
  '2.1': { name: 'Invalid', meaning: 'a parameter has the wrong format or an unacceptable value (a requestTimestamp that is not RFC 3339 or too far ahead), or the body is not JSON sent as application/json' },
  '2.2': { name: 'Mandatory Element Missing', meaning: 'a mandatory parameter is missing' },
  '2.3': { name: 'Conditional Element Missing', meaning: 'a parameter required by another one is missing' },
  '2.5': { name: 'Limit Exceeded', meaning: 'a script exceeds the maximum APDU count or script size of the conversation', extension: true },
  '3.1': { name: 'Unsupported', meaning: 'the function, operation or script format is not supported' },
  '3.3': { name: 'Already in Use', meaning: 'a functionCallIdentifier was reused for a different request' },
  '3.7': { name: 'Unavailable', meaning: 'the SE is busy with another conversation, or the SP already has as many functionCallIdentifiers remembered as the central TSM keeps per SP' },
  '3.8': { name: 'Refused', meaning: 'the request is refused in the current state (e.g. the conversation has ended)' },
  '3.9': { name: 'Unknown', meaning: 'the MSI, SE, service or conversation is unknown' },
  '3.10': { name: 'Invalid Association', meaning: 'the identifiers given do not belong together (e.g. MSI and SE)' },
  '4.2': { name: 'Execution Error', meaning: 'a command failed on the SE (the answer carries its status word in `sw`), or an internal error' },
  '4.3': { name: 'Stopped on Warning', meaning: 'a command answered a warning and warnings are configured to stop the script' },
  '4.8': { name: 'Insufficient Memory', meaning: 'the SE has not enough memory for the operation' },
  '4.10': { name: 'Time to Live Expired', meaning: 'the conversation was used after its time to live' },
  '5.1': { name: 'Inaccessible', meaning: 'the SE cannot be reached: its network is down or the card does not answer' },
  '5.3': { name: 'Time to Live Expired (validity period)', meaning: "the request's validity period ended before it was executed" },
  '5.4': { name: 'Delivered With No Response', meaning: 'the commands were sent but no response came back' },
  '6.1': { name: 'Verification Failed', meaning: 'a secure channel could not be opened or a cryptogram or MAC did not verify' },
} as const satisfies Record<string, ReasonInfo>;

export type ReasonCode = keyof typeof REASONS;

export function isReasonCode(code: string): code is ReasonCode {
  return Object.prototype.hasOwnProperty.call(REASONS, code);
}

/** The one error of the central TSM; the HTTP edge maps it to a response once. */
export class TsmError extends Error {
  constructor(
    readonly status: Exclude<ExecutionStatus, 'Executed-Success'>,
    readonly reasonCode: ReasonCode,
    message: string,
    /** Partial results that still belong in the answer (e.g. responses before a failed APDU). */
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'TsmError';
  }

  static failed(reasonCode: ReasonCode, message: string, data?: Record<string, unknown>): TsmError {
    return new TsmError('Failed', reasonCode, message, data);
  }

  static expired(reasonCode: '4.10' | '5.3', message: string): TsmError {
    return new TsmError('Expired', reasonCode, message);
  }

  /**
   * A card's refusal of a command the central TSM sent under its own keys: Failed with the reason the status
   * word gives (4.x) and the status word itself in `sw` (hex), so the SP sees what the card said.
   */
  static cardRefused(reasonCode: ReasonCode, message: string, sw: number, data?: Record<string, unknown>): TsmError {
    return new TsmError('Failed', reasonCode, message, { ...data, sw: sw.toString(16).toUpperCase().padStart(4, '0') });
  }

  /** The card's status word (hex) when the card refused: the error came from the card, not from the TSM. */
  get cardSw(): string | undefined {
    return typeof this.data?.sw === 'string' ? this.data.sw : undefined;
  }
}

/** The envelope every answer shares. */
export interface StatusFields {
  status: ExecutionStatus;
  reasonCode?: ReasonCode;
  message?: string;
}

export function errorFields(e: TsmError): StatusFields & Record<string, unknown> {
  return { ...(e.data ?? {}), status: e.status, reasonCode: e.reasonCode, message: e.message };
}

/** HTTP status for a refusal; the body carries the GP status, the HTTP code only helps generic clients. */
export function httpStatusOf(e: Pick<TsmError, 'status' | 'reasonCode'> & { data?: Record<string, unknown> }): number {
  if (e.status === 'Expired') return 410;
  const family = e.reasonCode.split('.')[0];
  if (e.reasonCode === '1.1') return 401;
  if (e.reasonCode === '1.2') return 403;
  if (e.reasonCode === '3.9') return 404;
  switch (family) {
    case '2':
      return 400;
    case '3':
      return 409;
    case '4':
      // 4.2 with the card's status word is the card's refusal; without one, the central TSM's own failure.
      return e.reasonCode === '4.2' && e.data?.sw === undefined ? 500 : 422;
    case '5':
      return e.reasonCode === '5.1' ? 503 : 504;
    case '6':
      return 403;
    default:
      return 500;
  }
}
