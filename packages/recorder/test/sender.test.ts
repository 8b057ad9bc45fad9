import { inflateRawSync } from 'node:zlib';
import { expect, test } from '@playwright/test';
import type { eventWithTime } from '@rrweb/types';
import type { Channel } from '@cobrowse/client';
import { decodeBytes } from '@cobrowse/protocol';
import { HistoryDecompressor } from '@cobrowse/protocol/decompress';
import { Sender } from '../src/sender.js';

/** A channel that keeps what it is asked to send. */
function recordingChannel() {
  const frames: (string | Uint8Array)[] = [];
  return {
    frames,
    channel: { send: (frame: string | Uint8Array) => (frames.push(frame), true) } as unknown as Channel,
  };
}

const event = (i: number, text: string) =>
  ({
    type: 3,
    timestamp: i,
    data: { source: 0, texts: [{ id: i, value: text }], attributes: [], removes: [], adds: [] },
  }) as unknown as eventWithTime;

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
}

test('large batches go out deflated on their own (UTF-8 intact), small ones into the history stream, in order', async () => {
  const { frames, channel } = recordingChannel();
  const sender = new Sender(channel, 'epoch-1', (error) => {
    throw error;
  });
  // ~60 KB of text with characters outside ASCII: over the 32 KB threshold.
  const big = Array.from({ length: 600 }, (_, i) => event(i, `Ünïcødé € ${i} — ${'x'.repeat(80)}`));
  const small = [event(1000, 'short')];
  sender.send({ seq: 1, snap: true, events: big });
  sender.send({ seq: 2, snap: false, events: small });
  await until(() => frames.length === 2);
  expect(frames.length).toBe(2);

  const [first, second] = frames;
  expect(first).toBeInstanceOf(Uint8Array);
  const decoded = decodeBytes(first as Uint8Array);
  expect(decoded.message).toMatchObject({ type: 'events', epoch: 'epoch-1', seq: 1, snap: true, z: 1 });
  const json = inflateRawSync(decoded.payload!).toString('utf8');
  expect(json).toBe(JSON.stringify(big));
  expect((first as Uint8Array).byteLength).toBeLessThan(json.length / 5);

  expect(second).toBeInstanceOf(Uint8Array);
  const next = decodeBytes(second as Uint8Array);
  expect(next.message).toMatchObject({ type: 'events', seq: 2, z: 2 });
  const history = new HistoryDecompressor();
  expect(JSON.parse(history.decompress(next.payload!))).toEqual(small);
  expect(sender.bytesSent).toBe((first as Uint8Array).byteLength + (second as Uint8Array).byteLength);
});
