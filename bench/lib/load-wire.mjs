// A deliberately small WebSocket client (RFC 6455) for the load generator of `node bench/load.mjs`,
// plus the engine.io v4 / socket.io v5 framing on top of it for the socket.io baseline.
//
// Why not the `ws` / `socket.io-client` packages: on a 2-core machine the generator shares the CPU
// with the server under test. This client does per message only what the wire needs — one buffer,
// a masked copy of the payload, one write — and on receipt reads just the first bytes of each frame
// (header and timestamp) straight from the socket chunk, with no per-message event objects. Both
// servers are driven by the same code, so neither gets a cheaper client than the other. Frames are
// masked with a fresh random key each, as browsers do, so the servers do the same unmasking work.
import { connect as netConnect } from 'node:net';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** bufferutil's mask (the relay's optional dependency, as ws uses it), when it is installed. */
const nativeMask = (() => {
  try {
    return createRequire(import.meta.url)('bufferutil').mask;
  } catch {
    return undefined;
  }
})();
const MASK_POOL = 64 * 1024;
let maskPool = Buffer.alloc(0);
let maskAt = MASK_POOL;

/** How many bytes of each text frame the receiver hands over as a string (header + timestamp). */
export const PEEK_BYTES = 192;

/**
 * Opens a WebSocket to `url` (ws://host:port/path?query). `onText(peek, receivedAt)` gets the first
 * PEEK_BYTES of every text frame (latin1), `receivedAt` being when its socket chunk arrived, and
 * `conn` (frames may arrive with the upgrade answer, before the promise resolves).
 * Resolves once the upgrade is done; rejects with the HTTP status line when it is refused.
 */
export function openSocket(url, { onText, onClose, now, timeoutMs = 15_000, deflate = true }) {
  const { hostname, port, pathname, search } = new URL(url);
  const key = randomBytes(16).toString('base64');
  const accept = createHash('sha1')
    .update(key + GUID)
    .digest('base64');
  const socket = netConnect({ host: hostname, port: Number(port) });
  socket.setNoDelay(true);
  let open = false;
  let closed = false;
  let head = Buffer.alloc(0);
  let pending; // an incomplete frame carried over to the next chunk
  let fragments; // a fragmented text message being put together (unused by ws/engine.io, handled anyway)
  let deflated = false; // permessage-deflate was agreed: frames go out as deflate data (stored blocks)

  const conn = {
    socket,
    get open() {
      return open && !closed;
    },
    /** Whether permessage-deflate was agreed for this socket. */
    get deflate() {
      return deflated;
    },
    /** Bytes written but not yet handed to the kernel (the peer is not reading fast enough). */
    queued: () => socket.writableLength,
    /** Sends one text frame (ASCII/latin1 string). */
    sendText(text) {
      if (!conn.open) return false;
      socket.write(deflated ? deflatedFrame(0x1, text) : frame(0x1, text));
      return true;
    },
    close(code = 1000) {
      if (closed) return;
      if (open) {
        const body = Buffer.alloc(2);
        body.writeUInt16BE(code);
        socket.write(frameBytes(0x8, body));
      }
      closed = true;
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    },
    destroy() {
      closed = true;
      socket.destroy();
    },
  };

  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`WebSocket ${pathname}: no upgrade within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      socket.write(
        `GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
          // What browsers offer: the server decides (the relay accepts it on customers' sockets).
          (deflate ? 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' : '') +
          '\r\n',
      );
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      if (!open) reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const wasOpen = open && !closed;
      closed = true;
      if (!open)
        reject(
          new Error(`WebSocket ${pathname}: closed before the upgrade: ${head.toString('latin1').split('\r\n')[0]}`),
        );
      else if (wasOpen) onClose?.(true, 1006, 'TCP connection closed without a close frame');
    });
    socket.on('data', (chunk) => {
      if (open) return onData(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const response = head.subarray(0, end).toString('latin1');
      const status = response.split('\r\n')[0];
      if (!/^HTTP\/1\.1 101/.test(status) || !response.includes(accept)) {
        clearTimeout(timer);
        socket.destroy();
        return reject(new Error(`WebSocket ${pathname}: upgrade refused: ${status}`));
      }
      open = true;
      deflated = deflate && /^sec-websocket-extensions:.*permessage-deflate/im.test(response);
      clearTimeout(timer);
      resolve(conn);
      const rest = head.subarray(end + 4);
      head = Buffer.alloc(0);
      if (rest.length) onData(rest);
    });
  });

  function onData(chunk) {
    const receivedAt = now();
    let buf = chunk;
    if (pending) {
      buf = Buffer.concat([pending, chunk]);
      pending = undefined;
    }
    let off = 0;
    const n = buf.length;
    while (n - off >= 2) {
      const b0 = buf[off];
      const b1 = buf[off + 1];
      let len = b1 & 0x7f;
      let hdr = 2;
      if (len === 126) {
        if (n - off < 4) break;
        len = buf.readUInt16BE(off + 2);
        hdr = 4;
      } else if (len === 127) {
        if (n - off < 10) break;
        len = buf.readUInt32BE(off + 6) + buf.readUInt32BE(off + 2) * 2 ** 32;
        hdr = 10;
      }
      if (b1 & 0x80) {
        conn.destroy();
        throw new Error('server sent a masked frame');
      }
      if (n - off < hdr + len) break;
      const start = off + hdr;
      off = start + len;
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (b0 & 0x40) {
        // A compressed frame from the server: neither server here sends one (the relay only inflates).
        conn.destroy();
        throw new Error('server sent a compressed frame: not supported by the load client');
      }
      if (opcode === 0x1 || opcode === 0x0) {
        if (opcode === 0x1 && fin) {
          onText(buf.toString('latin1', start, start + Math.min(len, PEEK_BYTES)), receivedAt, conn);
        } else {
          fragments = (fragments ?? []).concat(buf.subarray(start, start + len));
          if (fin) {
            const whole = Buffer.concat(fragments);
            fragments = undefined;
            onText(whole.toString('latin1', 0, Math.min(whole.length, PEEK_BYTES)), receivedAt, conn);
          }
        }
      } else if (opcode === 0x9) {
        if (conn.open) socket.write(frameBytes(0xa, Buffer.from(buf.subarray(start, start + len))));
      } else if (opcode === 0x8) {
        const wasOpen = conn.open;
        if (wasOpen) socket.write(frameBytes(0x8, Buffer.from(buf.subarray(start, start + Math.min(len, 2)))));
        closed = true;
        socket.end();
        const code = len >= 2 ? buf.readUInt16BE(start) : 1005;
        onClose?.(wasOpen, code, buf.toString('utf8', start + 2, start + len));
        return;
      }
      // 0x2 binary and 0xa pong: not used here.
    }
    if (off < n) pending = Buffer.from(buf.subarray(off));
  }

  return ready;
}

