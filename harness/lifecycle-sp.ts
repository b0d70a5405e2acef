/**
 * What an SP does around the central TSM's service management in the lifecycle features: personalize a service
 * in one conversation of its own (its keys, its secure channel), and the cardholder data it writes.
 */
import { SecurityLevel, tlv, type KeySet } from '../gp/index.ts';
import { SpTsm, type BeginConversationResponse, type ServiceRecord, type SpClient } from '../tsm/index.ts';

export class SpActionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpActionError';
  }
}

/** Cardholder data as the SP's application stores it: one 'DF01' TLV of the text. */
export function cardholderData(text: string): Uint8Array {
  return tlv(0xdf01, new TextEncoder().encode(text));
}

/**
 * Begins a conversation for the service, opens the SP's own secure channel to its SD (C-MAC + C-DECRYPTION),
 * personalizes the instance with `data` and ends the conversation. Throws SpActionError naming the failing step.
 */
export async function personalizeInOneConversation(client: SpClient, service: ServiceRecord, keys: KeySet, data: Uint8Array): Promise<void> {
  if (!service.instanceAid) throw new SpActionError(`service ${service.id} has no instance to personalize`);
  const begun = await client.beginConversation({ seId: service.seId, serviceId: service.id, requestedOperation: 'personalize' });
  if (begun.body.status !== 'Executed-Success') throw new SpActionError(`BeginConversation: ${begun.body.reasonCode} ${begun.body.message}`);
  const conversationId = (begun.body as BeginConversationResponse).conversationId;
  try {
    const sp = new SpTsm(client);
    const channel = await sp.openSecureChannel(conversationId, service.sdAid, keys, SecurityLevel.CMAC | SecurityLevel.CDEC);
    const r = await sp.personalize(conversationId, channel, service.instanceAid, [data]);
    if (r.answer.status !== 'Executed-Success') throw new SpActionError(`personalization: ${r.answer.reasonCode} ${r.answer.message}`);
  } finally {
    await client.endConversation(conversationId);
  }
}

/**
 * A second service of the same SP from the same package on the same SE: the next instance AID (last byte + 1)
 * that no service there uses yet, nothing on the card yet.
 */
export function secondService(base: ServiceRecord, id: string, taken: readonly ServiceRecord[]): ServiceRecord {
  if (!base.instanceAid || !base.packageAid || !base.moduleAid) throw new SpActionError(`service ${base.id} names no package, module and instance`);
  if (taken.some((s) => s.id === id)) throw new SpActionError(`service "${id}" already exists on ${base.seId}`);
  const used = new Set(taken.map((s) => s.instanceAid?.toUpperCase()));
  const prefix = base.instanceAid.slice(0, -2);
  let last = parseInt(base.instanceAid.slice(-2), 16);
  let aid: string;
  do {
    last = (last + 1) & 0xff;
    aid = prefix + last.toString(16).toUpperCase().padStart(2, '0');
  } while (used.has(aid));
  const { note: _note, updatedAt: _at, resumeTo: _resume, ...rest } = base;
  return { ...rest, id, instanceAid: aid, state: 'available' };
}
