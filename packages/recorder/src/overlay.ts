/**
 * What the agents draw on the customer's page: their pointers and highlights, and the consent
 * prompt. One fixed, zero-size host with an open shadow root (the page's styles cannot reach it,
 * tests and assistive tools can), blocked from recording (`data-cobrowse-overlay`, see privacy.ts)
 * so none of it is sent back to the agents. Nothing in it takes the customer's clicks except the
 * prompt's buttons.
 */

const STYLE = `
:host { all: initial; }
.layer { position: fixed; inset: 0; pointer-events: none; z-index: 2147483646; overflow: hidden; }
.pointer { position: absolute; left: 0; top: 0; will-change: transform; transition: opacity .15s; }
.pointer svg { display: block; filter: drop-shadow(0 1px 2px rgba(0,0,0,.4)); }
.pointer .name { position: absolute; left: 16px; top: 18px; white-space: nowrap; padding: 2px 8px; border-radius: 4px;
  color: #fff; font: 600 12px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.highlight { position: absolute; left: 0; top: 0; box-sizing: border-box; border: 3px solid; border-radius: 6px;
  box-shadow: 0 0 0 4px rgba(255,255,255,.6); transition: opacity .6s; }
.highlight.fading { opacity: 0; }
.prompt { pointer-events: auto; position: fixed; left: 50%; top: 24px; transform: translateX(-50%); max-width: 420px;
  background: #fff; color: #1d2b3a; border-radius: 10px; padding: 16px 18px; box-shadow: 0 8px 32px rgba(0,0,0,.35);
  font: 400 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; z-index: 2147483647; }
.prompt h2 { font-size: 16px; margin: 0 0 6px; }
.prompt p { margin: 0 0 12px; }
.prompt .actions { display: flex; gap: 8px; justify-content: flex-end; }
.prompt button { all: unset; cursor: pointer; padding: 7px 14px; border-radius: 6px; font-weight: 600; }
.prompt button.allow { background: #1f6feb; color: #fff; }
.prompt button.deny { background: #eef1f4; color: #1d2b3a; }
.prompt button:focus-visible { outline: 3px solid #7cc4ff; outline-offset: 2px; }
`;

const COLOURS = ['#e5484d', '#1f6feb', '#30a46c', '#f76b15', '#8e4ec6', '#d6409f', '#0d74ce', '#a18072'];

/** One colour per agent, stable for its id. */
export function colourFor(agent: string): string {
  let hash = 0;
  for (let i = 0; i < agent.length; i++) hash = (hash * 31 + agent.charCodeAt(i)) | 0;
  return COLOURS[Math.abs(hash) % COLOURS.length]!;
}

/** A highlight's target: an element of the page, or a rectangle in page coordinates. */
export type HighlightTarget = Element | { x: number; y: number; w: number; h: number };

const HIGHLIGHT_MS = 4000;
const FADE_MS = 600;
/**
 * Highlights one agent may have on the page at once (fading ones count): a new one beyond this
 * removes that agent's oldest. The relay lets an agent send 120 actions a second, so without a cap
 * a few agents could fill the customer's page with thousands of elements.
 */
export const MAX_HIGHLIGHTS_PER_AGENT = 10;
/** Highlights of all agents together: a new one beyond this removes the oldest of any agent. */
export const MAX_HIGHLIGHTS = 50;

interface Highlight {
  readonly element: HTMLDivElement;
  readonly agent: string;
  readonly target: HighlightTarget;
  timer: ReturnType<typeof setTimeout>;
  fading: boolean;
  /** Where it was last placed ("" = hidden, undefined = never): unchanged boxes are not written again. */
  placed?: string;
}

type Box = { left: number; top: number; width: number; height: number } | undefined;

const sameTarget = (a: HighlightTarget, b: HighlightTarget): boolean =>
  a === b ||
  (!(a instanceof Element) && !(b instanceof Element) && a.x === b.x && a.y === b.y && a.w === b.w && a.h === b.h);

export class Overlay {
  readonly host: HTMLDivElement;
  readonly root: ShadowRoot;
  private readonly layer: HTMLDivElement;
  private readonly pointers = new Map<string, HTMLDivElement>();
  private readonly highlights = new Set<Highlight>();
  private frame = 0;

  constructor() {
    this.host = document.createElement('div');
    this.host.setAttribute('data-cobrowse-overlay', '');
    this.host.className = 'cobrowse-overlay';
    this.host.style.cssText = 'position:fixed;left:0;top:0;width:0;height:0;overflow:visible;z-index:2147483646;';
    this.root = this.host.attachShadow({ mode: 'open' });
    this.root.innerHTML = `<style>${STYLE}</style><div class="layer" aria-hidden="true"></div>`;
    this.layer = this.root.querySelector('.layer')!;
  }

  mount(): void {
    if (!this.host.isConnected) (document.body ?? document.documentElement).appendChild(this.host);
  }

