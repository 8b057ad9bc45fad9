import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { expect, test } from '@playwright/test';
import fc from 'fast-check';
import { HistoryCompressor, MAX_HISTORY_BATCH_BYTES, utf8 } from '../src/compress.js';
import { HistoryDecompressor } from '../src/decompress.js';
import { ErrorCode, ProtocolError, validateMessage } from '../src/index.js';

/** A burst frame of rrweb mutations: `cells` table cells get a new text node each. */
function mutationBatch(frame: number, cells: number, pick: (i: number) => number): string {
  const removes = [];
  const adds = [];
  for (let i = 0; i < cells; i++) {
    const parentId = pick(i);
    removes.push({ parentId, id: 100_000 + (frame - 1) * cells + i });
    adds.push({
      parentId,
      nextId: null,
      node: {
        type: 3,
        textContent: `€ ${((frame * 7919 + i * 104729) % 200000) / 100}`,
        id: 100_000 + frame * cells + i,
      },
    });
  }
  return JSON.stringify([
    {
      type: 3,
      data: { source: 0, texts: [], attributes: [], removes, adds },
      timestamp: 1_700_000_000_000 + frame * 16,
    },
  ]);
}

function smallBatch(i: number): string {
  return JSON.stringify([
    {
      type: 3,
      data: { source: 1, positions: [{ x: 100 + (i % 50), y: 200 + (i % 13), id: 12, timeOffset: -20 }] },
      timestamp: 1_700_000_000_000 + i * 37,
    },
  ]);
}

/** What a standard inflater (zlib) makes of a history's stream so far. */
function zlibInflate(stream: Uint8Array[]): string {
  return inflateRawSync(Buffer.concat(stream), { finishFlush: constants.Z_SYNC_FLUSH }).toString();
}

