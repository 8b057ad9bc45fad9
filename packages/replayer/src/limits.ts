import type { eventWithTime } from '@rrweb/types';
import { type RrwebVisitor, RrwebEventType, RrwebSource, walkEvent } from '@cobrowse/protocol';

/**
 * How much of a customer's page the replay takes on, so that a hostile or broken stream cannot
 * freeze or crash the agent's tab: each bound is checked before anything of the batch reaches
 * rrweb (whose rebuild is recursive and runs in one task).
 */

const MiB = 1024 * 1024;

/** Defaults of the replayer's size options (see docs/replay-safety.md). */
export const DEFAULT_LIMITS = {
  /** Largest events frame accepted, as received (compressed or not). */
  maxFrameBytes: 16 * MiB,
  /** Largest batch once inflated (JSON text); checked while inflating, so a deflate bomb stops early. */
  maxBatchBytes: 32 * MiB,
  /** Most nodes a replayed page may have. */
  maxNodes: 100_000,
  /** Deepest nesting of a replayed page. */
  maxDepth: 1_000,
} as const;

export type Limits = { -readonly [K in keyof typeof DEFAULT_LIMITS]: number };

export function resolveLimits(options: Partial<Limits>): Limits {
  const pick = (value: number | undefined, fallback: number) =>
    typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
  return {
    maxFrameBytes: pick(options.maxFrameBytes, DEFAULT_LIMITS.maxFrameBytes),
    maxBatchBytes: pick(options.maxBatchBytes, DEFAULT_LIMITS.maxBatchBytes),
    maxNodes: pick(options.maxNodes, DEFAULT_LIMITS.maxNodes),
    maxDepth: pick(options.maxDepth, DEFAULT_LIMITS.maxDepth),
  };
}

export type TooLargeReason = 'frame-bytes' | 'batch-bytes' | 'nodes' | 'depth';

const size = (bytes: number) => (bytes >= MiB ? `${Math.round(bytes / MiB)} MiB` : `${bytes} bytes`);
const DESCRIBE: Record<TooLargeReason, (limit: number) => string> = {
  'frame-bytes': (limit) => `a frame is larger than ${size(limit)}`,
  'batch-bytes': (limit) => `a batch inflates past ${size(limit)}`,
  nodes: (limit) => `the page has more than ${limit} nodes`,
  depth: (limit) => `the page nests deeper than ${limit} levels`,
};

/** The customer's page (or what claims to be it) is past one of the {@link Limits}: it is not shown. */
export class TooLargeError extends Error {
  constructor(
    readonly reason: TooLargeReason,
    readonly limit: number,
  ) {
    super(`page too large to show: ${DESCRIBE[reason](limit)}`);
    this.name = 'TooLargeError';
  }
}

const { FullSnapshot: FULL_SNAPSHOT, IncrementalSnapshot: INCREMENTAL } = RrwebEventType;

/**
 * Checks each event's nodes against the limits before it is applied, and knows the tag of every
 * node added by events not yet applied (rrweb applies a batch a microtask after it is handed over):
 * the sanitizer judges attributes on the element they will land on.
 */
export class NodeGuard {
  /** Nodes added by events handed over but perhaps not yet applied: id → tag (undefined: not an element) and depth. */
  private pending = new Map<number, { tag: string | undefined; depth: number }>();
  private pendingNodes = 0;
  /** A full snapshot was handed over: the nodes the replay holds now are about to go. */
  private replaced = false;
  private clearScheduled = false;

  constructor(
    private readonly limits: Limits,
    /** Nodes the replay holds now. */
    private readonly liveNodes: () => number,
    /** Depth of a node in the replay now (capped just past the limit), or undefined when unknown. */
    private readonly liveDepth: (id: number) => number | undefined,
    /** Tag of a node in the replay now. */
    private readonly liveTag: (id: number) => string | undefined,
  ) {}

  /** The tag the node will have once the events handed over are applied. */
  readonly tagOf = (id: number): string | undefined => {
    const pending = this.pending.get(id);
    return pending ? pending.tag : this.liveTag(id);
  };

  /** Checks an event; throws {@link TooLargeError} when applying it would pass a limit. */
  check(event: eventWithTime): void {
    const watch = this.watch(event);
    if (!watch) return;
    walkEvent(event, watch.visitor);
    watch.done();
  }

  /**
   * The checks of one event as callbacks for a walk over it, so that the sanitizer's walk does both
   * (see sanitizeEvent's `checks`): they throw {@link TooLargeError} from inside that walk, before
   * anything of the event is applied. `done()` after the walk. Undefined: nothing to check.
   */
  watch(event: eventWithTime): { visitor: Pick<RrwebVisitor, 'node' | 'add'>; done: () => void } | undefined {
    const { maxNodes, maxDepth } = this.limits;
    this.scheduleClear();
    if (event.type === FULL_SNAPSHOT) {
      this.pending.clear();
      this.pendingNodes = 0;
      this.replaced = true;
      let nodes = 0;
      return {
        visitor: {
          node: (node, depth) => {
            if (++nodes > maxNodes) throw new TooLargeError('nodes', maxNodes);
            if (depth > maxDepth) throw new TooLargeError('depth', maxDepth);
            if (typeof node.id === 'number') this.pending.set(node.id, { tag: node.tagName?.toLowerCase(), depth });
          },
        },
        done: () => {
          this.pendingNodes = nodes;
        },
      };
    }
    if (event.type !== INCREMENTAL || (event.data as { source?: number }).source !== RrwebSource.Mutation) return;
    const base = this.pendingNodes + (this.replaced ? 0 : this.liveNodes());
    let added = 0;
    // Depth in the replay of each parent met (a framework re-rendering a list adds hundreds of nodes
    // to one parent): nothing of the event is applied during the walk, so it cannot change there.
    const liveDepths = new Map<number, number>();
    return {
      visitor: {
        add: (parentId) => {
          const pending = this.pending.get(parentId);
          if (pending) return pending.depth + 1;
          let live = liveDepths.get(parentId);
          if (live === undefined) {
            live = this.liveDepth(parentId) ?? 0;
            liveDepths.set(parentId, live);
          }
          return live + 1;
        },
        node: (node, depth) => {
          if (base + ++added > maxNodes) throw new TooLargeError('nodes', maxNodes);
          if (depth > maxDepth) throw new TooLargeError('depth', maxDepth);
          if (typeof node.id === 'number') this.pending.set(node.id, { tag: node.tagName?.toLowerCase(), depth });
        },
      },
      done: () => {
        this.pendingNodes += added;
      },
    };
  }

  /** Once the events handed over in this task are applied, the replay itself knows their nodes. */
  private scheduleClear(): void {
    if (this.clearScheduled) return;
    this.clearScheduled = true;
    setTimeout(() => {
      this.clearScheduled = false;
      this.pending.clear();
      this.pendingNodes = 0;
      this.replaced = false;
    }, 0);
  }
}
