import { type Channel, InOrder } from '@cobrowse/protocol/client';
import { encodeBinary, encodeText } from '@cobrowse/protocol';
import type { Batch } from './batcher.js';
import { Deflater, type DeflaterOptions } from './deflate.js';

/** Payloads at least this long are deflated before sending (a full snapshot shrinks ~10×). */
const COMPRESS_FROM = 32 * 1024;
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
 * resent. Small batches go out synchronously as text frames; large ones are compressed off the
 * critical path (CompressionStream, in a worker when the page allows one) and sent as binary frames,
 * later batches held behind them.
 */
export class Sender {
  bytesSent = 0;
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
    const header = { type: 'events', epoch: this.epoch, seq: batch.seq, ...(batch.snap ? { snap: true } : {}) } as const;
    this.lastSeq = batch.seq;
    const json = JSON.stringify(batch.events);
    if (!this.deflater || json.length < COMPRESS_FROM) {
      this.queue.push({ seq: batch.seq, frame: encodeText(header, json), size: json.length });
    } else {
      this.queue.push(this.deflater.deflate(json).then((bytes) => ({ seq: batch.seq, frame: encodeBinary({ ...header, z: 1 }, bytes), size: bytes.byteLength })));
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
    if (this.channel.send(sent.frame)) this.bytesSent += typeof sent.frame === 'string' ? sent.frame.length : sent.frame.byteLength;
  }

  /** The relay has every batch up to `seq`. */
  ack(seq: number): void {
    let drop = 0;
    while (drop < this.unacked.length && this.unacked[drop]!.seq <= seq) this.unackedBytes -= this.unacked[drop++]!.size;
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
