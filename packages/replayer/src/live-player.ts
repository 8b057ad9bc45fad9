import { Replayer } from 'rrweb';
import type { eventWithTime } from '@rrweb/types';
import { FOCUS_EVENT, POINTER_EVENT, RrwebEventType, RrwebSource } from '@cobrowse/protocol';
import { expandAdds } from './nested.js';
import { FOCUS_ATTRIBUTE, canvasBackground, sanitizeEvent } from './sanitize.js';
import { type AssetLookup, AssetStore, patchDocument } from './assets.js';
import { type Limits, NodeGuard, resolveLimits } from './limits.js';
import { type AssetMode, type ReplayPolicy, applyPolicy, injectReferrerPolicy, replayPolicy } from './policy.js';

/** How a {@link LivePlayer} guards the agent (see ReplayerOptions). */
export interface PlayerOptions extends Partial<Limits> {
  assets?: AssetMode;
  origins?: string[];
}

const INCREMENTAL = RrwebEventType.IncrementalSnapshot;
const CUSTOM = RrwebEventType.Custom;
const META = RrwebEventType.Meta;
const FULL_SNAPSHOT = RrwebEventType.FullSnapshot;
const {
  MouseMove: MOUSE_MOVE,
  MouseInteraction: MOUSE_INTERACTION,
  TouchMove: TOUCH_MOVE,
  Drag: DRAG,
  Selection: SELECTION,
  CanvasMutation: CANVAS_MUTATION,
} = RrwebSource;

/** The browser's own focus ring, for fields the customer has focused (zero specificity: the page's rules win). */
const FOCUS_RULE = `:where(input, textarea, select, [contenteditable]:not([contenteditable="false"]))[${FOCUS_ATTRIBUTE}] { outline: -webkit-focus-ring-color auto 1px; }`;

/**
 * The replay document runs no scripts, so a canvas shows as a plain box: size it like the canvas
 * it stands for (zero specificity: the page's own rules win) and paint its pixels as a background.
 */
const CANVAS_RULE =
  ':where(canvas) { display: inline-block; width: attr(width px, 300px); height: attr(height px, 150px); background-size: 100% 100%; background-repeat: no-repeat; }';

interface CanvasCommand {
  property: string;
  args: unknown[];
}

/** The image a sampled canvas frame carries (rrweb's `drawImage` of a Blob), as a data URL. */
function canvasFrame(data: { commands?: CanvasCommand[] }): string | undefined {
  for (const command of data.commands ?? []) {
    if (command.property !== 'drawImage') continue;
    const bitmap = command.args[0] as {
      rr_type?: string;
      args?: { rr_type?: string; type?: string; data?: { base64?: string }[] }[];
    };
    const blob = bitmap?.rr_type === 'ImageBitmap' ? bitmap.args?.[0] : undefined;
    const base64 = blob?.rr_type === 'Blob' ? blob.data?.[0]?.base64 : undefined;
    if (base64 && blob?.type) return `data:${blob.type};base64,${base64}`;
  }
  return undefined;
}
const MOVES = new Set<number>([MOUSE_MOVE, TOUCH_MOVE, DRAG]);
/** Sources rrweb only animates when it plays them "in time" (pointer, clicks, selection). */
const TIMED = new Set<number>([MOUSE_MOVE, MOUSE_INTERACTION, TOUCH_MOVE, DRAG, SELECTION]);

/** Keep rrweb's live event list from growing for ever: it is only needed for ordering. */
const EVENTS_KEPT = 200;
const EVENTS_TRIM_AT = 2000;

type MoveData = { positions: { timeOffset: number }[] };

/** What rrweb's CSS rewriting for replay (postcss) changes: `:hover` rules, device-size media queries. */
const ADAPTED_CSS = /:hover|(max|min)-device-(width|height)/;
/** Most text (sheets and their rewrites, UTF-16 units) {@link SheetCache} keeps; past it, it starts afresh. */
const SHEET_CACHE_CHARS = 8 * 1024 * 1024;

/**
 * rrweb's cache of stylesheets rewritten for replay, keyed by their text. rrweb runs each one
 * through postcss so that `:hover` rules also match a class it sets and device-size media queries
 * become viewport ones; a sheet with neither comes out as it went in. This cache answers those with
 * themselves, so they skip postcss: the first sheet of a page costs ~30 ms (compiling postcss) on a
 * 2-core machine, and large sheets cost their parse every time. The rewritten ones it keeps up to
 * {@link SHEET_CACHE_CHARS} (rrweb's own keeps every one for the replay's life: a page that keeps
 * making new sheets would grow the agent's memory without end).
 */
