import { CloseCode, ErrorCode, type Message, PROTOCOL_VERSION, type Role, type TokenClaims } from '@cobrowse/protocol';
import { Room, type Peer, type RoomLimits } from './room.js';
import { Counter } from './limiter.js';
import type { SharedEndings } from './state/types.js';

/**
 * What the relay signs into a connection token beyond the protocol's claims (the protocol keeps
 * unknown claims): the room's scope, who the issuing credential was, and when it was issued.
 */
export interface RelayClaims extends TokenClaims {
  /** Scope of the room: the dialect (and tenant) that opened it. Absent = tokens signed outside the doors. */
  readonly ns?: string;
  /** Stable id of the credential the token was issued to (never the credential itself). */
  readonly pid?: string;
  /** Issued at, ms since epoch. */
  readonly iat?: number;
}

/** Scope of a token's room: its dialect (and tenant); tokens signed by a library user keep the old tenant rule. */
export function scopeOf(claims: { ns?: string; tenant?: string }): string {
  return claims.ns ?? (claims.tenant ? `tenant:${claims.tenant}` : '');
}

/** Key of a room in the registry: rooms of different scopes never meet, even with the same id. */
export function roomKey(scope: string, roomId: string): string {
  return scope ? `${scope}/${roomId}` : roomId;
}

/** A socket in a room, as the owner sees it. */
export interface Member extends Peer {
  readonly claims: RelayClaims;
  room: Room | undefined;
  epoch?: string;
}

/** A socket admitted at upgrade: it holds a place (address, room, agent seat) until its TCP connection closes. */
export interface Ticket {
  readonly address: string;
  readonly room: Room;
  readonly role: Role;
  released: boolean;
}

/** A socket opened ahead (gateway.ts): no room yet; it holds its address's place until it joins one or closes. */
export interface AheadTicket {
  readonly address: string;
  released: boolean;
}

/**
 * Sockets opened ahead one address holds at once (they count against its `maxConnectionsPerAddress`
 * too): a console prepares a view or two, not hundreds.
 */
export const MAX_AHEAD_PER_ADDRESS = 20;

export interface OwnerLimits {
  graceMs: number;
  tokenTtlMs: number;
  maxRooms: number;
  maxReplayersPerRoom: number;
  maxConnectionsPerAddress: number;
  /** Sockets opened ahead the node holds at once, from every address. */
  maxSocketsAhead: number;
  idleMs: number;
}

/** Lifecycle events other modules (recordings, remote control) attach to. */
export interface RoomHooks {
  /** A room came into being (first admitted socket). */
  opened: (room: Room) => void;
  /** A member said hello and is in the room. */
  joined: (room: Room, member: Member) => void;
  /** A member's socket left. */
  left: (room: Room, member: Member) => void;
  /** The room ended (stop, logout, bye, idle): its sockets are closed and its tokens revoked. */
  ended: (room: Room, reason: string) => void;
  /** The room left the registry: after it ended, or once empty past its grace period. */
  closed: (room: Room) => void;
}

/** An ended room's tokens stay refused this much longer than the longest token lives. */
const REVOCATION_MARGIN_MS = 60_000;
const MAX_REVOCATIONS = 100_000;

/**
 * The one owner of rooms: admits sockets (limits counted at upgrade, before any hello), starts,
 * resumes and ends rooms, and remembers ended ones so their tokens stay refused. Nothing else
 * changes a room's membership; other modules listen through {@link on}.
 */
export class Rooms {
  private readonly rooms = new Map<string, Room>();
  /** Ended rooms: key → when it ended. Tokens issued before then are refused. */
  private readonly ended = new Map<string, number>();
  private readonly perAddress = new Counter();
  private readonly hooks: { [K in keyof RoomHooks]: RoomHooks[K][] } = {
    opened: [],
    joined: [],
    left: [],
    ended: [],
    closed: [],
  };

  /** Told the close code of each member refused at its hello (for /metrics). */
  onRefusal: ((code: number) => void) | undefined;

  /**
   * A cluster's revocations (state/): told of every room that ends here, asked at upgrade
   * ({@link sharedRefusal}). Absent in one process.
   */
  shared: SharedEndings | undefined;
  /** Set while ending a room that ended on another node (so it is not told back). */
  private relaying = false;

