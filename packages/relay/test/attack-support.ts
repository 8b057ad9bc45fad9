import WebSocket from 'ws';
import { encodeText, type Role } from '@cobrowse/protocol';

/** A socket that has (or has not) been let in, with every frame it received. */
export class Peer {
  frames: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.frames.push(data.toString()));
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }
  async until(predicate: () => boolean, timeout = 3000): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out; have ${JSON.stringify(this.frames).slice(0, 400)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  welcome(): any {
    const frame = this.frames.find((f) => f.startsWith('{"type":"welcome"'));
    return frame && JSON.parse(frame);
  }
  events(): string[] {
    return this.frames.filter((f) => f.startsWith('{"type":"events"'));
  }
}

/** Opens `url` + `?signature=…` (and says hello); resolves with the peer once welcomed, or the refused upgrade's status. */
export function enter(
  wssUrl: string,
  signature: string,
  role: Role,
  hello: object = {},
  headers: Record<string, string> = {},
): Promise<Peer | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wssUrl}?role=${role}&signature=${encodeURIComponent(signature)}`, { headers });
    ws.once('open', async () => {
      const peer = new Peer(ws);
      ws.send(encodeText({ type: 'hello', v: 2, ...(role === 'recorder' ? { epoch: 'ep1' } : {}), ...hello } as never));
      try {
        await peer.until(() => !!peer.welcome() || ws.readyState !== WebSocket.OPEN);
      } catch (error) {
        reject(error);
        return;
      }
      resolve(peer);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    ws.once('error', reject);
  });
}

/** A rrweb-ish batch of the recording `epoch`. */
export const batch = (seq: number, snap = false, epoch = 'ep1') =>
  encodeText({ type: 'events', epoch, seq, ...(snap ? { snap: true } : {}) }, `[{"type":3,"n":${seq}}]`);
