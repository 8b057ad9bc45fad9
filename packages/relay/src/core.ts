import type { IncomingMessage } from 'node:http';
import { type ConnectionInfo, type Role, SOCKET_PATH, signToken } from '@cobrowse/protocol';
import type { Redis } from 'ioredis';
import type { ResolvedOptions } from './options.js';
import { Scope } from './scope.js';
import { header } from './http-util.js';
import { Rooms, roomKey } from './rooms.js';
import { noteRoom } from './log.js';
import { CacheBudget } from './room.js';
import { type SharedState, createState } from './state/index.js';

/** Room scopes live in scope.ts (the state layer reads them too); doors import them from here. */
export { Scope };
import { Traffic } from './metrics.js';

export interface IssueRequest {
  /** Scope of the room (see {@link Scope}): rooms belong to the dialect (and tenant) that opened them. */
  scope: string;
  roomId: string;
  role: Role;
  userId: string;
  userName: string;
  /** Stable id of the credential the caller presented: a room's customer is recognised by it and its user id. */
  principalId: string;
  /** Tenant space, carried in the token for clients that read it. */
  tenant?: string;
  /** Socket path prefix for this role (default `/ws/cobrowse/`); the room id follows. */
  socketPath?: string;
}

/** Room ids are opaque to the relay but bounded: printable, no path tricks, at most 128 characters. */
export function validRoomId(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9._:@-]{1,128}$/.test(value) && value !== '.' && value !== '..';
}

/** Tenant space ids follow the same rule. */
export const validTenant = validRoomId;

/** Base ws(s):// URL of this node as the caller reached it (Host and X-Forwarded-Proto): `--dev` only. */
export function urlFromRequest(req: IncomingMessage): string {
  const proto = (header(req, 'x-forwarded-proto') ?? '').split(',')[0]!.trim();
  const secure = proto === 'https' || proto === 'wss' || (req.socket as { encrypted?: boolean }).encrypted === true;
  const host = header(req, 'host') ?? `${req.socket.localAddress}:${req.socket.localPort}`;
  return `${secure ? 'wss' : 'ws'}://${host}`;
}

/** Base ws:// URL of the socket a request arrived on (the relay's own listen address, never the Host header). */
export function urlFromListener(req: IncomingMessage): string {
  const address = req.socket.localAddress ?? '127.0.0.1';
  const host = address.includes(':') ? `[${address}]` : address;
  return `ws://${host}:${req.socket.localPort}`;
}

/**
 * The one core every door opens onto: rooms, roles and signed connection tokens. Doors differ only
 * in how they read a request and shape the reply.
 */
export class Core {
  readonly rooms: Rooms;
  readonly cacheBudget: CacheBudget;
  /** Frames and bytes in and out, refusals, fan-out times: read by /metrics. */
  readonly traffic = new Traffic();
  /** What the doors keep (sessions, passphrases, limits, ended rooms): in memory, or in Redis for a cluster (state/). */
  readonly state: SharedState;
  /** Per-address limits the doors share (429 with `Retry-After`); across the cluster with `redis`. */
  readonly limits: SharedState['limits'];
  /** Room placement of a cluster (option `redis`); undefined on a single process. */
  cluster: ClusterPlacement | undefined;

  /**
   * `onStateError`: told when shared state (Redis) fails, for the log. `redisLink`: a cluster node's
   * one command connection to Redis (with `redis`), which the shared state uses.
   */
  constructor(
    readonly options: ResolvedOptions,
    onStateError: (error: Error) => void = () => undefined,
    redisLink?: () => Promise<Redis>,
  ) {
    this.cacheBudget = new CacheBudget(options.cacheBudgetBytes, options.assetBudgetBytes);
    this.rooms = new Rooms(
      {
        cacheBytes: options.cacheBytes,
        assetBytes: options.assetBytes,
        cacheBudget: this.cacheBudget,
        traffic: this.traffic,
        maxBufferedBytes: options.maxBufferedBytes,
        maxMessagesPerSecond: options.maxMessagesPerSecond,
        maxBytesPerSecond: options.maxBytesPerSecond,
      },
      {
        graceMs: options.roomGraceMs,
        tokenTtlMs: options.tokenTtlMs,
        maxRooms: options.maxRooms,
        maxReplayersPerRoom: options.maxReplayersPerRoom,
        maxConnectionsPerAddress: options.maxConnectionsPerAddress,
        maxSocketsAhead: options.maxSocketsAhead,
        idleMs: options.idleMs,
      },
    );
    this.state = createState(options, this.rooms, onStateError, redisLink);
    this.rooms.shared = this.state.endings;
    this.limits = this.state.limits;
  }

