import type { WebSocket } from 'ws';
import { TokenBucket } from './limiter.js';
import { ASSETS_VERSION, CloseCode, encodeText, type Message } from '@cobrowse/protocol';
import { FrameCache, SlabPool } from './frame-cache.js';
import { type Outgoing, SharedFrame, SharedFrames } from './shared-frame.js';
import type { RecordingWriter } from './recordings/writer.js';
import type { Traffic } from './metrics.js';

const ACK_INTERVAL_MS = 250;
/** Distinct asset URLs remembered per room for deduplication. */
const MAX_ASSET_URLS = 10_000;

const speaksAssets = (peer: Peer) => (peer.v ?? 1) >= ASSETS_VERSION;

export interface Peer {
  readonly socket: WebSocket;
  readonly user: string;
  /** Replayers only: skipped while their socket's send buffer is over the limit; resynced from the cache after. */
  lagging?: boolean;
  /** Replayers only: protocol version of the hello (assets go to version 2 and later). */
  v?: number;
  /** Replayers only: how many of the room's stored assets this socket has been sent (in order). */
  assetsSent?: number;
}

/** Slab size of the catch-up caches: a few typical batches; a bigger batch is kept whole. */
const SLAB_BYTES = 8 * 1024;

/** Catch-up cache bytes held by all rooms of the node, against a node-wide budget. */
export class CacheBudget {
  used = 0;
  /** Bytes of assets kept by all rooms, against {@link assetLimit}. */
  assetsUsed = 0;
  /** Rooms holding (or able to hold) a cache: the budget is shared among them. */
  rooms = 0;
  /** Where the rooms' caches keep their batches (the exact bytes the recorder sent). */
  readonly pool: SlabPool;
  constructor(
    readonly limit: number,
    /** Bytes of assets all rooms together may keep (apart from the catch-up budget). */
    readonly assetLimit: number,
  ) {
    this.pool = new SlabPool(SLAB_BYTES, limit / 8);
  }
  get over(): boolean {
    return this.used > this.limit;
  }
  /** One room's fair part of the budget. */
  get share(): number {
    return this.limit / Math.max(1, this.rooms);
  }
  /** Whether `bytes` more of assets fit. */
  fitsAsset(bytes: number): boolean {
    return this.assetsUsed + bytes <= this.assetLimit;
  }
}

/** A room is asked for a checkout (fresh snapshot to restart its cache small) at most this often. */
const CHECKOUT_INTERVAL_MS = 10_000;

export interface RoomLimits {
  cacheBytes: number;
  /** Asset bytes kept per room (session) for agents who join later. */
  assetBytes: number;
  cacheBudget: CacheBudget;
  /** The node's tallies for /metrics (frames and bytes sent to agents). */
  traffic: Traffic;
  maxBufferedBytes: number;
  maxMessagesPerSecond: number;
  maxBytesPerSecond: number;
}

/**
 * A room: one recorder, any number of replayers, and the catch-up cache (the latest full snapshot
 * batch and every batch after it). Knows nothing of HTTP or tokens.
 */
