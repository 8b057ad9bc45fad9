/**
 * Batch compression with shared history (`events.z = 2`), the parts both ends agree on.
 *
 * The recorder runs one raw DEFLATE stream (RFC 1951, window ≤ 32 KiB) per history and ends every
 * batch with a sync flush, so each batch's bytes can be inflated the moment they arrive, with
 * everything before them in the stream as context. A history starts at a snapshot batch
 * (`snap: true`) and holds the epoch's `z: 2` batches from there, in `seq` order. Every replayer
 * starts from a snapshot batch (late join, resync, the relay's checkouts), so it always holds the
 * history the next batch needs; a batch's bytes are fixed when it is encoded, so resending it
 * after a reconnect sends the same bytes.
 *
 * The recorder half is `@cobrowse/protocol/compress`, the replayer half
 * `@cobrowse/protocol/decompress`: each page loads only its own.
 */

/** DEFLATE window of a history stream (2^15 = 32 KiB, the most RFC 1951 allows). */
export const HISTORY_WINDOW_BITS = 15;

/** zlib's Z_SYNC_FLUSH: ends a batch on a byte boundary with an empty stored block (00 00 FF FF). */
export const Z_SYNC_FLUSH = 2;

/**
 * Largest `z: 2` batch, in bytes of JSON; larger batches go as `z: 1`. Bounds what a decoder
 * accepts (and allocates) for one batch.
 */
export const MAX_HISTORY_BATCH_BYTES = 256 * 1024;

/** Whether `bytes` ends with the sync-flush marker every `z: 2` batch ends with. */
export function endsWithSyncFlush(bytes: Uint8Array): boolean {
  const n = bytes.length;
  return n >= 5 && bytes[n - 4] === 0 && bytes[n - 3] === 0 && bytes[n - 2] === 0xff && bytes[n - 1] === 0xff;
}

/** Joins output chunks into one array. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let size = 0;
  for (const chunk of chunks) size += chunk.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
