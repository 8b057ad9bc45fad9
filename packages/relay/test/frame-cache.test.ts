import { expect, test } from '@playwright/test';
import { FrameCache, SlabPool } from '../src/frame-cache.js';

const frame = (seq: number, size: number) => Buffer.alloc(size, seq % 251);

test('the catch-up cache gives back exactly the batches it was given, in order, from any index', () => {
  const cache = new FrameCache(new SlabPool(4096, 1 << 20));
  const sent = [frame(1, 10_000), ...Array.from({ length: 20 }, (_, i) => frame(i + 2, 700 + i))];
  sent.forEach((data, i) => cache.push(i + 1, data, i === 0));
  expect(cache.length).toBe(21);
  expect(cache.firstSeq).toBe(1);
  expect(cache.bytes).toBe(sent.reduce((n, b) => n + b.length, 0));
  const all = [...cache.from(0)];
  expect(all.map((f) => f.data)).toEqual(sent);
  expect(all.map((f) => f.binary)).toEqual(sent.map((_, i) => i === 0));
  expect([...cache.from(15)].map((f) => f.data)).toEqual(sent.slice(15));
});

test('a cached batch does not keep the buffer it arrived in, and what was sent survives the slab being reused', () => {
  const pool = new SlabPool(4096, 1 << 20);
  const cache = new FrameCache(pool);
  const read = Buffer.alloc(3000, 7); // a socket read holding two batches
  cache.push(1, read.subarray(0, 1000), false);
  cache.push(2, read.subarray(1000, 2500), false);
  read.fill(0);
  const out = [...cache.from(0)].map((f) => f.data);
  expect(out[0]).toEqual(Buffer.alloc(1000, 7));
  cache.clear();
  const other = new FrameCache(pool);
  other.push(1, Buffer.alloc(4000, 9), false); // takes the same slab
  expect(out[1]).toEqual(Buffer.alloc(1500, 7));
});

test('slabs are recycled across rooms: memory stays flat over many checkouts', () => {
  const pool = new SlabPool(4096, 1 << 20);
  const rooms = Array.from({ length: 10 }, () => new FrameCache(pool));
  let peak = 0;
  for (let round = 0; round < 50; round++) {
    for (const [r, cache] of rooms.entries()) {
      for (let seq = 1; seq <= 30; seq++) cache.push(seq, frame(seq + r, 500), false);
    }
    peak = Math.max(peak, pool.allocatedBytes);
    for (const cache of rooms) cache.clear();
  }
  expect(pool.allocatedBytes).toBe(peak);
  expect(peak).toBeLessThanOrEqual(10 * 4 * 4096);
});

test('the pool keeps at most its idle bound; slabs past it are let go', () => {
  const pool = new SlabPool(1024, 4096);
  const cache = new FrameCache(pool);
  for (let seq = 1; seq <= 10; seq++) cache.push(seq, frame(seq, 1000), false);
  expect(pool.allocatedBytes).toBe(10 * 1024);
  cache.clear();
  expect(pool.allocatedBytes).toBe(4 * 1024);
});
