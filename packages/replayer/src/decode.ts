import type { eventWithTime } from '@rrweb/types';
import type { Events } from '@cobrowse/protocol';
import { HistoryDecompressor } from '@cobrowse/protocol/decompress';
import { DEFAULT_LIMITS, TooLargeError } from './limits.js';

const decoder = new TextDecoder();

/** Largest batch a `z: 1` payload may inflate to by default: the customer's page is untrusted (a deflate bomb). */
export const MAX_INFLATED_BYTES = DEFAULT_LIMITS.maxBatchBytes;

/**
 * Inflates a `z: 1` payload to text as a stream, keeping a running total: past `maxBytes` it stops
 * at once (a deflate bomb never fills the memory) and rejects with a {@link TooLargeError}.
 */
export async function inflate(bytes: Uint8Array, maxBytes: number = MAX_INFLATED_BYTES): Promise<string> {
  const reader = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('deflate-raw'))
    .getReader();
  const text = new TextDecoder();
  const parts: string[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      void reader.cancel().catch(() => undefined);
      throw new TooLargeError('batch-bytes', maxBytes);
    }
    parts.push(text.decode(value, { stream: true }));
  }
  parts.push(text.decode());
  return parts.join('');
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
  ) {}

  /** Synchronous for text and `z: 2` payloads, a promise for `z: 1` ones. Throws (or rejects) on anything malformed. */
  decode(header: Events, payload: string | Uint8Array | undefined): eventWithTime[] | Promise<eventWithTime[]> {
    if (header.snap) this.history.reset();
    if (payload === undefined) throw new Error('events frame has no payload');
    // Before anything is inflated or parsed (a string's length counts UTF-16 units: at most its bytes).
    if (payload.length > this.maxFrameBytes) throw new TooLargeError('frame-bytes', this.maxFrameBytes);
    const z = header.z ?? 0;
    if (z === 0) {
      if (payload.length > this.maxBatchBytes) throw new TooLargeError('batch-bytes', this.maxBatchBytes);
      return parseEvents(typeof payload === 'string' ? payload : decoder.decode(payload));
    }
    if (typeof payload === 'string') throw new Error('compressed payload in a text frame');
    // z: 2 batches inflate past MAX_HISTORY_BATCH_BYTES (256 KiB) never: the decompressor stops there.
    if (z === 2) return parseEvents(this.history.decompress(payload));
    return inflate(payload, this.maxBatchBytes).then(parseEvents);
  }

  /** After a batch could not be decoded: the history is unknown until the next snapshot batch. */
  reset(): void {
    this.history.reset();
  }
}