  constructor(
    private readonly limits: RoomLimits,
    private readonly owner: OwnerLimits,
  ) {}

  on<K extends keyof RoomHooks>(event: K, listener: RoomHooks[K]): void {
    this.hooks[event].push(listener);
  }

  get size(): number {
    return this.rooms.size;
  }

  get(key: string): Room | undefined {
    return this.rooms.get(key);
  }

  /** Whether a room is going on (someone connected, or within its grace period). */
  live(scope: string, roomId: string): boolean {
    return this.rooms.has(roomKey(scope, roomId));
  }

  /** Whether the room's customer is connected now. */
  recorderConnected(scope: string, roomId: string): boolean {
    return this.rooms.get(roomKey(scope, roomId))?.recorder !== undefined;
  }

  [Symbol.iterator](): IterableIterator<Room> {
    return this.rooms.values();
  }

  /**
   * Admission at upgrade, before the socket opens: revocation, the room's holder, and the node's
   * limits, checked and counted in one synchronous step so many sockets opened at once cannot race
   * past them. Returns a ticket to {@link release} when the connection closes, or [status, reason].
   */
  admit(claims: RelayClaims, address: string): Ticket | [number, string] {
    const key = roomKey(scopeOf(claims), claims.room);
    const endedAt = this.ended.get(key);
    if (endedAt !== undefined && issuedAt(claims, this.owner.tokenTtlMs) <= endedAt)
      return [410, 'this session has ended: ask for a new one'];
    if (this.perAddress.get(address) >= this.owner.maxConnectionsPerAddress)
      return [429, 'too many connections from this address'];
    let room = this.rooms.get(key);
    if (!room && this.rooms.size >= this.owner.maxRooms)
      return [503, 'this relay holds as many rooms as it may: try again later'];
    if (claims.role === 'replayer' && room && room.agentTickets >= this.owner.maxReplayersPerRoom)
      return [429, 'this room has as many agents as it may'];
    if (claims.role === 'recorder' && room?.holder && !sameHolder(room.holder, claims))
      return [409, 'this room is held by another customer'];
    if (!room) {
      room = new Room(key, this.limits);
      this.rooms.set(key, room);
      for (const fn of this.hooks.opened) fn(room);
    }
    if (room.graceTimer) {
      clearTimeout(room.graceTimer);
      room.graceTimer = undefined;
    }
    room.tickets++;
    if (claims.role === 'replayer') room.agentTickets++;
    this.perAddress.add(address);
    return { address, room, role: claims.role, released: false };
  }

  /** Sockets opened ahead held now, in all and per address. */
  private ahead = 0;
  private readonly aheadPerAddress = new Counter();

  /**
   * Admission of a socket opened ahead, at its upgrade: its address's place (and one of its
   * {@link MAX_AHEAD_PER_ADDRESS}) and one of the node's `maxSocketsAhead`. Returns a ticket to {@link releaseAhead} when the socket joins its room
   * (then admitted by {@link admit}) or closes, or [status, reason].
   */
  admitAhead(address: string): AheadTicket | [number, string] {
    if (
      this.perAddress.get(address) >= this.owner.maxConnectionsPerAddress ||
      this.aheadPerAddress.get(address) >= MAX_AHEAD_PER_ADDRESS
    )
      return [429, 'too many connections from this address'];
    if (this.ahead >= this.owner.maxSocketsAhead)
      return [503, 'this relay holds as many sockets opened ahead as it may'];
    const ticket = { address, released: true };
    this.retakeAhead(ticket);
    return ticket;
  }

  releaseAhead(ticket: AheadTicket): void {
    if (ticket.released) return;
    ticket.released = true;
    this.ahead--;
    this.perAddress.remove(ticket.address);
    this.aheadPerAddress.remove(ticket.address);
  }

  /** Counts a released ticket's places again, past the limits (a socket refused at its hello holds them until it is gone). */
  retakeAhead(ticket: AheadTicket): void {
    if (!ticket.released) return;
    ticket.released = false;
    this.ahead++;
    this.perAddress.add(ticket.address);
    this.aheadPerAddress.add(ticket.address);
  }

