import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import {
  AHEAD_PARAM,
  CloseCode,
  ErrorCode,
  HELLO_PARAM,
  type Hello,
  type Message,
  ProtocolError,
  RECORDER_SENDS,
  REPLAYER_SENDS,
  PASSPHRASE_SOCKET_AGENT,
  PASSPHRASE_SOCKET_CUSTOMER,
  type Role,
  SOCKET_PATH,
  SUPPORTED_VERSIONS,
  encodeText,
  isRole,
  validateMessage,
  verifyToken,
} from '@cobrowse/protocol';
import type { ResolvedOptions } from './options.js';
import { refuseUpgrade as refuse } from './refuse.js';
import { originAllowed } from './cors.js';
import { decodeHeader } from './header.js';
import { Room } from './room.js';
import { type AheadTicket, type Member, type RelayClaims, type Rooms, type Ticket, roomKey, scopeOf } from './rooms.js';
import { validRoomId } from './core.js';
import { clientAddress } from './client-address.js';
import * as control from './control.js';
import { TokenBucket } from './limiter.js';
import type { Recordings } from './recordings/manager.js';
import type { Traffic } from './metrics.js';
import { type Logger, roomRef } from './log.js';
import { MAX_AGENT_RECORD_HEADER } from './recordings/reader.js';

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

/**
 * A socket opened ahead is refused at its hello, open already: the close code for what an upgrade
 * would have answered. Those that are not final make the SDK fetch fresh connection info and open
 * a socket as usual (which is then refused, or not, as any is).
 */
function closeForStatus(status: number): number {
  if (status === 410) return CloseCode.SessionEnded;
  if (status === 429) return CloseCode.RateLimited;
  if (status === 503) return CloseCode.TryAgainLater;
  return CloseCode.Forbidden;
}

const CLOSE_FOR_ERROR: Partial<Record<string, number>> = {
  [ErrorCode.UnsupportedVersion]: CloseCode.UnsupportedVersion,
  [ErrorCode.Forbidden]: CloseCode.Forbidden,
  [ErrorCode.RateLimited]: CloseCode.RateLimited,
};

/** How long a refused socket opened ahead has to close before it is cut off, ms. */
const AHEAD_CLOSE_MS = 1000;

/**
 * Whether a socket opened ahead may come from this request's Origin: none (not a browser), one the
 * relay allows (`corsOrigins`, any under `dev`), or the relay's own (a console it serves). Other
 * pages an agent visits cannot hold the agent's address's places with them.
 */
