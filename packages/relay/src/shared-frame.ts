import type { WebSocket } from 'ws';

/**
 * One recorder batch on its way to a room's agents, framed once as a server-to-client WebSocket
 * frame (FIN, text or binary opcode, unmasked) and written as that one buffer to every agent's TCP
 * socket. Through `ws`'s `send` each agent would cost an options object, a frame header, a cork,
 * two writes and a `writev`; here it is one `write` of a buffer shared by all of them.
 *
 * The bytes on the wire are exactly what `socket.send(data, { binary })` writes on a socket
 * without permessage-deflate (agents' sockets never have it). A socket this cannot write to
 * directly (compression negotiated, `ws` busy with a queued message, or a `ws` whose internals
 * differ from the ones read here) gets the ordinary `send`: the fast path is an optimisation, never
 * a requirement. What the socket has not yet written still counts in `bufferedAmount` (the
 * backpressure check), since both paths queue on the same TCP socket.
 */
export class SharedFrame implements Outgoing {
  private wire: Buffer | undefined;

  constructor(
    readonly data: Buffer,
    readonly binary: boolean,
  ) {}

  get count(): number {
    return 1;
  }

  get bytes(): number {
    return this.data.length;
  }

  /** The whole frame, header and payload, as it goes on the wire. */
  framed(): Buffer {
    if (this.wire) return this.wire;
    const out = take(frameBytes(this.data.length));
    frameInto(out, 0, this.data, this.binary);
    return (this.wire = out);
  }

  /** Sends the batch to one open socket. */
  sendTo(socket: WebSocket): void {
    const tcp = directSocket(socket);
    if (tcp) tcp.write(this.framed());
    else socket.send(this.data, { binary: this.binary });
  }
}

/** What the room hands each agent's socket: one batch, or several in a row. */
export interface Outgoing {
  /** Batches (messages) it carries. */
  readonly count: number;
  /** Their payload bytes. */
  readonly bytes: number;
  sendTo(socket: WebSocket): void;
}

/**
 * Several batches that arrived in one read of the recorder's socket, in order, written to each
 * agent as one buffer (their frames back to back): one system call per agent for all of them
 * instead of one per batch. A relay that fell behind catches up with fewer, larger writes.
 */
export class SharedFrames implements Outgoing {
  private wire: Buffer | undefined;
  readonly bytes: number;

  constructor(readonly frames: readonly SharedFrame[]) {
    let bytes = 0;
    for (const f of frames) bytes += f.data.length;
    this.bytes = bytes;
  }

  get count(): number {
    return this.frames.length;
  }

  private join(): Buffer {
    let total = 0;
    for (const f of this.frames) total += frameBytes(f.data.length);
    const out = take(total);
    let at = 0;
    for (const f of this.frames) at = frameInto(out, at, f.data, f.binary);
    return out;
  }

  sendTo(socket: WebSocket): void {
    const tcp = directSocket(socket);
    if (tcp) tcp.write((this.wire ??= this.join()));
    else for (const f of this.frames) socket.send(f.data, { binary: f.binary });
  }
}

/** The parts of a `ws` WebSocket (8.x) the fast path reads. */
interface WsInternals {
  _socket?: { write?: unknown; writable?: boolean };
  _sender?: { _state?: unknown; _queue?: unknown[] };
  _extensions?: Record<string, unknown>;
}

/** The one extension `ws` negotiates. */
const DEFLATE = 'permessage-deflate';

/**
 * The socket's TCP stream when a frame may be written to it directly: no extension negotiated
 * (permessage-deflate would set RSV1 and compress) and nothing queued in `ws`'s sender (a
 * message written now must not overtake it).
 */
export function directSocket(socket: WebSocket): { write(chunk: Buffer): boolean } | undefined {
  const ws = socket as unknown as WsInternals;
  const tcp = ws._socket;
  const sender = ws._sender;
  if (
    tcp === undefined ||
    typeof tcp.write !== 'function' ||
    !tcp.writable ||
    sender === undefined ||
    sender._state !== 0 ||
    !Array.isArray(sender._queue) ||
    sender._queue.length !== 0 ||
    ws._extensions === undefined ||
    ws._extensions[DEFLATE] !== undefined
  )
    return undefined;
  return tcp as { write(chunk: Buffer): boolean };
}

/** A whole unmasked WebSocket frame (RFC 6455 §5.2) carrying `data` as one final text or binary message. */
export function frame(data: Buffer, binary: boolean): Buffer {
  const out = Buffer.allocUnsafe(frameBytes(data.length));
  frameInto(out, 0, data, binary);
  return out;
}

/** Bytes of the frame that carries `length` payload bytes. */
function frameBytes(length: number): number {
  return (length < 126 ? 2 : length < 65536 ? 4 : 10) + length;
}

/** Writes the frame carrying `data` into `out` at `at`; returns where it ends. */
function frameInto(out: Buffer, at: number, data: Buffer, binary: boolean): number {
  const length = data.length;
  out[at] = 0x80 | (binary ? 0x02 : 0x01);
  if (length < 126) {
    out[at + 1] = length;
    at += 2;
  } else if (length < 65536) {
    out[at + 1] = 126;
    out.writeUInt16BE(length, at + 2);
    at += 4;
  } else {
    out[at + 1] = 127;
    out.writeUInt32BE(Math.floor(length / 2 ** 32), at + 2);
    out.writeUInt32BE(length >>> 0, at + 6);
    at += 10;
  }
  data.copy(out, at);
  return at + length;
}

/**
 * Outgoing frames are cut from 64 KiB slabs: one memory allocation per ~60 batches (Buffer's own
 * pool takes one per 8, and one per buffer over 4 KiB). A slab is never written again once cut, and
 * goes when the last frame cut from it has been written to every socket it was queued on.
 */
const SLAB_BYTES = 64 * 1024;
let slab = Buffer.alloc(0);
let slabUsed = 0;

function take(bytes: number): Buffer {
  if (bytes > SLAB_BYTES / 4) return Buffer.allocUnsafeSlow(bytes);
  if (slabUsed + bytes > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + bytes);
  slabUsed = (slabUsed + bytes + 7) & ~7; // 8-byte aligned, as Buffer's pool does
  return out;
}
