import { type Channel, InOrder } from '@cobrowse/client';
import { encodeBinary, encodeText } from '@cobrowse/protocol';
import { HistoryCompressor } from './compressor.js';
import type { Batch } from './batcher.js';
import { Deflater, type DeflaterOptions } from './deflate.js';
import { isStreamed } from './snapshot-slices.js';

/**
 * Batches up to this many bytes of JSON are compressed at once, on the page's main thread, against
 * the history of the batches before them (`z: 2`: ~0.01 ms for a pointer batch, ~0.2 ms for 12 KB);
 * larger ones (full snapshots, big insertions) are deflated on their own off the main thread (`z: 1`).
 */
const HISTORY_BATCH_BYTES = 32 * 1024;
const encoder = new TextEncoder();
/** Unacknowledged bytes kept for resending after a reconnect; past this, a full snapshot is cheaper. */
const MAX_UNACKED_BYTES = 8 * 1024 * 1024;

const canCompress = typeof CompressionStream !== 'undefined';

interface Sent {
  readonly seq: number;
  readonly frame: string | Uint8Array;
  readonly size: number;
}

/**
 * Encodes batches and sends them in order, keeping each until the relay acknowledges it so that a
 * dropped socket loses nothing: on reconnect the relay says the last batch it has and the rest is
 * resent. Batches go out as binary frames: small ones compressed at once against the history of
 * the batches since the latest snapshot (`z: 2`), large ones compressed off the critical path
 * (CompressionStream, in a worker when the page allows one; `z: 1`) with later batches held behind them.
 */
export class Sender {
  bytesSent = 0;
  /** Last batch handed to the socket. */
  transmittedSeq = 0;
  private readonly history = new HistoryCompressor();
  private readonly queue: InOrder<Sent>;
  private unacked: Sent[] = [];
  private unackedBytes = 0;
  /** Too much piled up while offline: the buffer was dropped and only a snapshot can mend it. */
  private overflowed = false;
  private lastSeq = 0;
  private readonly deflater: Deflater | undefined;

  constructor(
    private readonly channel: Channel,
    private readonly epoch: string,
    onError: (error: unknown) => void,
    deflaterOptions?: DeflaterOptions,
  ) {
    this.queue = new InOrder((sent) => this.deliver(sent), onError);
    this.deflater = canCompress ? new Deflater(deflaterOptions) : undefined;
  }

  /** Stops the compression worker. */
  close(): void {
    this.deflater?.close();
  }

  send(batch: Batch): void {
    const header = {
      type: 'events',
      epoch: this.epoch,
      seq: batch.seq,
      ...(batch.snap ? { snap: true } : {}),
    } as const;
    this.lastSeq = batch.seq;
    // Every replayer starts from a snapshot batch: the history starts there too.
    if (batch.snap) this.history.reset();
    const text = JSON.stringify(batch.events);
    // Longer in characters is longer in UTF-8: a big batch goes to the worker without encoding it here.
    // A sliced snapshot (snapshot-slices.ts: its first part and the rest) goes to the worker too: it is page-sized in all.
    const bulk = this.deflater !== undefined && batch.events.some(isStreamed);
    const json = text.length <= HISTORY_BATCH_BYTES && !bulk ? encoder.encode(text) : undefined;
    if (json && json.length <= HISTORY_BATCH_BYTES) {
      const bytes = this.compress(json);
      if (bytes) {
        this.queue.push({ seq: batch.seq, frame: encodeBinary({ ...header, z: 2 }, bytes), size: bytes.byteLength });
        return;
      }
    } else if (this.deflater) {
      this.queue.push(
        this.deflater.deflate(text).then((bytes) => ({
          seq: batch.seq,
          frame: encodeBinary({ ...header, z: 1 }, bytes),
          size: bytes.byteLength,
        })),
      );
      return;
    }
    this.queue.push({ seq: batch.seq, frame: encodeText(header, text), size: text.length });
  }

  /** Never throws into the page: a batch that cannot be compressed goes as text, outside the history. */
  private compress(json: Uint8Array): Uint8Array | undefined {
    try {
      return this.history.compress(json);
    } catch {
      return undefined;
    }
  }

  private deliver(sent: Sent): void {
    if (this.overflowed) return;
    this.unacked.push(sent);
    this.unackedBytes += sent.size;
    if (this.unackedBytes > MAX_UNACKED_BYTES) {
      this.overflowed = true;
      this.unacked = [];
      this.unackedBytes = 0;
      return;
    }
    this.transmit(sent);
  }

  private transmit(sent: Sent): void {
    if (this.channel.send(sent.frame)) {
      this.bytesSent += typeof sent.frame === 'string' ? sent.frame.length : sent.frame.byteLength;
      this.transmittedSeq = sent.seq;
    }
  }

  /** The relay has every batch up to `seq`. */
  ack(seq: number): void {
    let drop = 0;
    while (drop < this.unacked.length && this.unacked[drop]!.seq <= seq)
      this.unackedBytes -= this.unacked[drop++]!.size;
    if (drop) this.unacked.splice(0, drop);
  }

  /**
   * After a (re)connect: `relaySeq` is the last batch of this recording the relay has (undefined
   * when it has none). Resends what followed and returns true, or returns false when the gap cannot
   * be filled (the caller then takes a full snapshot).
   */
  resume(relaySeq: number | undefined): boolean {
    const first = this.unacked[0];
    const canResume =
      relaySeq !== undefined && !this.overflowed && (first ? first.seq <= relaySeq + 1 : relaySeq === this.lastSeq);
    if (!canResume) {
      this.overflowed = false;
      this.unacked = [];
      this.unackedBytes = 0;
      return false;
    }
    this.ack(relaySeq);
    for (const sent of this.unacked) this.transmit(sent);
    return true;
  }
}