function nextMask() {
  if (maskAt + 4 > maskPool.length) {
    maskPool = randomFillSync(Buffer.allocUnsafe(MASK_POOL));
    maskAt = 0;
  }
  maskAt += 4;
  return maskAt - 4;
}

/** A masked client frame holding `text` (latin1), written straight into one buffer. */
function frame(opcode, text) {
  const len = text.length;
  const hdr = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(hdr + 4 + len);
  writeHeader(out, opcode, len);
  const m = nextMask();
  const k0 = maskPool[m];
  const k1 = maskPool[m + 1];
  const k2 = maskPool[m + 2];
  const k3 = maskPool[m + 3];
  out[hdr] = k0;
  out[hdr + 1] = k1;
  out[hdr + 2] = k2;
  out[hdr + 3] = k3;
  const p = hdr + 4;
  out.write(text, p, len, 'latin1');
  if (nativeMask) {
    // ws's native masking (bufferutil), in place: the generator's core is the scarce one.
    nativeMask(out.subarray(p, p + len), maskPool.subarray(m, m + 4), out, p, len);
    return out;
  }
  let i = 0;
  for (; i + 3 < len; i += 4) {
    out[p + i] ^= k0;
    out[p + i + 1] ^= k1;
    out[p + i + 2] ^= k2;
    out[p + i + 3] ^= k3;
  }
  for (; i < len; i++) out[p + i] ^= maskPool[m + (i & 3)];
  return out;
}

/**
 * A masked client frame whose payload is permessage-deflate data (RFC 7692) made of stored (BTYPE
 * 00, uncompressed) deflate blocks: the server inflates every message as it would a browser's,
 * while the generator spends nothing on compressing. Layout per block: 0x00, LEN, NLEN, bytes;
 * then the empty stored block's first byte (its 00 00 ff ff tail is dropped, as the RFC says).
 */
function deflatedFrame(opcode, text) {
  const len = text.length;
  const blocks = Math.max(1, Math.ceil(len / 65535));
  const size = len + blocks * 5 + 1;
  const hdr = size < 126 ? 2 : size < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(hdr + 4 + size);
  writeHeader(out, opcode, size);
  out[0] |= 0x40; // RSV1: compressed
  const p = hdr + 4;
  let at = p;
  for (let b = 0; b < blocks; b++) {
    const from = b * 65535;
    const n = Math.min(65535, len - from);
    out[at] = 0x00;
    out.writeUInt16LE(n, at + 1);
    out.writeUInt16LE(~n & 0xffff, at + 3);
    out.write(text.slice(from, from + n), at + 5, n, 'latin1');
    at += 5 + n;
  }
  out[at] = 0x00;
  const m = nextMask();
  for (let i = 0; i < 4; i++) out[hdr + i] = maskPool[m + i];
  for (let i = 0; i < size; i++) out[p + i] ^= maskPool[m + (i & 3)];
  return out;
}

function frameBytes(opcode, body) {
  const len = body.length;
  const hdr = len < 126 ? 2 : 4;
  const out = Buffer.allocUnsafe(hdr + 4 + len);
  writeHeader(out, opcode, len);
  const m = nextMask();
  for (let i = 0; i < 4; i++) out[hdr + i] = maskPool[m + i];
  for (let i = 0; i < len; i++) out[hdr + 4 + i] = body[i] ^ maskPool[m + (i & 3)];
  return out;
}

