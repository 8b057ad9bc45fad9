import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { Redis } from 'ioredis';
import { Gauge, type Registry as MetricsRegistry } from 'prom-client';
import { CloseCode, type Role } from '@cobrowse/protocol';
import type { ResolvedOptions } from '../options.js';
import type { Rooms } from '../rooms.js';
import { type Logger, roomRef } from '../log.js';
import { Refusal } from '../door.js';
import { type NodeInfo, Registry } from './registry.js';
import { Placement } from './placement.js';
import type { Candidate } from './rendezvous.js';
import { type Side, movedReason, sideOf } from './side.js';

/** Where a verified socket belongs: this node, another node (its base URL), or a refusal (status, reason). */
export type Route = 'here' | { moved: string } | [status: number, reason: string];

/** Seconds a client is told to wait when the cluster cannot place a room. */
const RETRY_AFTER_S = 2;
const UNAVAILABLE = 'the relay cluster cannot place this room right now: try again shortly';

const unavailable = () => new Refusal('unavailable', UNAVAILABLE, undefined, RETRY_AFTER_S);

/** Addresses that mean "every interface": a node cannot be reached by them. */
const WILDCARD = /^(0\.0\.0\.0|\[::\]|::)$/;

/**
 * This relay as a node of a cluster (option `redis`): it registers itself (registry.ts), places
 * rooms and renews the claims on the ones it holds (placement.ts), tells sockets that reached the
 * wrong node where their room lives (close 4014 Moved), hands its rooms over when it drains, and
 * keeps serving the rooms it holds while Redis is away. Nothing of this exists without `redis`.
 */
