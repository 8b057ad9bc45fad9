import { expect, test } from '@playwright/test';
import type { eventWithTime } from '@rrweb/types';
import { type Events, decodeBytes, decodeText } from '@cobrowse/protocol';
import type { Channel } from '@cobrowse/client';
import { Sender } from '../src/sender.js';
import type { Batch } from '../src/batcher.js';
import { WireDecoder } from '../../../test-support/wire-frames.mjs';

/** The recorder's sender on one end, a replayer's decoding (test-support, from the protocol) on the other, the relay's duplicate drop between. */

type Frame = string | Uint8Array;

class FakeChannel {
  online = true;
  readonly frames: Frame[] = [];
  send(frame: Frame): boolean {
    if (this.online) this.frames.push(frame);
    return this.online;
  }
}

const EPOCH = 'epoch-1';

function header(frame: Frame): Events {
  const message = typeof frame === 'string' ? decodeText(frame).message : decodeBytes(frame).message;
  if (message.type !== 'events') throw new Error(`not an events frame: ${message.type}`);
  return message;
}

function payload(frame: Frame): string | Uint8Array | undefined {
  return typeof frame === 'string' ? decodeText(frame).payload : decodeBytes(frame).payload;
}

function snapshotEvents(size: number): eventWithTime[] {
  const rows = Array.from({ length: size }, (_, i) => ({
    id: i + 10,
    tagName: 'td',
    attributes: { class: `c${i % 7}` },
    childNodes: [{ id: size + i, textContent: `cell ${i}` }],
  }));
  return [
    { type: 4, data: { href: 'https://example.test/', width: 1024, height: 768 }, timestamp: 1 },
    { type: 2, data: { node: { type: 0, childNodes: rows, id: 1 }, initialOffset: { top: 0, left: 0 } }, timestamp: 2 },
  ] as unknown as eventWithTime[];
}

function mutation(i: number): eventWithTime[] {
  return [
    {
      type: 3,
      data: { source: 0, texts: [{ id: 10 + (i % 40), value: `value ${i}` }], attributes: [], removes: [], adds: [] },
      timestamp: 100 + i,
    },
  ] as unknown as eventWithTime[];
}

/** Lets the sender's CompressionStream (z: 1) batches settle. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Decodes frames the way a replayer does: duplicates dropped (the relay's job), then in order. */
async function decodeAll(frames: Frame[], decoder = new WireDecoder()): Promise<Map<number, eventWithTime[]>> {
  const out = new Map<number, eventWithTime[]>();
  let last = 0;
  for (const frame of frames) {
    const h = header(frame);
    if (!h.snap && h.seq <= last) continue;
    last = h.seq;
    out.set(h.seq, decoder.decode(h, payload(frame)) as eventWithTime[]);
  }
  return out;
}

function setup() {
  const channel = new FakeChannel();
  const errors: unknown[] = [];
  const sender = new Sender(channel as unknown as Channel, EPOCH, (error) => errors.push(error));
  let seq = 0;
  const sent = new Map<number, eventWithTime[]>();
  const send = (events: eventWithTime[], snap = false) => {
    const batch: Batch = { seq: ++seq, snap, events };
    sent.set(batch.seq, events);
    sender.send(batch);
  };
  return { channel, sender, send, sent, errors };
}

test.describe('recorder → replayer wire (sender and decoder)', () => {
  test('a big snapshot goes z:1, small batches z:2 against the history; both decode', async () => {
    const { channel, send, sent, errors } = setup();
    send(snapshotEvents(2000), true);
    for (let i = 0; i < 40; i++) send(mutation(i));
    await settle();
    expect(errors).toEqual([]);
    const headers = channel.frames.map(header);
    expect(headers[0]).toMatchObject({ seq: 1, snap: true, z: 1 });
    expect(headers.slice(1).every((h) => h.z === 2 && !h.snap)).toBe(true);
    expect(channel.frames.every((f) => f instanceof Uint8Array)).toBe(true);
    const decoded = await decodeAll(channel.frames);
    expect([...decoded.keys()]).toEqual([...sent.keys()]);
    for (const [seq, events] of sent) expect(decoded.get(seq)).toEqual(events);
    // Small batches cost a few dozen bytes with the history (a lone one deflates to ~110).
    const small = channel.frames.slice(5).map((f) => (payload(f) as Uint8Array).length);
    expect(Math.max(...small)).toBeLessThan(40);
  });

  test('a new snapshot starts a new history: a replayer joining there decodes what follows', async () => {
    const { channel, send, sent } = setup();
    send(snapshotEvents(10), true); // small snapshot: z:2, first of its history
    for (let i = 0; i < 20; i++) send(mutation(i));
    send(snapshotEvents(12), true);
    for (let i = 20; i < 40; i++) send(mutation(i));
    await settle();
    expect(header(channel.frames[0]!)).toMatchObject({ snap: true, z: 2 });
    const second = channel.frames.findIndex((f, i) => i > 0 && header(f).snap);
    expect(second).toBe(21);
    // The replayer that saw everything, and one that joined at the second snapshot (late join, resync, checkout).
    const all = await decodeAll(channel.frames);
    const late = await decodeAll(channel.frames.slice(second));
    for (const [seq, events] of sent) {
      expect(all.get(seq)).toEqual(events);
      if (seq > second) expect(late.get(seq)).toEqual(events);
    }
    // A decoder that had seen a different history, then got the snapshot, is reset by it.
    const stale = new WireDecoder();
    stale.decode(header(channel.frames[0]!), payload(channel.frames[0]!));
    stale.decode(header(channel.frames[1]!), payload(channel.frames[1]!));
    expect((await decodeAll(channel.frames.slice(second), stale)).get(40)).toEqual(sent.get(40));
  });

  test('after a drop, the unacknowledged batches are resent with the same bytes and decode once', async () => {
    const { channel, sender, send, sent } = setup();
    send(snapshotEvents(10), true);
    for (let i = 0; i < 10; i++) send(mutation(i));
    sender.ack(5); // the relay has 1..5
    const before = channel.frames.slice(5).map((f) => [...(f as Uint8Array)]);
    channel.online = false; // socket drops: batches 12..20 are kept, not sent
    for (let i = 10; i < 19; i++) send(mutation(i));
    channel.online = true;
    // The relay got up to 8 before the drop (its welcome says so): 9.. are resent.
    expect(sender.resume(8)).toBe(true);
    const resent = channel.frames.slice(11);
    expect(resent.map((f) => header(f).seq)).toEqual([9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    // Same bytes as first time for what had been sent already.
    expect(resent.slice(0, 3).map((f) => [...(f as Uint8Array)])).toEqual(before.slice(3, 6));
    const decoded = await decodeAll(channel.frames);
    for (const [seq, events] of sent) expect(decoded.get(seq)).toEqual(events);
  });

  test('a relay that lost everything gets a fresh snapshot, which resets the history', async () => {
    const { channel, sender, send, sent } = setup();
    send(snapshotEvents(10), true);
    for (let i = 0; i < 5; i++) send(mutation(i));
    expect(sender.resume(undefined)).toBe(false); // relay restarted: the caller takes a snapshot
    const from = channel.frames.length;
    send(snapshotEvents(11), true);
    for (let i = 5; i < 10; i++) send(mutation(i));
    const decoded = await decodeAll(channel.frames.slice(from));
    for (let seq = 7; seq <= 12; seq++) expect(decoded.get(seq)).toEqual(sent.get(seq));
  });
});
