import type { eventWithTime } from '@rrweb/types';
import { type Hello, NestedAddsError, PROTOCOL_VERSION, type Events } from '@cobrowse/protocol';
import { Channel, type ChannelStatus, type Connection, Emitter, InOrder } from '@cobrowse/client';
import type { ReplayerOptions, ViewOptions } from './options.js';
import { LivePlayer } from './live-player.js';
import { Stage } from './stage.js';
import { BatchDecoder } from './decode.js';
import { AgentTools, type ControlEvent, type ControlStatus, type HighlightTarget, type RefusedEvent } from './tools.js';
import { TooLargeError, type TooLargeReason, resolveLimits } from './limits.js';
import type { ParkedSocket } from './park.js';

export type ReplayerStatus = ChannelStatus;

export interface ReplayerEvents extends Record<string, unknown> {
  status: ReplayerStatus;
  /** A full snapshot of the customer's page was rendered (a large page comes in parts: its first; the rest follows within moments). */
  snapshot: { width: number; height: number };
  /** Images, fonts or stylesheets captured by the customer's browser arrived and the replay now uses them. */
  assets: { urls: string[] };
  /** Whether the customer is connected, and how many agents watch. */
  presence: { recorder: boolean; replayers: number };
  /** Whether the relay records the session (for audit), and since when it says so. */
  recording: boolean;
  error: Error;
  ended: { reason: string };
  /** Remote control changed, for this agent (`mine`) or another one in the room. */
  control: ControlEvent;
  /** The customer's page did not allow one of this agent's actions (a "not allowed" cue is shown). */
  refused: RefusedEvent;
  /**
   * The customer's page is past one of the size limits (options `maxFrameBytes`, `maxBatchBytes`,
   * `maxNodes`, `maxDepth`): it is not shown ("page too large to show") until a snapshot within them arrives.
   */
  'too-large': { reason: TooLargeReason; limit: number };
}

const STATUS_TEXT: Record<ReplayerStatus, string | undefined> = {
  connecting: 'Connecting…',
  live: undefined,
  reconnecting: 'Connection lost — reconnecting…',
  ended: 'The customer ended the session',
};

const SNAPSHOT_REQUEST_INTERVAL_MS = 1000;
const TOO_LARGE_TEXT = 'This page is too large to show';

/** A batch on its way to the player: decoded, or the reason it could not be. */
interface Decoded {
  readonly header: Events;
  readonly events: eventWithTime[] | undefined;
  readonly error?: unknown;
  /** {@link ReplayerSession.era} when it was admitted. */
  readonly era: number;
}

/**
 * The agent-side view (stage + rrweb Replayer): built while the connection info is on its way, or
 * ahead of time by `prepare()`. It shows nothing until a session connects it.
 */
export class View {
  readonly stage: Stage;
  readonly player: LivePlayer;
  onViewport: (width: number, height: number) => void = () => undefined;
  onAssets: (urls: string[]) => void = () => undefined;

  constructor(container: HTMLElement, options: ViewOptions) {
    this.stage = new Stage(container, options.showPointer !== false);
    this.player = new LivePlayer(
      this.stage.viewport,
      (width, height) => {
        this.stage.setViewport(width, height);
        this.onViewport(width, height);
      },
      (urls) => this.onAssets(urls),
      { ...resolveLimits(options), assets: options.assets, origins: options.origins },
    );
  }

  destroy(): void {
    this.player.destroy();
    this.stage.destroy();
  }
}

/** A replayer's hello on its first connection (no resume: the relay starts from the snapshot it has). */
export const firstHello = (): Hello => ({ type: 'hello', v: PROTOCOL_VERSION });

/** A live view of one customer's page. Created by `join()`. */
export class ReplayerSession {
  /** Room watched (for some dialects only known once connected: read it after join() resolves). */
  roomId = '';
  /** Passphrase dialect: the code the other side enters to join. */
  passphrase: string | undefined;
  private readonly emitter = new Emitter<ReplayerEvents>();
  private readonly channel: Channel;
  private readonly stage: Stage;
  private readonly player: LivePlayer;
  private readonly queue: InOrder<Decoded>;
  private readonly decoder: BatchDecoder;
  /** The page is past a size limit: what is shown is stale until a snapshot within them arrives. */
  tooLarge: { reason: TooLargeReason; limit: number } | undefined;
  /** Last batch admitted (applied, or decoded and waiting its turn); undefined until a full snapshot arrived. */
  private position: { epoch: string; seq: number } | undefined;
  private waitingForSnapshot = true;
  /** Bumped when a batch cannot be decoded: the batches admitted after it are dropped, not applied. */
  private era = 0;
  private lastSnapshotRequest = 0;
  private viewport = { width: 0, height: 0 };
  /** Pointer, highlights and remote control (tools.ts). */
  private readonly tools: AgentTools;