export class Cluster {
  readonly selfId: string;
  private redis: Redis | undefined;
  private registry: Registry | undefined;
  private placement: Placement | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private wasReady = false;
  /** After Redis came back, new rooms wait this long (held rooms are re-claimed first). */
  private settleUntil = 0;
  private draining = false;
  private self: { internalUrl: string; publicUrl: string } = { internalUrl: '', publicUrl: '' };
  /** Rooms handed to another node (room key → its id): their sockets are sent there. */
  private readonly moved = new Map<string, string>();
  /** Sockets by room key, and the side each came in by (for a later move). */
  private readonly sockets = new Map<string, Set<WebSocket>>();
  private readonly sides = new WeakMap<WebSocket, Side>();
  private readonly heartbeatMs: number;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly rooms: Rooms,
    private readonly connections: () => number,
    private readonly log: Logger,
  ) {
    this.selfId = options.nodeId;
    this.heartbeatMs = Math.max(50, Math.round(options.nodeTtlMs / 3));
    rooms.on('closed', (room) => this.moved.delete(room.id));
  }

  /** Whether the Redis link is up. */
  get up(): boolean {
    return this.redis?.status === 'ready';
  }

  /** Nodes in the current view (this one included once registered). */
  get nodes(): number {
    return this.registry?.view.size ?? 0;
  }

  /**
   * Registers this node, reachable at its configured URLs (else `listenUrl`), over the node's
   * command connection `link` (shared with the state; the relay closes it).
   */
  async start(listenUrl: string, link: () => Promise<Redis>): Promise<void> {
    const { options } = this;
    const listen = listenUrl.replace(/^http/, 'ws');
    const reachable = !WILDCARD.test(new URL(listen).hostname) ? listen : undefined;
    const internalUrl = (options.internalUrl ?? reachable ?? options.publicUrl ?? listen).replace(/\/+$/, '');
    const publicUrl = (options.publicUrl ?? reachable ?? internalUrl).replace(/\/+$/, '');
    this.self = { internalUrl, publicUrl };
    let lastError = '';
    const redis = await link();
    redis.on('error', (error: Error) => {
      if (error.message === lastError) return;
      lastError = error.message;
      this.log.warn({ component: 'cluster', err: error.message }, 'redis unreachable');
    });
    this.redis = redis;
    this.registry = new Registry(redis, this.selfId, options.nodeTtlMs, () => ({
      id: this.selfId,
      internalUrl,
      publicUrl,
      ...(options.serverUrl ? { serverUrl: options.serverUrl } : {}),
      rooms: this.rooms.size,
      sockets: this.connections(),
      full: this.rooms.size >= options.maxRooms,
    }));
    this.placement = new Placement(redis, this.selfId, Math.max(30_000, 10 * options.nodeTtlMs));
    redis.on('ready', () => {
      lastError = '';
      // Back after an outage: the holders re-claim their rooms before anyone places new ones.
      if (this.wasReady) {
        this.settleUntil = Date.now() + 2 * this.heartbeatMs;
        this.log.info({ component: 'cluster' }, 'redis reachable again');
      }
      this.wasReady = true;
      void this.tick();
    });
    // The connection may be up already (the shared state opened it): its first 'ready' was before us.
    if (redis.status === 'ready') {
      this.wasReady = true;
      void this.tick();
    }
    this.timer = setInterval(() => void this.tick(), this.heartbeatMs);
    this.timer.unref();
    // The first registration, bounded: a node whose Redis is away starts anyway, not ready.
    const deadline = Date.now() + 2000;
    while (!this.registry.registered && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  /** Why this node takes no new rooms, as far as the cluster goes (for /readyz). */
  notReady(): string | undefined {
    if (!this.up) return 'redis unreachable';
    if (!this.registry?.registered) return 'not registered in the cluster';
    if (Date.now() < this.settleUntil) return 'redis back: re-claiming rooms';
    return undefined;
  }

  /** One heartbeat: renew the registration, re-read the view, renew the claims of held rooms. */
  private async tick(): Promise<void> {
    if (this.ticking || this.draining || !this.up) {
      if (!this.up && this.registry) this.registry.registered = false;
      return;
    }
    this.ticking = true;
    try {
      const first = !this.registry!.registered;
      await this.registry!.beat();
      if (first)
        this.log.info(
          { component: 'cluster', nodeId: this.selfId, nodes: this.registry!.view.size },
          'node registered',
        );
      await this.renewHeld();
    } catch (error) {
      this.log.debug({ component: 'cluster', err: (error as Error).message }, 'heartbeat failed');
    } finally {
      this.ticking = false;
    }
  }

  /** Whether this node serves the room now, without asking Redis. */
  private holds(room: string): boolean {
    return !this.draining && this.rooms.get(room) !== undefined && !this.moved.has(room);
  }

  private candidates(): Candidate[] {
    const out: Candidate[] = [];
    for (const node of this.registry?.view.values() ?? [])
      if (!node.full && !(this.draining && node.id === this.selfId)) out.push({ id: node.id, load: node.rooms });
    return out;
  }

  /**
   * The owner of a room for connection info: this node (`self`) or another node's registration.
   * Throws a retryable {@link Refusal} (503) when the room cannot be placed (Redis away and the
   * room not held here, or no node registered).
   */
  async place(room: string): Promise<NodeInfo | 'self'> {
    const held = this.holds(room);
    if (!this.up) {
      if (held) return 'self';
      throw unavailable();
    }
    try {
      const owner = await this.ownerFor(room, held);
      if (!owner) throw unavailable();
      if (owner === this.selfId && !this.draining) return 'self';
      const node = await this.registry!.lookup(owner);
      if (!node) throw unavailable();
      return node;
    } catch (error) {
      if (held) return 'self';
      if (error instanceof Refusal) throw error;
      throw unavailable();
    }
  }

  /** A held room is (re)claimed for this node; another room's claim is read, or placed if it has none. */
  private async ownerFor(room: string, claimHere: boolean): Promise<string | undefined> {
    const placement = this.placement!;
    if (claimHere) {
      const owner = await placement.claim(room, this.selfId);
      if (owner) return owner;
    }
    if (Date.now() < this.settleUntil) return (await placement.owner(room)) ?? undefined;
    return placement.place(room, this.candidates());
  }

  /** Whether a room is going on somewhere in the cluster (claimed by a live node). */
  async claimed(room: string): Promise<boolean> {
    if (!this.up) throw unavailable();
    try {
      return (await this.placement!.owner(room)) !== null;
    } catch {
      throw unavailable();
    }
  }

  /** Where a socket whose token was verified belongs. Held rooms are served without asking Redis. */
  async route(room: string, req: IncomingMessage, role: Role): Promise<Route> {
    if (this.holds(room)) return 'here';
    const refusal: Route = [503, UNAVAILABLE];
    if (!this.up) return refusal;
    try {
      const full = this.rooms.size >= this.options.maxRooms;
      const owner = await this.ownerFor(room, !this.draining && !full);
      if (!owner) return refusal;
      if (owner === this.selfId && !this.draining) {
        this.moved.delete(room);
        return 'here';
      }
      const node = await this.registry!.lookup(owner);
      const url = node && movedReason(node, sideOf(req, role, this.self));
      return url ? { moved: url } : refusal;
    } catch {
      return refusal;
    }
  }

  /** A socket was accepted for a room: remembered by room and side, for a later move. */
  accepted(ws: WebSocket, room: string, req: IncomingMessage, role: Role): void {
    this.sides.set(ws, sideOf(req, role, this.self));
    let set = this.sockets.get(room);
    if (!set) this.sockets.set(room, (set = new Set()));
    set.add(ws);
    ws.once('close', () => {
      set.delete(ws);
      if (set.size === 0 && this.sockets.get(room) === set) this.sockets.delete(room);
    });
  }

  /** Sends a room's sockets to its new owner (close 4014 with its URL), or away (1001) when there is none to name. */
  private moveRoom(room: string, node: NodeInfo | undefined): void {
    this.moved.set(room, node?.id ?? '');
    for (const ws of this.sockets.get(room) ?? []) {
      const url = node && movedReason(node, this.sides.get(ws) ?? 'internal');
      if (url) ws.close(CloseCode.Moved, url);
      else ws.close(CloseCode.GoingAway, 'this relay node is leaving: reconnect');
    }
  }

  /** Renews the claims of held rooms; a room a live node took meanwhile (a split after an outage) moves there. */
  private async renewHeld(): Promise<void> {
    const held: string[] = [];
    for (const room of this.rooms) if (!this.moved.has(room.id)) held.push(room.id);
    if (held.length === 0) return;
    const lost = await this.placement!.renew(held);
    for (const [room, owner] of lost) {
      const node = await this.registry!.lookup(owner).catch(() => undefined);
      this.log.warn({ component: 'cluster', roomId: roomRef(room), owner }, 'room claimed by another node: moving');
      this.moveRoom(room, node);
    }
  }

  /**
   * Drain (SIGTERM): leave the registry, give up the claims, send every room's sockets to the node
   * that takes the room over (or away, to fetch fresh connection info), and wait until they have
   * gone, at most `timeoutMs`.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    clearInterval(this.timer);
    const rooms = new Set<string>(this.sockets.keys());
    for (const room of this.rooms) rooms.add(room.id);
    if (this.up) {
      try {
        await this.registry!.deregister();
        await this.placement!.release([...rooms]);
      } catch (error) {
        this.log.warn({ component: 'cluster', err: (error as Error).message }, 'could not leave the registry');
      }
    }
    for (const room of rooms) {
      let node: NodeInfo | undefined;
      if (this.up) {
        try {
          const owner = await this.placement!.place(room, this.candidates());
          if (owner && owner !== this.selfId) node = await this.registry!.lookup(owner);
        } catch {
          node = undefined;
        }
      }
      this.moveRoom(room, node);
    }
    this.log.info({ component: 'cluster', rooms: rooms.size }, 'draining: rooms handed over');
    const deadline = Date.now() + timeoutMs;
    while (this.connections() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  }

  /** Stops the heartbeats (after a drain, or on close without one); the relay closes the Redis link. */
  stop(): void {
    clearInterval(this.timer);
  }

  /** Cluster gauges for /metrics. */
  metrics(registry: MetricsRegistry): void {
    const up = () => this.up;
    const nodes = () => this.nodes;
    new Gauge({
      name: 'cobrowse_redis_up',
      help: "Whether this node's Redis link is up (1) or not (0).",
      registers: [registry],
      collect() {
        this.set(up() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'cobrowse_cluster_nodes',
      help: 'Live relay nodes this node sees in the cluster (itself included).',
      registers: [registry],
      collect() {
        this.set(nodes());
      },
    });
  }
}
