/**
 * Requests and responses of the SP API, as the core and the SP client see them (tsm/openapi.json is the
 * same contract for HTTP; http.test.ts keeps the two in step).
 */
import type { Bearer, KeySetSpec } from '../profiles/index.ts';
import type { SeData, ServiceRecord } from './registry.ts';
import type { ExecutionStatus, ReasonCode } from './status.ts';

/** The header naming the calling SP (mutual TLS does this in production). */
export const SP_NAME_HEADER = 'X-SP-Name';
/** The header carrying the SP's API key, required when the fleet gives SPs keys. */
export const API_KEY_HEADER = 'X-API-Key';

/** Fields every request may carry besides its own. */
export interface CommonRequest {
  /** Idempotency key chosen by the SP: a repeat answers the first result and executes nothing again. */
  functionCallIdentifier?: string;
  /** When the SP issued the request (ISO 8601); the validity period counts from it. */
  requestTimestamp?: string;
  /** Seconds after requestTimestamp (or receipt) during which the request may be executed; after it: Expired. */
  validityPeriod?: number;
}

/** Who is calling and the common request fields. */
export interface RequestContext extends CommonRequest {
  serviceProvider: string;
}

export interface Answer {
  status: ExecutionStatus;
  reasonCode?: ReasonCode;
  message?: string;
}

export interface GetSeIdRequest {
  msisdn: string;
  mno: string;
}

export interface GetSeIdResponse extends Answer {
  seId: string;
  cin: string;
  iccid?: string;
  mno: string;
}

export interface GetSeDataRequest {
  seId: string;
}

export interface GetSeDataResponse extends Answer, SeData {
  bearer: Bearer;
  /** Whether the central TSM has locked the SE (card life cycle CARD_LOCKED). */
  locked?: boolean;
  /** The calling SP's services on this SE (other SPs' are not disclosed). */
  services: Omit<ServiceRecord, 'seId'>[];
}

export type RequestedOperation = 'personalize' | 'rotate-keys' | 'read' | 'manage';
export const REQUESTED_OPERATIONS: readonly RequestedOperation[] = ['personalize', 'rotate-keys', 'read', 'manage'];

export type ScriptFormat = 'apdu-hex';

export interface BeginConversationRequest extends CommonRequest {
  /** The SE, by id or by MSI; with both they must agree. */
  seId?: string;
  msisdn?: string;
  mno?: string;
  serviceId: string;
  /** SP name + product reference number; the SP name must be the caller's. */
  serviceQualifier?: { serviceProvider: string; prn?: string };
  /** AID of the application or SD the scripts address (default: the service's SP SD). */
  targetAid?: string;
  scriptFormat?: ScriptFormat;
  /** Expected total size of the scripts, bytes (advisory). */
  scriptSize?: number;
  requestedOperation: RequestedOperation;
  /** Requested time to live, seconds (capped by the central TSM). */
  timeToLive?: number;
}

export interface BeginConversationResponse extends Answer {
  conversationId: string;
  seId: string;
  mno: string;
  bearer: Bearer;
  maxApduCount: number;
  maxScriptSize: number;
  scriptFormat: ScriptFormat;
  timeToLiveSeconds: number;
  /** ISO 8601. */
  expiresAt: string;
  targetAid: string;
}

export interface SendScriptRequest extends CommonRequest {
  conversationId: string;
  /** Command APDUs, hex. */
  commandApdus: string[];
}

export interface SendScriptResponse extends Answer {
  conversationId: string;
  /** One response (data ‖ SW, hex) per command that reached the card. */
  responseApdus: string[];
  /** 0-based index of the first failed command; execution stopped there. */
  failedApduIndex?: number;
  /** 0-based indexes of commands that answered a warning (62xx/63xx) and did not stop the script. */
  warningApduIndexes?: number[];
  /** Simulated network time, ms. */
  networkMs: number;
}

