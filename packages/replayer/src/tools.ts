import {
  AGENT_TOOLS_VERSION,
  AgentOp,
  type AgentAction,
  type Control,
  ControlState,
  type Message,
  type Refused,
} from '@cobrowse/protocol';
import type { LivePlayer } from './live-player.js';
import type { Stage } from './stage.js';
import { ControlInput } from './control.js';

/** Remote control as this agent sees it. */
export type ControlStatus = 'none' | 'requested' | 'granted';

/** A `control` event: `agent` is who it concerns (this agent when `mine`). */
export interface ControlEvent {
  readonly state: ControlState;
  readonly agent: { readonly id: string; readonly name: string };
  /** True when it concerns this agent. */
  readonly mine: boolean;
}

/** An action of this agent the customer's page did not allow (nothing happened there). */
export interface RefusedEvent {
  readonly op: number;
  readonly id?: number;
  readonly reason?: string;
}

/** A highlight target: an element of the replayed document, or a rectangle in page coordinates. */
export type HighlightTarget = Element | { x: number; y: number; width: number; height: number };

const STYLE_ID = 'cobrowse-tools-style';
const TOOLS_CSS = `
.cobrowse-stage .replayer-mouse { pointer-events: none; }
.cobrowse-refused { position: absolute; z-index: 5; padding: 4px 10px; border-radius: 999px; background: #c62828; color: #fff;
  font: 600 13px/1.3 system-ui, sans-serif; pointer-events: none; transform: translate(-50%, -130%); transition: opacity .4s; }
.cobrowse-stage.cobrowse-controlling { box-shadow: inset 0 0 0 3px #1f6feb; }
`;

/** How long requestControl() waits for the customer (the recorder's own timeout is 60 s). */
const REQUEST_TIMEOUT_MS = 65_000;

export interface ToolsHost {
  send(message: Message): boolean;
  emitControl(event: ControlEvent): void;
  emitRefused(event: RefusedEvent): void;
}

/**
 * The agent's side of agent tools: shares the pointer over the replay (once a frame at most),
 * highlights (API and Alt+click), asks for and holds remote control (forwarding input through
 * {@link ControlInput}), and shows a "not allowed" cue when the customer's page refuses an action.
 */
export class AgentTools {
  control: ControlStatus = 'none';
  private relayVersion = 1;
  private pending: { resolve: (granted: boolean) => void; timer: ReturnType<typeof setTimeout> } | undefined;
  private point: { x: number; y: number } | undefined | null;
  private frame = 0;
  private pointerShown = false;
  private readonly input: ControlInput;
  private readonly cleanup: (() => void)[] = [];

  constructor(
    private readonly player: LivePlayer,
    private readonly stage: Stage,
    private readonly host: ToolsHost,
    private sharing: boolean,
  ) {
    const doc = stage.root.ownerDocument;
    if (!doc.getElementById(STYLE_ID)) {
      const style = doc.createElement('style');
      style.id = STYLE_ID;
      style.textContent = TOOLS_CSS;
      doc.head.appendChild(style);
    }
    this.input = new ControlInput(
      player,
      (action) => this.send(action),
      (x, y) => this.movedTo(x, y),
      (el) => this.highlight(el),
    );
    const root = stage.root;
    const listen = <K extends keyof HTMLElementEventMap>(type: K, fn: (event: HTMLElementEventMap[K]) => void) => {
      root.addEventListener(type, fn as EventListener, true);
      this.cleanup.push(() => root.removeEventListener(type, fn as EventListener, true));
    };
    listen('mousemove', (event) => {
      const at = this.toPage(event.clientX, event.clientY);
      this.movedTo(at?.x, at?.y);
    });
    listen('mouseleave', () => this.movedTo(undefined, undefined));
    // Alt+click on the replay: highlight what is there for the customer.
    listen('click', (event) => {
      if (!event.altKey) return;
      const at = this.toPage(event.clientX, event.clientY);
      const element = at && this.player.iframe.contentDocument?.elementFromPoint(at.x, at.y);
      if (element) {
        event.preventDefault();
        this.highlight(element);
      }
    });
  }

  private send(action: Omit<AgentAction, 'type'>): boolean {
    return this.host.send({ type: 'agent', ...action } as AgentAction);
  }

  /** Client coordinates of the agent's page → CSS px in the customer's viewport (undefined: off the replay). */
  private toPage(clientX: number, clientY: number): { x: number; y: number } | undefined {
    const iframe = this.player.iframe;
    const box = iframe.getBoundingClientRect();
    if (!box.width || !iframe.offsetWidth) return undefined;
    const scale = box.width / iframe.offsetWidth;
    const x = (clientX - box.left) / scale;
    const y = (clientY - box.top) / scale;
    if (x < 0 || y < 0 || x > iframe.offsetWidth || y > iframe.offsetHeight) return undefined;
    return { x, y };
  }

  get sharePointer(): boolean {
    return this.sharing;
  }

  /** Turns pointer sharing on or off (off: the customer's page stops showing it at once). */
  set sharePointer(on: boolean) {
    if (!on && this.sharing) {
      this.point = null;
      this.flushPointer();
    }
    this.sharing = on;
  }

