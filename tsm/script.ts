/**
 * What the central TSM understands of an SP's script without its keys: the command headers (to refuse a script
 * that selects someone else's application) and the status words (to stop at the first failed command).
 */
import { ApduError, fromHex, HexError, Ins, parseCommand, SW, swClass, toHex, type CommandApdu } from '../gp/index.ts';
import type { Registry } from './registry.ts';
import { TsmError, type ReasonCode } from './status.ts';

export type ScriptSwClass = 'success' | 'warning' | 'failure';

/**
 * gp's class, read for a script: normal processing succeeds, a warning is a warning, everything else
 * (errors, proprietary 9xxx values the TSM cannot judge) fails the script.
 */
export function classifySw(sw: number): ScriptSwClass {
  const c = swClass(sw);
  return c === 'normal' ? 'success' : c === 'warning' ? 'warning' : 'failure';
}

export function swOf(response: Uint8Array): number {
  return response.length >= 2 ? (response[response.length - 2] << 8) | response[response.length - 1] : 0x6f00;
}

/** The reason a failing status word gives a failed script. */
export function reasonForSw(sw: number): ReasonCode {
  return sw === SW.NOT_ENOUGH_MEMORY ? '4.8' : '4.2';
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