  /** The admitted connection closed (or never opened): frees its places. */
  release(ticket: Ticket): void {
    if (ticket.released) return;
    ticket.released = true;
    this.perAddress.remove(ticket.address);
    ticket.room.tickets--;
    if (ticket.role === 'replayer') ticket.room.agentTickets--;
    this.linger(ticket.room);
  }

  /**
   * A member's hello: it joins its room. A recorder resumes its room when it is the same
   * recording (same epoch) or the room's customer is away; while the customer is connected
   * another recording is refused (close 4003, retried by the SDK), and a different customer
   * never gets in. Returns the welcome to send, or throws nothing: refusals close the socket.
   */
  join(member: Member, room: Room, hello: Extract<Message, { type: 'hello' }>): Message | undefined {
    if (!this.rooms.has(room.id) || this.rooms.get(room.id) !== room) {
      member.socket.close(CloseCode.SessionEnded, 'this session has ended');
      this.onRefusal?.(CloseCode.SessionEnded);
      return undefined;
    }
    const claims = member.claims;
    if (claims.role === 'recorder') {
      if (room.holder && !sameHolder(room.holder, claims)) {
        refuseMember(member, 'this room is held by another customer');
        this.onRefusal?.(CloseCode.Forbidden);
        return undefined;
      }
      const previous = room.recorder as Member | undefined;
      if (previous && previous !== member && previous.socket.readyState === previous.socket.OPEN) {
        if (previous.epoch !== hello.epoch) {
          refuseMember(member, "this room's customer is connected: another recording may not take it over");
          this.onRefusal?.(CloseCode.Forbidden);
          return undefined;
        }
        // The same recording reconnecting (its old socket not yet seen dead) resumes.
        previous.room = undefined;
        previous.socket.close(CloseCode.GoingAway, 'replaced by a newer connection of the same recording');
      }
      room.holder ??= { user: claims.user, pid: claims.pid ?? '' };
      member.epoch = hello.epoch;
      member.room = room;
      room.recorder = member;
    } else {
      member.v = hello.v;
      member.room = room;
      room.replayers.add(member);
    }
    for (const fn of this.hooks.joined) fn(room, member);
    const seq = claims.role === 'recorder' ? room.seqFor(member.epoch) : undefined;
    return {
      type: 'welcome',
      // The version spoken on this socket: the lower of the peer's and ours.
      v: Math.min(hello.v, PROTOCOL_VERSION),
      roomId: claims.room,
      role: claims.role,
      recorder: !!room.recorder,
      replayers: room.replayers.size,
      now: Date.now(),
      ...(seq !== undefined ? { seq } : {}),
    };
  }

  /** A member's socket closed. */
  leave(member: Member): void {
    const room = member.room;
    if (!room) return;
    member.room = undefined;
    if (room.recorder === member) room.recorder = undefined;
    room.replayers.delete(member);
    for (const fn of this.hooks.left) fn(room, member);
    room.broadcastPresence();
    this.linger(room);
  }

  /** The room's own recorder said bye: the share is over for everyone. */
  bye(member: Member, reason: string | undefined): void {
    const room = member.room;
    if (!room || room.recorder !== member) return;
    room.recorder = undefined;
    member.room = undefined;
    this.end(room, reason ?? 'the customer stopped sharing', CloseCode.SessionEnded);
  }

  /**
   * Ends a room by scope and id (a REST stop or logout); its tokens are revoked even if nobody
   * connected yet. In a cluster, resolves once every node has been told (rejects if it could not be).
   */
  endRoom(scope: string, roomId: string, reason: string): Promise<void> {
    const key = roomKey(scope, roomId);
    const room = this.rooms.get(key);
    return (room ? this.end(room, reason, CloseCode.SessionEnded) : this.revoke(key, reason)) ?? Promise.resolve();
  }

  /** A room ended on another node of the cluster: it ends here too (sockets closed), or is remembered as revoked. */
  endedElsewhere(key: string, at: number, reason: string): void {
    this.relaying = true;
    try {
      const room = this.rooms.get(key);
      if (room) this.end(room, reason, CloseCode.SessionEnded);
      this.revoke(key, reason, at);
    } finally {
      this.relaying = false;
    }
  }