  /** The agent's pointer is at x,y of the customer's viewport (undefined: it left). Sent once a frame at most. */
  private movedTo(x: number | undefined, y: number | undefined): void {
    if (!this.sharing) return;
    this.point = x === undefined || y === undefined ? null : { x: Math.round(x), y: Math.round(y) };
    this.frame ||= requestAnimationFrame(this.flushPointer);
  }

  private readonly flushPointer = () => {
    this.frame = 0;
    const point = this.point;
    this.point = undefined;
    if (point === undefined) return;
    if (point === null) {
      if (this.pointerShown) this.send({ op: AgentOp.PointerLeave });
      this.pointerShown = false;
      return;
    }
    this.pointerShown = this.send({ op: AgentOp.PointerMove, x: point.x, y: point.y });
  };

  /** Marks an element of the replay, or a page rectangle, on the customer's page. */
  highlight(target: HighlightTarget): void {
    if (target && typeof (target as Element).nodeType === 'number') {
      const element = target as Element;
      const id = this.player.replayer.getMirror().getId(element);
      if (id > 0) {
        this.send({ op: AgentOp.Highlight, id });
        return;
      }
      const box = element.getBoundingClientRect();
      const win = element.ownerDocument.defaultView;
      target = {
        x: box.left + (win?.scrollX ?? 0),
        y: box.top + (win?.scrollY ?? 0),
        width: box.width,
        height: box.height,
      };
    }
    const rect = target as { x: number; y: number; width: number; height: number };
    if (![rect.x, rect.y, rect.width, rect.height].every((v) => typeof v === 'number' && Number.isFinite(v)))
      throw new TypeError('highlight(target): an element of the replay or {x, y, width, height}');
    this.send({ op: AgentOp.Highlight, x: rect.x, y: rect.y, w: Math.max(0, rect.width), h: Math.max(0, rect.height) });
  }

  clearHighlights(): void {
    this.send({ op: AgentOp.ClearHighlights });
  }

  /** Asks the customer for remote control: true once allowed; false when denied, unanswered or held by another agent. */
  requestControl(): Promise<boolean> {
    if (this.control === 'granted') return Promise.resolve(true);
    if (this.relayVersion < AGENT_TOOLS_VERSION || !this.send({ op: AgentOp.RequestControl }))
      return Promise.resolve(false);
    this.settle(false);
    this.control = 'requested';
    return new Promise((resolve) => {
      this.pending = {
        resolve,
        timer: setTimeout(() => {
          if (this.control === 'requested') this.control = 'none';
          this.settle(false);
        }, REQUEST_TIMEOUT_MS),
      };
    });
  }

  /** Gives control back to the customer. */
  releaseControl(): void {
    if (this.control === 'none') return;
    this.send({ op: AgentOp.ReleaseControl });
    this.setNone();
    this.settle(false);
  }

  private settle(granted: boolean): void {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return;
    clearTimeout(pending.timer);
    pending.resolve(granted);
  }

  private setNone(): void {
    this.control = 'none';
    this.input.stop();
    this.stage.root.classList.remove('cobrowse-controlling');
  }

  /** A new socket: the relay speaks `version`; control held on the previous socket is over. */
  welcome(version: number): void {
    this.relayVersion = version;
    if (this.control !== 'none') {
      this.setNone();
      this.settle(false);
    }
  }

  onControl(message: Control): void {
    const mine = message.mine === true;
    if (mine) {
      if (message.state === ControlState.Granted) {
        this.control = 'granted';
        this.input.start();
        this.stage.root.classList.add('cobrowse-controlling');
        this.settle(true);
      } else if (message.state === ControlState.Requested) {
        if (this.control === 'none') this.control = 'requested';
      } else {
        this.setNone();
        this.settle(false);
      }
    }
    this.host.emitControl({
      state: message.state,
      agent: { id: message.user ?? '', name: message.name ?? message.user ?? '' },
      mine,
    });
  }

  onRefused(message: Refused): void {
    this.showRefused(message.id);
    this.host.emitRefused({ op: message.op, id: message.id, reason: message.reason });
  }

  /** A short "Not allowed" cue over the element the refused action targeted. */
  private showRefused(id: number | undefined): void {
    const cue = document.createElement('div');
    cue.className = 'cobrowse-refused';
    cue.setAttribute('role', 'status');
    cue.setAttribute('data-cobrowse-refused', '');
    cue.textContent = 'Not allowed';
    const node = id ? (this.player.replayer.getMirror().getNode(id) as Element | null) : null;
    const iframe = this.player.iframe;
    const frameBox = iframe.getBoundingClientRect();
    const rootBox = this.stage.root.getBoundingClientRect();
    const scale = iframe.offsetWidth ? frameBox.width / iframe.offsetWidth : 1;
    const box = node?.getBoundingClientRect?.();
    const x = box ? box.left + box.width / 2 : iframe.offsetWidth / 2;
    const y = box ? box.top : iframe.offsetHeight / 2;
    cue.style.left = `${frameBox.left - rootBox.left + x * scale}px`;
    cue.style.top = `${frameBox.top - rootBox.top + y * scale}px`;
    this.stage.root.appendChild(cue);
    setTimeout(() => (cue.style.opacity = '0'), 1200);
    setTimeout(() => cue.remove(), 1700);
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.input.stop();
    this.settle(false);
    for (const fn of this.cleanup.splice(0)) fn();
  }
}
