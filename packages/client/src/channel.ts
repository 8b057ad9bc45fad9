import ReconnectingWebSocket from 'reconnecting-websocket';
import {
  CloseCode,
  FINAL_CLOSE_CODES,
  HELLO_PARAM,
  type ConnectionInfo,
  socketUrl,
  type DecodedFrame,
  decodeBytes,
  decodeText,
  encodeText,
  movedUrl,
  type Hello,
  type Message,
  type Welcome,
  type Role,
} from '@cobrowse/protocol';
import { Emitter } from './emitter.js';

export type ChannelStatus = 'connecting' | 'live' | 'reconnecting' | 'ended';

export interface ChannelEvents extends Record<string, unknown> {
  status: ChannelStatus;
  welcome: Welcome;
  frame: DecodedFrame;
  error: Error;
  ended: { code: number; reason: string };
}

export interface ChannelOptions {
  role: Role;
  /** Fetches fresh connection info (called again before every reconnect: tokens expire). */
  fetchInfo: () => Promise<ConnectionInfo>;
  /** The info for the first connection: fetched already, or on its way (the socket opens the moment it arrives). */
  first: ConnectionInfo | Promise<ConnectionInfo>;
  /** Use `wssUrlOut` (customers, agents outside the network) instead of `wssUrl`. */
  external: boolean;
  /** Builds the hello for each (re)connection. */
  hello: () => Hello;
  /**
   * Replayers: a hello without `resume` also goes in the socket URL (protocol's `HELLO_PARAM`), so
   * the relay answers at the upgrade; the hello is sent on open all the same.
   */
  helloInUrl?: boolean;
  /**
   * The WebSocket class reconnecting-websocket constructs (default the browser's): a replayer's
   * prepared view hands over the socket it opened ahead this way (see the replayer's park.ts).
   */
  WebSocket?: unknown;
}

/** Where an attempt made after the channel ended goes (reconnecting-websocket, closed meanwhile, never opens it). */
const ENDED_URL = 'ws://127.0.0.1:9/ended';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One logical connection to a room that survives drops: reconnecting-websocket underneath, a fresh
 * signature before each reconnect, a hello on every open, status as events, and no retry after a
 * close code that says so.
 */
export class Channel extends Emitter<ChannelEvents> {
  // Fields are assigned in the constructor (`declare`: no field definitions emitted; the recorder's
  // script tag is budgeted to the byte).
  declare status: ChannelStatus;
  declare private readonly options: ChannelOptions;
  declare private readonly socket: ReconnectingWebSocket;
  declare private pendingInfo: ConnectionInfo | Promise<ConnectionInfo> | undefined;
  /** Where the next attempt goes after a 4014 Moved (a cluster node named the room's node). */
  declare private moved: string | undefined;

  constructor(options: ChannelOptions) {
    super();
    this.status = 'connecting';
    this.options = options;
    this.pendingInfo = options.first;
    this.socket = new ReconnectingWebSocket(() => this.nextUrl(), [], {
      minReconnectionDelay: 200 + Math.random() * 300,
      maxReconnectionDelay: 5000,
      reconnectionDelayGrowFactor: 1.5,
      connectionTimeout: 5000,
      minUptime: 2000,
      maxEnqueuedMessages: 0,
      WebSocket: options.WebSocket,
    });
    this.socket.binaryType = 'arraybuffer';
    this.socket.addEventListener('open', () => this.socket.send(encodeText(this.options.hello())));
    this.socket.addEventListener('message', (event) => this.onMessage(event.data as string | ArrayBuffer));
    this.socket.addEventListener('close', (event) => this.onClose(event.code, event.reason));
  }

  /** Resolves the URL for the next attempt; never rejects (reconnecting-websocket would stall). */
  private async nextUrl(): Promise<string> {
    // reconnecting-websocket starts its next attempt before it tells us of a close that ends the
    // channel: that attempt asks for no connection info.
    if (this.status === 'ended') return ENDED_URL;
    if (this.moved) {
      try {
        return this.withHello(this.moved);
      } catch {
        this.moved = undefined; // not a URL after all: fresh connection info instead
      }
    }
    let delay = 500;
    for (;;) {
      try {
        const pending = this.pendingInfo;
        this.pendingInfo = undefined;
        const info = pending ? await pending : await this.options.fetchInfo();
        const base = this.options.external ? info.wssUrlOut : info.wssUrl;
        return this.withHello(socketUrl(base, info.signature, this.options.role));
      } catch (error) {
        if ((this.status as ChannelStatus) === 'ended') return ENDED_URL; // it may have ended while this waited
        this.emit('error', error as Error);
        await sleep(delay);
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  /** The URL with this attempt's hello in it when it goes there (helloInUrl), and never an earlier attempt's. */
  private withHello(socket: string): string {
    if (!this.options.helloInUrl) return socket;
    const url = new URL(socket);
    url.searchParams.delete(HELLO_PARAM);
    const hello = this.options.hello();
    if (!hello.resume) url.searchParams.set(HELLO_PARAM, String(hello.v));
    return url.toString();
  }

  private setStatus(status: ChannelStatus): void {
    if (this.status === status || this.status === 'ended') return;
    this.status = status;
    this.emit('status', status);
  }

  private onMessage(data: string | ArrayBuffer): void {
    // Nothing after the end (a socket handed over by a replayer's prepared view may still give held frames).
    if (this.status === 'ended') return;
    let frame: DecodedFrame;
    try {
      frame = typeof data === 'string' ? decodeText(data) : decodeBytes(new Uint8Array(data));
    } catch (error) {
      this.emit('error', error as Error);
      return;
    }
    const { message } = frame;
    if (message.type === 'welcome') {
      this.setStatus('live');
      this.emit('welcome', message);
      return;
    }
    if (message.type === 'bye') {
      this.end(CloseCode.SessionEnded, message.reason ?? 'session ended');
      return;
    }
    this.emit('frame', frame);
  }

  private onClose(code: number, reason: string): void {
    if (this.status === 'ended') return;
    if (FINAL_CLOSE_CODES.has(code)) {
      this.end(code, reason);
      return;
    }
    // 4014 Moved: the next attempt goes to the room's node with the same path and signature. Never
    // twice in a row (a socket that was itself redirected fetches fresh connection info next), nor
    // after any other close.
    this.moved = code === 4014 && !this.moved ? movedUrl(this.socket.url, reason) : undefined; // CloseCode.Moved
    this.setStatus('reconnecting');
  }

  private end(code: number, reason: string): void {
    if (this.status === 'ended') return;
    this.socket.close(CloseCode.Normal);
    this.setStatus('ended');
    this.emit('ended', { code, reason });
  }

  /** Whether frames sent now reach the relay. */
  get live(): boolean {
    return this.status === 'live' && this.socket.readyState === ReconnectingWebSocket.OPEN;
  }

  /** Sends a frame if the socket is live; returns whether it was sent. */
  send(frame: string | Uint8Array): boolean {
    if (!this.live) return false;
    this.socket.send(frame);
    return true;
  }

  sendMessage(message: Message): boolean {
    return this.send(encodeText(message));
  }

  /** Bytes queued in the socket and not yet sent. */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  /** Leaves for good, telling the relay why. */
  close(reason = 'left'): void {
    if (this.status === 'ended') return;
    this.sendMessage({ type: 'bye', reason });
    this.end(CloseCode.Normal, reason);
  }
}
