import type { IncomingMessage } from 'node:http';
import { type ConnectionInfo, type Role, SOCKET_PATH, signToken } from '@cobrowse/protocol';
import type { ResolvedOptions } from './options.js';
import { header } from './http-util.js';
import { Rooms } from './rooms.js';
import { CacheBudget } from './room.js';

export interface IssueRequest {
  roomId: string;
  role: Role;
  userId: string;
  userName: string;
  /** Tenant space: rooms of different tenants never meet, even with the same id. */
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

/** Key of a room in the registry: tenants get their own namespace. */
export function roomKey(roomId: string, tenant?: string): string {
  return tenant ? `${tenant}/${roomId}` : roomId;
}

/** Base ws(s):// URL of this node as the caller reached it (Host and X-Forwarded-Proto). */
export function urlFromRequest(req: IncomingMessage): string {
  const proto = (header(req, 'x-forwarded-proto') ?? '').split(',')[0]!.trim();
  const secure = proto === 'https' || proto === 'wss' || (req.socket as { encrypted?: boolean }).encrypted === true;
  const host = header(req, 'host') ?? `${req.socket.localAddress}:${req.socket.localPort}`;
  return `${secure ? 'wss' : 'ws'}://${host}`;
}

/**
 * The one core every door opens onto: rooms, roles and signed connection tokens. Doors differ only
 * in how they read a request and shape the reply.
 */
export class Core {
  readonly rooms: Rooms;
  readonly cacheBudget: CacheBudget;

  constructor(readonly options: ResolvedOptions) {
    this.cacheBudget = new CacheBudget(options.cacheBudgetBytes, options.assetBudgetBytes);
    this.rooms = new Rooms(
      {
        cacheBytes: options.cacheBytes,
        assetBytes: options.assetBytes,
        cacheBudget: this.cacheBudget,
        maxBufferedBytes: options.maxBufferedBytes,
        maxMessagesPerSecond: options.maxMessagesPerSecond,
        maxBytesPerSecond: options.maxBytesPerSecond,
      },
      options.roomGraceMs,
    );
  }

  /** Base URLs handed out: internal (agents) and external (customers). */
  baseUrls(req: IncomingMessage): { internal: string; external: string } {
    const fromRequest = urlFromRequest(req);
    return {
      internal: (this.options.internalUrl ?? fromRequest).replace(/\/+$/, ''),
      external: (this.options.publicUrl ?? fromRequest).replace(/\/+$/, ''),
    };
  }

  /** Signs a connection token for one room and role, and names the socket URLs. */
  async issue(req: IncomingMessage, ask: IssueRequest): Promise<ConnectionInfo & { expiresAt: number }> {
    const expiresAt = Date.now() + this.options.tokenTtlMs;
    const signature = await signToken(this.options.secret, {
      room: ask.roomId,
      role: ask.role,
      user: ask.userId,
      name: ask.userName,
      exp: expiresAt,
      ...(ask.tenant ? { tenant: ask.tenant } : {}),
    });
    const { internal, external } = this.baseUrls(req);
    const path = `${ask.socketPath ?? SOCKET_PATH}${encodeURIComponent(ask.roomId)}`;
    return { roomId: ask.roomId, wssUrl: internal + path, wssUrlOut: external + path, signature, expiresAt };
  }

  /** Whether a room is going on (someone connected, or within its grace period). */
  roomLive(roomId: string, tenant?: string): boolean {
    return this.rooms.get(roomKey(roomId, tenant)) !== undefined;
  }

  /** Whether the room's customer is connected now. */
  recorderConnected(roomId: string, tenant?: string): boolean {
    return this.rooms.get(roomKey(roomId, tenant))?.recorder !== undefined;
  }

  /** Ends a room for everyone (a REST stop/logout), if it exists. */
  endRoom(roomId: string, reason: string, tenant?: string): void {
    const room = this.rooms.get(roomKey(roomId, tenant));
    if (!room) return;
    room.end(reason, true);
    this.rooms.delete(room);
  }
}
