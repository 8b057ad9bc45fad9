import { type Channel, InOrder } from '@cobrowse/protocol/client';
import { encodeBinary, encodeText } from '@cobrowse/protocol';
import type { Batch } from './batcher.js';

/** Payloads at least this long are deflated before sending (a full snapshot shrinks ~10×). */
const COMPRESS_FROM = 32 * 1024;

const canCompress = typeof CompressionStream !== 'undefined';

async function deflate(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Encodes batches and sends them in order. Small batches go out synchronously as text frames;
 * large ones are compressed off the critical path (CompressionStream) and sent as binary frames,
 * with later batches held behind them so order is never broken.
 */
export class Sender {
  bytesSent = 0;
  private readonly queue: InOrder<string | Uint8Array>;

  constructor(
    private readonly channel: Channel,
    private readonly epoch: string,
    onError: (error: unknown) => void,
  ) {
    this.queue = new InOrder((frame) => {
      if (this.channel.send(frame)) this.bytesSent += typeof frame === 'string' ? frame.length : frame.byteLength;
    }, onError);
  }

  send(batch: Batch): void {
    const header = { type: 'events', epoch: this.epoch, seq: batch.seq, ...(batch.snap ? { snap: true } : {}) } as const;
    const json = JSON.stringify(batch.events);
    if (!canCompress || json.length < COMPRESS_FROM) this.queue.push(encodeText(header, json));
    else this.queue.push(deflate(json).then((bytes) => encodeBinary({ ...header, z: 1 }, bytes)));
  }
}
