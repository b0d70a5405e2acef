/** SCP03 level-33 round trips: every command C-MAC + C-DECRYPTION, every response R-MAC + R-ENCRYPTION. */
import type { CardChannel } from '../drivers/index.ts';
import { encodeCommand, fromHex, openSecureChannel, SecurityLevel } from '../gp/index.ts';
import { DEFAULT_ISD_AID, DEFAULT_KEY, DEFAULT_KVN } from '../simulator/index.ts';
import type { Row } from './run.ts';

type Measure = (name: string, transport: string, exchange: () => Promise<void>) => Promise<Row>;

export async function benchSecure(channel: CardChannel, transport: string, measure: Measure): Promise<Row> {
  const aid = fromHex(DEFAULT_ISD_AID);
  await channel.transmit(encodeCommand({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: aid, le: 256 }));
  const key = fromHex(DEFAULT_KEY);
  const level = SecurityLevel.CMAC | SecurityLevel.CDEC | SecurityLevel.RMAC | SecurityLevel.RENC;
  const sc = await openSecureChannel((c) => channel.transmit(c), { keys: { kvn: DEFAULT_KVN, scp: '03', enc: key, mac: key, dek: key }, level, sdAid: aid });
  // GET STATUS of the ISD: data in the command (encrypted) and in the response (encrypted + R-MAC).
  const getStatus = { cla: 0x80, ins: 0xf2, p1: 0x80, p2: 0x02, data: fromHex('4F00'), le: 256 };
  return measure('SCP03 level 33 GET STATUS', transport, async () => {
    const r = await sc.transmitSecure(getStatus);
    if (r.sw !== 0x9000) throw new Error(`GET STATUS answered ${r.sw.toString(16)}`);
  });
}
