import type { eventWithTime } from '@rrweb/types';
import { AgentOp, type AgentAction, MAX_AGENT_VALUE_LENGTH, RrwebEventType, RrwebSource } from '@cobrowse/protocol';
import type { LivePlayer } from './live-player.js';

type Send = (action: Omit<AgentAction, 'type'>) => boolean;

/** The customer's echo of a field is held back while the agent types in it, until typing pauses this long. */
const TYPING_PAUSE_MS = 400;

/** Text fields whose value the agent types (checkboxes, radios and buttons are clicked instead). */
const TYPED = /^(text|search|email|tel|url|number|date|datetime-local|month|time|week|color|range|)$/;

/**
 * While this agent holds remote control: makes the replay interactive and forwards the agent's own
 * input on it — clicks, typing, select changes, Enter, wheel scrolling — as actions on rrweb node
 * ids. The replay's document is replaced on every full snapshot, so the listeners re-attach after
 * each one. The result comes back through the normal stream.
 */
export class ControlInput {
  private active = false;
  private doc: Document | null = null;
  private readonly off: (() => void)[] = [];
  /** Where wheel scrolling is heading per node id (the stream's echo lags behind fast wheeling). */
  private readonly scrollTargets = new Map<number, { x: number; y: number; at: number }>();
  /** The field the agent is typing in, and the customer's latest echo of it (held back while typing). */
  private typing:
    { id: number; until: number; held?: eventWithTime; timer?: ReturnType<typeof setTimeout> } | undefined;

  constructor(
    private readonly player: LivePlayer,
    private readonly send: Send,
    private readonly moved: (x: number, y: number) => void,
    private readonly highlight: (element: Element) => void,
  ) {
    player.replayer.on('fullsnapshot-rebuilded', () => {
      if (this.active) this.attach();
    });
    player.hold = (event) => this.holdEcho(event);
  }

  /** Holds the customer's echo of the field being typed in (it would overwrite keystrokes still on their way). */
  private holdEcho(event: eventWithTime): boolean {
    const typing = this.typing;
    if (!typing || event.type !== RrwebEventType.IncrementalSnapshot) return false;
    const data = event.data as { source?: number; id?: number };
    if (data.source !== RrwebSource.Input || data.id !== typing.id || Date.now() >= typing.until) return false;
    typing.held = event;
    typing.timer ??= setTimeout(() => this.release(), typing.until - Date.now());
    return true;
  }

  private release(): void {
    const typing = this.typing;
    if (!typing) return;
    clearTimeout(typing.timer);
    typing.timer = undefined;
    if (Date.now() < typing.until) {
      typing.timer = setTimeout(() => this.release(), typing.until - Date.now());
      return;
    }
    this.typing = undefined;
    if (typing.held) this.player.apply(typing.held);
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.player.iframe.style.pointerEvents = 'auto';
    this.attach();
  }

  stop(): void {
    if (this.typing) {
      this.typing.until = 0;
      this.release();
    }
    if (!this.active) return;
    this.active = false;
    this.player.iframe.style.pointerEvents = 'none';
    this.detach();
  }

  private id(node: EventTarget | null): number {
    return node ? this.player.replayer.getMirror().getId(node as Node) : -1;
  }

