import { expect, test } from '@playwright/test';
import { encodeText } from '@cobrowse/protocol';
import { relayFor } from './helpers.js';
import { type Client, batch, joinRoom } from './sockets.js';

/** Sends every frame in one TCP write, so the relay reads them together. */
function sendTogether(client: Client, frames: string[]): void {
  const tcp = (client.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
  tcp.cork();
  for (const frame of frames) client.ws.send(frame);
  tcp.uncork();
}

const seqOf = (frame: string) => JSON.parse(frame.split('\n')[0]!).seq as number;

test('batches read together reach every agent whole and in order, ahead of a message that follows them', async () => {
  const relay = await relayFor();
  try {
    const rec = await joinRoom(relay.base, 'together', 'recorder');
    const agents = [
      await joinRoom(relay.base, 'together', 'replayer'),
      await joinRoom(relay.base, 'together', 'replayer'),
    ];
    rec.ws.send(batch(1, true));
    for (const agent of agents) await agent.next((f) => f.startsWith('{"type":"events"'));
    // Forty batches of 1 KB and the customer's stop, in one write: one read (or a few) at the relay.
    const frames = Array.from({ length: 40 }, (_, i) =>
      encodeText({ type: 'events', epoch: 'ep1', seq: i + 2 }, `["${'x'.repeat(1024)}"]`),
    );
    sendTogether(rec, [...frames, encodeText({ type: 'bye', reason: 'stopped' })]);
    for (const agent of agents) {
      await agent.next((f) => f.includes('"type":"bye"'));
      const got = agent.events();
      expect(got.map(seqOf)).toEqual(Array.from({ length: 40 }, (_, i) => i + 2));
      expect(got).toEqual(frames);
    }
  } finally {
    await relay.close();
  }
});

test('a batch read alone still goes out at once, and the catch-up cache holds what was read together', async () => {
  const relay = await relayFor();
  try {
    const rec = await joinRoom(relay.base, 'alone', 'recorder');
    const agent = await joinRoom(relay.base, 'alone', 'replayer');
    sendTogether(rec, [batch(1, true), batch(2), batch(3)]);
    await agent.next((f) => f.includes('"seq":3'));
    rec.ws.send(batch(4));
    await agent.next((f) => f.includes('"seq":4'));
    const late = await joinRoom(relay.base, 'alone', 'replayer');
    await late.next((f) => f.includes('"seq":4'));
    expect(late.events().map(seqOf)).toEqual([1, 2, 3]);
  } finally {
    await relay.close();
  }
});
