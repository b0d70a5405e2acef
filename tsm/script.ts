/**
 * What the central TSM understands of an SP's script without its keys: the command headers (to refuse a script
 * that selects someone else's application) and the status words (to stop at the first failed command).
 */
import { ApduError, fromHex, HexError, Ins, parseCommand, toHex, type CommandApdu } from '../gp/index.ts';
import type { Registry } from './registry.ts';
import { TsmError, type ReasonCode } from './status.ts';

export type SwClass = 'success' | 'warning' | 'failure';

/** 9000 and 61xx succeed; 62xx and 63xx are warnings (ISO 7816-4 §5.6); everything else fails. */
export function classifySw(sw: number): SwClass {
  if (sw === 0x9000 || sw >> 8 === 0x61) return 'success';
  if (sw >> 8 === 0x62 || sw >> 8 === 0x63) return 'warning';
  return 'failure';
}

export function swOf(response: Uint8Array): number {
  return response.length >= 2 ? (response[response.length - 2] << 8) | response[response.length - 1] : 0x6f00;
}

/** The reason a failing status word gives a failed script. */
export function reasonForSw(sw: number): ReasonCode {
  // 6A84: not enough memory space in the file / card (ISO 7816-4, GPCS 2.3.1 §11.2.3).
  return sw === 0x6a84 ? '4.8' : '4.2';
}

export interface ParsedScript {
  bytes: Uint8Array[];
  commands: CommandApdu[];
}

/** Parses hex command APDUs; a malformed one is a format error naming its index. */
export function parseScript(hex: string[], field = 'commandApdus'): ParsedScript {
  const bytes: Uint8Array[] = [];
  const commands: CommandApdu[] = [];
  hex.forEach((h, i) => {
    try {
      const b = fromHex(h);
      commands.push(parseCommand(b));
      bytes.push(b);
    } catch (e) {
      if (e instanceof HexError || e instanceof ApduError) {
        throw TsmError.failed('2.1', `${field}/${i} is not a command APDU: ${e.message}`);
      }
      throw e;
    }
  });
  return { bytes, commands };
}

/**
 * Refuses (1.2) a script that selects an application the SP does not own, or opens logical channels: the SP
 * works on the application selected for its conversation and on its own SDs and instances only.
 */
export function authorizeScript(script: ParsedScript, registry: Registry, seId: string, sp: string): void {
  script.commands.forEach((c, i) => {
    if (c.ins === Ins.MANAGE_CHANNEL) throw TsmError.failed('1.2', `commandApdus/${i}: ${sp} may not manage logical channels`);
    if (c.ins !== Ins.SELECT || c.p1 !== 0x04) return;
    const aid = c.data && c.data.length ? toHex(c.data) : '';
    const owner = aid ? registry.ownerOf(seId, aid) : { kind: 'issuer' as const };
    if (owner.kind !== 'sp' || owner.name !== sp) {
      throw TsmError.failed('1.2', `commandApdus/${i}: ${sp} may not select ${aid || 'the issuer security domain'} (${describeOwner(owner)})`);
    }
  });
}

function describeOwner(owner: ReturnType<Registry['ownerOf']>): string {
  switch (owner.kind) {
    case 'issuer':
      return "the card issuer's";
    case 'central':
      return "the central TSM's";
    case 'sp':
      return `${owner.name}'s`;
    default:
      return 'not an application of the SP';
  }
}