class SheetCache extends Map<string, string> {
  private chars = 0;

  override get(cssText: string): string | undefined {
    return super.get(cssText) ?? (ADAPTED_CSS.test(cssText) ? undefined : cssText);
  }

  override set(cssText: string, adapted: string): this {
    const size = cssText.length + adapted.length;
    if (size > SHEET_CACHE_CHARS) return this;
    if (this.chars + size > SHEET_CACHE_CHARS) this.clear();
    this.chars += size;
    return super.set(cssText, adapted);
  }

  override clear(): void {
    this.chars = 0;
    super.clear();
  }
}

/** Cancels clicks on links and form submissions inside the replayed document. */
export function guardNavigation(doc: Document | null): void {
  if (!doc) return;
  const cancel = (event: Event) => {
    const target = event.target as Element | null;
    if (event.type === 'submit' || target?.closest?.('a[href], area[href]')) event.preventDefault();
  };
  for (const type of ['click', 'auxclick', 'submit']) doc.addEventListener(type, cancel, true);
}

/**
 * rrweb's Replayer in live mode, made independent of the customer's clock.
 *
 * rrweb schedules each event at `event.timestamp - baseline` on the agent's clock, so a customer
 * clock minutes ahead shows the agent a page minutes behind, and every event waits for the next
 * animation frame. Here each event's timestamp is rewritten on arrival: DOM changes, input,
 * scroll and snapshots get a timestamp before the baseline, so rrweb applies them at once,
 * synchronously; pointer moves, clicks and selection are scheduled from "now" on the agent's clock,
 * keeping rrweb's pointer animation, with the spacing the customer's movement had.
 */
export class LivePlayer {
  readonly replayer: Replayer;
  /** The customer's images, fonts and stylesheets captured by the recorder, as blob: URLs. */
  readonly assets = new AssetStore();
  private readonly lookup: AssetLookup = (ref) => this.assets.lookup(ref);
  private readonly baseline: number;
  private timedUntil = 0;
  private patchTimer: ReturnType<typeof setTimeout> | undefined;
  private patchWaiting: string[] = [];

  private readonly guard: NodeGuard;
  private readonly limits: Limits;
  private readonly mode: AssetMode;
  private readonly origins: string[];
  /** The policy for the customer page's URL (from rrweb's Meta event). */
  private policy: ReplayPolicy | undefined;
  /**
   * The CSPs set on each replay document already (policies add up: each is set once per document; an
   * iframe moved in its page gets a new document, which needs them again).
   */
  private readonly cspSet = new WeakMap<Document, Set<string>>();

  constructor(
    root: HTMLElement,
    onResize: (width: number, height: number) => void,
    private readonly onAssetsApplied: (urls: string[]) => void = () => undefined,
    options: PlayerOptions = {},
  ) {
    this.mode = options.assets === 'relay' ? 'relay' : 'direct';
    this.origins = Array.isArray(options.origins) ? options.origins.filter((o) => typeof o === 'string') : [];
    const limits = resolveLimits(options);
    this.limits = limits;
    this.replayer = new Replayer([], {
      root,
      liveMode: true,
      // rrweb's virtual DOM never shows events that arrive before the replayer's start: late joiners froze.
      useVirtualDom: false,
      // The customer's animations keep running on the agent's side.
      pauseAnimation: false,
      mouseTail: false,
      showWarning: false,
      insertStyleRules: [CANVAS_RULE, FOCUS_RULE],
      triggerFocus: true,
      // Never UNSAFE_replayCanvas: it would let the customer's page run script.
    });
    const cache = (this.replayer as unknown as { cache?: { stylesWithHoverClass?: unknown } }).cache;
    if (cache?.stylesWithHoverClass instanceof Map) cache.stylesWithHoverClass = new SheetCache();
    this.replayer.on('resize', (dimension) => {
      const { width, height } = dimension as { width: number; height: number };
      onResize(width, height);
    });
    this.baseline = Date.now();
    this.replayer.startLive(this.baseline);
    // rrweb already sandboxes the iframe without scripts; say so explicitly, and leak no referrer to the customer's servers.
    this.replayer.iframe.setAttribute('sandbox', 'allow-same-origin');
    this.replayer.iframe.setAttribute('referrerpolicy', 'no-referrer');
    // Links and forms in the replay never navigate it (each full snapshot brings a new document).
    this.replayer.on('fullsnapshot-rebuilded', () => guardNavigation(this.replayer.iframe.contentDocument));
    const mirror = this.replayer.getMirror();
    this.guard = new NodeGuard(
      limits,
      () => (mirror as unknown as { idNodeMap?: Map<number, Node> }).idNodeMap?.size ?? 0,
      (id) => {
        let node: Node | null = mirror.getNode(id);
        if (!node) return undefined;
        let depth = 0;
        while (node && depth <= limits.maxDepth) {
          node = node.parentNode ?? (node as ShadowRoot).host ?? null;
          depth++;
        }
        return depth - 1;
      },
      (id) => mirror.getNode(id)?.nodeName.toLowerCase(),
    );
  }

