import { record } from 'rrweb';
import type { eventWithTime } from '@rrweb/types';
import {
  ASSETS_VERSION,
  FOCUS_EVENT,
  POINTER_EVENT,
  PROTOCOL_VERSION,
  RrwebEventType,
  toBase64Url,
} from '@cobrowse/protocol';
import { Channel, type ChannelStatus, type Connection, Emitter } from '@cobrowse/protocol/client';
import type { RecorderOptions } from './options.js';
import { Batcher } from './batcher.js';
import { Sender } from './sender.js';
import { type Indicator, showIndicator } from './indicator.js';
import {
  ALWAYS_BLOCKED,
  ALWAYS_MASKED,
  inputMasker,
  joinSelectors,
  maskInputOptions,
  maskedSelects,
} from './privacy.js';
import { AssetCapture, resolveAssetOptions } from './assets.js';

export type RecorderStatus = ChannelStatus;

export interface RecorderEvents extends Record<string, unknown> {
  status: RecorderStatus;
  /** Number of agents watching changed. */
  agents: number;
  /** Whether the relay records the session (for audit); the indicator says so too. */
  recording: boolean;
  error: Error;
  ended: { reason: string };
}

const SNAPSHOT_MIN_INTERVAL_MS = 1000;
const FULL_SNAPSHOT = RrwebEventType.FullSnapshot;
const POINTER_SETTLE_MS = 100;