  private attach(): void {
    this.detach();
    const doc = this.player.iframe.contentDocument;
    if (!doc) return;
    this.doc = doc;
    const on = <K extends keyof DocumentEventMap>(
      type: K,
      fn: (event: DocumentEventMap[K]) => void,
      options: AddEventListenerOptions = { capture: true },
    ) => {
      doc.addEventListener(type, fn as EventListener, options);
      this.off.push(() => doc.removeEventListener(type, fn as EventListener, options));
    };
    on('mousemove', (event) => this.moved(event.clientX, event.clientY));
    on('click', (event) => {
      const target = event.target as Element | null;
      if (!target || target.nodeType !== 1) return;
      if (event.altKey) {
        event.preventDefault();
        event.stopPropagation();
        this.highlight(target);
        return;
      }
      // A label forwards its click to its control, which is forwarded then: sending both would toggle twice.
      if (target instanceof (doc.defaultView?.HTMLLabelElement ?? HTMLLabelElement) && target.control) return;
      const id = this.id(target);
      if (id > 0) this.send({ op: AgentOp.Click, id, x: Math.round(event.clientX), y: Math.round(event.clientY) });
    });
    const typed = (target: EventTarget | null): target is HTMLInputElement | HTMLTextAreaElement => {
      const el = target as HTMLInputElement | null;
      return !!el && (el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' && TYPED.test(el.type)));
    };
    const setValue = (target: HTMLInputElement | HTMLTextAreaElement, commit: boolean) => {
      const id = this.id(target);
      if (id <= 0) return;
      if (this.typing && this.typing.id !== id) {
        this.typing.until = 0;
        this.release();
      }
      this.typing ??= { id, until: 0 };
      this.typing.until = Date.now() + TYPING_PAUSE_MS;
      this.send({ op: AgentOp.SetValue, id, value: target.value.slice(0, MAX_AGENT_VALUE_LENGTH), commit });
    };
    on('input', (event) => {
      const target = event.target as HTMLElement | null;
      if (typed(target)) setValue(target, false);
      else if (target?.tagName === 'SELECT') {
        const id = this.id(target);
        if (id > 0) this.send({ op: AgentOp.Select, id, value: (target as HTMLSelectElement).value.slice(0, 1000) });
      }
    });
    on('change', (event) => {
      if (typed(event.target)) setValue(event.target, true);
    });
    on('keydown', (event) => {
      if (event.key !== 'Enter' || event.isComposing) return;
      const target = event.target as HTMLElement | null;
      if (target?.tagName !== 'INPUT') return;
      // The replay's own implicit submission would click the submit button too: the customer's page submits once.
      event.preventDefault();
      const id = this.id(target);
      if (id > 0) this.send({ op: AgentOp.Key, id, key: 'Enter' });
    });
    on('wheel', (event) => this.wheel(event), { capture: true, passive: false });
  }

  /** Wheel over the replay scrolls the customer's page (the nearest scrollable element, or the window). */
  private wheel(event: WheelEvent): void {
    const doc = this.doc;
    const win = doc?.defaultView;
    if (!doc || !win) return;
    event.preventDefault();
    const dx = event.deltaMode === 1 ? event.deltaX * 40 : event.deltaX;
    const dy = event.deltaMode === 1 ? event.deltaY * 40 : event.deltaY;
    let element = event.target as Element | null;
    let scroller: Element | null = null;
    while (element && element !== doc.documentElement && element !== doc.body) {
      const style = win.getComputedStyle(element);
      const canY = /(auto|scroll)/.test(style.overflowY) && element.scrollHeight > element.clientHeight;
      const canX = /(auto|scroll)/.test(style.overflowX) && element.scrollWidth > element.clientWidth;
      if ((dy && canY) || (dx && canX)) {
        scroller = element;
        break;
      }
      element = element.parentElement;
    }
    const id = this.id(scroller ?? doc);
    if (id <= 0) return;
    const now = Date.now();
    const last = this.scrollTargets.get(id);
    const current = scroller ? { x: scroller.scrollLeft, y: scroller.scrollTop } : { x: win.scrollX, y: win.scrollY };
    const base = last && now - last.at < 400 ? last : current;
    const maxX = scroller
      ? scroller.scrollWidth - scroller.clientWidth
      : doc.documentElement.scrollWidth - win.innerWidth;
    const maxY = scroller
      ? scroller.scrollHeight - scroller.clientHeight
      : doc.documentElement.scrollHeight - win.innerHeight;
    const x = Math.round(Math.max(0, Math.min(maxX, base.x + dx)));
    const y = Math.round(Math.max(0, Math.min(maxY, base.y + dy)));
    this.scrollTargets.set(id, { x, y, at: now });
    this.send({ op: AgentOp.Scroll, id, x, y });
  }

  private detach(): void {
    for (const fn of this.off.splice(0)) fn();
    this.doc = null;
  }
}
