import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import {
  CloseCode,
  ErrorCode,
  type Message,
  PROTOCOL_VERSION,
  ProtocolError,
  RECORDER_SENDS,
  REPLAYER_SENDS,
  PASSPHRASE_SOCKET_AGENT,
  PASSPHRASE_SOCKET_CUSTOMER,
  type Role,
  SOCKET_PATH,
  type TokenClaims,
  isRole,
  verifyToken,
} from '@cobrowse/protocol';
import type { ResolvedOptions } from './options.js';
import { refuseUpgrade } from './refuse.js';
import { decodeHeader } from './header.js';
import { Room, type Peer } from './room.js';
import type { Rooms } from './rooms.js';
import { roomKey, validRoomId } from './core.js';
import { Counter } from './limiter.js';
import type { Recordings } from './recordings/manager.js';

/** Socket endpoints: the generic one (role from the token, optionally pinned by `?role=`) and seed 004's one per side. */
const ENDPOINTS: [prefix: string, role: Role | undefined][] = [
  [SOCKET_PATH, undefined],
  [PASSPHRASE_SOCKET_CUSTOMER, 'recorder'],
  [PASSPHRASE_SOCKET_AGENT, 'replayer'],
];

const TOKEN_REFUSALS: Record<string, [number, string]> = {
  malformed: [400, 'malformed signature'],
  'bad-signature': [401, 'invalid signature'],
  expired: [401, 'signature expired'],
  'wrong-room': [403, 'signature is for another room'],
  'wrong-role': [403, 'signature is for another role'],
  'wrong-tenant': [403, 'signature is for another tenant'],
};

const CLOSE_FOR_ERROR: Partial<Record<string, number>> = {
  [ErrorCode.UnsupportedVersion]: CloseCode.UnsupportedVersion,
  [ErrorCode.Forbidden]: CloseCode.Forbidden,
  [ErrorCode.RateLimited]: CloseCode.RateLimited,
};

const HELLO_TIMEOUT_MS = 10_000;
const HEARTBEAT_MS = 30_000;

interface Connection extends Peer {
  readonly claims: TokenClaims;
  readonly address: string;
  room: Room | undefined;
  epoch?: string;
  alive: boolean;
  /** Connection-info dialect, when the socket endpoint tells it (seed 004's own endpoints). */
  dialect?: string;
}

/** The socket side of the relay: verifies the signature before the upgrade, then runs the room protocol. */
export class Gateway {
  /** Agents' sockets: frames go out as the recorder sent them, never recompressed per agent. */
  private readonly wss: WebSocketServer;
  /**
   * Customers' sockets. Their payloads arrive compressed by the recorder and leave as they came; with
   * `compressUplink` these sockets also offer permessage-deflate (the relay inflates once and fans
   * out the recorder's frames).
   */
  private readonly recorderWss: WebSocketServer;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly idleSweep: NodeJS.Timeout;
  private readonly perAddress = new Counter();