export function aheadOrigin(options: ResolvedOptions, req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || originAllowed(options, origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** A customer's socket says hello at once; an agent's may wait (agentHelloTimeoutMs: a prepared view's socket, opened ahead). */
const HELLO_TIMEOUT_MS = 10_000;
const HEARTBEAT_MS = 30_000;

interface Connection extends Member {
  readonly ticket: Ticket;
  /** Whether its hello arrived (it may since have been refused or replaced: then `room` is unset). */
  hello: boolean;
  alive: boolean;
  /** When the socket's receiver was first seen holding an unfinished message (0 = not). */
  partialSince: number;
  /** Lines about this socket: its upgrade's request id, its room and role. */
  readonly log: Logger;
  /** A replayer's hello said in its socket URL; `echoed` once the same hello, sent on open, was taken as said. */
  early?: { hello: Hello; echoed: boolean };
}

/** The parts of ws's receiver that tell whether a message is half-received (read by a periodic sweep only). */
interface ReceiverState {
  _fragments?: unknown[];
  _bufferedBytes?: number;
}

/**
 * A cluster's say on where a verified socket belongs (cluster/cluster.ts): `here`, another node
 * (`moved`: its base URL, the close reason of 4014), or a refusal. Absent on a single process.
 */
export interface SocketRouter {
  route(room: string, req: IncomingMessage, role: Role): Promise<'here' | { moved: string } | [number, string]>;
  /** A socket was accepted for its room (a room that moves later sends its sockets along). */
  accepted(ws: WebSocket, room: string, req: IncomingMessage, role: Role): void;
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
  private readonly frameSweep: NodeJS.Timeout;
  /** Set in a cluster: sockets for rooms of other nodes are sent there. */
  cluster: SocketRouter | undefined;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly rooms: Rooms,
    /** Frames, bytes and refusals for /metrics. */
    private readonly traffic: Traffic,
    private readonly log: Logger,
    /** Session recordings (recordings/): told who joins and leaves, and what agents send. */
    private readonly recordings?: Recordings,
  ) {
    rooms.onRefusal = (code) => traffic.refused('socket', code);
    // A member who leaves ends its remote control and hides its pointer (control.ts), and the
    // recording notes it.
    rooms.on('left', (room, member) => {
      control.peerLeft(room, member, member.claims);
      this.recordings?.left(room, this.who(member as Connection));
    });
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxAgentFrameBytes,
      perMessageDeflate: false,
    });
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
    this.idleSweep = setInterval(() => this.rooms.sweep(), Math.min(30_000, Math.max(50, options.idleMs / 2)));
    this.idleSweep.unref();
    this.frameSweep = setInterval(
      () => this.cutUnfinishedMessages(),
      Math.min(5_000, Math.max(50, options.frameTimeoutMs / 3)),
    );
    this.frameSweep.unref();
  }

  /**
   * A message left unfinished (fragments never completed, or a frame's bytes trickling in) for
   * `frameTimeoutMs` closes its socket: memory held for half-received messages is bounded in time
   * as well as by `maxPayload`. Runs on a timer, never per frame.
   */
  private cutUnfinishedMessages(): void {
    const now = Date.now();
    for (const ws of [...this.wss.clients, ...this.recorderWss.clients]) {
      const conn = connections.get(ws);
      if (!conn) continue;
      const receiver = (ws as unknown as { _receiver?: ReceiverState })._receiver;
      const partial = !!receiver && ((receiver._fragments?.length ?? 0) > 0 || (receiver._bufferedBytes ?? 0) > 0);
      if (!partial) conn.partialSince = 0;
      else if (!conn.partialSince) conn.partialSince = now;
      else if (now - conn.partialSince >= this.options.frameTimeoutMs) {
        this.traffic.refused('socket', 1006);
        conn.log.info('socket cut off: a message was left unfinished too long');
        ws.terminate();
      }
    }
  }

  get connections(): number {
    return this.wss.clients.size + this.recorderWss.clients.size;
  }

  /** Open sockets by role. */
  sockets(): { recorder: number; replayer: number } {
    return { recorder: this.recorderWss.clients.size, replayer: this.wss.clients.size };
  }

  /** `reqId`: the upgrade request's id, on every line logged about the socket. */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, reqId: string): Promise<void> {
    socket.on('error', () => socket.destroy());
    const refuseUpgrade = (target: Duplex, status: number, message: string) => {
      this.traffic.refused('upgrade', status);
      this.log.info({ reqId, status, reason: message }, 'socket refused');
      refuse(target, status, message);
    };
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://relay');
    } catch {
      return refuseUpgrade(socket, 400, 'bad request URL');
    }
    const endpoint = ENDPOINTS.find(([prefix]) => url.pathname.startsWith(prefix));
    if (!endpoint) return refuseUpgrade(socket, 404, 'no WebSocket endpoint here');
    if (url.searchParams.has(AHEAD_PARAM)) {
      if (!this.options.socketsAhead) return refuseUpgrade(socket, 404, 'no sockets opened ahead on this relay');
      if (this.aheadClosed) return refuseUpgrade(socket, 503, 'this relay is leaving: ask for connection info');
      if (!aheadOrigin(this.options, req)) return refuseUpgrade(socket, 403, 'origin not allowed');
      const role = url.searchParams.get('role');
      if (
        url.pathname !== SOCKET_PATH ||
        url.searchParams.get(AHEAD_PARAM) !== '1' ||
        url.searchParams.has('signature') ||
        url.searchParams.has(HELLO_PARAM) ||
        (role !== null && role !== 'replayer')
      )
        return refuseUpgrade(
          socket,
          400,
          `a socket opened ahead is ${SOCKET_PATH}?${AHEAD_PARAM}=1 for an agent: its hello names the room and carries the signature`,
        );
      const ahead = this.rooms.admitAhead(clientAddress(this.options, req));
      if (Array.isArray(ahead)) return refuseUpgrade(socket, ahead[0], ahead[1]);
      return this.upgradeAhead(req, socket, head, reqId, ahead);
    }
    let roomId: string;
    try {
      roomId = decodeURIComponent(url.pathname.slice(endpoint[0].length).replace(/\/$/, ''));
    } catch {
      return refuseUpgrade(socket, 400, 'bad room id');
    }
    if (!validRoomId(roomId)) return refuseUpgrade(socket, 400, 'bad room id');
    const signature = url.searchParams.get('signature');
    if (!signature) return refuseUpgrade(socket, 401, 'missing signature');
    // A replayer's hello in the URL (HELLO_PARAM). A version this relay does not support is left to
    // the hello sent on open, which gets the close code that ends the SDK's retries (4001), as before.
    const helloParam = url.searchParams.get(HELLO_PARAM);
    let early: Hello | undefined;
    if (helloParam !== null) {
      if (!/^[1-9][0-9]{0,5}$/.test(helloParam))
        return refuseUpgrade(socket, 400, `${HELLO_PARAM} must be a protocol version number`);
      const hello = { type: 'hello', v: Number(helloParam) };
      if (SUPPORTED_VERSIONS.includes(hello.v)) early = validateMessage(hello) as Hello;
    }
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
    const claims = result.claims as RelayClaims;
    if (early && claims.role !== 'replayer')
      return refuseUpgrade(
        socket,
        400,
        `${HELLO_PARAM} in the URL is for replayers (a recorder's hello has its epoch)`,
      );
    const placed = await this.place(claims, req, reqId, () => socket.destroyed);
    if (!placed) return;
    if (Array.isArray(placed)) return refuseUpgrade(socket, placed[0], placed[1]);
    if ('moved' in placed) return this.redirect(req, socket, head, claims.role, placed.moved, reqId);
    const { ticket, room } = placed;
    socket.once('close', () => this.rooms.release(ticket));
    const server = claims.role === 'recorder' ? this.recorderWss : this.wss;
    server.handleUpgrade(req, socket, head, (ws) => {
      this.cluster?.accepted(ws, room, req, claims.role);
      this.accept(ws, claims, ticket, req.socket, reqId, early);
    });
  }

  /**
   * Where a verified token's socket goes, at its upgrade or at the signed hello of a socket opened
   * ahead: a cluster's revocations (a room ended on any node), then the room's node (a cluster
   * socket learns it only now), then admission here (revocation, the room's holder and every node
   * limit, counted in one synchronous step, after `beforeAdmit`). Undefined when `gone()` says the
   * connection went while this waited; [status, reason] for a refusal.
   */
  private async place(
    claims: RelayClaims,
    req: IncomingMessage,
    reqId: string,
    gone: () => boolean,
    beforeAdmit?: () => void,
  ): Promise<{ ticket: Ticket; room: string } | { moved: string } | [number, string] | undefined> {
    const shared = this.rooms.shared ? await this.rooms.sharedRefusal(claims) : undefined;
    if (gone()) return undefined;
    if (shared) return shared;
    const room = this.cluster ? roomKey(scopeOf(claims), claims.room) : '';
    if (this.cluster) {
      const where = await this.cluster.route(room, req, claims.role);
      if (gone()) return undefined;
      if (where !== 'here') return where;
    }
    beforeAdmit?.();
    const ticket = this.rooms.admit(claims, clientAddress(this.options, req));
    if (Array.isArray(ticket)) return ticket;
    if (!ticket.room.openedBy) {
      ticket.room.openedBy = reqId;
      this.log.debug({ reqId, roomId: roomRef(ticket.room.id) }, 'room opened');
    }
    return { ticket, room };
  }

  /**
   * An agent's socket opened ahead of its connection info (protocol's `AHEAD_PARAM`): it is in no
   * room and gets nothing until its first message, a hello carrying its signature. That is checked
   * as a URL's would be at an upgrade (signature, revocation, the room's node, every limit), and the
   * socket joins its room as one whose hello was in its URL. It holds its address's places and one of
   * the node's `maxSocketsAhead` meanwhile, for `agentHelloTimeoutMs` at most; anything but that
   * hello, or a second message before the welcome, closes it.
   */
  private upgradeAhead(req: IncomingMessage, tcp: Duplex, head: Buffer, reqId: string, ahead: AheadTicket): void {
    // Its room's place, once the hello is checked (released with the TCP connection, as at an upgrade).
    const held: { ticket?: Ticket } = {};
    tcp.once('close', () => {
      this.rooms.releaseAhead(ahead);
      if (held.ticket) this.rooms.release(held.ticket);
    });
    this.wss.handleUpgrade(req, tcp, head, (ws) => {
      const log = this.log.child({ reqId, role: 'replayer', ahead: true });
      log.debug('socket opened ahead');
      this.ahead.add(ws);
      ws.once('close', () => this.ahead.delete(ws));
      // Refused: told why, and cut off a second later if it does not close (its places are held till then).
      const closeWith = (code: number, reason: string): undefined => {
        clearTimeout(timer);
        this.ahead.delete(ws);
        if (ws.readyState !== ws.OPEN) return;
        this.traffic.refused('socket', code);
        log.info({ code, reason }, 'socket opened ahead closed by the relay');
        ws.close(code, reason.slice(0, 120));
        setTimeout(() => ws.terminate(), AHEAD_CLOSE_MS).unref();
      };
      const timer = setTimeout(
        () => closeWith(CloseCode.BadMessage, 'no hello received'),
        this.options.agentHelloTimeoutMs,
      );
      ws.on('error', () => ws.terminate());
      ws.once('close', () => clearTimeout(timer));
      const tooSoon = () => closeWith(CloseCode.BadMessage, 'one hello, then wait for the welcome');
      ws.once('message', (data, binary) => {
        ws.on('message', tooSoon);
        this.signAhead(req, ws, toBuffer(data), binary, ahead, held, closeWith, reqId)
          .then((admitted) => {
            if (!admitted) return;
            clearTimeout(timer);
            this.ahead.delete(ws);
            ws.off('message', tooSoon);
            this.cluster?.accepted(ws, admitted.room, req, 'replayer');
            this.accept(ws, admitted.claims, admitted.ticket, req.socket, reqId, admitted.hello);
          })
          .catch((error) => {
            log.error({ err: error }, 'internal error on a socket opened ahead');
            closeWith(CloseCode.InternalError, 'internal error');
            ws.terminate();
          });
      });
    });
  }

  /** A socket opened ahead's first message: the room it joins, or undefined when it was closed. */
  private async signAhead(
    req: IncomingMessage,
    ws: WebSocket,
    data: Buffer,
    binary: boolean,
    ahead: AheadTicket,
    held: { ticket?: Ticket },
    closeWith: (code: number, reason: string) => undefined,
    reqId: string,
  ): Promise<{ claims: RelayClaims; ticket: Ticket; room: string; hello: Hello } | undefined> {
    let hello: Hello;
    try {
      const message = binary ? undefined : decodeHeader(data);
      if (message?.type !== 'hello' || !message.signature)
        return closeWith(CloseCode.BadMessage, 'the first message must be a hello with its signature');
      hello = message;
    } catch (error) {
      const code = error instanceof ProtocolError ? CLOSE_FOR_ERROR[error.code] : undefined;
      return closeWith(code ?? CloseCode.BadMessage, error instanceof Error ? error.message : 'bad hello');
    }
    const result = await verifyToken(this.options.secret, hello.signature!, { role: 'replayer' });
    if (ws.readyState !== ws.OPEN) return undefined;
    if (!result.ok) {
      const [status, message] = TOKEN_REFUSALS[result.reason] ?? [401, 'invalid signature'];
      return closeWith(closeForStatus(status), message);
    }
    const claims = result.claims as RelayClaims;
    if (!validRoomId(claims.room)) return closeWith(CloseCode.Forbidden, 'bad room id');
    // Its places move from the socket opened ahead to the room in admission's synchronous step (and
    // back when the room refuses it: it holds them until it is gone).
    const placed = await this.place(
      claims,
      req,
      reqId,
      () => ws.readyState !== ws.OPEN,
      () => this.rooms.releaseAhead(ahead),
    );
    if (!placed) return undefined;
    if (Array.isArray(placed)) {
      this.rooms.retakeAhead(ahead);
      return closeWith(closeForStatus(placed[0]), placed[1]);
    }
    // Its URL names no room to be sent on with: the SDK asks for connection info again.
    if ('moved' in placed) return closeWith(CloseCode.TryAgainLater, 'the room lives on another node: ask again');
    held.ticket = placed.ticket;
    const { signature: _signature, ...plain } = hello;
    return { claims, ticket: placed.ticket, room: placed.room, hello: plain as Hello };
  }

  /** The room lives on another node: the socket opens and is closed at once with 4014 Moved and that node's base URL. */
  private redirect(req: IncomingMessage, socket: Duplex, head: Buffer, role: Role, url: string, reqId: string): void {
    this.traffic.refused('socket', CloseCode.Moved);
    this.log.debug({ reqId, moved: url }, "socket sent to the room's node");
    const server = role === 'recorder' ? this.recorderWss : this.wss;
    server.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => ws.terminate());
      ws.close(CloseCode.Moved, url);
    });
  }

  /** Bytes read from customers' TCP connections (the wire, compressed): closed ones, plus open ones on demand. */
  private uplinkClosed = 0;
  private readonly uplinks = new Set<Duplex & { bytesRead: number }>();

  get uplinkBytes(): number {
    let total = this.uplinkClosed;
    for (const tcp of this.uplinks) total += tcp.bytesRead;
    return total;
  }

  private accept(
    socket: WebSocket,
    claims: RelayClaims,
    ticket: Ticket,
    tcp: Duplex,
    reqId: string,
    early: Hello | undefined,
  ): void {
    const opened = Date.now();
    const conn: Connection = {
      log: this.log.child({ reqId, roomId: roomRef(ticket.room.id), role: claims.role }),
      socket,
      user: claims.user,
      claims,
      ticket,
      room: undefined,
      hello: false,
      alive: true,
      partialSince: 0,
    };
    const uplink = claims.role === 'recorder' ? (tcp as Duplex & { bytesRead: number }) : undefined;
    if (uplink) this.uplinks.add(uplink);
    connections.set(socket, conn);
    const helloTimer = setTimeout(
      () => {
        this.traffic.refused('socket', CloseCode.BadMessage);
        conn.log.info('socket closed: no hello received');
        socket.close(CloseCode.BadMessage, 'no hello received');
      },
      claims.role === 'recorder' ? HELLO_TIMEOUT_MS : this.options.agentHelloTimeoutMs,
    );
    conn.log.debug('socket opened');
    const traffic = this.traffic;
    const recorder = claims.role === 'recorder';
    socket.on('pong', () => (conn.alive = true));
    socket.on('error', () => socket.terminate());
    socket.on('message', (data, isBinary) => {
      // Any frame proves the peer alive: under a backlog its pong may sit behind its own data.
      conn.alive = true;
      // Metrics: counters only; one recorder frame in a few is timed through its fan-out.
      const start = recorder ? traffic.sampleStart() : 0;
      // More of the recorder's socket read follows this message: its batches go out together.
      const more = recorder && unreadBytes(socket) > 0;
      const buffer = toBuffer(data);
      if (recorder) {
        traffic.recorderMessagesIn++;
        traffic.recorderBytesIn += buffer.length;
      } else {
        traffic.replayerMessagesIn++;
        traffic.replayerBytesIn += buffer.length;
      }
      try {
        this.onFrame(conn, buffer, isBinary, helloTimer, more);
      } catch (error) {
        this.fail(conn, error);
      }
      if (start !== 0) traffic.observeFanout(start);
    });
    socket.on('close', (code) => {
      conn.log.debug({ code, durationMs: Date.now() - opened }, 'socket closed');
      clearTimeout(helloTimer);
      if (uplink && this.uplinks.delete(uplink)) this.uplinkClosed += uplink.bytesRead;
      this.rooms.leave(conn);
      this.rooms.release(ticket);
    });
    // Its hello was in the URL: it joins now, and the welcome and catch-up follow the upgrade's answer.
    if (early) {
      conn.early = { hello: early, echoed: false };
      this.hello(conn, early, helloTimer);
    }
  }

  /** A hello, said in the URL or sent: the socket joins its room (a second one is a protocol error). */
  private hello(conn: Connection, hello: Hello, helloTimer: NodeJS.Timeout): void {
    if (conn.hello) throw new ProtocolError(ErrorCode.BadField, '"hello" was already received');
    conn.hello = true;
    clearTimeout(helloTimer);
    try {
      this.join(conn, hello);
    } catch (error) {
      this.fail(conn, error);
    }
  }

  private onFrame(conn: Connection, data: Buffer, binary: boolean, helloTimer: NodeJS.Timeout, more: boolean): void {
    const message = decodeHeader(data);
    // Batches the room holds from this read go out before whatever this message makes it send.
    if (message.type !== 'events') conn.room?.flush();
    const allowed = conn.claims.role === 'recorder' ? RECORDER_SENDS : REPLAYER_SENDS;
    if (!allowed.has(message.type)) {
      throw new ProtocolError(ErrorCode.Forbidden, `a ${conn.claims.role} may not send "${message.type}"`);
    }
    if (!conn.room && message.type !== 'hello') {
      if (conn.hello) return; // refused or replaced: its socket is closing
      throw new ProtocolError(ErrorCode.BadField, 'the first message must be "hello"');
    }
    switch (message.type) {
      case 'hello': {
        if (message.signature !== undefined)
          throw new ProtocolError(ErrorCode.BadField, 'a hello carries a signature only on a socket opened ahead');
        // The hello a replayer sends on open after saying it in its URL (for relays that do not read the URL): said already.
        const early = conn.early;
        if (early && !early.echoed && message.v === early.hello.v && !message.resume && !message.epoch) {
          early.echoed = true;
          return;
        }
        return this.hello(conn, message, helloTimer);
      }
      case 'events': {
        if (message.epoch !== conn.epoch)
          throw new ProtocolError(ErrorCode.BadField, '"events" epoch differs from the hello');
        if (!conn.room!.admit(data.length))
          throw new ProtocolError(ErrorCode.RateLimited, 'the page sends faster than the relay allows');
        conn.room!.onEvents(message.epoch, message.seq, message.snap === true, data, binary, more);
        return;
      }
      case 'asset': {
        if (!binary) throw new ProtocolError(ErrorCode.BadField, '"asset" must be a binary frame');
        const bytes = data.length - data.indexOf(0x0a) - 1;
        if (data.indexOf(0x0a) === -1 || bytes <= 0)
          throw new ProtocolError(ErrorCode.BadField, '"asset" has no payload');
        if (!conn.room!.admit(data.length))
          throw new ProtocolError(ErrorCode.RateLimited, 'the page sends faster than the relay allows');
        conn.room!.onAsset(conn.epoch!, message.url, data);
        return;
      }
      case 'request-snapshot':
        // Recorded when it reached the customer (at most one a second per room), re-encoded and bounded.
        if (conn.room!.requestSnapshot('agent') && conn.room!.tap?.recording) {
          const asked = {
            type: 'request-snapshot',
            ...(message.reason ? { reason: message.reason.slice(0, 64) } : {}),
          };
          conn.room!.tap.agentFrame(
            conn.user,
            conn.claims.name,
            Buffer.from(encodeText(asked as Message), 'utf8'),
            false,
          );
        }
        return;
      // Agent tools (control.ts): the relay stamps, gates and routes them.
      case 'agent':
        // Recording: only what the relay forwarded, re-encoded with the identity it stamped.
        if (control.agentAction(conn.room!, conn, conn.claims, message)) this.recordAgent(conn, message);
        return;
      case 'control':
      case 'refused':
        if (conn.room!.recorder !== conn) return;
        control.recorderControl(conn.room!, message);
        this.recordCustomerControl(conn, message);
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

  /** An agent action the relay forwarded, into the room's recording (O(1), bounded by {@link MAX_AGENT_RECORD_HEADER}). */
  private recordAgent(conn: Connection, message: Extract<Message, { type: 'agent' }>): void {
    const tap = conn.room!.tap;
    if (!tap?.recording) return;
    const stamped = { ...message, from: control.agentId(conn), user: conn.user, name: conn.claims.name };
    // At most the agent's header (2 KiB) plus the stamped identity: within what the reader takes.
    const bytes = Buffer.from(encodeText(stamped), 'utf8');
    if (bytes.length <= MAX_AGENT_RECORD_HEADER) tap.agentFrame(conn.user, conn.claims.name, bytes, false);
  }

  /** The customer's `control`/`refused` answer, as a note in the recording (at most {@link CONTROL_NOTES_PER_S}). */
  private recordCustomerControl(conn: Connection, message: Extract<Message, { type: 'control' | 'refused' }>): void {
    const tap = conn.room!.tap;
    if (!tap?.recording) return;
    let rate = controlNotes.get(conn);
    if (!rate) controlNotes.set(conn, (rate = new TokenBucket(CONTROL_NOTES_PER_S, 2 * CONTROL_NOTES_PER_S)));
    if (!rate.take(1)) return;
    const fields =
      message.type === 'control'
        ? { state: message.state, agent: message.agent.slice(0, 64) }
        : {
            agent: message.agent.slice(0, 64),
            op: message.op,
            ...(message.id !== undefined ? { id: message.id } : {}),
            ...(message.reason !== undefined ? { reason: String(message.reason).slice(0, 64) } : {}),
          };
    tap.note(message.type, { role: 'recorder', user: conn.user, ...fields });
  }

  private join(conn: Connection, hello: Extract<Message, { type: 'hello' }>): void {
    if (conn.claims.role === 'recorder' && !hello.epoch)
      throw new ProtocolError(ErrorCode.BadField, 'a recorder\'s "hello" needs an "epoch"');
    const welcome = this.rooms.join(conn, conn.ticket.room, hello);
    if (!welcome) return;
    const room = conn.room!;
    Room.send(conn, welcome);
    // A (re)connected recorder never inherits remote control (control.ts).
    if (conn.claims.role === 'recorder') control.recorderJoined(room, conn, hello.v);
    if (conn.claims.role === 'replayer' && !room.catchUp(conn, hello.resume)) room.requestSnapshot('join');
    room.broadcastPresence();
    this.recordings?.joined(room, conn, this.who(conn), dialectOf(conn.claims));
  }

  private who(conn: Member): { user: string; name: string; role: Role } {
    return { user: conn.user, name: conn.claims.name, role: conn.claims.role };
  }

  private bye(conn: Connection, reason: string | undefined): void {
    if (conn.claims.role === 'recorder') this.rooms.bye(conn, reason);
    conn.socket.close(CloseCode.Normal, 'bye');
  }

  private fail(conn: Connection, error: unknown): void {
    if (error instanceof ProtocolError) {
      Room.send(conn, { type: 'error', code: error.code, message: error.message });
      const code = CLOSE_FOR_ERROR[error.code] ?? CloseCode.BadMessage;
      this.traffic.refused('socket', code);
      conn.log.info({ code, reason: error.message.slice(0, 120) }, 'socket closed by the relay');
      conn.socket.close(code, error.message.slice(0, 120));
      return;
    }
    this.traffic.refused('socket', CloseCode.InternalError);
    conn.log.error({ err: error }, 'internal error on a socket');
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

  /** Sockets opened ahead that have not joined a room yet. */
  private readonly ahead = new Set<WebSocket>();
  /** Set when the relay starts leaving: no more sockets opened ahead. */
  private aheadClosed = false;

  /**
   * The relay is leaving (a drain, a shutdown): sockets opened ahead that hold no room yet are told
   * to go (1001: a prepared view opens another, from the answer of a node that stays), and no more
   * are taken (503).
   */
  closeAhead(): void {
    this.aheadClosed = true;
    for (const ws of this.ahead) {
      ws.close(CloseCode.GoingAway, 'this relay is leaving');
      setTimeout(() => ws.terminate(), AHEAD_CLOSE_MS).unref();
    }
    this.ahead.clear();
  }

  /** Drops every socket still open at once (a cluster node whose drain ran out of time). */
  terminate(): void {
    for (const ws of [...this.wss.clients, ...this.recorderWss.clients]) ws.terminate();
  }

  /** Closes every socket with "going away" so clients reconnect elsewhere. */
  close(): void {
    clearInterval(this.heartbeat);
    clearInterval(this.idleSweep);
    clearInterval(this.frameSweep);
    for (const ws of [...this.wss.clients, ...this.recorderWss.clients])
      ws.close(CloseCode.GoingAway, 'relay shutting down');
    this.wss.close();
    this.recorderWss.close();
  }
}

const connections = new WeakMap<WebSocket, Connection>();
/** The customer's control answers recorded per second (burst twice that). */
const CONTROL_NOTES_PER_S = 20;
const controlNotes = new WeakMap<Member, TokenBucket>();

/** Bytes ws's receiver holds past the message it is emitting (the rest of the socket read), 0 if unknown. */
function unreadBytes(socket: WebSocket): number {
  return (socket as unknown as { _receiver?: ReceiverState })._receiver?._bufferedBytes ?? 0;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** The connection-info dialect that opened a token's room (its scope's first part), for recordings. */
function dialectOf(claims: RelayClaims): string | null {
  return claims.ns ? claims.ns.split(':')[0]! : null;
}
