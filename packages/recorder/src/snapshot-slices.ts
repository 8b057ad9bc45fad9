import { RrwebEventType, RrwebSource, markNestedAdds } from '@cobrowse/protocol';

/**
 * The full snapshot in time slices. rrweb serialises the whole document in one synchronous walk
 * (150–330 ms on a 10,000–20,000-node page: a long task on the customer's main thread). With the
 * hooks that build/rrweb-sliced-snapshot.ts adds to rrweb's record(), its walk stops once it has
 * run for {@link SNAPSHOT_SLICE_MS}: the full snapshot holds what was serialised by then (the head
 * always in full), and the elements whose children were left out are queued. Later tasks, each at
 * most {@link STREAM_SLICE_MS} long, serialise those children (the same serialiser, options and
 * node mirror as rrweb's) and emit them as rrweb "add" mutations whose adds carry whole subtrees
 * (nested adds, marked as such: see the protocol's nested-adds.ts; consumers expand them for rrweb's
 * replayer, which builds each add without its children). One add per subtree instead of one per node
 * keeps the slices' JSON about the size of rrweb's own snapshot.
 *
 * Why the page may change meanwhile: rrweb's own mutation observer keeps recording, and it ignores
 * changes under nodes that are not in the mirror yet (no id: it drops adds into them, and text and
 * attribute changes of them). Between two tasks rrweb has emitted every change the page made, so
 * each slice starts from an agent DOM equal to the page's DOM restricted to the mirrored nodes, and
 * serialises unmirrored nodes as they are now. A slice adds, for each queued element still on the
 * agent's side, every child the agent does not have, from the last child back, each add naming the
 * next sibling the agent already has. Queued elements that were removed meanwhile are skipped (rrweb
 * sent their removal; if they come back, rrweb's add carries their whole subtree).
 *
 * A new full snapshot (reconnect, agent request, checkout) supersedes the stream of the previous
 * one; mirror entries from before it no longer count as "the agent has it".
 */
export const SNAPSHOT_SLICE_MS = 12;
export const STREAM_SLICE_MS = 16;

/** The events of a sliced snapshot (its first part and the rest): the sender compresses them off the main thread, whatever their size. */
const streamed = new WeakSet<object>();
export const isStreamed = (event: object): boolean => streamed.has(event);
/**
 * The slices after a snapshot's first one: they may wait a little for each other (see the Batcher),
 * while the first goes at once (it completes the end of the page, where an agent's view of it ends).
 */
const later = new WeakSet<object>();
export const isLaterSlice = (event: object): boolean => later.has(event);

/** What build/rrweb-sliced-snapshot.ts adds to rrweb's `record` (absent from an unpatched rrweb). */
export interface SliceHooks {
  defer(fn: ((parent: Node) => boolean) | null): void;
  serialize(node: Node): Serialized | null;
  emit(event: unknown): void;
}

export interface SliceMirror {
  getId(node: Node | undefined | null): number;
  getNode(id: number): Node | null;
  getMeta(node: Node): object | null;
  readonly idNodeMap: Map<number, Node>;
}

interface Serialized {
  id: number;
  childNodes?: Serialized[];
}

interface Add {
  parentId: number;
  nextId: number | null;
  node: Serialized;
}

/** Elements whose children always go with them (their text is their content, or they are not in the body). */
const WHOLE = new Set(['STYLE', 'SCRIPT', 'TEXTAREA', 'TITLE', 'NOSCRIPT', 'TEMPLATE']);

export class SnapshotSlices {
  /** Elements some of whose children the agent does not have yet; the last is sent first. */
  private queue: Node[] = [];
  /** End of the running slice (performance.now()), 0 outside slices. */
  private until = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private asked = 0;
  /** Slices emitted since the latest full snapshot. */
  private slicesSent = 0;
  /** Mirror entries from before the latest full snapshot. */
  private old = new WeakSet<object>();