export class Room {
  recorder: Peer | undefined;
  readonly replayers = new Set<Peer>();
  /** Recording the cache belongs to. */
  epoch: string | undefined;
  lastSeq = 0;
  private readonly cache: FrameCache;
  /** True when the cache starts with a full snapshot and has no gap. */
  private cacheValid = false;
  private snapshotRequested = false;
  private lastCheckout = 0;
  private disposed = false;
  private lastSnapshotRequest = 0;
  /**
   * The session's assets (images, fonts, stylesheets the recorder fetched), kept as the frames it
   * sent, in arrival order, for agents who join later. They outlive snapshots and recordings (a
   * share that moves to the next page keeps its room) and go when the room does.
   */
  private assets: Buffer[] = [];
  private assetSize = 0;
  /**
   * Assets seen, keyed by recording (epoch) and URL, stored or only forwarded: a resent asset is
   * neither stored nor forwarded twice, and no recording can replace what another stored.
   */
  private readonly assetUrls = new Set<string>();
  graceTimer: NodeJS.Timeout | undefined;
  /** The customer who holds the room (set by its first recorder): no other may record into it. */
  holder: { readonly user: string; readonly pid: string } | undefined;
  /** Sockets admitted into this room and not yet closed (counted at upgrade, before any hello). */
  tickets = 0;
  /** Of those, agents' (replayers') sockets: the agents-per-room limit counts these. */
  agentTickets = 0;
  /** Request id of the upgrade that opened the room: on the log lines about the room. */
  openedBy: string | undefined;
  /** Set while the room is recorded (recordings/manager.ts): gets the frames the room accepts. */
  tap: RecordingWriter | undefined;
  /** Last time the recorder sent or joined (ms): rooms idle too long are closed. */
  lastActivity = Date.now();
  private readonly messageRate: TokenBucket;
  private readonly byteRate: TokenBucket;

  constructor(
    readonly id: string,
    private readonly limits: RoomLimits,
  ) {
    limits.cacheBudget.rooms++;
    this.cache = new FrameCache(limits.cacheBudget.pool);
    this.messageRate = new TokenBucket(limits.maxMessagesPerSecond, 2 * limits.maxMessagesPerSecond);
    this.byteRate = new TokenBucket(limits.maxBytesPerSecond, 2 * limits.maxBytesPerSecond);
  }

  /** Whether one more recorder frame of `bytes` fits the room's rate limits. */
  admit(bytes: number): boolean {
    const now = Date.now();
    this.lastActivity = now;
    return this.messageRate.take(1, now) && this.byteRate.take(bytes, now);
  }

  /** Nobody in the room and no admitted socket on its way in. */
  get empty(): boolean {
    return !this.recorder && this.replayers.size === 0 && this.tickets <= 0;
  }

  /** Catch-up cache and stored assets. */
  get cachedBytes(): number {
    return this.cache.bytes + this.assetSize;
  }

  get assetCount(): number {
    return this.assets.length;
  }

  /** Sends a control message to one socket, ignoring sockets that are closing. */
  static send(peer: Peer | undefined, message: Message): void {
    if (peer && peer.socket.readyState === peer.socket.OPEN) peer.socket.send(encodeText(message));
  }

  presence(): Message {
    return { type: 'presence', recorder: !!this.recorder, replayers: this.replayers.size };
  }

  broadcastPresence(): void {
    const message = this.presence();
    Room.send(this.recorder, message);
    for (const peer of this.replayers) Room.send(peer, message);
  }

  /**
   * Batches accepted from the recorder's current socket read and not yet sent to the replayers:
   * more of the same read follows (see {@link onEvents}). Sent together by {@link flush}, at the
   * latest once the read is processed.
   */
  private held: SharedFrame[] = [];
  private flushQueued = false;

