/**
 * Channel factories for the central TSM: how it reaches an SE by id. The TSM never picks a driver itself;
 * whoever starts it says where the cards are (in-process simulator, WebSocket simulator, PC/SC readers).
 * Every channel is traced as sent by the MNO lane and correlated with the SE.
 */
import { openChannel, type CardChannel } from '../drivers/index.ts';
import type { CardEndpoint } from '../gp/index.ts';

/** Opens a channel to an SE (in-process simulator, WebSocket simulator, PC/SC): the TSM never picks a driver. */
export type ChannelFactory = (seId: string) => Promise<CardChannel>;

const trace = (seId: string) => ({ from: 'mno' as const, corr: { seId } });

/** SEs simulated in this process. */
export function inprocChannels(endpoints: Iterable<CardEndpoint>, timeoutMs?: number): ChannelFactory {
  const list = [...endpoints];
  return (seId) => openChannel(`inproc:${seId}`, { endpoints: list, timeoutMs, trace: trace(seId) });
}

/** SEs served by a WebSocket simulator: ws://HOST:PORT (the SE id is appended as /se/<seId>). */
export function wsChannels(baseUrl: string, timeoutMs?: number): ChannelFactory {
  const base = baseUrl.replace(/\/+$/, '').replace(/\/se$/, '');
  return (seId) => openChannel(`${base}/se/${encodeURIComponent(seId)}`, { timeoutMs, trace: trace(seId) });
}

/** One explicit target per SE, e.g. { 'se-1': 'pcsc:Virtual PCD 00 00' }. */
export function targetChannels(targets: Record<string, string>, timeoutMs?: number): ChannelFactory {
  return (seId): Promise<CardChannel> => {
    const target = targets[seId];
    if (!target) return Promise.reject(new Error(`no card target is configured for SE ${seId}`));
    return openChannel(target, { timeoutMs, trace: trace(seId) });
  };
}
