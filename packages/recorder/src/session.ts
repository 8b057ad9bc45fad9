import { record } from 'rrweb';
import type { eventWithTime } from '@rrweb/types';
import {
  ASSETS_VERSION,
  FOCUS_EVENT,
  POINTER_EVENT,
  PROTOCOL_VERSION,
  RrwebEventType,
  RrwebSource,
  toBase64Url,
} from '@cobrowse/protocol';
import { Channel, type ChannelStatus, type Connection, Emitter } from '@cobrowse/client';
import type { RecorderOptions } from './options.js';
import { Batcher, isLargeChange } from './batcher.js';
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
import { ValueWatch } from './value-watch.js';
import { CanvasSampler } from './canvas-sampler.js';
import { Overlay } from './overlay.js';
import { AgentTools, type ControlEvent } from './control.js';
import { type SliceHooks, type SliceMirror, SnapshotSlices, isLaterSlice } from './snapshot-slices.js';

export type RecorderStatus = ChannelStatus;

export interface RecorderEvents extends Record<string, unknown> {
  status: RecorderStatus;
  /** Number of agents watching changed. */
  agents: number;
  /** Whether the relay records the session (for audit); the indicator says so too. */
  recording: boolean;
  error: Error;
  ended: { reason: string };
  /** Remote control: an agent asked, was allowed or denied, or control ended. */
  control: ControlEvent;
}

const SNAPSHOT_MIN_INTERVAL_MS = 1000;
const FULL_SNAPSHOT = RrwebEventType.FullSnapshot;
const INCREMENTAL = RrwebEventType.IncrementalSnapshot;
const MUTATION = RrwebSource.Mutation;
const META = RrwebEventType.Meta;
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
  /** Agents' pointers, highlights and remote control (see control.ts). */
  private readonly tools: AgentTools;
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
    // A sliced snapshot's later slices wait a little for each other: fewer, larger batches deflate smaller.
    this.batcher = new Batcher((batch) => this.sender.send(batch), { mayWait: isLaterSlice, urgent: isLargeChange });
    this.indicator =
      options.indicator === false
        ? undefined
        : showIndicator(
            () => this.stop(),
            () => this.tools.end(),
          );
    this.tools = new AgentTools(options, {
      send: (message) => this.channel.sendMessage(message),
      overlay: new Overlay(),
      node: (id) => record.mirror.getNode(id) as Node | null,
      policy: {
        maskAll: options.maskAllInputs !== false,
        maskSelector: options.maskSelector,
        ownSelector: joinSelectors(ALWAYS_BLOCKED, options.blockSelector),
      },
      emit: (event) => this.emitter.emit('control', event),
      showController: (name) => this.indicator?.setController(name),
      error: (error) => this.emitter.emit('error', error instanceof Error ? error : new Error(String(error))),
    });
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
      // A new socket never carries remote control over (the relay has ended it too).
      this.tools.reset();
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
      else if (message.type === 'agent') this.tools.onAgent(message);
      else if (message.type === 'control') this.tools.onControl(message);
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
      let active = document.activeElement;
      // Focus inside (open) shadow roots: the element itself, not its host. Focus moving within one
      // shadow root never reaches the document's listeners: listen in that root too.
      while (active?.shadowRoot?.activeElement) {
        this.watchFocusIn(active.shadowRoot);
        active = active.shadowRoot.activeElement;
      }
      const id = active && active !== document.body ? record.mirror.getId(active) : -1;
      if (id === this.focusedId) return;
      this.focusedId = id;
      record.addCustomEvent(FOCUS_EVENT, { id });
    } catch {
      // never let focus tracking reach the page
    }
  };
  private focusedId: number | undefined;
  /** Shadow roots where focus was seen, listened to for focus moving inside them. */
  private focusRoots: ShadowRoot[] = [];

  private watchFocusIn(root: ShadowRoot): void {
    if (this.focusRoots.includes(root)) return;
    if (this.focusRoots.length >= 32) this.focusRoots.shift()?.removeEventListener('focusin', this.reportFocus, true);
    this.focusRoots.push(root);
    root.addEventListener('focusin', this.reportFocus, true);
  }

  private startRecording(): () => void {
    const o = this.options;
    const maskAll = o.maskAllInputs !== false;
    const values = new ValueWatch();
    const blocked = joinSelectors(ALWAYS_BLOCKED, o.blockSelector, maskAll ? undefined : maskedSelects(o.maskSelector));
    const masked = joinSelectors(ALWAYS_MASKED, o.maskSelector);
    // Canvas pixels, sampled by our own sampler (not rrweb's: see canvas-sampler.ts). Canvases in
    // blocked or masked regions are never read.
    const canvas =
      o.recordCanvas === false
        ? undefined
        : new CanvasSampler(
            canvasFps(o.canvasFps),
            (node) => record.mirror.getId(node),
            (element) => !!(element.closest(blocked) || element.closest(masked)),
            (event) => this.batcher.push(event),
          );
    // The full snapshot in slices (see snapshot-slices.ts), when rrweb carries the hooks for it.
    const hooks = (record as unknown as { cobrowse?: SliceHooks }).cobrowse;
    const slices = hooks
      ? new SnapshotSlices(
          hooks,
          record.mirror as unknown as SliceMirror,
          (error) => this.emitter.emit('error', error instanceof Error ? error : new Error(String(error))),
          // The focused element may have come in a slice after the snapshot: say again what has focus.
          () => {
            this.batcher.release();
            this.focusedId = undefined;
            this.reportFocus();
          },
        )
      : undefined;
    const stop = record({
      emit: (event: eventWithTime) => {
        if (event.type === META) slices?.snapshotStarts();
        else if (event.type === FULL_SNAPSHOT) slices?.snapshotTaken(event);
        this.batcher.push(event);
        this.assets?.observe(event);
        if (event.type === INCREMENTAL && (event.data as { source: number }).source === MUTATION) values.changed();
        // Each full snapshot starts a new document on the agent's side: say again what has focus,
        // and what the canvases show.
        if (event.type === FULL_SNAPSHOT) {
          this.focusedId = undefined;
          queueMicrotask(this.reportFocus);
          canvas?.reset();
        }
      },
      maskInputOptions: maskInputOptions(maskAll),
      maskInputFn: inputMasker(maskAll, o.maskSelector),
      maskTextSelector: masked,
      blockSelector: blocked,
      slimDOMOptions: { script: true, comment: true, headFavicon: true, headMetaHttpEquiv: true },
      checkoutEveryNms: o.checkoutEveryMs === 0 ? undefined : (o.checkoutEveryMs ?? 10 * 60_000),
      sampling: {
        mousemove: 30,
        mousemoveCallback: 30,
        scroll: 50,
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
      for (const root of this.focusRoots) root.removeEventListener('focusin', this.reportFocus, true);
      this.focusRoots = [];
      clearTimeout(this.pointerTimer);
      values.stop();
      canvas?.stop();
      slices?.stop();
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
    this.tools.remove();
    this.emitter.emit('ended', { reason });
  }

  /** Ends the share for the customer and every agent. */
  stop(): void {
    if (this.status === 'ended') return;
    this.batcher.flush();
    this.channel.close('the customer stopped sharing');
  }
}

/** Canvas samples per second: the option when it is a sane number, else 2 (a low rate: each changed frame is a PNG). */
function canvasFps(fps: number | undefined): number {
  return typeof fps === 'number' && fps > 0 && fps <= 60 ? fps : 2;
}