export interface EndConversationRequest extends CommonRequest {
  conversationId: string;
  /** The SP's own verdict on the conversation, recorded and traced. */
  spStatus?: ExecutionStatus;
}

export interface EndConversationResponse extends Answer {
  conversationId: string;
  scriptsExecuted: number;
  apdusExecuted: number;
}

/** Asks for asynchronous execution (HTTP edge): answered 202 at once, the result follows. */
export interface AsyncFields {
  /** POST the result here when done. */
  callbackUrl?: string;
  /** Run asynchronously even without a callback URL. */
  respondAsync?: boolean;
}

/** The answer to a request accepted for asynchronous execution. */
export interface OperationAccepted extends Answer {
  operationId: string;
  operation: string;
  state: 'accepted' | 'running' | 'done';
}

export interface ActivateServiceRequest extends CommonRequest, AsyncFields {
  serviceId: string;
  seId?: string;
  msisdn?: string;
  mno?: string;
}

export interface ActivateServiceResponse extends Answer {
  serviceId: string;
  seId: string;
  instanceAid: string;
  state: string;
}

/** A request about one service on one SE (the SE by seId, MSI, or the service id alone when unambiguous). */
export interface ServiceRequest extends CommonRequest, AsyncFields {
  serviceId: string;
  seId?: string;
  msisdn?: string;
  mno?: string;
}

export type PrepersonalizeRequest = ServiceRequest;

export interface PrepersonalizeResponse extends Answer {
  serviceId: string;
  seId: string;
  sdAid: string;
  instanceAid: string;
  state: string;
  /** The SP SD's temporary keys when the central TSM created the SD (the SP replaces them at once). */
  temporaryKeys?: KeySetSpec;
  freeNonVolatile: number;
}

export interface UpdateServiceRequest extends ServiceRequest {
  /** Application-specific install parameters ('C9'), hex. */
  installParameters?: string;
}

export interface UpdateServiceResponse extends Answer {
  serviceId: string;
  seId: string;
  instanceAid: string;
  state: string;
  freeNonVolatile: number;
}

export interface DeleteServicesRequest extends CommonRequest, AsyncFields {
  serviceIds: string[];
  seId?: string;
  msisdn?: string;
  mno?: string;
}

export interface ServiceOutcome {
  serviceId: string;
  status: ExecutionStatus;
  reasonCode?: ReasonCode;
  message?: string;
  state: string;
}

export interface DeleteServicesResponse extends Answer {
  seId: string;
  results: ServiceOutcome[];
}

export type SuspendServiceRequest = ServiceRequest;
export type ResumeServiceRequest = ServiceRequest;

export interface ServiceStateResponse extends Answer {
  serviceId: string;
  seId: string;
  instanceAid: string;
  state: string;
}

/** GetServiceState: one of the caller's services on one SE (seId and/or MSI when the service id is on several SEs). */
export interface GetServiceStateRequest {
  serviceId: string;
  seId?: string;
  msisdn?: string;
  mno?: string;
}

export interface GetServiceStateResponse extends Answer {
  serviceId: string;
  seId: string;
  sdAid: string;
  instanceAid?: string;
  state: string;
  /** Why the service is in its state when that needs saying (a failed or interrupted function). */
  note?: string;
  /** When the state last changed (ISO 8601). */
  updatedAt?: string;
}

/** LockSE / UnlockSE: the whole SE (card life cycle CARD_LOCKED and back to SECURED). */
export interface SeLockRequest extends CommonRequest, AsyncFields {
  seId: string;
  /** Why the SP asks for the lock (kept with it; e.g. "device reported stolen"). */
  reason?: string;
}

export type SeUnlockRequest = Omit<SeLockRequest, 'reason'>;

export interface SeLockResponse extends Answer {
  seId: string;
  locked: boolean;
  /** The card life cycle state after the function: CARD_LOCKED or SECURED. */
  cardLifeCycle: 'CARD_LOCKED' | 'SECURED';
  /** With a lock: who asked for it and when. */
  lockedBy?: string;
  lockedAt?: string;
}
