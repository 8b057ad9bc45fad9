import type { eventWithTime } from '@rrweb/types';
import { RrwebEventType } from '@cobrowse/protocol';

const META = RrwebEventType.Meta;

export interface Batch {
  readonly seq: number;
  /** Starts with Meta + FullSnapshot: a replayer can start from here. */
  readonly snap: boolean;
  readonly events: eventWithTime[];
}

/**
 * Collects rrweb events into numbered batches, one per task, so one DOM update travels as one
 * frame without waiting for an animation frame. A Meta event (start of a full snapshot) always
 * starts a new batch, so snapshot batches are clean starting points.
 */
export class Batcher {
  private events: eventWithTime[] = [];
  private snap = false;
  private seq = 0;
  private scheduled = false;
  /** Posting to a MessageChannel runs the flush right after the current task, unthrottled in background tabs. */
  private readonly port: MessageChannel | undefined =
    typeof MessageChannel !== 'undefined' ? new MessageChannel() : undefined;

  constructor(private readonly flushBatch: (batch: Batch) => void) {
    if (this.port) this.port.port1.onmessage = () => this.flush();
  }

  push(event: eventWithTime): void {
    if (event.type === META) {
      this.flush();
      this.snap = true;
    }
    this.events.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      if (this.port) this.port.port2.postMessage(0);
      else setTimeout(() => this.flush(), 0);
    }
  }

  /** Sends what is pending now. */
  flush(): void {
    this.scheduled = false;
    if (this.events.length === 0) return;
    const batch: Batch = { seq: ++this.seq, snap: this.snap, events: this.events };
    this.events = [];
    this.snap = false;
    this.flushBatch(batch);
  }

  close(): void {
    this.port?.port1.close();
  }
}