/** A running share. Created by `start()`. */
export class RecorderSession {
  /** Room shared into (for some dialects only known once connected: read it after start/join). */
  readonly roomId: string;
  /** Passphrase dialect: the code the other side enters to join. */
  readonly passphrase: string | undefined;
  /** Random id of this page's recording. */
  readonly epoch = toBase64Url(crypto.getRandomValues(new Uint8Array(9)));
  private readonly emitter = new Emitter<RecorderEvents>();
  private readonly channel: Channel;
  private readonly batcher: Batcher;
  private readonly sender: Sender;
  private readonly indicator: Indicator | undefined;
  private readonly assets: AssetCapture | undefined;
  /** Protocol version the relay speaks with us (from its welcome). */
  private relayVersion = 1;
  private stopRecording: (() => void) | undefined;
  private lastSnapshot = 0;
  private snapshotTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly options: RecorderOptions,
    first: Connection,
    fetchInfo: () => Promise<Connection>,
  ) {
    this.roomId = first.roomId;
    this.passphrase = first.passphrase;
    this.channel = new Channel({
      role: 'recorder',
      first,
      fetchInfo,
      external: true,
      hello: () => ({ type: 'hello', v: PROTOCOL_VERSION, epoch: this.epoch }),
    });
    this.sender = new Sender(this.channel, this.epoch, (error) => this.emitter.emit('error', error as Error));
    this.batcher = new Batcher((batch) => this.sender.send(batch));
    this.indicator = options.indicator === false ? undefined : showIndicator(() => this.stop());
    this.assets =
      options.assets === false
        ? undefined
        : new AssetCapture(resolveAssetOptions(options.assets === true ? undefined : options.assets, location.origin), {
            send: (frame) => this.channel.send(frame),
            ready: () => this.channel.live && this.relayVersion >= ASSETS_VERSION,
            buffered: () => this.channel.bufferedAmount,
            lastSeq: () => this.sender.transmittedSeq,
            node: (id) => record.mirror.getNode(id) as Node | null,
            privateSelector: joinSelectors(ALWAYS_MASKED, ALWAYS_BLOCKED, options.maskSelector, options.blockSelector),
          });
    this.channel.on('status', (status) => this.onStatus(status));
    this.channel.on('welcome', (welcome) => {
      this.relayVersion = welcome.v;
      this.indicator?.setAgents(welcome.replayers);
      // Pick up where the relay left off; a fresh snapshot when it cannot (new relay, too long away).
      this.batcher.flush();
      const resumed = !!this.stopRecording && this.sender.resume(welcome.seq);
      if (!resumed) this.snapshot(true);
      // Assets that may not have reached the relay go again (all of them when it has nothing of ours).
      this.assets?.reconnected(resumed ? welcome.seq : undefined);
    });
    this.channel.on('frame', ({ message }) => {
      if (message.type === 'ack') this.sender.ack(message.seq);
      else if (message.type === 'request-snapshot') this.snapshot();
      else if (message.type === 'presence') {
        this.indicator?.setAgents(message.replayers);
        this.emitter.emit('agents', message.replayers);
      } else if (message.type === 'recording') {
        this.indicator?.setRecorded(message.on);
        this.emitter.emit('recording', message.on);
      } else if (message.type === 'error') this.emitter.emit('error', new Error(`relay: ${message.message}`));
    });
    this.channel.on('error', (error) => this.emitter.emit('error', error));
    this.channel.on('ended', ({ reason }) => this.finish(reason));
  }

  get status(): RecorderStatus {
    return this.channel.status;
  }

  on<K extends keyof RecorderEvents>(event: K, listener: (value: RecorderEvents[K]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  /** Bytes sent on the socket so far (payload frames). */
  get bytesSent(): number {
    return this.sender.bytesSent;
  }

  /** The page's images, fonts and stylesheets sent for the agents so far: frames' bytes and distinct URLs. */
  get assetsSent(): { bytes: number; count: number } {
    return { bytes: this.assets?.bytesSent ?? 0, count: this.assets?.count ?? 0 };
  }

  private onStatus(status: ChannelStatus): void {
    if (status === 'reconnecting') {
      this.indicator?.setStatus('reconnecting…');
    } else if (status === 'live') this.indicator?.setStatus(undefined);
    this.emitter.emit('status', status);
  }

  /** Starts rrweb on first use, otherwise takes a new full snapshot; at most once a second unless `now`. */
  private snapshot(now = false): void {
    if (this.status === 'ended') return;
    const wait = this.lastSnapshot + SNAPSHOT_MIN_INTERVAL_MS - Date.now();
    if (this.stopRecording && wait > 0 && !now) {
      this.snapshotTimer ??= setTimeout(() => {
        this.snapshotTimer = undefined;
        this.snapshot();
      }, wait);
      return;
    }
    this.lastSnapshot = Date.now();
    try {
      if (!this.stopRecording) this.stopRecording = this.startRecording();
      else record.takeFullSnapshot(true);
    } catch (error) {
      this.emitter.emit('error', error as Error);
    }
  }

  /** Tells the agent which element has focus (its focus styling is shown in the replay). */
  private readonly reportFocus = () => {
    try {
      const active = document.activeElement;
      const id = active && active !== document.body ? record.mirror.getId(active) : -1;
      if (id === this.focusedId) return;
      this.focusedId = id;
      record.addCustomEvent(FOCUS_EVENT, { id });
    } catch {
      // never let focus tracking reach the page
    }
  };
  private focusedId: number | undefined;

  private startRecording(): () => void {
    const o = this.options;
    const maskAll = o.maskAllInputs !== false;
    const stop = record({
      emit: (event: eventWithTime) => {
        this.batcher.push(event);
        this.assets?.observe(event);
        // Each full snapshot starts a new document on the agent's side: say again what has focus.
        if (event.type === FULL_SNAPSHOT) {
          this.focusedId = undefined;
          queueMicrotask(this.reportFocus);
        }
      },
      maskInputOptions: maskInputOptions(maskAll),
      maskInputFn: inputMasker(maskAll, o.maskSelector),
      maskTextSelector: joinSelectors(ALWAYS_MASKED, o.maskSelector),
      blockSelector: joinSelectors(
        ALWAYS_BLOCKED,
        o.blockSelector,
        maskAll ? undefined : maskedSelects(o.maskSelector),
      ),
      slimDOMOptions: { script: true, comment: true, headFavicon: true, headMetaHttpEquiv: true },
      recordCanvas: o.recordCanvas === true,
      // Lossless: lossy formats blur thin lines and text drawn on canvases.
      dataURLOptions: { type: 'image/png' },
      checkoutEveryNms: o.checkoutEveryMs === 0 ? undefined : (o.checkoutEveryMs ?? 10 * 60_000),
      sampling: {
        mousemove: 30,
        mousemoveCallback: 30,
        scroll: 50,
        ...(o.recordCanvas ? { canvas: o.canvasFps ?? 2 } : {}),
      },
      errorHandler: (error: unknown) => {
        this.emitter.emit('error', error instanceof Error ? error : new Error(String(error)));
        return true;
      },
    });
    document.addEventListener('focusin', this.reportFocus, true);
    document.addEventListener('focusout', this.onFocusOut, true);
    document.addEventListener('mousemove', this.onMouseMove, { capture: true, passive: true });
    return () => {
      document.removeEventListener('focusin', this.reportFocus, true);
      document.removeEventListener('focusout', this.onFocusOut, true);
      document.removeEventListener('mousemove', this.onMouseMove, true);
      clearTimeout(this.pointerTimer);
      stop?.();
    };
  }

  private lastMove: MouseEvent | undefined;
  private pointerTimer: ReturnType<typeof setTimeout> | undefined;

  /** Once the pointer has rested for a moment, say exactly where (rrweb's throttle may drop the final move). */
  private readonly onMouseMove = (event: MouseEvent) => {
    this.lastMove = event;
    clearTimeout(this.pointerTimer);
    this.pointerTimer = setTimeout(this.reportPointer, POINTER_SETTLE_MS);
  };

  private readonly reportPointer = () => {
    const move = this.lastMove;
    if (!move?.target) return;
    try {
      const id = record.mirror.getId(move.target as Node);
      if (id > 0) record.addCustomEvent(POINTER_EVENT, { x: move.clientX, y: move.clientY, id });
    } catch {
      // never let pointer tracking reach the page
    }
  };

  /** On focusout the new focus is not settled yet: look once the task is done. */
  private readonly onFocusOut = () => setTimeout(this.reportFocus, 0);

  private finish(reason: string): void {
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    try {
      this.stopRecording?.();
    } catch {
      // rrweb teardown errors must not reach the page
    }
    this.stopRecording = undefined;
    this.assets?.stop();
    this.batcher.close();
    this.sender.close();
    this.indicator?.remove();
    this.emitter.emit('ended', { reason });
  }

  /** Ends the share for the customer and every agent. */
  stop(): void {
    if (this.status === 'ended') return;
    this.batcher.flush();
    this.channel.close('the customer stopped sharing');
  }
}
