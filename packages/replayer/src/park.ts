import type { Connection } from '@cobrowse/client';
import { type Hello, MAX_HELLO_SIGNATURE, encodeText, socketUrl } from '@cobrowse/protocol';

/**
 * An agent's socket opened ahead of its join, for a view prepared for a known room: its connection
 * info is fetched and the socket opened with its token, but no hello is said, so the relay admits it
 * and waits (`agentHelloTimeoutMs`, 60 s by default) without joining it to the room: the customer
 * sees no agent yet and nothing is sent to it. The join says the hello on it at once ({@link sayHello})
 * and hands it to its channel: the relay's welcome and catch-up come one trip later, with no
 * connection-info request and no socket to open in between, while the session is being set up.
 *
 * A view prepared for the service but no room opens the relay's socket ahead (the URL its warm-up's
 * answer named: give that URL instead of the info) without any connection info: the join fetches
 * the info and sends the signature in its hello ({@link sign}), on that socket, when the info names
 * the same node. The relay then joins it to the room the signature names.
 */
export class ParkedSocket {
  /** The connection info the socket was opened with (the join's own, when it takes this socket); none for one opened ahead. */
  readonly info: Promise<Connection> | undefined;
  /** Opened ahead of any connection info: a join signs its hello ({@link sign}). */
  private readonly aheadUrl: string | undefined;
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

  /** `info`: the room's connection info, or a string: the URL of the relay's socket opened ahead. */
  constructor(info: Promise<Connection> | string, external: boolean, onDead: (code: number) => void) {
    this.onDead = onDead;
    if (typeof info === 'string') {
      this.aheadUrl = info;
      this.opened = this.open(info);
      return;
    }
    this.info = info;
    this.opened = info.then(
      (connection) =>
        this.state === 'fetching'
          ? this.open(socketUrl(external ? connection.wssUrlOut : connection.wssUrl, connection.signature, 'replayer'))
          : false,
      () => {
        this.die();
        return false;
      },
    );
    // A failed fetch is reported by the join that makes its own request, not here.
    info.catch(() => undefined);
  }

  /** Opens the socket; settles true once open, false when it could not be. */
  private open(url: string): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let socket: WebSocket;
      try {
        socket = new WebSocket(url);
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
    });
  }

  /** Whether it was opened ahead of any connection info (a join {@link sign}s it). */
  get ahead(): boolean {
    return this.aheadUrl !== undefined;
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
  sayHello(hello: string, sent = hello): boolean {
    const socket = this.socket;
    if (this.state !== 'open' || !socket) return false;
    socket.send(sent);
    this.said = hello;
    this.state = 'said';
    socket.addEventListener('message', this.hold);
    socket.addEventListener('close', this.hold);
    return true;
  }

  /**
   * A socket opened ahead, at the join: when `info` arrives and names the node the socket is open
   * to, the hello goes with its signature (the channel's own, plain, is not sent again). Otherwise
   * (another node, a socket not open, a signature too long for a hello, no info) it is closed, and
   * the channel opens a socket as usual. Call before the channel is made: the channel asks for its
   * socket when `info` arrives, and this runs first.
   */
  sign(info: Promise<Connection>, hello: Hello, external: boolean): void {
    info.then(
      (connection) => {
        // The node the info names: the same origin, and the path the socket opened ahead is under
        // (a gateway may put nodes under path prefixes of one origin).
        let same = false;
        try {
          const base = new URL(external ? connection.wssUrlOut : connection.wssUrl);
          const ahead = new URL(this.aheadUrl!);
          same = base.origin === ahead.origin && base.pathname.startsWith(ahead.pathname);
        } catch {
          // not URLs: not the same node
        }
        const signed = encodeText({ ...hello, signature: connection.signature });
        if (!same || connection.signature.length > MAX_HELLO_SIGNATURE || !this.sayHello(encodeText(hello), signed))
          this.close();
      },
      () => this.close(),
    );
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
      // One opened ahead has no room in its URL: the channel reads the one it asked for (a 4014
      // Moved sends it to the same path and signature on the room's new node).
      if (socket && park.ahead) Object.defineProperty(socket, 'url', { value: url, configurable: true });
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
    // One opened ahead goes only signed: its URL names no room.
    if (this.ahead && state !== 'said') {
      this.close();
      return undefined;
    }
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