  /** Lets go of shared state (the Redis connections). */
  close(): Promise<void> {
    return this.state.close();
  }

  /**
   * Base URLs handed out: internal (agents) and external (customers). Configured URLs first; else
   * the address the request arrived on; the request's Host header only under `--dev`.
   */
  baseUrls(req: IncomingMessage): { internal: string; external: string } {
    const { options } = this;
    const fallback = options.dev ? urlFromRequest(req) : urlFromListener(req);
    return {
      internal: (options.internalUrl ?? fallback).replace(/\/+$/, ''),
      external: (options.publicUrl ?? fallback).replace(/\/+$/, ''),
    };
  }

  /** Signs a connection token for one room and role, and names the socket URLs (of the room's node, in a cluster). */
  async issue(req: IncomingMessage, ask: IssueRequest): Promise<ConnectionInfo & { expiresAt: number }> {
    return (await this.issueAt(req, ask)).info;
  }

  /** {@link issue}, and the node it names: doors that name a node in other fields too (seeds 002 and 003) read it. */
  async issueAt(
    req: IncomingMessage,
    ask: IssueRequest,
  ): Promise<{ info: ConnectionInfo & { expiresAt: number }; owner: Owner }> {
    const now = Date.now();
    const expiresAt = now + this.options.tokenTtlMs;
    const claims = {
      room: ask.roomId,
      role: ask.role,
      user: ask.userId,
      name: ask.userName,
      exp: expiresAt,
      ...(ask.tenant ? { tenant: ask.tenant } : {}),
      ns: ask.scope,
      pid: ask.principalId,
      iat: now,
    };
    noteRoom(req, roomKey(ask.scope, ask.roomId)); // for the request's log line
    const owner = await this.locate(req, ask.scope, ask.roomId);
    const signature = await signToken(this.options.secret, claims);
    const path = `${ask.socketPath ?? SOCKET_PATH}${encodeURIComponent(ask.roomId)}`;
    const info = {
      roomId: ask.roomId,
      wssUrl: owner.internal + path,
      wssUrlOut: owner.external + path,
      signature,
      expiresAt,
    };
    return { info, owner };
  }

  /**
   * The node a room lives on: this one on a single process; in a cluster the room's owner, placed
   * now if the room is new. Throws a retryable refusal (503) when a cluster cannot place it.
   */
  async locate(req: IncomingMessage, scope: string, roomId: string): Promise<Owner> {
    const placed = this.cluster ? await this.cluster.place(roomKey(scope, roomId)) : 'self';
    if (placed === 'self') {
      const { internal, external } = this.baseUrls(req);
      const serverName = this.cluster ? this.options.nodeId : this.options.serverName;
      return { internal, external, serverName, serverUrl: this.options.serverUrl };
    }
    return {
      internal: placed.internalUrl,
      external: placed.publicUrl,
      serverName: placed.id,
      serverUrl: placed.serverUrl,
    };
  }

  /** Whether a room is going on: here, or (in a cluster) claimed by a live node. */
  async roomLive(scope: string, roomId: string): Promise<boolean> {
    if (this.rooms.live(scope, roomId)) return true;
    return this.cluster ? this.cluster.claimed(roomKey(scope, roomId)) : false;
  }
}

/** The node a room lives on, as connection info names it. */
export interface Owner {
  /** Base ws(s):// URLs for agents (`wssUrl`) and customers (`wssUrlOut`). */
  readonly internal: string;
  readonly external: string;
  /** Seed 002 `sessionServerName` and sticky cookie: `serverName` on one process, the owner's node id in a cluster. */
  readonly serverName: string;
  /** Seed 002 `sessionServerUrl` of the owner, when it has one. */
  readonly serverUrl?: string;
}

/** What Core asks of a cluster (cluster/cluster.ts); absent on a single process. */
export interface ClusterPlacement {
  place(room: string): Promise<{ id: string; internalUrl: string; publicUrl: string; serverUrl?: string } | 'self'>;
  claimed(room: string): Promise<boolean>;
}
