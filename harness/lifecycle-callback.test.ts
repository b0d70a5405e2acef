import { afterEach, describe, expect, it } from 'vitest';
import { CallbackReceiver, CallbackTimeout } from './lifecycle-callback.ts';

let receiver: CallbackReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

const post = (url: string, body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('CallbackReceiver', () => {
  it('listens on a free loopback port and records JSON POSTs in order', async () => {
    receiver = await CallbackReceiver.start();
    expect(receiver.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/tsm-callback$/);
    const r = await post(receiver.url, '{"operationId":"op-1","result":{"status":"Executed-Success"}}');
    expect(r.status).toBe(204);
    await post(receiver.url, '{"operationId":"op-2"}');
    expect(receiver.deliveries.map((d) => d.body?.operationId)).toEqual(['op-1', 'op-2']);
    expect(receiver.deliveries[0].path).toBe('/tsm-callback');
  });

  it('next() resolves with a delivery still to come, and with one already received', async () => {
    receiver = await CallbackReceiver.start();
    const waiting = receiver.next((d) => d.body?.operationId === 'op-7');
    await post(receiver.url, '{"operationId":"op-6"}');
    await post(receiver.url, '{"operationId":"op-7"}');
    expect((await waiting).body?.operationId).toBe('op-7');
    expect((await receiver.next((d) => d.body?.operationId === 'op-6')).body?.operationId).toBe('op-6');
  });

  it('keeps a body that is not JSON as raw text', async () => {
    receiver = await CallbackReceiver.start();
    await post(receiver.url, 'not json');
    expect(receiver.deliveries[0].body).toBeUndefined();
    expect(receiver.deliveries[0].raw).toBe('not json');
  });

  it('gives up waiting after the timeout', async () => {
    receiver = await CallbackReceiver.start();
    await expect(receiver.next(() => true, 50)).rejects.toBeInstanceOf(CallbackTimeout);
  });

  it('answers GET with 405 and records nothing', async () => {
    receiver = await CallbackReceiver.start();
    expect((await fetch(receiver.url)).status).toBe(405);
    expect(receiver.deliveries).toHaveLength(0);
  });
});
