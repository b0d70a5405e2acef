/**
 * The service provider's own TSM, as far as the harness plays it: it holds the SP's keys (the central TSM never
 * does), opens its own secure channel to its security domain *through* a conversation, and sends scripts it
 * protected itself. The central TSM only carries the bytes.
 */
import {
  encodeCommand,
  fromHex,
  openSecureChannel,
  parseResponse,
  scp03PutKey,
  type CommandApdu,
  type KeySet,
  type OpenedSecureChannel,
  type ResponseApdu,
  SecurityLevel,
  installForPersonalization,
  selectByAid,
  storeData,
} from '../gp/index.ts';
import { annotationOf, announceWrapped } from '../drivers/index.ts';
import type { WrappedExchange } from '../gp/index.ts';
import type { Answer, SendScriptResponse } from './api-types.ts';
import type { SpClient } from './sp-client.ts';

/** The central TSM refused or failed a request the SP TSM needed; carries the answer. */
export class SpTsmError extends Error {
  constructor(
    readonly answer: Answer,
    what: string,
  ) {
    super(`${what}: ${answer.status}${answer.reasonCode ? ` ${answer.reasonCode}` : ''}${answer.message ? ` — ${answer.message}` : ''}`);
    this.name = 'SpTsmError';
  }
}

export interface SecureScriptResult {
  /** The central TSM's answer, as is. */
  answer: SendScriptResponse | Answer;
  /** The plain responses (unwrapped with the SP's session keys), one per command that reached the card. */
  responses: ResponseApdu[];
  failedApduIndex?: number;
}

/** The SP's data as STORE DATA blocks numbered from 0, one BER-TLV block each, the last one flagged. */
export function personalizationBlocks(blocks: Uint8Array[]): CommandApdu[] {
  return blocks.map((data, i) => storeData(data, { block: i, last: i === blocks.length - 1, structure: 'ber-tlv' }));
}

export class SpTsm {
  constructor(readonly client: SpClient) {}

  /** Sends one plain command in its own script and returns the raw response (data ‖ SW). */
  async transmit(conversationId: string, command: Uint8Array): Promise<Uint8Array> {
    const r = await this.client.sendScript(conversationId, [command]);
    const body = r.body as SendScriptResponse;
    const raw = body.responseApdus?.[0];
    if (raw === undefined) throw new SpTsmError(r.body, 'SendScript');
    return fromHex(raw);
  }

  /**
   * Selects the SD and runs INITIALIZE UPDATE / EXTERNAL AUTHENTICATE as separate scripts of the conversation:
   * the host challenge answer is needed before EXTERNAL AUTHENTICATE can exist. The card cryptogram is checked
   * before EXTERNAL AUTHENTICATE is built (gp/openSecureChannel), so a wrong key set never reaches the card twice.
   */
  async openSecureChannel(conversationId: string, sdAid: string, keys: KeySet, level: number): Promise<OpenedSecureChannel> {
    const aid = fromHex(sdAid);
    const sel = parseResponse(await this.transmit(conversationId, encodeCommand(selectByAid(aid))));
    if (sel.sw !== 0x9000) throw new Error(`SELECT ${sdAid} answered ${sel.sw.toString(16).toUpperCase()}`);
    return openSecureChannel((cmd) => this.transmit(conversationId, cmd), { keys, level, sdAid: aid });
  }

  /**
   * Wraps every command with the SP's session, sends them as one script, unwraps what came back. Under R-MAC each
   * response is verified against the MAC chaining value of its own command, so the commands then go one per
   * script, in lockstep, stopping at the first failure as the central TSM would.
   */
  async sendSecureScript(conversationId: string, channel: OpenedSecureChannel, commands: CommandApdu[]): Promise<SecureScriptResult> {
    if (channel.level & SecurityLevel.RMAC) return this.sendInLockstep(conversationId, channel, commands);
    const exchanges = commands.map((c) => channel.exchange(c));
    const r = await this.sendAnnounced(conversationId, exchanges);
    const body = r.body as SendScriptResponse;
    const responses = (body.responseApdus ?? []).map((hex, i) => exchanges[i].unwrap(fromHex(hex)));
    return { answer: r.body, responses, ...(body.failedApduIndex !== undefined ? { failedApduIndex: body.failedApduIndex } : {}) };
  }

  /**
   * The central TSM relays these bytes without keys; announcing each wrapped command lets the trace of the channel
   * that carries it record the plain command, the level and (from this SP's unwrap) the plain response.
   */
  private async sendAnnounced(conversationId: string, exchanges: WrappedExchange[]) {
    const withdraw = announceWrapped(exchanges.map((x) => ({ wire: x.wire, annotate: annotationOf(x) })));
    try {
      return await this.client.sendScript(conversationId, exchanges.map((x) => x.wire));
    } finally {
      withdraw();
    }
  }

  private async sendInLockstep(conversationId: string, channel: OpenedSecureChannel, commands: CommandApdu[]): Promise<SecureScriptResult> {
    const responses: ResponseApdu[] = [];
    let answer: SendScriptResponse | Answer = { status: 'Executed-Success' };
    for (const [i, command] of commands.entries()) {
      const x = channel.exchange(command);
      const r = await this.sendAnnounced(conversationId, [x]);
      answer = r.body;
      const raw = (r.body as SendScriptResponse).responseApdus?.[0];
      if (raw !== undefined) responses.push(x.unwrap(fromHex(raw)));
      if ((r.body as SendScriptResponse).failedApduIndex !== undefined || r.body.status === 'Failed' || r.body.status === 'Expired') {
        return { answer, responses, failedApduIndex: i };
      }
    }
    return { answer, responses };
  }

  /** Replaces the key set `current` of the open SD with `next` (PUT KEY encrypted with the current static DEK). */
  async rotateKeys(conversationId: string, channel: OpenedSecureChannel, current: KeySet, next: KeySet): Promise<SecureScriptResult> {
    const putKey = scp03PutKey(current.dek, current.kvn, next.kvn, next);
    return this.sendSecureScript(conversationId, channel, [putKey]);
  }

  /** INSTALL [for personalization] of the instance, then its data as STORE DATA blocks. */
  async personalize(conversationId: string, channel: OpenedSecureChannel, instanceAid: string, blocks: Uint8Array[]): Promise<SecureScriptResult> {
    return this.sendSecureScript(conversationId, channel, [installForPersonalization(fromHex(instanceAid)), ...personalizationBlocks(blocks)]);
  }
}
