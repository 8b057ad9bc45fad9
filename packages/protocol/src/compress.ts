import { Deflate } from 'pako';
import { HISTORY_WINDOW_BITS, MAX_HISTORY_BATCH_BYTES, Z_SYNC_FLUSH, concat } from './history.js';

export { MAX_HISTORY_BATCH_BYTES } from './history.js';

const encoder = /* @__PURE__ */ new TextEncoder();

/** UTF-8 bytes of a batch's JSON. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Recorder side of `z: 2` (see `history.ts`): compresses each batch as the next piece of the
 * history's DEFLATE stream. Small batches gain the most: a 100-byte mutation deflates to ~110
 * bytes on its own, to ~15 with the history.
 */
export class HistoryCompressor {
  private deflate: Deflate | undefined;
  private chunks: Uint8Array[] = [];
  /** A compression failed half-way: the stream is unknown until the next snapshot batch. */
  private lost = false;

  /** A snapshot batch starts a new history. */
  reset(): void {
    this.deflate = undefined;
    this.lost = false;
  }

  /**
   * Compresses one batch's JSON (UTF-8, at most {@link MAX_HISTORY_BATCH_BYTES}) as the next
   * piece of the stream. Throws when it cannot; the batch then goes some other way (uncompressed)
   * and so must every batch until the next {@link reset}.
   */
  compress(json: Uint8Array): Uint8Array {
    if (this.lost) throw new Error('the compression history is lost until the next snapshot');
    if (json.length === 0 || json.length > MAX_HISTORY_BATCH_BYTES)
      throw new RangeError('batch empty or too large for the compression history');
    const deflate = (this.deflate ??= this.open());
    this.chunks = [];
    let ok = false;
    try {
      ok = deflate.push(json, Z_SYNC_FLUSH);
    } finally {
      if (!ok) this.lost = true;
    }
    if (!ok) throw new Error(`deflate failed: ${deflate.msg}`);
    const out = concat(this.chunks);
    this.chunks = [];
    return out;
  }

  private open(): Deflate {
    const deflate = new Deflate({ raw: true, level: 6, windowBits: HISTORY_WINDOW_BITS, memLevel: 8 });
    deflate.onData = (chunk) => this.chunks.push(chunk);
    return deflate;
  }
}
