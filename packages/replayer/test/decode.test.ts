import { deflateRawSync } from 'node:zlib';
import { expect, test } from '@playwright/test';
import type { Events } from '@cobrowse/protocol';
import { BatchDecoder, inflate } from '../src/decode.js';

const events = [
  {
    type: 3,
    timestamp: 1,
    data: { source: 0, texts: [{ id: 1, value: 'é ✓ 😀' }], attributes: [], removes: [], adds: [] },
  },
];

test('a z: 1 batch inflates to its events, multi-byte text intact', async () => {
  const payload = new Uint8Array(deflateRawSync(JSON.stringify(events)));
  const decoded = await new BatchDecoder().decode({ type: 'events', epoch: 'e', seq: 2, z: 1 }, payload);
  expect(decoded).toEqual(events);
});

test('a deflate bomb is refused once it inflates past the cap, not held in memory', async () => {
  const bomb = new Uint8Array(deflateRawSync(Buffer.alloc(4 * 1024 * 1024, 0x20)));
  expect(bomb.length).toBeLessThan(10_000);
  await expect(inflate(bomb, 1024 * 1024)).rejects.toThrow(/inflates past 1 MiB/);
  expect((await inflate(bomb, 8 * 1024 * 1024)).length).toBe(4 * 1024 * 1024);
});

test('garbage that is not deflate data is a clear error', async () => {
  await expect(
    new BatchDecoder().decode({ type: 'events', epoch: 'e', seq: 2, z: 1 }, new Uint8Array([1, 2, 3, 4, 5])),
  ).rejects.toThrow();
});

test('garbage in a z:2 or z:1 frame is a clear error, not a crash', async () => {
  const decoder = new BatchDecoder();
  const h = (z: 0 | 1 | 2, snap = false): Events => ({
    type: 'events',
    epoch: 'epoch-1',
    seq: 1,
    z,
    ...(snap ? { snap } : {}),
  });
  expect(() => decoder.decode(h(2, true), new Uint8Array([1, 2, 3, 4, 5]))).toThrow(/incomplete|corrupt|not JSON/);
  expect(() => decoder.decode(h(2, true), 'text')).toThrow(/text frame/);
  expect(() => decoder.decode(h(2, true), undefined)).toThrow(/no payload/);
  expect(() => decoder.decode(h(0, true), '{"not":"an array"}')).toThrow(/not an array/);
  expect(() => decoder.decode(h(0, true), 'nope')).toThrow(/not JSON/);
  await expect(decoder.decode(h(1, true), new Uint8Array([0xff, 0xfe, 0xfd])) as Promise<unknown>).rejects.toThrow();
});