  /**
   * The cluster's part of admission, awaited at upgrade before {@link admit}: a room ended on any
   * node refuses its older tokens (410); unreachable shared state refuses for now (503).
   */
  async sharedRefusal(claims: RelayClaims): Promise<[number, string] | undefined> {
    if (!this.shared) return undefined;
    let endedAt: number | undefined;
    try {
      endedAt = await this.shared.endedAt(roomKey(scopeOf(claims), claims.room));
    } catch {
      return [503, 'shared state is unavailable: try again shortly'];
    }
    if (endedAt !== undefined && issuedAt(claims, this.owner.tokenTtlMs) <= endedAt)
      return [410, 'this session has ended: ask for a new one'];
    return undefined;
  }

  /** The one way a room ends: everyone is told and closed, its caches go, its tokens are revoked. */
  end(room: Room, reason: string, code: number = CloseCode.SessionEnded): Promise<void> | undefined {
    // Its members are out now: their sockets' closing is not a "left" of a live room.
    if (room.recorder) (room.recorder as Member).room = undefined;
    for (const peer of room.replayers) (peer as Member).room = undefined;
    room.end(reason, true, code);
    room.dispose();
    const held = this.rooms.get(room.id) === room;
    if (held) this.rooms.delete(room.id);
    const told = this.revoke(room.id, reason);
    for (const fn of this.hooks.ended) fn(room, reason);
    if (held) for (const fn of this.hooks.closed) fn(room);
    return told;
  }

  /** Rooms whose recorder has sent nothing for `idleMs` are over; old revocations are forgotten. */
  sweep(now = Date.now()): void {
    const cutoff = now - this.owner.idleMs;
    for (const room of [...this.rooms.values()])
      if (room.lastActivity < cutoff && (room.recorder || room.replayers.size > 0))
        this.end(room, 'the session was idle too long', CloseCode.Idle);
    const forget = now - this.owner.tokenTtlMs - REVOCATION_MARGIN_MS;
    for (const [key, at] of this.ended) if (at < forget) this.ended.delete(key);
  }

  /** Closes every room's sockets (shutdown), without ending the rooms. */
  dispose(): void {
    for (const room of this.rooms.values()) room.dispose();
  }

  /** Remembers the revocation here and, in a cluster, tells every node (the promise says whether that worked). */
  private revoke(key: string, reason: string, at = Date.now()): Promise<void> | undefined {
    this.ended.delete(key);
    this.ended.set(key, at);
    if (this.ended.size > MAX_REVOCATIONS) this.ended.delete(this.ended.keys().next().value!);
    if (!this.shared || this.relaying) return undefined;
    const told = this.shared.ended(key, at, reason);
    told.catch(() => undefined); // a bye or idle end has nobody to answer: endRoom's caller sees the failure
    return told;
  }

  /** An empty room is kept for the grace period (so a reconnect finds its cache), then dropped. */
  private linger(room: Room): void {
    if (!room.empty || room.graceTimer || this.rooms.get(room.id) !== room) return;
    room.graceTimer = setTimeout(() => {
      room.graceTimer = undefined;
      if (room.empty && this.rooms.get(room.id) === room) {
        room.dispose();
        this.rooms.delete(room.id);
        for (const fn of this.hooks.closed) fn(room);
      }
    }, this.owner.graceMs);
    room.graceTimer.unref();
  }
}

function sameHolder(holder: { user: string; pid: string }, claims: RelayClaims): boolean {
  return holder.user === claims.user && holder.pid === (claims.pid ?? '');
}

/** When a token was issued: its `iat`, or (tokens signed elsewhere) its expiry less the token lifetime. */
function issuedAt(claims: RelayClaims, ttlMs: number): number {
  return typeof claims.iat === 'number' ? claims.iat : claims.exp - ttlMs;
}

function refuseMember(member: Member, reason: string): void {
  Room.send(member, { type: 'error', code: ErrorCode.Forbidden, message: reason });
  member.socket.close(CloseCode.Forbidden, reason.slice(0, 120));
}