test.describe('batch compression with shared history (z: 2)', () => {
  test('a stream of batches round-trips, and a standard inflater reads every batch', () => {
    const compressor = new HistoryCompressor();
    const decompressor = new HistoryDecompressor();
    const batches = [
      ...Array.from({ length: 60 }, (_, i) => smallBatch(i)),
      ...Array.from({ length: 20 }, (_, f) => mutationBatch(f + 1, 100, (i) => 1000 + i * 44)),
      JSON.stringify([{ type: 5, data: { tag: 'note', payload: { text: 'ünïcödé ✓ 日本語 🙂' } }, timestamp: 1 }]),
    ];
    const stream: Uint8Array[] = [];
    for (const json of batches) {
      const payload = compressor.compress(utf8(json));
      expect(decompressor.decompress(payload)).toBe(json);
      stream.push(payload);
    }
    expect(zlibInflate(stream)).toBe(batches.join(''));
  });

  test('the history is what makes small batches small', () => {
    const compressor = new HistoryCompressor();
    let withHistory = 0;
    let alone = 0;
    for (let i = 0; i < 200; i++) {
      const json = utf8(smallBatch(i));
      withHistory += compressor.compress(json).length;
      alone += new HistoryCompressor().compress(json).length;
    }
    expect(withHistory).toBeLessThan(alone * 0.3);
  });

  test('100 cells changed per frame, the same cells each frame: ≤ 1,333 bytes a frame (80 KB/s at 60 frames/s)', () => {
    const compressor = new HistoryCompressor();
    let raw = 0;
    let wire = 0;
    for (let f = 1; f <= 120; f++) {
      const json = utf8(mutationBatch(f, 100, (i) => 1000 + i * 44));
      raw += json.length;
      wire += compressor.compress(json).length;
    }
    expect(wire / 120).toBeLessThan(80_000 / 60);
    expect(wire / raw).toBeLessThan(0.2);
  });

  test('a reset starts a new history on both ends (the snapshot batch)', () => {
    const compressor = new HistoryCompressor();
    const early = new HistoryDecompressor();
    for (let i = 0; i < 10; i++) early.decompress(compressor.compress(utf8(smallBatch(i))));
    // A late joiner starts at the snapshot batch, with nothing of what came before.
    compressor.reset();
    early.reset();
    const late = new HistoryDecompressor();
    for (let i = 10; i < 30; i++) {
      const payload = compressor.compress(utf8(smallBatch(i)));
      expect(late.decompress(payload)).toBe(smallBatch(i));
      expect(early.decompress(payload)).toBe(smallBatch(i));
    }
  });

  test('a batch decoded without the one before it does not come out right (the replayer resyncs on gaps)', () => {
    const compressor = new HistoryCompressor();
    const payloads = Array.from({ length: 12 }, (_, i) => compressor.compress(utf8(smallBatch(i))));
    const decompressor = new HistoryDecompressor();
    for (let i = 0; i < 10; i++) decompressor.decompress(payloads[i]!);
    let text: string | undefined;
    try {
      text = decompressor.decompress(payloads[11]!); // batch 10 never arrived
    } catch (error) {
      expect((error as Error).message).toMatch(/corrupt/);
    }
    expect(text).not.toBe(smallBatch(11));
  });

  test('a resent batch carries the same bytes: compressing is deterministic', () => {
    const a = new HistoryCompressor();
    const b = new HistoryCompressor();
    for (let i = 0; i < 50; i++)
      expect([...a.compress(utf8(smallBatch(i)))]).toEqual([...b.compress(utf8(smallBatch(i)))]);
  });

  test('garbage, truncated, empty and oversize payloads are refused with a clear error', () => {
    const compressor = new HistoryCompressor();
    const good = compressor.compress(utf8(mutationBatch(1, 100, (i) => i * 3)));
    const syncFlushed = (bytes: number[]) => new Uint8Array([...bytes, 0, 0, 0, 0xff, 0xff]);
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty', new Uint8Array(0), /empty/],
      ['truncated', good.subarray(0, good.length >> 1), /incomplete/],
      ['invalid block type', syncFlushed([0xff, 0xff, 0xff, 0xff]), /corrupt/],
      ['oversize', new Uint8Array(MAX_HISTORY_BATCH_BYTES + 2048), /too large/],
      ['a finished stream', new Uint8Array(deflateRawSync('[]')), /incomplete/],
    ];
    for (const [name, payload, message] of cases) {
      expect(() => new HistoryDecompressor().decompress(payload), name).toThrow(message);
    }
    // A small payload that inflates past the limit is refused, without growing a buffer for it.
    const bomb = deflateRawSync(Buffer.alloc(MAX_HISTORY_BATCH_BYTES * 4, 0x20), {
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    expect(bomb.length).toBeLessThan(4096);
    expect(() => new HistoryDecompressor().decompress(bomb)).toThrow(/past the limit/);
    expect(() => compressor.compress(new Uint8Array(MAX_HISTORY_BATCH_BYTES + 1))).toThrow(RangeError);
    expect(() => new HistoryCompressor().compress(new Uint8Array(0))).toThrow(RangeError);
  });

  test('random bytes never crash the decoder: a string or an Error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        try {
          expect(typeof new HistoryDecompressor().decompress(bytes)).toBe('string');
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('random batches round-trip through compressor and decompressor, with resets', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ minLength: 1, maxLength: 3000 }), fc.constant('[]')), { maxLength: 30 }),
        fc.array(fc.nat(29), { maxLength: 3 }),
        (texts, resets) => {
          const compressor = new HistoryCompressor();
          const decompressor = new HistoryDecompressor();
          texts.forEach((text, i) => {
            if (resets.includes(i)) {
              compressor.reset();
              decompressor.reset();
            }
            expect(decompressor.decompress(compressor.compress(utf8(text)))).toBe(text);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  test('the events header accepts z 0, 1 and 2, and nothing else', () => {
    for (const z of [0, 1, 2]) expect(validateMessage({ type: 'events', epoch: 'e', seq: 1, z })).toMatchObject({ z });
    for (const z of [3, -1, '2', true]) {
      expect(() => validateMessage({ type: 'events', epoch: 'e', seq: 1, z })).toThrow(ProtocolError);
      try {
        validateMessage({ type: 'events', epoch: 'e', seq: 1, z });
      } catch (error) {
        expect((error as ProtocolError).code).toBe(ErrorCode.BadField);
      }
    }
  });
});
