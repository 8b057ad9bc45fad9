import type { Redis } from 'ioredis';
import { NODES_KEY, nodeKey } from './keys.js';

/** What a node registers about itself: where to reach it, and how loaded it is. */
export interface NodeInfo {
  readonly id: string;
  /** Base ws(s):// URL for agents (`wssUrl`). */
  readonly internalUrl: string;
  /** Base ws(s):// URL for customers (`wssUrlOut`). */
  readonly publicUrl: string;
  /** Seed 002 `sessionServerUrl` of the node, when it has one. */
  readonly serverUrl?: string;
  /** Rooms it holds and sockets it serves. */
  readonly rooms: number;
  readonly sockets: number;
  /** At `maxRooms`: takes no new rooms. */
  readonly full: boolean;
}

const MAX_INFO_BYTES = 4096;

/** A registration read back from Redis, or undefined when it is not one (never trusted blindly). */
export function parseNodeInfo(id: string, text: string | null): NodeInfo | undefined {
  if (!text || text.length > MAX_INFO_BYTES) return undefined;
  try {
    const value = JSON.parse(text) as Partial<NodeInfo>;
    const wsUrl = (u: unknown) => typeof u === 'string' && /^wss?:\/\/[^\s]+$/.test(u);
    if (value.id !== id || !wsUrl(value.internalUrl) || !wsUrl(value.publicUrl)) return undefined;
    return {
      id,
      internalUrl: value.internalUrl!,
      publicUrl: value.publicUrl!,
      ...(typeof value.serverUrl === 'string' ? { serverUrl: value.serverUrl } : {}),
      rooms: Number(value.rooms) || 0,
      sockets: Number(value.sockets) || 0,
      full: value.full === true,
    };
  } catch {
    return undefined;
  }
}

/**
 * The node registry: this node's registration (a key with a TTL of `nodeTtlMs`, renewed on every
 * heartbeat) and the current view of every live node (re-read on each heartbeat). A node that stops
 * renewing (killed, cut off) drops out when its key expires. The index of node ids is bounded: its
 * members whose key expired are pruned on every read, and the index itself has the same TTL, renewed
 * by every heartbeat of any node, so a cluster that is entirely gone leaves nothing behind.
 */
export class Registry {
  /** Live nodes as last read, this one included once registered. */
  view = new Map<string, NodeInfo>();
  /** Whether the last heartbeat registered this node (false again once it deregisters). */
  registered = false;
  private deregistered = false;

  constructor(
    private readonly redis: Redis,
    readonly selfId: string,
    private readonly ttlMs: number,
    /** This node's registration as of now (its load changes). */
    private readonly self: () => NodeInfo,
  ) {}

  /** Renews this node's registration and re-reads the view; throws when Redis does not answer. */
  async beat(): Promise<void> {
    if (this.deregistered) return;
    try {
      await this.redis
        .multi()
        .set(nodeKey(this.selfId), JSON.stringify(this.self()), 'PX', this.ttlMs)
        .sadd(NODES_KEY, this.selfId)
        // The index lives as long as some node beats: once every node is gone, it expires too.
        .pexpire(NODES_KEY, this.ttlMs)
        .exec();
      if (this.deregistered) return; // deregistered meanwhile: take it back out
      this.registered = true;
    } catch (error) {
      this.registered = false;
      throw error;
    }
    await this.read();
  }

  /** Re-reads the live nodes; forgets members whose registration expired. */
  async read(): Promise<void> {
    const ids = (await this.redis.smembers(NODES_KEY)).slice(0, 10_000);
    const texts = ids.length ? await this.redis.mget(ids.map(nodeKey)) : [];
    const view = new Map<string, NodeInfo>();
    const gone: string[] = [];
    ids.forEach((id, i) => {
      const info = parseNodeInfo(id, texts[i] ?? null);
      if (info) view.set(id, info);
      else if (texts[i] === null) gone.push(id);
    });
    if (gone.length) await this.redis.srem(NODES_KEY, ...gone);
    if (this.deregistered) view.delete(this.selfId);
    this.view = view;
  }

  /** A node's registration: from the view, else from Redis (it may have just registered). */
  async lookup(id: string): Promise<NodeInfo | undefined> {
    const known = this.view.get(id);
    if (known) return known;
    const info = parseNodeInfo(id, await this.redis.get(nodeKey(id)));
    if (info && !(this.deregistered && id === this.selfId)) this.view.set(id, info);
    return info;
  }

  /** Leaves the cluster: the registration goes now (rooms it claimed become free to take over). */
  async deregister(): Promise<void> {
    this.deregistered = true;
    this.registered = false;
    this.view.delete(this.selfId);
    await this.redis.multi().del(nodeKey(this.selfId)).srem(NODES_KEY, this.selfId).exec();
  }
}