  private readonly tagOf = (id: number): string | undefined => this.guard.tagOf(id);
  private readonly isStyleText = (id: number): boolean =>
    this.replayer.getMirror().getNode(id)?.parentNode?.nodeName === 'STYLE';

  get iframe(): HTMLIFrameElement {
    return this.replayer.iframe;
  }

  /**
   * Holds an event back when it returns true (agent tools: the customer's echo of a field the agent
   * is typing in would overwrite the keystrokes still on their way; it is applied once typing pauses).
   */
  hold: ((event: eventWithTime) => boolean) | undefined;

  /**
   * Applies one event now (or, for pointer events, from now). Throws a TooLargeError (and applies
   * nothing of the event) when it would take the replay past a limit.
   */
  apply(event: eventWithTime): void {
    if (this.hold?.(event)) return;
    if (event.type === META) {
      const href = (event.data as { href?: unknown }).href;
      if (typeof href === 'string') {
        this.assets.base = href;
        this.policy = replayPolicy(href, this.mode, this.origins);
        this.setPolicy(this.policy);
      }
    }
    // One walk over the event's nodes, nested adds' subtrees included: the size limits (throwing
    // before anything is applied) and the sanitizer. Then nested adds become rrweb's flat ones.
    const watch = this.guard.watch(event);
    sanitizeEvent(event, this.tagOf, {
      assets: this.assets.size ? this.lookup : undefined,
      styleText: this.isStyleText,
      base: this.policy?.base,
      checks: watch?.visitor,
    });
    expandAdds(event, this.limits);
    watch?.done();
    if (event.type === FULL_SNAPSHOT) {
      // No Meta before it (a broken or hostile stream): the strictest policy, no customer origin at all.
      const policy = this.policy ?? replayPolicy('', this.mode, this.origins);
      this.setPolicy(policy);
      injectReferrerPolicy(event);
    }
    const source = event.type === INCREMENTAL ? (event.data as { source: number }).source : -1;
    if (source === CANVAS_MUTATION)
      return this.paintCanvas(event.data as unknown as { id: number; commands?: CanvasCommand[] });
    if (event.type === CUSTOM && (event.data as { tag?: string }).tag === POINTER_EVENT) {
      // After the moves still being played out, so the pointer ends where the customer's rests.
      const { x, y, id } = (event.data as { payload: { x: number; y: number; id: number } }).payload ?? {};
      if (typeof x === 'number' && typeof y === 'number' && typeof id === 'number') {
        setTimeout(() => this.pointerAt(x, y, id), Math.max(0, this.timedUntil - Date.now()) + 20);
      }
      return;
    }
    if (event.type === CUSTOM && (event.data as { tag?: string }).tag === FOCUS_EVENT) {
      // After whatever rrweb still has to apply from this batch (it applies a microtask later).
      const { id } = (event.data as { payload: { id: number } }).payload ?? {};
      queueMicrotask(() => queueMicrotask(() => this.focus(id)));
      return;
    }
    if (TIMED.has(source)) {
      const now = Date.now();
      const start = Math.max(now, this.timedUntil);
      // A move carries positions at negative offsets from its timestamp: play them out from now.
      const span = MOVES.has(source)
        ? -Math.min(0, (event.data as unknown as MoveData).positions[0]?.timeOffset ?? 0)
        : 0;
      event.timestamp = start + span;
      this.timedUntil = Math.min(event.timestamp, now + 250);
    } else {
      event.timestamp = this.baseline - 1;
    }
    this.replayer.addEvent(event);
    if (++this.applied % 256 === 0) this.trim();
  }

  private applied = 0;

  /** Sets a policy on the replay's document, once (policies add up, and stay through document.open()). */
  private setPolicy(policy: ReplayPolicy): void {
    const doc = this.replayer.iframe.contentDocument;
    if (!doc) return; // no document (the iframe is not in a page): nothing shows there either
    let set = this.cspSet.get(doc);
    if (!set) this.cspSet.set(doc, (set = new Set()));
    if (set.has(policy.csp)) return;
    set.add(policy.csp);
    applyPolicy(doc, policy);
  }

