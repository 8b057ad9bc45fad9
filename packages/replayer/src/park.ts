import type { Connection } from '@cobrowse/client';
import { socketUrl } from '@cobrowse/protocol';

/**
 * An agent's socket opened ahead of its join, for a view prepared for a known room: its connection
 * info is fetched and the socket opened with its token, but no hello is said, so the relay admits it
 * and waits (`agentHelloTimeoutMs`, 60 s by default) without joining it to the room: the customer
 * sees no agent yet and nothing is sent to it. The join hands the socket to its channel, which says
 * hello on it: the relay's welcome and catch-up come one trip later, with no connection-info request
 * and no socket to open in between.
 */
export class ParkedSocket {
  /** The connection info the socket was opened with (the join's own, when it takes this socket). */
  readonly info: Promise<Connection>;
  /** Settles true when the socket opened, false when it could not (then the join makes its own). */
  readonly opened: Promise<boolean>;
  private socket: WebSocket | undefined;
  private state: 'fetching' | 'connecting' | 'open' | 'dead' | 'taken' = 'fetching';
  /**
   * Told when it stopped being usable by itself (not by {@link close}): the socket's close code, or
   * 0 when its connection info could not be had or it could not be made.
   */
  private readonly onDead: (code: number) => void;

  constructor(info: Promise<Connection>, external: boolean, onDead: (code: number) => void) {
    this.info = info;
    this.onDead = onDead;
    this.opened = info.then(
      (connection) =>
        new Promise<boolean>((resolve) => {
          if (this.state !== 'fetching') return resolve(false);
          let socket: WebSocket;
          try {
            socket = new WebSocket(
              socketUrl(external ? connection.wssUrlOut : connection.wssUrl, connection.signature, 'replayer'),
            );
          } catch {
            this.die();
            return resolve(false);
          }
          socket.binaryType = 'arraybuffer';
          this.socket = socket;
          this.state = 'connecting';
          socket.addEventListener('open', this.onOpen);
          socket.addEventListener('close', this.onClose);
          this.resolveOpened = resolve;
        }),
      () => {
        this.die();
        return false;
      },
    );
    // A failed fetch is reported by the join that makes its own request, not here.
    info.catch(() => undefined);
  }

  private resolveOpened: ((opened: boolean) => void) | undefined;

  private readonly onOpen = () => {
    if (this.state !== 'connecting') return;
    this.state = 'open';
    this.resolveOpened?.(true);
  };

  private readonly onClose = (event: CloseEvent) => {
    if (this.state === 'taken') return;
    this.socket = undefined;
    this.die(event.code);
  };

  private die(code = 0): void {
    if (this.state === 'dead' || this.state === 'taken') return;
    this.state = 'dead';
    this.resolveOpened?.(false);
    this.onDead(code);
  }

  /** Whether a join can still take it: its info is on its way, or its socket is opening or open. */
  get usable(): boolean {
    return this.state === 'fetching' || this.state === 'connecting' || this.state === 'open';
  }

  /**
   * For the join's channel: a WebSocket class (reconnecting-websocket's `WebSocket` option) whose
   * first instance is this socket (told it is open when it already is, as a new socket would be),
   * and every later one a new socket as usual. Call only when {@link usable}.
   */
  handOver(): unknown {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const park = this;
    function Handed(url: string, protocols?: string | string[]): WebSocket {
      const socket = park.take();
      if (!socket) return new WebSocket(url, protocols);
      // reconnecting-websocket adds its listeners right after constructing: an open socket tells them now.
      if (socket.readyState === WebSocket.OPEN) queueMicrotask(() => socket.dispatchEvent(new Event('open')));
      return socket;
    }
    // What reconnecting-websocket checks a WebSocket class by.
    Handed.CLOSING = WebSocket.CLOSING;
    return Handed;
  }

  /** The socket, once: opening or open and not yet taken (else undefined: a new one is made). */
  private take(): WebSocket | undefined {
    const socket = this.socket;
    if (!socket || (this.state !== 'connecting' && this.state !== 'open')) return undefined;
    this.state = 'taken';
    this.socket = undefined;
    socket.removeEventListener('open', this.onOpen);
    socket.removeEventListener('close', this.onClose);
    return socket;
  }

  /** Closes it (a view destroyed, or a join that does not take it). */
  close(): void {
    const socket = this.state === 'taken' ? undefined : this.socket;
    this.state = this.state === 'taken' ? 'taken' : 'dead';
    this.socket = undefined;
    this.resolveOpened?.(false);
    if (socket) {
      socket.removeEventListener('close', this.onClose);
      socket.removeEventListener('open', this.onOpen);
      socket.close(1000, 'not joined');
    }
  }
}