  /**
   * Opens the channel (its socket connects the moment the connection info arrives) for a view built
   * before: by join() while the connection info is on its way, or ahead of time by prepare().
   */
  constructor(
    /** The view's options included (a prepared view's: see prepare.ts). */
    options: ReplayerOptions,
    view: View,
    first: Promise<Connection>,
    fetchInfo: () => Promise<Connection>,
    /** A prepared view's socket opened ahead (park.ts): the channel's first socket. */
    private readonly park?: ParkedSocket,
  ) {
    this.channel = new Channel({
      WebSocket: park?.handOver(),
      role: 'replayer',
      first,
      fetchInfo,
      external: options.external === true,
      // Said in the socket URL too when it has no resume: the relay answers as the socket opens.
      helloInUrl: true,
      // Waiting for a snapshot: no resume, so the relay starts from the snapshot it has.
      hello: () => ({
        ...firstHello(),
        ...(this.position && !this.waitingForSnapshot ? { resume: this.position } : {}),
      }),
    });
    const limits = resolveLimits(options);
    this.decoder = new BatchDecoder(limits.maxFrameBytes, limits.maxBatchBytes, limits.maxNodes);
    this.stage = view.stage;
    this.player = view.player;
    view.onViewport = (width, height) => {
      this.viewport = { width, height };
    };
    view.onAssets = (urls) => this.emitter.emit('assets', { urls });
    this.tools = new AgentTools(
      this.player,
      this.stage,
      {
        send: (message) => this.channel.sendMessage(message),
        emitControl: (event) => this.emitter.emit('control', event),
        emitRefused: (event) => this.emitter.emit('refused', event),
      },
      options.sharePointer !== false,
    );
    this.channel.on('welcome', (welcome) => this.tools.welcome(welcome.v));
    const overlay = options.statusOverlay !== false;
    this.queue = new InOrder(
      (decoded) => this.applyBatch(decoded),
      (error) => this.fail(error),
    );
    const showStatus = (status: ReplayerStatus) => {
      if (!overlay) return;
      this.stage.showStatus(
        status === 'live' && this.waitingForSnapshot ? "Waiting for the customer's page…" : STATUS_TEXT[status],
      );
    };
    showStatus('connecting');
    this.channel.on('status', (status) => {
      showStatus(status);
      this.emitter.emit('status', status);
    });
    this.channel.on('frame', ({ message, payload }) => {
      if (message.type === 'events') {
        this.receive(message, payload);
      } else if (message.type === 'asset') {
        // Kept whatever state the replay is in: the events that use it may come before or after.
        if (payload instanceof Uint8Array) this.player.addAsset(message.url, message.mime, payload);
      } else if (message.type === 'presence') {
        this.emitter.emit('presence', { recorder: message.recorder, replayers: message.replayers });
      } else if (message.type === 'control') {
        this.tools.onControl(message);
      } else if (message.type === 'refused') {
        this.tools.onRefused(message);
      } else if (message.type === 'recording') {
        this.recording = message.on;
        this.emitter.emit('recording', message.on);
      } else if (message.type === 'error') {
        this.emitter.emit('error', new Error(`relay: ${message.message}`));
      }
    });
    this.channel.on('error', (error) => this.emitter.emit('error', error));
    this.channel.on('ended', ({ reason }) => {
      this.tools.destroy();
      this.player.releaseAssets();
      if (overlay) this.stage.showStatus(STATUS_TEXT.ended);
      this.emitter.emit('ended', { reason });
    });
    this.onSnapshot = () => {
      this.tooLarge = undefined;
      showStatus(this.channel.status);
    };
    this.onTooLarge = (error) => {
      this.tooLarge = { reason: error.reason, limit: error.limit };
      if (overlay) this.stage.showStatus(TOO_LARGE_TEXT);
      this.emitter.emit('too-large', { ...this.tooLarge });
    };
  }

  private readonly onTooLarge: (error: TooLargeError) => void;

  private readonly onSnapshot: () => void;

  /** The first connection info arrived (join() then resolves). */
  connected(first: Connection): void {
    this.roomId = first.roomId;
    this.passphrase = first.passphrase;
  }

  /** The replay iframe; its `contentDocument` is the replayed page. */
  get iframe(): HTMLIFrameElement {
    return this.player.iframe;
  }

  get status(): ReplayerStatus {
    return this.channel.status;
  }

