// The socket.io baseline for `node bench/load.mjs`, run as its own process:
//   node bench/lib/load-socketio-server.mjs [--port 0]
// prints "socket.io room-broadcast server listening on http://127.0.0.1:PORT".
//
// Clients connect with `?room=ID&role=recorder|replayer` (websocket transport only) and join the
// room. Each message a recorder emits ('e', frame) is broadcast to the room except the sender.
// Like the relay's late-join catch-up, the server keeps the room's first message (the snapshot)
// and sends it to every replayer that joins later. It keeps nothing else.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Server } from 'socket.io';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
const httpServer = createServer((_req, res) => res.writeHead(404).end());
const io = new Server(httpServer, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  maxHttpBufferSize: 16 * 1024 * 1024,
});

/** room id → its first (snapshot) message. */
const snapshots = new Map();

io.on('connection', (socket) => {
  const room = String(socket.handshake.query.room ?? '');
  const role = socket.handshake.query.role === 'recorder' ? 'recorder' : 'replayer';
  if (!room) return void socket.disconnect(true);
  socket.join(room);
  if (role === 'recorder') {
    socket.on('e', (frame, ack) => {
      if (!snapshots.has(room)) snapshots.set(room, frame);
      socket.to(room).emit('e', frame);
      if (typeof ack === 'function') ack();
    });
  } else {
    const snapshot = snapshots.get(room);
    if (snapshot !== undefined) socket.emit('e', snapshot);
  }
});

// Forget a room's snapshot once everybody left (socket.io deletes empty rooms from its adapter).
io.of('/').adapter.on('delete-room', (room) => snapshots.delete(room));

httpServer.listen(Number(values.port), '127.0.0.1', () => {
  process.stdout.write(`socket.io room-broadcast server listening on http://127.0.0.1:${httpServer.address().port}\n`);
});

const shutdown = () => {
  io.close();
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.on('disconnect', shutdown);
