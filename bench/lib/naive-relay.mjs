// The naive relay a team builds first: a plain `ws` server. Every message from a socket is
// broadcast to the other sockets of its room (`?room=` in the URL); the room keeps the last full
// snapshot (rrweb event type 2) and the Meta event (type 4) before it, and sends both to whoever
// joins later. Nothing else is cached, nothing is numbered, nothing is compressed.
//
// `cacheSinceSnapshot: true` is the next thing such a team tries: also keep every message after the
// last full snapshot and replay them all to a late joiner (unbounded; used for one extra row).
import { pathToFileURL } from 'node:url';
import { WebSocketServer } from 'ws';

const META = 4;
const FULL_SNAPSHOT = 2;

/** rrweb events are JSON.stringify'd objects whose first key is `type`: read it without parsing the whole thing. */
function eventType(text) {
  const match = /^\{"type":(\d+)/.exec(text.slice(0, 16));
  if (match) return Number(match[1]);
  try {
    return JSON.parse(text).type;
  } catch {
    return undefined;
  }
}

/**
 * Starts the naive relay in this process.
 * @param {{ host?: string, port?: number, cacheSinceSnapshot?: boolean }} [options]
 * @returns {Promise<{ url: string, port: number, rooms: Map<string, any>, stats: { messages: number, bytes: number }, close(): Promise<void> }>}
 */
export async function startNaiveRelay({ host = '127.0.0.1', port = 0, cacheSinceSnapshot = false } = {}) {
  const rooms = new Map();
  const stats = { messages: 0, bytes: 0 };
  const wss = new WebSocketServer({ host, port, maxPayload: 256 * 1024 * 1024 });
  await new Promise((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });

  wss.on('connection', (socket, request) => {
    const roomId = new URL(request.url ?? '/', 'http://x').searchParams.get('room') ?? 'default';
    let room = rooms.get(roomId);
    if (!room)
      rooms.set(
        roomId,
        (room = { sockets: new Set(), meta: undefined, pendingMeta: undefined, snapshot: undefined, since: [] }),
      );
    // Late joiner: the last Meta + full snapshot first.
    if (room.snapshot) {
      if (room.meta) socket.send(room.meta);
      socket.send(room.snapshot);
      for (const message of room.since) socket.send(message);
    }
    room.sockets.add(socket);

    socket.on('message', (data, isBinary) => {
      const text = isBinary ? undefined : data.toString();
      stats.messages++;
      stats.bytes += data.length;
      if (text !== undefined) {
        const type = eventType(text);
        if (type === META) room.pendingMeta = text;
        else if (type === FULL_SNAPSHOT) {
          room.meta = room.pendingMeta;
          room.snapshot = text;
          room.since = [];
        } else if (cacheSinceSnapshot && room.snapshot) room.since.push(text);
      }
      for (const peer of room.sockets) {
        if (peer !== socket && peer.readyState === peer.OPEN) peer.send(text ?? data, { binary: isBinary });
      }
    });
    socket.on('close', () => {
      room.sockets.delete(socket);
      if (room.sockets.size === 0) rooms.delete(roomId);
    });
    socket.on('error', () => undefined);
  });

  const { port: actual } = wss.address();
  return {
    url: `ws://${host}:${actual}/`,
    port: actual,
    rooms,
    stats,
    close: () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

// `node bench/lib/naive-relay.mjs [--port N] [--cache-since-snapshot]`: the same relay as a process
// of its own (the bench measures its memory); prints "listening on ws://…".
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name) => process.argv[process.argv.indexOf(name) + 1];
  const relay = await startNaiveRelay({
    port: process.argv.includes('--port') ? Number(arg('--port')) : 0,
    cacheSinceSnapshot: process.argv.includes('--cache-since-snapshot'),
  });
  process.stdout.write(`listening on ${relay.url}\n`);
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => relay.close().then(() => process.exit(0)));
}