  /**
   * A recorder batch: cache it and forward the same bytes to every replayer. `more`: the
   * recorder's socket read holds more after this batch; the batch is then held and written to each
   * replayer together with the ones that follow it in the read (one write per replayer instead of
   * one per batch), no later than the end of that read's processing.
   */
  onEvents(epoch: string, seq: number, snap: boolean, data: Buffer, binary: boolean, more = false): void {
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      this.lastSeq = 0;
      this.dropCache();
    } else if (seq <= this.lastSeq) {
      // Resent after a reconnect, but it had arrived: never forward a batch twice.
      this.scheduleAck();
      return;
    }
    this.scheduleAck();
    this.tap?.recorderFrame(data, binary); // recording: every accepted batch, once, as received
    if (snap) {
      this.dropCache();
      this.cacheValid = true;
      this.snapshotRequested = false;
    } else if (seq !== this.lastSeq + 1) {
      // A gap the recorder did not mend with a snapshot: the cache can no longer rebuild the page.
      this.dropCache();
    }
    this.lastSeq = seq;
    if (this.cacheValid) {
      this.cache.push(seq, data, binary);
      const budget = this.limits.cacheBudget;
      budget.used += data.length;
      // Over the room's cap, or over its fair share of an exhausted node budget: ask for a fresh
      // snapshot (a checkout, at most every 10 s) so the cache restarts small; if it keeps growing,
      // let it go (late joiners then ask for a snapshot of their own).
      const overShare = this.cache.bytes > budget.share;
      if (this.cache.bytes > this.limits.cacheBytes || (budget.over && overShare)) {
        if (this.cache.bytes > 2 * this.limits.cacheBytes || (budget.used > 1.25 * budget.limit && overShare))
          this.dropCache();
        const now = Date.now();
        if (now - this.lastCheckout >= CHECKOUT_INTERVAL_MS) {
          this.lastCheckout = now;
          this.requestSnapshot('checkout');
        }
      }
    }
    if (this.replayers.size === 0) return;
    const out = new SharedFrame(data, binary);
    if (more || this.held.length > 0) {
      this.held.push(out);
      if (!more) this.flush();
      else if (!this.flushQueued) {
        this.flushQueued = true;
        // After the callback that is processing the read, before any other socket's.
        process.nextTick(flushRoom, this);
      }
      return;
    }
    for (const peer of this.replayers) this.forward(peer, out);
  }

  /** Sends the held batches (if any) to every replayer, in order, ahead of anything sent after. */
  flush(): void {
    this.flushQueued = false;
    const held = this.held;
    if (held.length === 0) return;
    this.held = [];
    const out = held.length === 1 ? held[0]! : new SharedFrames(held);
    for (const peer of this.replayers) this.forward(peer, out);
  }

  /**
   * A recorder's asset frame: stored once per recording (epoch) and URL (within the room's and the node's bounds) and
   * forwarded to the replayers that speak assets. Over the bounds it is only forwarded: agents
   * watching now get it, later ones do not.
   */
  onAsset(epoch: string, url: string, data: Buffer): void {
    this.flush();
    const key = `${epoch} ${url}`;
    if (this.assetUrls.has(key)) return;
    // Past the bound of distinct assets nothing more is taken: a later frame could not be told from a replacement.
    if (this.assetUrls.size >= MAX_ASSET_URLS) return;
    this.assetUrls.add(key);
    this.tap?.asset(data); // recording: each asset once
    const budget = this.limits.cacheBudget;
    const stored = this.assetSize + data.length <= this.limits.assetBytes && budget.fitsAsset(data.length);
    if (stored) {
      this.assets.push(data);
      this.assetSize += data.length;
      budget.assetsUsed += data.length;
    }
    const index = this.assets.length - 1;
    const out = new SharedFrame(data, true);
    for (const peer of this.replayers) {
      if (!speaksAssets(peer)) continue;
      // A peer missing earlier stored assets gets them (in order) when it is caught up.
      if (stored && (peer.assetsSent ?? 0) !== index) continue;
      this.forward(peer, out);
      if (stored && !peer.lagging) peer.assetsSent = index + 1;
    }
  }

  /** Sends a replayer the stored assets it has not had yet (before any events: they are referenced there). */
  private sendAssets(peer: Peer): void {
    if (!speaksAssets(peer)) return;
    const traffic = this.limits.traffic;
    for (let i = peer.assetsSent ?? 0; i < this.assets.length; i++) {
      peer.socket.send(this.assets[i]!, { binary: true });
      traffic.messagesOut++;
      traffic.bytesOut += this.assets[i]!.length;
    }
    peer.assetsSent = this.assets.length;
  }

  private forward(peer: Peer, out: Outgoing): void {
    const socket = peer.socket;
    if (socket.readyState !== socket.OPEN) return;
    if (peer.lagging) {
      if (socket.bufferedAmount > this.limits.maxBufferedBytes / 4) return;
      peer.lagging = false;
      // Drained: bring it back from the latest snapshot rather than from where it stalled.
      if (!this.catchUp(peer)) this.requestSnapshot('resync');
      return;
    }
    if (socket.bufferedAmount > this.limits.maxBufferedBytes) {
      peer.lagging = true;
      return;
    }
    out.sendTo(socket);
    const traffic = this.limits.traffic;
    traffic.messagesOut += out.count;
    traffic.bytesOut += out.bytes;
  }

  /**
   * Sends a joining (or resuming) replayer what it needs: the batches after `after` when the cache
   * still holds them, otherwise the whole cache from its full snapshot. Returns false when the
   * cache cannot rebuild the page (the caller then asks the recorder for a snapshot).
   */
  catchUp(peer: Peer, after?: { epoch: string; seq: number }): boolean {
    this.sendAssets(peer);
    const first = this.cache.firstSeq;
    if (!this.cacheValid || first === undefined) return false;
    let start = 0;
    if (after && after.epoch === this.epoch && after.seq >= first && after.seq <= this.lastSeq)
      start = after.seq - first + 1;
    const traffic = this.limits.traffic;
    for (const { data, binary } of this.cache.from(start)) {
      peer.socket.send(data, { binary });
      traffic.messagesOut++;
      traffic.bytesOut += data.length;
    }
    return true;
  }

  private ackTimer: NodeJS.Timeout | undefined;

  /** Acknowledges the recorder's batches, at most every {@link ACK_INTERVAL_MS}: it may then forget them. */
  private scheduleAck(): void {
    if (this.ackTimer) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      Room.send(this.recorder, { type: 'ack', seq: this.lastSeq });
    }, ACK_INTERVAL_MS);
  }

  /** What a (re)connecting recorder of `epoch` needs to know: the last batch of it the relay has. */
  seqFor(epoch: string | undefined): number | undefined {
    return epoch !== undefined && epoch === this.epoch && this.lastSeq > 0 ? this.lastSeq : undefined;
  }

  /** Asks the recorder for a fresh full snapshot, at most once a second. */
  requestSnapshot(reason: string): boolean {
    const now = Date.now();
    if (this.snapshotRequested && now - this.lastSnapshotRequest < 1000) return false;
    if (!this.recorder) return false;
    this.snapshotRequested = true;
    this.lastSnapshotRequest = now;
    Room.send(this.recorder, { type: 'request-snapshot', reason });
    return true;
  }

  private dropCache(): void {
    this.limits.cacheBudget.used -= this.cache.bytes;
    this.cache.clear();
    this.cacheValid = false;
  }

  private dropAssets(): void {
    this.limits.cacheBudget.assetsUsed -= this.assetSize;
    this.assets = [];
    this.assetSize = 0;
    this.assetUrls.clear();
  }

  dispose(): void {
    this.held = [];
    // Recording: the room is gone (its grace period ran out, or it ended), and so is its recording.
    void this.tap?.end('the room closed');
    this.tap = undefined;
    this.dropCache();
    this.dropAssets();
    if (!this.disposed) this.limits.cacheBudget.rooms--;
    this.disposed = true;
    if (this.ackTimer) clearTimeout(this.ackTimer);
    if (this.graceTimer) clearTimeout(this.graceTimer);
  }

  /** Ends the room for everyone (the customer stopped sharing); `includeRecorder` when it was ended from outside. */
  end(reason: string, includeRecorder = false, code: number = CloseCode.SessionEnded): void {
    this.flush(); // what the recorder sent before it ended goes first
    void this.tap?.end(reason); // recording: the session is over
    this.tap = undefined;
    if (includeRecorder && this.recorder) {
      Room.send(this.recorder, { type: 'bye', reason });
      this.recorder.socket.close(code, reason.slice(0, 100));
      this.recorder = undefined;
    }
    for (const peer of this.replayers) {
      Room.send(peer, { type: 'bye', reason });
      peer.socket.close(code, reason.slice(0, 100));
    }
    this.replayers.clear();
    this.dropCache();
    this.dropAssets();
  }
}

function flushRoom(room: Room): void {
  room.flush();
}
