import type { Connection } from '@cobrowse/client';
import { socketUrl } from '@cobrowse/protocol';

/**
 * An agent's socket opened ahead of its join, for a view prepared for a known room: its connection
 * info is fetched and the socket opened with its token, but no hello is said, so the relay admits it
 * and waits (`agentHelloTimeoutMs`, 60 s by default) without joining it to the room: the customer
 * sees no agent yet and nothing is sent to it. The join says the hello on it at once ({@link sayHello})
 * and hands it to its channel: the relay's welcome and catch-up come one trip later, with no
 * connection-info request and no socket to open in between, while the session is being set up.
 */
export class ParkedSocket {
  /** The connection info the socket was opened with (the join's own, when it takes this socket). */
  readonly info: Promise<Connection>;
  /** Settles true when the socket opened, false when it could not (then the join makes its own). */
  readonly opened: Promise<boolean>;
  private socket: WebSocket | undefined;
  private state: 'fetching' | 'connecting' | 'open' | 'said' | 'dead' | 'taken' = 'fetching';
  /** What arrived after the hello, before the channel took the socket (given to it then, in order). */
  private held: Event[] = [];
  /** The hello said by {@link sayHello}: the channel's own, sent on open, is that one and is not sent again. */
  private said: string | undefined;
  /**
   * Told when it stopped being usable by itself (not by {@link close}): the socket's close code, or
   * 0 when its connection info could not be had or it could not be made.
   */
  private readonly onDead: (code: number) => void;
  private resolveOpened: ((opened: boolean) => void) | undefined;

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
          this.resolveOpened = resolve;
          socket.addEventListener('open', this.onOpen);
          socket.addEventListener('close', this.onClose);
        }),
      () => {
        this.die();
        return false;
      },
    );
    // A failed fetch is reported by the join that makes its own request, not here.
    info.catch(() => undefined);
  }

  private readonly onOpen = () => {
    if (this.state !== 'connecting') return;
    this.state = 'open';
    this.resolveOpened?.(true);
  };

  private readonly onClose = (event: CloseEvent) => {
    if (this.state === 'said') return; // held for the channel
    this.socket = undefined;
    this.die(event.code);
  };

  private readonly hold = (event: Event) => this.held.push(event);

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
   * The join's first move when the socket is open: its hello goes now, and what the relay sends back
   * is held until the channel takes the socket. Returns whether it was said (not when the socket is
   * not open yet: the channel says it on open, as usual).
   */
  sayHello(hello: string): boolean {
    const socket = this.socket;
    if (this.state !== 'open' || !socket) return false;
    socket.send(hello);
    this.said = hello;
    this.state = 'said';
    socket.addEventListener('message', this.hold);
    socket.addEventListener('close', this.hold);
    return true;
  }

  /**
   * For the join's channel: a WebSocket class (reconnecting-websocket's `WebSocket` option) whose
   * first instance is this socket (told it is open, then given what it held, as a new socket would
   * be), and every later one a new socket as usual. Call only when {@link usable}, or after
   * {@link sayHello}.
   */
  handOver(): unknown {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const park = this;
    function Handed(url: string, protocols?: string | string[]): WebSocket {
      const socket = park.take();
      return socket ?? new WebSocket(url, protocols);
    }
    // What reconnecting-websocket checks a WebSocket class by.
    Handed.CLOSING = WebSocket.CLOSING;
    return Handed;
  }

  /** The socket, once: opening, open or said hello, and not yet taken (else undefined: a new one is made). */
  private take(): WebSocket | undefined {
    const socket = this.socket;
    const state = this.state;
    if (!socket || (state !== 'connecting' && state !== 'open' && state !== 'said')) return undefined;
    this.state = 'taken';
    this.socket = undefined;
    socket.removeEventListener('open', this.onOpen);
    socket.removeEventListener('close', this.onClose);
    if (state === 'connecting') return socket; // its own open event is still to come
    const said = this.said;
    if (said !== undefined) {
      // The channel sends its hello on open: said already.
      const send = socket.send.bind(socket);
      let first = true;
      socket.send = (data) => {
        const skip = first && data === said;
        first = false;
        if (!skip) send(data);
      };
    }
    // reconnecting-websocket adds its listeners right after constructing: they are told now.
    queueMicrotask(() => {
      socket.removeEventListener('message', this.hold);
      socket.removeEventListener('close', this.hold);
      socket.dispatchEvent(new Event('open'));
      for (const event of this.held.splice(0))
        socket.dispatchEvent(
          event instanceof MessageEvent
            ? new MessageEvent('message', { data: event.data })
            : new CloseEvent('close', {
                code: (event as CloseEvent).code,
                reason: (event as CloseEvent).reason,
                wasClean: (event as CloseEvent).wasClean,
              }),
        );
    });
    return socket;
  }

  /** Closes it (a view destroyed, or a join that does not take it). */
  close(): void {
    if (this.state === 'taken') return;
    const socket = this.socket;
    this.state = 'dead';
    this.socket = undefined;
    this.held = [];
    this.resolveOpened?.(false);
    if (socket) {
      socket.removeEventListener('close', this.onClose);
      socket.removeEventListener('open', this.onOpen);
      socket.removeEventListener('message', this.hold);
      socket.removeEventListener('close', this.hold);
      socket.close(1000, 'not joined');
    }
  }
}
