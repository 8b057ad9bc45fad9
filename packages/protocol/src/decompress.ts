import { Inflate } from 'pako';
import { HISTORY_WINDOW_BITS, MAX_HISTORY_BATCH_BYTES, Z_SYNC_FLUSH, concat, endsWithSyncFlush } from './history.js';

export { MAX_HISTORY_BATCH_BYTES } from './history.js';

const decoder = /* @__PURE__ */ new TextDecoder();

/**
 * Replayer side of `z: 2` (see `history.ts`): inflates the batches of one history, in `seq` order
 * with no gap, from its snapshot batch on. Throws a plain `Error` on anything that is not such a
 * batch; the caller then waits for the next snapshot batch (and calls {@link reset}).
 */
export class HistoryDecompressor {
  private inflate: Inflate | undefined;
  private chunks: Uint8Array[] = [];
  private size = 0;

  /** A snapshot batch starts a new history (so does a failure: nothing decodes until then). */
  reset(): void {
    this.inflate = undefined;
  }

  /** Inflates the next batch of the history and returns its JSON text. */
  decompress(payload: Uint8Array): string {
    if (payload.length === 0) throw new Error('compressed batch is empty');
    // DEFLATE never grows data by more than a few bytes per 64 KiB: anything bigger is not a batch.
    if (payload.length > MAX_HISTORY_BATCH_BYTES + 1024) throw new Error('compressed batch is too large');
    if (!endsWithSyncFlush(payload)) throw this.fail('compressed batch is incomplete (no sync flush at its end)');
    const inflate = (this.inflate ??= this.open());
    this.chunks = [];
    this.size = 0;
    let ok: boolean;
    try {
      ok = inflate.push(payload, Z_SYNC_FLUSH);
    } catch (error) {
      throw this.fail((error as Error).message);
    }
    if (!ok || inflate.err)
      throw this.fail(`compressed batch is corrupt (${inflate.msg || `zlib error ${inflate.err}`})`);
    if (inflate.ended) throw this.fail('compressed batch ends its stream');
    const text = decoder.decode(concat(this.chunks));
    this.chunks = [];
    return text;
  }

  private fail(message: string): Error {
    this.inflate = undefined;
    this.chunks = [];
    return new Error(message);
  }

  private open(): Inflate {
    const inflate = new Inflate({ raw: true, windowBits: HISTORY_WINDOW_BITS, chunkSize: 16 * 1024 });
    inflate.onData = (chunk) => {
      this.size += chunk.length;
      // A deflate bomb is refused as it expands, not once it has filled the memory.
      if (this.size > MAX_HISTORY_BATCH_BYTES) throw new Error('compressed batch expands past the limit');
      this.chunks.push(chunk);
    };
    return inflate;
  }
}
