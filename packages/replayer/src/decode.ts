import type { eventWithTime } from '@rrweb/types';
import type { Events } from '@cobrowse/protocol';
import { HistoryDecompressor } from '@cobrowse/protocol/decompress';
import { DEFAULT_LIMITS, TooLargeError } from './limits.js';

const decoder = new TextDecoder();

/** Largest batch a `z: 1` payload may inflate to by default: the customer's page is untrusted (a deflate bomb). */
export const MAX_INFLATED_BYTES = DEFAULT_LIMITS.maxBatchBytes;

/** Compressed bytes handed to the inflater at a time: one step can then expand to about 4 MiB at most (DEFLATE's ratio is ≤ 1032:1). */
const INFLATE_SLICE = 4096;
/** The inflater yields to the event loop after this long, so a large batch never holds the main thread. */
const INFLATE_YIELD_MS = 25;

/** Resolves in a later task (a macrotask: the event loop, rendering included, runs in between). */
export const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Inflates a `z: 1` payload to text as a stream, keeping a running total: past `maxBytes` it stops
 * at once and rejects with a {@link TooLargeError}. The compressed bytes go in small slices (a
 * whole deflate bomb handed over at once would expand in one step, before any total is seen), and
 * the work is spread over tasks.
 */
export async function inflate(bytes: Uint8Array, maxBytes: number = MAX_INFLATED_BYTES): Promise<string> {
  const stream = new DecompressionStream('deflate-raw');
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  const writing = (async () => {
    for (let at = 0; at < bytes.length; at += INFLATE_SLICE)
      await writer.write(bytes.subarray(at, at + INFLATE_SLICE) as Uint8Array<ArrayBuffer>);
    await writer.close();
  })();
  writing.catch(() => undefined); // its failure surfaces through the reader
  const text = new TextDecoder();
  const parts: string[] = [];
  let total = 0;
  let since = performance.now();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) throw new TooLargeError('batch-bytes', maxBytes);
      parts.push(text.decode(value, { stream: true }));
      if (performance.now() - since > INFLATE_YIELD_MS) {
        await nextTask();
        since = performance.now();
      }
    }
  } catch (error) {
    void reader.cancel().catch(() => undefined);
    void writer.abort().catch(() => undefined);
    throw error;
  }
  await writing;
  parts.push(text.decode());
  return parts.join('');
}

/** Occurrences of `"type":` in a batch's JSON: at least its nodes (each serialized node has one), counted before parsing. */
function typeKeys(text: string, stopAfter: number): number {
  let count = 0;
  for (let at = text.indexOf('"type":'); at !== -1 && count <= stopAfter; at = text.indexOf('"type":', at + 7)) count++;
  return count;
}

/** Parses and checks a batch payload: a JSON array of rrweb events. Throws on anything else. */
export function parseEvents(text: string): eventWithTime[] {
  let events: unknown;
  try {
    events = JSON.parse(text);
  } catch {
    throw new Error('events payload is not JSON');
  }
  if (!Array.isArray(events)) throw new Error('events payload is not an array');
  for (const event of events) {
    if (
      typeof event !== 'object' ||
      event === null ||
      typeof (event as eventWithTime).type !== 'number' ||
      typeof (event as eventWithTime).timestamp !== 'number'
    ) {
      throw new Error('events payload holds something that is not an rrweb event');
    }
  }
  return events as eventWithTime[];
}

/**
 * Decodes batch payloads. Give it every batch the replayer applies, in `seq` order from a snapshot
 * batch on (no gaps, no duplicates): `z: 2` batches are compressed against the ones before them.
 */
export class BatchDecoder {
  private readonly history = new HistoryDecompressor();

  constructor(
    /** Largest frame payload taken, as received. */
    private readonly maxFrameBytes: number = DEFAULT_LIMITS.maxFrameBytes,
    /** Largest batch once inflated. */
    private readonly maxBatchBytes: number = DEFAULT_LIMITS.maxBatchBytes,
    /** Most nodes a page may have: a batch that plainly holds more is refused before it is parsed. */
    private readonly maxNodes: number = DEFAULT_LIMITS.maxNodes,
  ) {}

  /** Parses a batch's JSON, refusing before parsing one that plainly holds more nodes than a page may have. */
  private parse(text: string): eventWithTime[] {
    // A few thousand spare: event and source keys also read `"type":`.
    if (text.length > 1024 * 1024 && typeKeys(text, this.maxNodes + 4096) > this.maxNodes + 4096)
      throw new TooLargeError('nodes', this.maxNodes);
    return parseEvents(text);
  }

  /** Synchronous for text and `z: 2` payloads, a promise for `z: 1` ones. Throws (or rejects) on anything malformed. */
  decode(header: Events, payload: string | Uint8Array | undefined): eventWithTime[] | Promise<eventWithTime[]> {
    if (header.snap) this.history.reset();
    if (payload === undefined) throw new Error('events frame has no payload');
    // Before anything is inflated or parsed (a string's length counts UTF-16 units: at most its bytes).
    if (payload.length > this.maxFrameBytes) throw new TooLargeError('frame-bytes', this.maxFrameBytes);
    const z = header.z ?? 0;
    if (z === 0) {
      if (payload.length > this.maxBatchBytes) throw new TooLargeError('batch-bytes', this.maxBatchBytes);
      return this.parse(typeof payload === 'string' ? payload : decoder.decode(payload));
    }
    if (typeof payload === 'string') throw new Error('compressed payload in a text frame');
    // z: 2 batches inflate past MAX_HISTORY_BATCH_BYTES (256 KiB) never: the decompressor stops there.
    if (z === 2) return parseEvents(this.history.decompress(payload));
    return inflate(payload, this.maxBatchBytes).then((text) => this.parse(text));
  }

  /** After a batch could not be decoded: the history is unknown until the next snapshot batch. */
  reset(): void {
    this.history.reset();
  }
}