function writeHeader(out, opcode, len) {
  out[0] = 0x80 | opcode;
  if (len < 126) {
    out[1] = 0x80 | len;
  } else if (len < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    out.writeUInt32BE(len >>> 0, 6);
  }
}

/**
 * A socket.io client over {@link openSocket}: engine.io v4 open/ping/pong, socket.io v5 CONNECT,
 * EVENT and ACK packets on the main namespace, events named "e" with one string argument.
 * `onEvent(peek, receivedAt)` gets the first bytes of every EVENT packet (`42["e","…`), as the
 * server wrote them (JSON-escaped).
 */
export async function openSocketIo(baseUrl, query, { onEvent, onClose, now, timeoutMs = 15_000, deflate = true }) {
  const url = `${baseUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket&${new URLSearchParams(query)}`;
  let connected;
  const acks = new Map();
  let nextAck = 0;
  const whenConnected = new Promise((resolve) => (connected = resolve));
  const ws = await openSocket(url, {
    now,
    timeoutMs,
    deflate,
    onClose,
    onText(text, receivedAt, conn) {
      const type = text.charCodeAt(0);
      if (type === 0x34 /* 4 message */) {
        const kind = text.charCodeAt(1);
        if (kind === 0x32 /* 2 EVENT */) return onEvent(text, receivedAt);
        if (kind === 0x33 /* 3 ACK */) {
          const id = parseInt(text.slice(2), 10);
          acks.get(id)?.();
          acks.delete(id);
          return;
        }
        if (kind === 0x30 /* 0 CONNECT */) return connected();
        return;
      }
      if (type === 0x32 /* 2 ping */) return conn.sendText('3');
      if (type === 0x30 /* 0 open */) return conn.sendText('40');
    },
  });
  let timer;
  await Promise.race([
    whenConnected.finally(() => clearTimeout(timer)),
    new Promise(
      (_, reject) =>
        (timer = setTimeout(() => reject(new Error('socket.io: no CONNECT within the timeout')), timeoutMs)),
    ),
  ]);
  return {
    /** Emits event "e" with one string argument, given already JSON-encoded (a "…" literal). */
    emit: (json) => ws.sendText(`42["e",${json}]`),
    /** The same with an acknowledgement; resolves when the server acknowledged. */
    queued: () => ws.queued(),
    emitWithAck(json) {
      const id = nextAck++;
      return new Promise((resolve) => {
        acks.set(id, resolve);
        ws.sendText(`42${id}["e",${json}]`);
      });
    },
    close: () => ws.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// The same two interfaces on the official client packages (`ws`, `socket.io-client`), for
// `--client official`: slower, but a cross-check that the small client above sees what they see.

/** {@link openSocket} on the `ws` package. */
export async function openSocketOfficial(url, { onText, onClose, now, timeoutMs = 15_000, deflate = true }) {
  const { default: WebSocket } = await import('ws');
  // ws offers permessage-deflate by default, as browsers do, and compresses frames over 1 KiB.
  const ws = new WebSocket(url, deflate ? {} : { perMessageDeflate: false });
  let open = false;
  const conn = {
    get deflate() {
      return /permessage-deflate/.test(ws.extensions);
    },
    queued: () => ws.bufferedAmount,
    get open() {
      return open && ws.readyState === ws.OPEN;
    },
    sendText(text) {
      if (!conn.open) return false;
      ws.send(text);
      return true;
    },
    close: () => ws.close(1000),
    destroy: () => ws.terminate(),
  };
  ws.on('message', (data, isBinary) => {
    if (!isBinary) onText(data.toString('latin1', 0, Math.min(data.length, PEEK_BYTES)), now(), conn);
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`WebSocket ${url}: no upgrade within ${timeoutMs} ms`)), timeoutMs);
    ws.once('open', () => {
      clearTimeout(timer);
      open = true;
      resolve();
    });
    ws.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  ws.on('error', () => {});
  ws.on('close', (code, reason) => {
    const wasOpen = open;
    open = false;
    onClose?.(wasOpen, code, String(reason));
  });
  return conn;
}

/** {@link openSocketIo} on `socket.io-client`: `emit(text)` sends the raw string, `onEvent` gets its first bytes. */
export async function openSocketIoOfficial(
  baseUrl,
  query,
  { onEvent, onClose, now, timeoutMs = 15_000, deflate = true },
) {
  const { io } = await import('socket.io-client');
  const socket = io(baseUrl, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    query,
    ...(deflate ? {} : { perMessageDeflate: false }),
  });
  socket.on('e', (text) => onEvent(text.slice(0, PEEK_BYTES), now()));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('socket.io-client: no connect within the timeout')), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect_error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  socket.on('disconnect', (reason) => onClose?.(true, 0, String(reason)));
  return {
    emit: (text) => socket.emit('e', text),
    queued: () => socket.io.engine?.transport?.ws?.bufferedAmount ?? 0,
    emitWithAck: (text) => socket.emitWithAck('e', text),
    close: () => socket.disconnect(),
  };
}