  on<K extends keyof ReplayerEvents>(event: K, listener: (value: ReplayerEvents[K]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  /** Whether this agent's pointer is shown on the customer's page (the `sharePointer` option; settable). */
  get sharePointer(): boolean {
    return this.tools.sharePointer;
  }

  set sharePointer(on: boolean) {
    this.tools.sharePointer = on === true;
  }

  /** Remote control as this agent holds it: `none`, `requested` or `granted`. */
  get control(): ControlStatus {
    return this.tools.control;
  }

  /**
   * Marks `target` on the customer's page: an element of the replayed document (anchored to it there,
   * so it follows scrolling) or a rectangle `{x, y, width, height}` in page coordinates. Fades after a few seconds.
   */
  highlight(target: HighlightTarget): void {
    this.tools.highlight(target);
  }

  /** Removes this agent's highlights from the customer's page. */
  clearHighlights(): void {
    this.tools.clearHighlights();
  }

  /** Asks the customer for remote control; true once allowed, false when denied, unanswered (60 s) or held by another agent. */
  requestControl(): Promise<boolean> {
    return this.tools.requestControl();
  }

  /** Gives remote control back to the customer. */
  releaseControl(): void {
    this.tools.releaseControl();
  }

  /** Whether the relay records this session (told by the relay; false until it says otherwise). */
  recording = false;

  /**
   * Asks the relay to start (or stop) recording the session for audit — honoured when its policy
   * is `requested`; the customer's indicator then says "This session is recorded". Resolves with
   * the state the relay answers (false when it does not record), or the current one on timeout.
   */
  record(on = true): Promise<boolean> {
    if (!this.channel.sendMessage({ type: 'recording', on })) return Promise.resolve(this.recording);
    return new Promise((resolve) => {
      const timer = setTimeout(() => (off(), resolve(this.recording)), 5000);
      const off = this.emitter.on('recording', (state) => {
        clearTimeout(timer);
        off();
        resolve(state);
      });
    });
  }

  /** Asks the customer's page for a fresh full snapshot. */
  requestSnapshot(reason = 'agent'): void {
    const now = Date.now();
    if (now - this.lastSnapshotRequest < SNAPSHOT_REQUEST_INTERVAL_MS) return;
    this.lastSnapshotRequest = now;
    this.channel.sendMessage({ type: 'request-snapshot', reason });
  }

  /**
   * A batch arrived. Admitted in arrival order (the relay sends them in order) and decoded at once —
   * `z: 2` batches depend on the ones before — then applied in order once decoded.
   */
  private receive(header: Events, payload: string | Uint8Array | undefined): void {
    if (!this.admit(header)) return;
    const era = this.era;
    let events: eventWithTime[] | Promise<eventWithTime[]>;
    try {
      events = this.decoder.decode(header, payload);
    } catch (error) {
      this.broken(error);
      return;
    }
    this.queue.push(
      events instanceof Promise
        ? events.then(
            (list) => ({ header, events: list, era }),
            (error: unknown) => ({ header, events: undefined, error, era }),
          )
        : { header, events, era },
    );
  }

  /** Whether a batch follows the one admitted before it (a snapshot batch always does). */
  private admit(header: Events): boolean {
    const position = this.position;
    if (header.snap) {
      this.waitingForSnapshot = false;
    } else if (this.waitingForSnapshot || !position || position.epoch !== header.epoch) {
      return false;
    } else if (header.seq <= position.seq) {
      return false; // already admitted (a resume overlapped)
    } else if (header.seq !== position.seq + 1) {
      // A gap: what follows cannot be applied on top of what we have. Start again from a snapshot.
      this.waitingForSnapshot = true;
      this.requestSnapshot('gap');
      return false;
    }
    this.position = { epoch: header.epoch, seq: header.seq };
    return true;
  }

  /** A batch could not be decoded: nothing after it can be applied until a new snapshot. */
  private broken(error: unknown): void {
    this.fail(error);
    this.era++;
    this.decoder.reset();
    this.waitingForSnapshot = true;
    // Too large: asking again would bring the same page; the next snapshot the customer takes is awaited.
    if (error instanceof TooLargeError) this.onTooLarge(error);
    else this.requestSnapshot('bad batch');
  }

  private applyBatch({ header, events, error, era }: Decoded): void {
    if (era !== this.era) return;
    if (!events) return this.broken(error);
    for (const event of events) {
      try {
        this.player.apply(event);
      } catch (error) {
        // Too large, or a sliced snapshot's part that cannot be applied: the page is incomplete from here.
        if (error instanceof TooLargeError || error instanceof NestedAddsError) return this.broken(error);
        this.fail(error);
      }
    }
    if (header.snap) {
      this.onSnapshot();
      // rrweb applies events a microtask after addEvent.
      queueMicrotask(() => this.emitter.emit('snapshot', { ...this.viewport }));
    }
  }

  private fail(error: unknown): void {
    this.emitter.emit('error', error instanceof Error ? error : new Error(String(error)));
  }

  /** Stops watching: closes the socket and removes the replay from the container. */
  leave(): void {
    this.tools.destroy();
    this.channel.close('the agent left');
    // A socket opened ahead that the channel has not taken yet (a leave right after the join).
    this.park?.close();
    this.player.destroy();
    this.stage.destroy();
  }
}
