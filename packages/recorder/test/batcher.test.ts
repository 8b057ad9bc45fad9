import { expect, test } from '@playwright/test';
import type { eventWithTime } from '@rrweb/types';
import { type Batch, Batcher } from '../src/batcher.js';

/** Events as the batcher sees them: `slice` ones may wait (a sliced snapshot's later slices). */
const event = (type: number, name: string) => ({ type, timestamp: 0, data: { name } }) as unknown as eventWithTime;
const slice = (name: string) => event(3, `slice ${name}`);
const change = (name: string) => event(3, name);
const names = (batch: Batch) => batch.events.map((e) => (e.data as unknown as { name: string }).name);
const isUrgent = (e: eventWithTime) => /\bbig\b/.test((e.data as unknown as { name: string }).name);
const isSlice = (e: eventWithTime) => (e.data as unknown as { name: string }).name.startsWith('slice');
/** Past the batcher's end-of-task flush (a MessageChannel message: in Node not ordered with timers). */
const nextTask = () => new Promise((resolve) => setTimeout(resolve, 5));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function batcher(holdMs = 80) {
  const sent: Batch[] = [];
  return { sent, batcher: new Batcher((batch) => sent.push(batch), { mayWait: isSlice, holdMs, urgent: isUrgent }) };
}

test('slices of several tasks wait for each other and go as one batch, at most holdMs after the first', async () => {
  const { sent, batcher: b } = batcher(80);
  for (const name of ['1', '2', '3']) {
    b.push(slice(name));
    await nextTask();
    await nextTask();
  }
  expect(sent).toHaveLength(0);
  await sleep(120);
  expect(sent.map(names)).toEqual([['slice 1', 'slice 2', 'slice 3']]);
  b.close();
});

test('any other event sends the waiting slices at once, with it, in order', async () => {
  const { sent, batcher: b } = batcher(10_000);
  b.push(slice('1'));
  await nextTask();
  b.push(slice('2'));
  await nextTask();
  b.push(change('text changed'));
  await expect.poll(() => sent.map(names)).toEqual([['slice 1', 'slice 2', 'text changed']]);
  expect(sent[0]!.seq).toBe(1);
  b.close();
});

test('release() sends the waiting slices with the next task; a snapshot batch and a new Meta never wait', async () => {
  const { sent, batcher: b } = batcher(10_000);
  b.push(event(4, 'meta'));
  b.push(slice('snapshot'));
  await expect.poll(() => sent.map(names)).toEqual([['meta', 'slice snapshot']]);
  expect(sent[0]!.snap).toBe(true);
  b.push(slice('1'));
  await nextTask();
  b.push(slice('2'));
  b.release();
  await expect.poll(() => sent.map(names).slice(1)).toEqual([['slice 1', 'slice 2']]);
  // A checkout while slices wait: they go first, the new snapshot starts a batch of its own.
  b.push(slice('3'));
  await nextTask();
  b.push(event(4, 'meta 2'));
  await expect.poll(() => sent.map(names).slice(2)).toEqual([['slice 3'], ['meta 2']]);
  expect(sent.map((batch) => batch.seq)).toEqual([1, 2, 3, 4]);
  b.close();
});

test('an urgent event (a large DOM change) goes when the code that made it is done, before the task ends', async () => {
  const { sent, batcher: b } = batcher(10_000);
  b.push(slice('1'));
  await nextTask();
  let inTask: string[][] = [];
  await new Promise<void>((resolve) =>
    setTimeout(() => {
      b.push(change('small'));
      b.push(change('big change'));
      b.push(change('after, same microtask'));
      queueMicrotask(() => {
        // Still the same task: the urgent batch is out already, in order, with what waited before it.
        inTask = sent.map(names);
        b.push(change('later in the task'));
        resolve();
      });
    }, 0),
  );
  expect(inTask).toEqual([['slice 1', 'small', 'big change', 'after, same microtask']]);
  await expect
    .poll(() => sent.map(names))
    .toEqual([['slice 1', 'small', 'big change', 'after, same microtask'], ['later in the task']]);
  expect(sent.map((batch) => batch.seq)).toEqual([1, 2]);
  b.close();
});

test('a large slice still waits (it may): only events that may not wait are urgent; nothing is sent after close()', async () => {
  const { sent, batcher: b } = batcher(80);
  b.push(slice('big 1'));
  await nextTask();
  b.push(slice('big 2'));
  await nextTask();
  expect(sent).toHaveLength(0);
  await sleep(120);
  expect(sent.map(names)).toEqual([['slice big 1', 'slice big 2']]);
  b.push(change('big change'));
  b.close();
  await sleep(20);
  expect(sent).toHaveLength(1);
});