  /** Shows (or moves) an agent's labelled pointer at viewport coordinates. */
  pointer(agent: string, name: string, x: number, y: number): void {
    this.mount();
    let element = this.pointers.get(agent);
    if (!element) {
      const colour = colourFor(agent);
      element = document.createElement('div');
      element.className = 'pointer';
      element.setAttribute('data-cobrowse-pointer', name);
      element.innerHTML = `<svg width="18" height="22" viewBox="0 0 18 22"><path d="M1 1l15 11-7 1 4 8-3 1-4-8-5 5z" fill="${colour}" stroke="#fff" stroke-width="1.5"/></svg><span class="name"></span>`;
      const label = element.querySelector<HTMLSpanElement>('.name')!;
      label.textContent = name;
      label.style.background = colour;
      this.layer.appendChild(element);
      this.pointers.set(agent, element);
    }
    element.style.transform = `translate(${x}px, ${y}px)`;
  }

  hidePointer(agent: string): void {
    this.pointers.get(agent)?.remove();
    this.pointers.delete(agent);
  }

  /**
   * Marks an element (followed through scrolling and layout changes) or a page rectangle; fades after
   * a few seconds. At most {@link MAX_HIGHLIGHTS_PER_AGENT} per agent and {@link MAX_HIGHLIGHTS} in all
   * (oldest removed first); marking what the agent has marked already only restarts its timer.
   */
  highlight(agent: string, target: HighlightTarget): void {
    this.mount();
    for (const existing of this.highlights) {
      if (existing.agent !== agent || existing.fading || !sameTarget(existing.target, target)) continue;
      clearTimeout(existing.timer);
      existing.timer = setTimeout(() => this.fade(existing), HIGHLIGHT_MS);
      return;
    }
    let mine = 0;
    for (const existing of this.highlights) if (existing.agent === agent) mine++;
    // A Set iterates in insertion order: the first found is the oldest.
    for (const existing of this.highlights) {
      if (mine < MAX_HIGHLIGHTS_PER_AGENT) break;
      if (existing.agent === agent) {
        this.drop(existing);
        mine--;
      }
    }
    for (const existing of this.highlights) {
      if (this.highlights.size < MAX_HIGHLIGHTS) break;
      this.drop(existing);
    }
    const element = document.createElement('div');
    element.className = 'highlight';
    element.setAttribute('data-cobrowse-highlight', '');
    element.style.borderColor = colourFor(agent);
    this.layer.appendChild(element);
    const highlight: Highlight = {
      element,
      agent,
      target,
      fading: false,
      timer: setTimeout(() => this.fade(highlight), HIGHLIGHT_MS),
    };
    this.highlights.add(highlight);
    this.place(highlight, this.measure(highlight));
    this.frame ||= requestAnimationFrame(this.follow);
  }

  /** Removes an agent's highlights (all agents' when `agent` is undefined). */
  clearHighlights(agent?: string): void {
    for (const highlight of this.highlights)
      if (!highlight.fading && (agent === undefined || highlight.agent === agent)) this.fade(highlight);
  }

  private fade(highlight: Highlight): void {
    clearTimeout(highlight.timer);
    highlight.fading = true;
    highlight.element.classList.add('fading');
    highlight.timer = setTimeout(() => this.drop(highlight), FADE_MS);
  }

  /** Removes a highlight at once. */
  private drop(highlight: Highlight): void {
    clearTimeout(highlight.timer);
    highlight.element.remove();
    this.highlights.delete(highlight);
  }

  /** Where a highlight's target is now, in viewport coordinates (undefined: its element is gone). */
  private measure({ target }: Highlight): Box {
    if (!(target instanceof Element))
      return { left: target.x - scrollX, top: target.y - scrollY, width: target.w, height: target.h };
    return target.isConnected ? target.getBoundingClientRect() : undefined;
  }

  /** Moves a highlight onto its box; writes styles only when the box changed (no layout work for a still one). */
  private place(highlight: Highlight, box: Box): void {
    const key = box ? `${box.left},${box.top},${box.width},${box.height}` : '';
    if (key === highlight.placed) return;
    highlight.placed = key;
    const style = highlight.element.style;
    if (!box) {
      style.display = 'none';
      return;
    }
    style.display = '';
    style.transform = `translate(${box.left - 4}px, ${box.top - 4}px)`;
    style.width = `${box.width + 8}px`;
    style.height = `${box.height + 8}px`;
  }

  /**
   * Keeps highlights on their targets while any is shown (scrolling, layout changes, animations).
   * Each frame measures every target first and then moves only those that moved, so the page's
   * layout is computed at most once a frame, over at most {@link MAX_HIGHLIGHTS} targets.
   */
  private readonly follow = () => {
    this.frame = 0;
    if (!this.highlights.size) return;
    const all = [...this.highlights];
    const boxes = all.map((highlight) => this.measure(highlight));
    all.forEach((highlight, i) => this.place(highlight, boxes[i]));
    this.frame = requestAnimationFrame(this.follow);
  };

  remove(): void {
    cancelAnimationFrame(this.frame);
    for (const highlight of this.highlights) clearTimeout(highlight.timer);
    this.highlights.clear();
    this.pointers.clear();
    this.host.remove();
  }
}