  constructor(
    private readonly hooks: SliceHooks,
    private readonly mirror: SliceMirror,
    private readonly onError: (error: unknown) => void,
    /** The whole page has been sent (what refers to nodes by id can say so again). */
    private readonly onStreamed: () => void,
    private readonly sliceMs = { snapshot: SNAPSHOT_SLICE_MS, stream: STREAM_SLICE_MS },
  ) {
    hooks.defer(this.cut);
  }

  /** Whether part of the latest full snapshot is still to be sent. */
  get streaming(): boolean {
    return this.queue.length > 0;
  }

  /** rrweb is about to walk the document for a full snapshot (it has just emitted its Meta event). */
  snapshotStarts(): void {
    this.queue = [];
    this.slicesSent = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
    // What was serialised before this snapshot says nothing about what the agent's new document
    // holds: those entries (rrweb's meta objects, replaced when a node is serialised again) are old.
    // Ids stay as they are (focus, canvases, assets and agent tools refer to nodes by id).
    const old = new WeakSet<object>();
    for (const node of this.mirror.idNodeMap.values()) {
      const meta = this.mirror.getMeta(node);
      if (meta) old.add(meta);
    }
    this.old = old;
    this.until = performance.now() + this.sliceMs.snapshot;
  }

  /** rrweb has emitted the full snapshot: what its walk left out follows in slices. */
  snapshotTaken(event: object): void {
    this.until = 0;
    if (this.queue.length) streamed.add(event);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.queue = [];
    this.until = 0;
    clearTimeout(this.timer);
    this.hooks.defer(null);
  }

  /** rrweb asks before each child of `parent`: true leaves the rest of its children for later. */
  private readonly cut = (parent: Node): boolean => {
    // The clock is read every 16th child: reading it costs as much as a small node's serialisation.
    if (!this.until || (++this.asked & 15) !== 0 || performance.now() < this.until) return false;
    if (parent.nodeType !== 1 || WHOLE.has(parent.nodeName) || !document.body?.contains(parent)) return false;
    this.queue.push(parent);
    return true;
  };

  private schedule(): void {
    if (this.queue.length && !this.timer && !this.stopped) this.timer = setTimeout(this.slice, 0);
  }

  /** The agent has this node (in the mirror since the latest full snapshot, and not removed since). */
  private has(node: Node): boolean {
    const id = this.mirror.getId(node);
    return id > 0 && this.mirror.getNode(id) === node && !this.old.has(this.mirror.getMeta(node)!);
  }

  private readonly slice = (): void => {
    this.timer = undefined;
    const adds: Add[] = [];
    this.until = performance.now() + this.sliceMs.stream;
    try {
      while (this.queue.length && performance.now() < this.until) this.fill(this.queue.pop()!, adds);
    } catch (error) {
      // Never into the page: what could not be sent is mended by the next full snapshot.
      this.queue = [];
      this.onError(error);
    } finally {
      this.until = 0;
    }
    if (adds.length) {
      const event = {
        type: RrwebEventType.IncrementalSnapshot,
        data: markNestedAdds({ source: RrwebSource.Mutation, texts: [], attributes: [], removes: [], adds }),
      };
      streamed.add(event);
      if (this.slicesSent++ > 0) later.add(event);
      this.hooks.emit(event);
    }
    if (this.queue.length) this.schedule();
    else if (!this.stopped) this.onStreamed();
  };

  /** Adds the children of `parent` the agent lacks, last first; requeues `parent` when the slice ends first. */
  private fill(parent: Node, adds: Add[]): void {
    if (!parent.isConnected || !this.has(parent)) return;
    const parentId = this.mirror.getId(parent);
    let next: Node | null = null;
    for (let child = parent.lastChild; child; child = child.previousSibling) {
      if (this.has(child)) {
        next = child;
        continue;
      }
      if (performance.now() >= this.until) {
        this.queue.push(parent);
        return;
      }
      const node = this.hooks.serialize(child);
      if (!node || node.id <= 0) continue;
      adds.push({ parentId, nextId: next ? this.mirror.getId(next) : null, node });
      next = child;
    }
  }
}
