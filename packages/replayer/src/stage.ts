import rrwebCss from 'rrweb/dist/style.css';

const STYLE_ID = 'cobrowse-replayer-style';
/** How long a status waits before it shows (a quick join or reconnect shows none). */
export const STATUS_DELAY_MS = 250;
const STAGE_CSS = `
.cobrowse-stage { position: relative; overflow: hidden; width: 100%; height: 100%; background: #2b2f36; }
.cobrowse-viewport { position: absolute; left: 0; top: 0; transform-origin: 0 0; }
.cobrowse-viewport iframe { border: 0; background: #fff; display: block; }
.cobrowse-status { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center;
  font: 500 15px/1.3 system-ui, sans-serif; color: #fff; background: rgba(20, 24, 30, .55); pointer-events: none; }
.cobrowse-status[hidden] { display: none; }
.cobrowse-stage.no-pointer .replayer-mouse { display: none; }
/* rrweb's pointer sits at the top-left until the customer's first move: hidden until it has a position. */
.cobrowse-stage .replayer-mouse:not([style*="left"]) { display: none; }
`;

/** Adds rrweb's replay styles and ours to the agent page, once. */
function injectStyles(doc: Document): void {
  if (doc.getElementById(STYLE_ID)) return;
  const style = doc.createElement('style');
  style.id = STYLE_ID;
  style.textContent = rrwebCss + STAGE_CSS;
  doc.head.appendChild(style);
}

export function resolveContainer(container: HTMLElement | string): HTMLElement {
  const element = typeof container === 'string' ? document.querySelector<HTMLElement>(container) : container;
  if (!element || !(element instanceof HTMLElement)) {
    throw new Error(
      `CobrowseReplayer: container ${typeof container === 'string' ? JSON.stringify(container) : ''} not found`,
    );
  }
  return element;
}

/**
 * The agent-side frame around the replay: keeps the customer's viewport (its real size) scaled to
 * fit the container and centred, and shows connection state over it.
 */
export class Stage {
  readonly root: HTMLDivElement;
  /** rrweb's Replayer mounts here. */
  readonly viewport: HTMLDivElement;
  private readonly status: HTMLDivElement;
  private readonly resizeObserver: ResizeObserver;
  private width = 0;
  private height = 0;

  constructor(
    private readonly container: HTMLElement,
    showPointer: boolean,
  ) {
    injectStyles(container.ownerDocument);
    this.root = document.createElement('div');
    this.root.className = `cobrowse-stage${showPointer ? '' : ' no-pointer'}`;
    this.viewport = document.createElement('div');
    this.viewport.className = 'cobrowse-viewport';
    this.status = document.createElement('div');
    this.status.className = 'cobrowse-status';
    this.status.setAttribute('role', 'status');
    // Shown only when there is something to say (with statusOverlay: false, never).
    this.status.hidden = true;
    this.root.append(this.viewport, this.status);
    container.appendChild(this.root);
    // The stage's size as the observer last reported it (it reports once soon after observe()):
    // fitting then never forces a layout of the console in the middle of building a replay.
    this.resizeObserver = new ResizeObserver((entries) => {
      const box = entries[entries.length - 1]?.contentRect;
      if (box) this.box = { width: box.width, height: box.height };
      this.fit();
    });
    this.resizeObserver.observe(this.root);
  }

  /** The customer's viewport size changed. */
  setViewport(width: number, height: number): void {
    this.width = width;
    this.height = height;
    this.fit();
  }

  /** Current scale factor (replay pixels per customer pixel). */
  scale = 1;

  /** The stage's content box (undefined until the observer first reported it). */
  private box: { width: number; height: number } | undefined;

  private fit(): void {
    if (!this.width || !this.height) return;
    this.viewport.style.width = `${this.width}px`;
    this.viewport.style.height = `${this.height}px`;
    const box = this.box;
    if (!box) return; // the observer's first report scales it
    const scale = Math.min(box.width / this.width, box.height / this.height) || 1;
    this.scale = scale;
    const left = Math.max(0, (box.width - this.width * scale) / 2);
    const top = Math.max(0, (box.height - this.height * scale) / 2);
    this.viewport.style.transform = `translate(${left}px, ${top}px) scale(${scale})`;
  }

  /** Pending appearance of the overlay (see {@link showStatus}). */
  private statusTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Says `text` over the replay (undefined: nothing). The overlay appears {@link STATUS_DELAY_MS}
   * after it is first asked for, so that a join or a reconnect that is over by then flashes nothing
   * (and the agent's page lays out no text while the replay is being built); once shown, it changes at once.
   */
  showStatus(text: string | undefined): void {
    this.status.textContent = text ?? '';
    if (!text) {
      clearTimeout(this.statusTimer);
      this.statusTimer = undefined;
      this.status.hidden = true;
    } else if (this.status.hidden && !this.statusTimer) {
      this.statusTimer = setTimeout(() => {
        this.statusTimer = undefined;
        this.status.hidden = !this.status.textContent;
      }, STATUS_DELAY_MS);
    }
  }

  destroy(): void {
    clearTimeout(this.statusTimer);
    this.resizeObserver.disconnect();
    this.root.remove();
  }
}
