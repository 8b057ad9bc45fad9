import WebSocket from 'ws';
import { encodeText, signToken, type Role } from '@cobrowse/protocol';
import { TEST_SECRET } from './helpers.js';

/** A real client socket in a room, collecting the text frames it receives. */
export class Client {
  frames: string[] = [];
  welcome: any;
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];
  constructor(
    readonly ws: WebSocket,
    /** How long {@link next} waits by default, ms. */
    private readonly timeoutMs = 3000,
  ) {
    ws.on('message', (data) => {
      this.frames.push(data.toString());
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }
  /** The `events` frames received and not yet taken. */
  events(): string[] {
    return this.frames.filter((f) => f.startsWith('{"type":"events"'));
  }
  /** How many received frames (not yet taken) match. */
  count(match: (frame: string) => boolean): number {
    return this.frames.filter(match).length;
  }
  /** Waits for (and takes) the first frame that matches. */
  async next(match: (frame: string) => boolean, timeout = this.timeoutMs): Promise<string> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = this.frames.find(match);
      if (found) {
        this.frames.splice(this.frames.indexOf(found), 1);
        return found;
      }
      if (Date.now() > deadline)
        throw new Error(`no matching frame; have ${JSON.stringify(this.frames).slice(0, 500)}`);
      await new Promise<void>((wake) => {
        this.waiters.push(wake);
        setTimeout(wake, 50);
      });
    }
  }
}

/** Opens a socket to `base` (http://…); resolves once open, or with the HTTP status of a refused upgrade. */
export function openSocket(base: string, path: string): Promise<WebSocket | { refused: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base.replace('http', 'ws') + path);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ refused: res.statusCode! });
    });
    ws.once('error', reject);
  });
}

/** Signs a token for `room`/`role`, opens the socket and says hello; resolves once welcomed. */
export async function joinRoom(base: string, room: string, role: Role, secret = TEST_SECRET): Promise<Client> {
  const signature = await signToken(secret, { room, role, user: `${role}-1`, name: `${role} name` });
  const ws = await openSocket(base, `/ws/cobrowse/${room}?role=${role}&signature=${encodeURIComponent(signature)}`);
  if (!(ws instanceof WebSocket)) throw new Error(`refused ${ws.refused}`);
  const client = new Client(ws);
  ws.send(encodeText({ type: 'hello', v: 1, ...(role === 'recorder' ? { epoch: 'ep1' } : {}) } as never));
  client.welcome = JSON.parse(await client.next((frame) => frame.startsWith('{"type":"welcome"')));
  return client;
}

/** A recorder batch of events (`snap`: it starts with a full snapshot). */
export const batch = (seq: number, snap = false) =>
  encodeText({ type: 'events', epoch: 'ep1', seq, ...(snap ? { snap: true } : {}) }, `[{"type":3,"n":${seq}}]`);