  constructor(
    private readonly options: ResolvedOptions,
    private readonly rooms: Rooms,
    /** Session recordings (recordings/): told who joins and leaves, and what agents send. */
    private readonly recordings?: Recordings,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, perMessageDeflate: false });
    this.recorderWss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxFrameBytes,
      perMessageDeflate: options.compressUplink
        ? {
            serverNoContextTakeover: true,
            clientMaxWindowBits: 13,
            threshold: Number.MAX_SAFE_INTEGER,
            concurrencyLimit: 4,
          }
        : false,
    });
    this.heartbeat = setInterval(() => this.checkAlive(), HEARTBEAT_MS);
    this.heartbeat.unref();
    this.idleSweep = setInterval(() => this.closeIdleRooms(), Math.min(30_000, Math.max(50, options.idleMs / 2)));
    this.idleSweep.unref();
  }

  /** Rooms whose recorder has sent nothing for `idleMs` are over. */
  private closeIdleRooms(): void {
    const cutoff = Date.now() - this.options.idleMs;
    for (const room of [...this.rooms]) {
      if (room.lastActivity < cutoff && !room.empty) {
        room.end('the session was idle too long', true, CloseCode.Idle);
        this.rooms.delete(room);
      }
    }
  }

  get connections(): number {
    return this.wss.clients.size + this.recorderWss.clients.size;
  }

  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://relay');
    } catch {
      return refuseUpgrade(socket, 400, 'bad request URL');
    }
    const endpoint = ENDPOINTS.find(([prefix]) => url.pathname.startsWith(prefix));
    if (!endpoint) return refuseUpgrade(socket, 404, 'no WebSocket endpoint here');
    let roomId: string;
    try {
      roomId = decodeURIComponent(url.pathname.slice(endpoint[0].length).replace(/\/$/, ''));
    } catch {
      return refuseUpgrade(socket, 400, 'bad room id');
    }
    if (!validRoomId(roomId)) return refuseUpgrade(socket, 400, 'bad room id');
    const signature = url.searchParams.get('signature');
    if (!signature) return refuseUpgrade(socket, 401, 'missing signature');
    const queryRole = url.searchParams.get('role') ?? undefined;
    if (queryRole !== undefined && !isRole(queryRole))
      return refuseUpgrade(socket, 400, 'role must be recorder or replayer');
    if (endpoint[1] && queryRole && queryRole !== endpoint[1])
      return refuseUpgrade(socket, 403, 'signature is for another role');
    const role = endpoint[1] ?? queryRole;
    const result = await verifyToken(this.options.secret, signature, { room: roomId, role });
    if (!result.ok) {
      const [status, message] = TOKEN_REFUSALS[result.reason] ?? [401, 'invalid signature'];
      return refuseUpgrade(socket, status, message);
    }
    const limit = this.overLimit(req, result.claims);
    if (limit) return refuseUpgrade(socket, limit[0], limit[1]);
    const server = result.claims.role === 'recorder' ? this.recorderWss : this.wss;
    server.handleUpgrade(req, socket, head, (ws) =>
      this.accept(
        ws,
        result.claims,
        req.socket.remoteAddress ?? '?',
        req.socket,
        endpoint[1] ? 'passphrase' : undefined,
      ),
    );
  }

  /** Node-wide limits checked before a socket opens: per address, rooms per node, agents per room. */
  private overLimit(req: IncomingMessage, claims: TokenClaims): [number, string] | undefined {
    const { options } = this;
    if (this.perAddress.get(req.socket.remoteAddress ?? '?') >= options.maxConnectionsPerAddress)
      return [429, 'too many connections from this address'];
    const room = this.rooms.get(roomKey(claims.room, claims.tenant));
    if (!room && this.rooms.size >= options.maxRooms)
      return [503, 'this relay holds as many rooms as it may: try again later'];
    if (claims.role === 'replayer' && room && room.replayers.size >= options.maxReplayersPerRoom)
      return [429, 'this room has as many agents as it may'];
    return undefined;
  }

  /** Bytes read from customers' TCP connections (the wire, compressed): closed ones, plus open ones on demand. */
  private uplinkClosed = 0;
  private readonly uplinks = new Set<Duplex & { bytesRead: number }>();

  get uplinkBytes(): number {
    let total = this.uplinkClosed;
    for (const tcp of this.uplinks) total += tcp.bytesRead;
    return total;
  }

  private accept(socket: WebSocket, claims: TokenClaims, address: string, tcp: Duplex, dialect?: string): void {
    const conn: Connection = { socket, user: claims.user, claims, address, room: undefined, alive: true, dialect };
    this.perAddress.add(address);
    const uplink = claims.role === 'recorder' ? (tcp as Duplex & { bytesRead: number }) : undefined;
    if (uplink) this.uplinks.add(uplink);
    connections.set(socket, conn);
    const helloTimer = setTimeout(() => socket.close(CloseCode.BadMessage, 'no hello received'), HELLO_TIMEOUT_MS);
    socket.on('pong', () => (conn.alive = true));
    socket.on('error', () => socket.terminate());
    socket.on('message', (data, isBinary) => {
      // Any frame proves the peer alive: under a backlog its pong may sit behind its own data.
      conn.alive = true;
      try {
        this.onFrame(conn, toBuffer(data), isBinary, helloTimer);
      } catch (error) {
        this.fail(conn, error);
      }
    });
    socket.on('close', () => {
      clearTimeout(helloTimer);
      this.perAddress.remove(address);
      if (uplink && this.uplinks.delete(uplink)) this.uplinkClosed += uplink.bytesRead;
      this.leave(conn);
    });
  }

  private onFrame(conn: Connection, data: Buffer, binary: boolean, helloTimer: NodeJS.Timeout): void {
    const message = decodeHeader(data);
    const allowed = conn.claims.role === 'recorder' ? RECORDER_SENDS : REPLAYER_SENDS;
    if (!allowed.has(message.type)) {
      throw new ProtocolError(ErrorCode.Forbidden, `a ${conn.claims.role} may not send "${message.type}"`);
    }
    if (!conn.room && message.type !== 'hello')
      throw new ProtocolError(ErrorCode.BadField, 'the first message must be "hello"');
    // Recording: whatever an agent sends (pointer, highlight, control …) is part of the record.
    if (conn.claims.role === 'replayer' && message.type !== 'hello')
      conn.room!.tap?.agentFrame(conn.user, conn.claims.name, data, binary);
    switch (message.type) {
      case 'hello':
        if (conn.room) throw new ProtocolError(ErrorCode.BadField, '"hello" was already received');
        clearTimeout(helloTimer);
        return this.join(conn, message);
      case 'events': {
        if (message.epoch !== conn.epoch)
          throw new ProtocolError(ErrorCode.BadField, '"events" epoch differs from the hello');
        if (!conn.room!.admit(data.length))
          throw new ProtocolError(ErrorCode.RateLimited, 'the page sends faster than the relay allows');
        conn.room!.onEvents(message.epoch, message.seq, message.snap === true, data, binary);
        return;
      }
      case 'asset': {
        if (!binary) throw new ProtocolError(ErrorCode.BadField, '"asset" must be a binary frame');
        const bytes = data.length - data.indexOf(0x0a) - 1;
        if (data.indexOf(0x0a) === -1 || bytes <= 0)
          throw new ProtocolError(ErrorCode.BadField, '"asset" has no payload');
        if (!conn.room!.admit(data.length))
          throw new ProtocolError(ErrorCode.RateLimited, 'the page sends faster than the relay allows');
        conn.room!.onAsset(message.url, data);
        return;
      }
      case 'request-snapshot':
        conn.room!.requestSnapshot('agent');
        return;
      case 'recording':
        this.recordings?.request(conn.room!, conn, this.who(conn), message.on);
        return;
      case 'bye':
        return this.bye(conn, message.reason);
      case 'error':
        return;
    }
  }

  private join(conn: Connection, hello: Extract<Message, { type: 'hello' }>): void {
    const room = this.rooms.open(roomKey(conn.claims.room, conn.claims.tenant));
    conn.room = room;
    if (conn.claims.role === 'recorder') {
      if (!hello.epoch) throw new ProtocolError(ErrorCode.BadField, 'a recorder\'s "hello" needs an "epoch"');
      conn.epoch = hello.epoch;
      const previous = room.recorder as Connection | undefined;
      room.recorder = conn;
      if (previous && previous !== conn) {
        // The same recording reconnecting (its old socket not yet seen dead) is not a takeover.
        if (previous.epoch === conn.epoch)
          previous.socket.close(CloseCode.GoingAway, 'replaced by a newer connection of the same recording');
        else previous.socket.close(CloseCode.Replaced, 'another recorder took over this room');
      }
    } else {
      conn.v = hello.v;
      room.replayers.add(conn);
    }
    Room.send(conn, {
      type: 'welcome',
      // The version spoken on this socket: the lower of the peer's and ours.
      v: Math.min(hello.v, PROTOCOL_VERSION),
      roomId: conn.claims.room,
      role: conn.claims.role,
      recorder: !!room.recorder,
      replayers: room.replayers.size,
      now: Date.now(),
      ...(conn.claims.role === 'recorder' && room.seqFor(conn.epoch) !== undefined
        ? { seq: room.seqFor(conn.epoch) }
        : {}),
    });
    if (conn.claims.role === 'replayer' && !room.catchUp(conn, hello.resume)) room.requestSnapshot('join');
    room.broadcastPresence();
    this.recordings?.joined(room, conn, this.who(conn), conn.dialect ?? null);
  }

  private who(conn: Connection): { user: string; name: string; role: Role } {
    return { user: conn.user, name: conn.claims.name, role: conn.claims.role };
  }

  private bye(conn: Connection, reason: string | undefined): void {
    const room = conn.room!;
    if (conn.claims.role === 'recorder' && room.recorder === conn) {
      room.recorder = undefined;
      room.end(reason ?? 'the customer stopped sharing');
      this.rooms.delete(room);
      conn.room = undefined;
    }
    conn.socket.close(CloseCode.Normal, 'bye');
  }

  private leave(conn: Connection): void {
    const room = conn.room;
    if (!room) return;
    conn.room = undefined;
    this.recordings?.left(room, this.who(conn));
    if (room.recorder === conn) room.recorder = undefined;
    room.replayers.delete(conn);
    room.broadcastPresence();
    this.rooms.release(room);
  }

  private fail(conn: Connection, error: unknown): void {
    if (error instanceof ProtocolError) {
      Room.send(conn, { type: 'error', code: error.code, message: error.message });
      const code = CLOSE_FOR_ERROR[error.code] ?? CloseCode.BadMessage;
      conn.socket.close(code, error.message.slice(0, 120));
      return;
    }
    this.options.log(`relay: internal error on a ${conn.claims.role} socket: ${(error as Error)?.stack ?? error}`);
    conn.socket.close(CloseCode.InternalError, 'internal error');
  }

  private checkAlive(): void {
    for (const ws of [...this.wss.clients, ...this.recorderWss.clients]) {
      const conn = connections.get(ws);
      if (conn && !conn.alive) {
        ws.terminate();
        continue;
      }
      if (conn) conn.alive = false;
      ws.ping();
    }
  }

  /** Closes every socket with "going away" so clients reconnect elsewhere. */
  close(): void {
    clearInterval(this.heartbeat);
    clearInterval(this.idleSweep);
    for (const ws of [...this.wss.clients, ...this.recorderWss.clients])
      ws.close(CloseCode.GoingAway, 'relay shutting down');
    this.wss.close();
    this.recorderWss.close();
  }
}

const connections = new WeakMap<WebSocket, Connection>();

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