  /**
   * A captured asset arrived: kept, and what the replay already shows of it is pointed at the copy
   * (once for all that arrive in the same task).
   */
  addAsset(url: string, mime: string, bytes: Uint8Array): boolean {
    const changed = this.assets.add(url, mime, bytes);
    if (!changed.length) return false;
    this.patchWaiting.push(url);
    this.patchTimer ??= setTimeout(() => this.patch(), 0);
    return true;
  }

  private patch(): void {
    this.patchTimer = undefined;
    const urls = this.patchWaiting;
    this.patchWaiting = [];
    const doc = this.replayer.iframe.contentDocument;
    try {
      if (doc?.documentElement) patchDocument(doc, this.lookup);
    } finally {
      this.onAssetsApplied(urls);
    }
  }

  /** Puts the pointer (and :hover) where the customer's rests, with rrweb's own routine. */
  private pointerAt(x: number, y: number, id: number): void {
    const move = (
      this.replayer as unknown as {
        moveAndHover?: (x: number, y: number, id: number, isSync: boolean, debug: unknown) => void;
      }
    ).moveAndHover;
    try {
      move?.call(this.replayer, x, y, id, true, { x, y, id });
    } catch {
      // the node may be gone already
    }
  }

  /** Elements marked as focused: the customer's focused element and the shadow hosts around it. */
  private focused: Element[] = [];

  /**
   * Marks the element the customer has focused (-1 or unknown: nothing). Inside shadow roots the
   * hosts around it are marked too, as the browser matches them with `:focus`, and each of those
   * shadow roots gets the focus ring rule (the document's does not reach into them).
   */
  private focus(id: number | undefined): void {
    const doc = this.replayer.iframe.contentDocument;
    for (const el of this.focused) el.removeAttribute(FOCUS_ATTRIBUTE);
    for (const el of doc?.querySelectorAll(`[${FOCUS_ATTRIBUTE}]`) ?? []) el.removeAttribute(FOCUS_ATTRIBUTE);
    this.focused = [];
    let node = typeof id === 'number' ? (this.replayer.getMirror().getNode(id) as Element | null) : null;
    // rrweb focuses replayed fields itself (triggerFocus) but misses focus moving inside a shadow
    // root: a field it focused there would keep the browser's ring. The customer's focus wins.
    let active = doc?.activeElement;
    while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
    if (active && active !== node && active !== doc?.body) (active as HTMLElement).blur?.();
    while (node?.setAttribute) {
      node.setAttribute(FOCUS_ATTRIBUTE, '');
      this.focused.push(node);
      const root = node.getRootNode();
      if (!(root instanceof (doc?.defaultView?.ShadowRoot ?? ShadowRoot))) break;
      this.addFocusRing(root as ShadowRoot);
      node = (root as ShadowRoot).host;
    }
  }

  /** The focus ring rule in a shadow root of the replay (once per root). */
  private addFocusRing(root: ShadowRoot): void {
    try {
      const view = root.ownerDocument.defaultView;
      if (!view) return;
      this.focusSheets ??= new WeakMap();
      let sheet = this.focusSheets.get(view.document);
      if (!sheet) {
        sheet = new view.CSSStyleSheet();
        sheet.replaceSync(FOCUS_RULE);
        this.focusSheets.set(view.document, sheet);
      }
      if (!root.adoptedStyleSheets.includes(sheet)) root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    } catch {
      // a shadow root of another realm or without adopted sheets: no ring, nothing else lost
    }
  }
  private focusSheets: WeakMap<Document, CSSStyleSheet> | undefined;

  /** A sampled canvas frame: show it as the canvas element's background (see {@link CANVAS_RULE}). */
  private paintCanvas(data: { id: number; commands?: CanvasCommand[] }): void {
    const url = canvasFrame(data);
    const background = url && canvasBackground(url);
    const node = this.replayer.getMirror().getNode(data.id) as HTMLElement | null;
    if (background && node?.style) node.style.backgroundImage = background;
  }

  private trim(): void {
    const events = (this.replayer as unknown as { service: { state: { context: { events: eventWithTime[] } } } })
      .service.state.context.events;
    if (events.length > EVENTS_TRIM_AT) events.splice(0, events.length - EVENTS_KEPT);
  }

  /** Frees the captured copies (the session is over). */
  releaseAssets(): void {
    clearTimeout(this.patchTimer);
    this.patchTimer = undefined;
    this.assets.revoke();
  }

  destroy(): void {
    this.releaseAssets();
    try {
      this.replayer.destroy();
    } catch {
      // already torn down
    }
  }
}
