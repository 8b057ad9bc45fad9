import type { IncomingMessage } from 'node:http';
import { type ConnectionInfo, type Role, SOCKET_PATH, signToken } from '@cobrowse/protocol';
import type { ResolvedOptions } from './options.js';
import { header } from './http-util.js';

export interface IssueRequest {
  roomId: string;
  role: Role;
  userId: string;
  userName: string;
  tenant?: string;
}

/** Base ws(s):// URL of this node as the caller reached it (Host and X-Forwarded-Proto). */
function urlFromRequest(req: IncomingMessage): string {
  const proto = (header(req, 'x-forwarded-proto') ?? '').split(',')[0]!.trim();
  const secure = proto === 'https' || proto === 'wss' || (req.socket as { encrypted?: boolean }).encrypted === true;
  const host = header(req, 'host') ?? `${req.socket.localAddress}:${req.socket.localPort}`;
  return `${secure ? 'wss' : 'ws'}://${host}`;
}

function join(base: string, roomId: string): string {
  return `${base.replace(/\/+$/, '')}${SOCKET_PATH}${encodeURIComponent(roomId)}`;
}

/**
 * The core every door calls: signs a connection token for one room and role, and names the
 * internal and external socket URLs. Doors differ only in how they read the request and shape the reply.
 */
export async function issueConnectionInfo(options: ResolvedOptions, req: IncomingMessage, ask: IssueRequest): Promise<ConnectionInfo> {
  const fromRequest = urlFromRequest(req);
  const signature = await signToken(
    options.secret,
    { room: ask.roomId, role: ask.role, user: ask.userId, name: ask.userName, ...(ask.tenant ? { tenant: ask.tenant } : {}) },
    options.tokenTtlMs,
  );
  return {
    roomId: ask.roomId,
    wssUrl: join(options.internalUrl ?? fromRequest, ask.roomId),
    wssUrlOut: join(options.publicUrl ?? fromRequest, ask.roomId),
    signature,
  };
}

/** Room ids are opaque to the relay but bounded: printable, no path tricks, at most 128 characters. */
export function validRoomId(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9._:@-]{1,128}$/.test(value) && value !== '.' && value !== '..';
}
