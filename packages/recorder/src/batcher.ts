import type { eventWithTime } from '@rrweb/types';
import { RrwebEventType, RrwebSource } from '@cobrowse/protocol';

const META = RrwebEventType.Meta;

/** Nodes added or removed in one rrweb mutation from which it is a large change (see {@link isLargeChange}). */
export const LARGE_CHANGE_NODES = 100;

/**
 * A mutation adding or removing at least {@link LARGE_CHANGE_NODES} nodes: worth sending before the
 * browser lays it out (the batch goes to the compression worker, which then works while the page
 * renders, instead of its answer waiting behind the page's next frame).
 */
export function isLargeChange(event: eventWithTime): boolean {
  if (event.type !== RrwebEventType.IncrementalSnapshot) return false;
  const data = event.data as { source: number; adds?: unknown[]; removes?: unknown[] };
  return (
    data.source === RrwebSource.Mutation && (data.adds?.length ?? 0) + (data.removes?.length ?? 0) >= LARGE_CHANGE_NODES
  );
}

export interface Batch {
  readonly seq: number;
  /** Starts with Meta + FullSnapshot: a replayer can start from here. */
  readonly snap: boolean;
  readonly events: eventWithTime[];
}

/**
 * How long events that may wait (a sliced snapshot's later slices, see snapshot-slices.ts) wait for
 * more of their kind: each batch is deflated on its own, and a few large ones compress better than
 * many small ones (10,000 nodes: 51 KB in 5 batches, 56 KB in 19, 62 KB in 37 as on a busy page).
 */
export const HOLD_MS = 150;

export interface BatcherOptions {
  /** Events that may wait up to `holdMs` for more of their kind. Default: none. */
  mayWait?: (event: eventWithTime) => boolean;
  holdMs?: number;
  /**
   * Events sent as soon as the code that made them is done (a microtask), not at the end of the task,
   * unless they may wait. Default: none.
   */
  urgent?: (event: eventWithTime) => boolean;
}

/**
 * Collects rrweb events into numbered batches, one per task, so one DOM update travels as one
 * frame without waiting for an animation frame. A Meta event (start of a full snapshot) always
 * starts a new batch, so snapshot batches are clean starting points. A batch made only of events
 * that may wait (`mayWait`) waits up to {@link HOLD_MS} for the next ones instead; any other event
 * sends it at once with that event (in order, in the same batch). An `urgent` event (a large DOM
 * change) goes at the end of the microtask that made it: the end of the task comes only after the
 * browser has laid out and painted that change, tens of milliseconds later on a big one.
 */
export class Batcher {
  private events: eventWithTime[] = [];
  private snap = false;
  private seq = 0;
  private scheduled = false;
  /** Every pending event may wait. */
  private waitable = true;
  /** When the pending events started waiting (undefined: not yet). */
  private waitingSince: number | undefined;
  private holdTimer: ReturnType<typeof setTimeout> | undefined;
  /** Posting to a MessageChannel runs the flush right after the current task, unthrottled in background tabs. */
  private readonly port: MessageChannel | undefined =
    typeof MessageChannel !== 'undefined' ? new MessageChannel() : undefined;

  private readonly mayWait: (event: eventWithTime) => boolean;
  private readonly holdMs: number;
  private readonly urgent: (event: eventWithTime) => boolean;
  /** A microtask flush is queued. */
  private soon = false;
  private closed = false;

  constructor(
    private readonly flushBatch: (batch: Batch) => void,
    options: BatcherOptions = {},
  ) {
    this.mayWait = options.mayWait ?? (() => false);
    this.holdMs = options.holdMs ?? HOLD_MS;
    this.urgent = options.urgent ?? (() => false);
    if (this.port) this.port.port1.onmessage = () => this.taskEnd();
  }

  push(event: eventWithTime): void {
    if (event.type === META) {
      this.flush();
      this.snap = true;
    }
    this.events.push(event);
    const mayWait = this.mayWait(event);
    if (!mayWait) this.waitable = false;
    // An event that may wait is never urgent (a sliced snapshot's later slices are large changes too).
    if (!this.soon && !this.closed && !mayWait && this.urgent(event)) {
      this.soon = true;
      queueMicrotask(() => {
        this.soon = false;
        if (!this.closed) this.flush();
      });
    }
    this.schedule();
  }

  /** What is pending goes with the next batch, without waiting (the events that may wait are over). */
  release(): void {
    this.waitable = false;
    if (this.events.length) this.schedule();
  }

  /** {@link taskEnd} runs right after the current task (once, however many events it pushes). */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.port) this.port.port2.postMessage(0);
    else setTimeout(() => this.taskEnd(), 0);
  }

  /** After the task that pushed events: they go out, unless they may wait and have not waited long. */
  private taskEnd(): void {
    this.scheduled = false;
    if (this.events.length && this.waitable && !this.snap) {
      const now = performance.now();
      this.waitingSince ??= now;
      const left = this.waitingSince + this.holdMs - now;
      if (left > 0) {
        this.holdTimer ??= setTimeout(() => this.flush(), left);
        return;
      }
    }
    this.flush();
  }

  /** Sends what is pending now. */
  flush(): void {
    this.scheduled = false;
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    this.waitingSince = undefined;
    this.waitable = true;
    if (this.events.length === 0) return;
    const batch: Batch = { seq: ++this.seq, snap: this.snap, events: this.events };
    this.events = [];
    this.snap = false;
    this.flushBatch(batch);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.holdTimer);
    this.port?.port1.close();
  }
}
