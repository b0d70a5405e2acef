/**
 * The one trace event model. Every hop (SP API, central TSM, MNO network, driver, card, steps) emits these;
 * the viewer, the reports, the pcapng export and the Cucumber attachments all read them.
 */

/** Lanes of the sequence diagram, in the order of the patent's figures. */
export type Lane = 'sp' | 'tsm' | 'mno' | 'se' | 'harness';

/** Correlation ids: run / feature / scenario / step / conversation / APDU. */
export interface Correlation {
  runId?: string;
  feature?: string;
  scenario?: string;
  /** Cucumber testCaseStartedId (unique per attempt). */
  scenarioId?: string;
  step?: string;
  /** Cucumber testStepId. */
  stepId?: string;
  conversationId?: string;
  seId?: string;
}

interface Base {
  /** Monotonic sequence number within a process. */
  seq: number;
  /** Milliseconds since the epoch, sub-millisecond precision. */
  time: number;
  corr: Correlation;
}

/**
 * The secure channel of an exchange. `level` names its protections ("C-MAC C-DECRYPTION R-MAC R-ENCRYPTION", as
 * gp's securityLevelText writes them; older traces may say "C-DEC"); `macLength` is the bytes of each MAC (8 when absent).
 */
export interface SecureChannelInfo {
  scp: string;
  level: string;
  macLength?: number;
}

export type Verdict = 'PASS' | 'FAIL' | 'INCONCLUSIVE' | 'NOT_APPLICABLE' | 'ERROR';

export type TraceBody =
  | { kind: 'sp.request'; from: 'sp'; to: 'tsm'; operation: string; requestId?: string; body: unknown }
  | {
      kind: 'sp.response';
      from: 'tsm';
      to: 'sp';
      operation: string;
      requestId?: string;
      status: string;
      reasonCode?: string;
      body: unknown;
      durationMs: number;
    }
  | { kind: 'tsm.decision'; from: 'tsm'; to: 'tsm'; decision: string; detail: string; data?: unknown }
  | { kind: 'mno.hop'; from: 'tsm' | 'mno'; to: 'mno' | 'tsm'; mno: string; bearer: string; detail: string }
  | {
      kind: 'apdu.command';
      from: 'mno' | 'harness' | 'tsm';
      to: 'se';
      apduId: string;
      /** The bytes on the wire (wrapped when a secure channel is open). */
      hex: string;
      /** The plain command under the secure channel, when the sender holds the session keys. */
      plainHex?: string;
      /** Present when the command travels on an open secure channel (even when no plain form is known). */
      secureChannel?: SecureChannelInfo;
    }
  | {
      kind: 'apdu.response';
      from: 'se';
      to: 'mno' | 'harness' | 'tsm';
      apduId: string;
      hex: string;
      /** The plain response (data ‖ SW) under the secure channel, when the sender holds the session keys. */
      plainHex?: string;
      /** The secure channel of the command this answers (copied from it, so a response stands on its own). */
      secureChannel?: SecureChannelInfo;
      /** Why the sender could not unwrap the response (e.g. an R-MAC mismatch); then there is no plainHex. */
      unwrapError?: string;
      sw: string;
      /** Time between sending the command and receiving this response (card processing + transport). */
      durationMs: number;
    }
  | { kind: 'card.power'; from: 'harness' | 'tsm'; to: 'se'; on: boolean }
  | { kind: 'card.reset'; from: 'harness' | 'tsm'; to: 'se'; cold: boolean; atr?: string }
  | { kind: 'card.atr'; from: 'se'; to: 'harness' | 'tsm'; atr: string }
  | { kind: 'scenario.start'; from: 'harness'; to: 'harness'; name: string; uri?: string; tags: string[]; attempt?: number }
  | { kind: 'scenario.end'; from: 'harness'; to: 'harness'; name: string; verdict: Verdict; reason?: string }
  | { kind: 'step.start'; from: 'harness'; to: 'harness'; text: string }
  | { kind: 'step.end'; from: 'harness'; to: 'harness'; text: string; status: string; message?: string }
  | { kind: 'verdict'; from: 'harness'; to: 'harness'; verdict: Verdict; reason?: string }
  | { kind: 'note'; from: Lane; to: Lane; text: string };

export type TraceEvent = Base & TraceBody;
export type TraceKind = TraceEvent['kind'];
