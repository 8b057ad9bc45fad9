import type { eventWithTime } from '@rrweb/types';
import {
  MAX_ASSET_URL_LENGTH,
  RrwebEventType,
  RrwebNodeType,
  RrwebSource,
  cssRefs,
  encodeBinary,
  isAssetMime,
  replaceCssRefs,
} from '@cobrowse/protocol';

/**
 * Captures the images, fonts and stylesheets the recording refers to, where only the customer's
 * browser can load them (behind the site's login cookie, on the customer's intranet), and sends
 * their bytes after the events so the agents' replay uses these copies.
 *
 * What to capture is read from the rrweb events themselves as they go out: exactly what the agent
 * will need, and nothing from blocked regions (rrweb never records them). Elements inside masked
 * regions are skipped too. Each URL is fetched once, asynchronously (the events never wait), from
 * the page's own origin and the origins the options name, within a size budget.
 */

export interface AssetOptions {
  /**
   * Origins whose assets are captured besides the page's own, e.g. `https://cdn.intranet.example`
   * (they must allow this page by CORS, with credentials); `'*'`: any origin that does.
   */
  origins?: string[];
  /** Largest asset captured, bytes (larger ones are left to the agent's browser). Default 2 MiB, at most 8 MiB. */
  maxAssetBytes?: number;
  /** Asset bytes captured per page at most. Default 8 MiB. */
  maxTotalBytes?: number;
}

export interface ResolvedAssetOptions {
  origins: Set<string>;
  anyOrigin: boolean;
  maxAssetBytes: number;
  maxTotalBytes: number;
}

const MiB = 1024 * 1024;
/** Frames must stay well under the relay's frame limit (16 MiB by default). */
const HARD_MAX_ASSET_BYTES = 8 * MiB;
/** Fetches at a time. */
const CONCURRENCY = 3;
/** Distinct URLs considered per page at most. */
const MAX_URLS = 5000;
/** An asset waits while this much is still queued in the socket, so DOM events are not stuck behind it. */
const MAX_BUFFERED = 256 * 1024;

export function resolveAssetOptions(
  options: AssetOptions | true | undefined,
  pageOrigin: string,
): ResolvedAssetOptions {
  const o = options === true || options === undefined ? {} : options;
  const origins = new Set<string>([pageOrigin]);
  let anyOrigin = false;
  for (const origin of o.origins ?? []) {
    if (origin === '*') anyOrigin = true;
    else {
      try {
        origins.add(new URL(origin).origin);
      } catch {
        // not an origin: ignored
      }
    }
  }
  const positive = (value: number | undefined, fallback: number) =>
    typeof value === 'number' && value >= 0 ? value : fallback;
  return {
    origins,
    anyOrigin,
    maxAssetBytes: Math.min(positive(o.maxAssetBytes, 2 * MiB), HARD_MAX_ASSET_BYTES),
    maxTotalBytes: positive(o.maxTotalBytes, 8 * MiB),
  };
}

/** What the capture needs from the session. */
export interface AssetIo {
  /** Sends a frame now if the relay is connected and takes assets; false otherwise. */
  send(frame: Uint8Array): boolean;
  /** Whether frames sent now reach a relay that takes assets. */
  ready(): boolean;
  /** Bytes still queued in the socket. */
  buffered(): number;
  /** Last batch handed to the socket (assets sent after it may be lost if the socket drops). */
  lastSeq(): number;
  /** The live node behind an rrweb id. */
  node(id: number): Node | null;
  /** Elements whose content is masked or blocked: nothing of theirs is captured. */
  privateSelector: string;
}

type Kind = 'css' | 'image' | 'font' | 'any';

type Attributes = Record<string, unknown>;
interface SerializedNode {
  type: number;
  id?: number;
  tagName?: string;
  attributes?: Attributes;
  childNodes?: SerializedNode[];
  textContent?: string;
  isStyle?: boolean;
}

const { FullSnapshot: FULL_SNAPSHOT, IncrementalSnapshot: INCREMENTAL } = RrwebEventType;
const { Mutation: MUTATION, StyleSheetRule: STYLE_SHEET_RULE, AdoptedStyleSheet: ADOPTED_STYLE_SHEET } = RrwebSource;
const STYLE_DECLARATION = 13;
const ELEMENT = RrwebNodeType.Element;
const TEXT = RrwebNodeType.Text;

const FONT_EXTENSIONS: Record<string, string> = {
  woff2: 'font/woff2',
  woff: 'font/woff',
  ttf: 'font/ttf',
  otf: 'font/otf',
  eot: 'application/vnd.ms-fontobject',
};

/** Types servers commonly give assets, mapped to the one the protocol names. */
const MIME_ALIASES: Record<string, string> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/x-png': 'image/png',
  'image/ico': 'image/x-icon',
  'application/font-woff': 'font/woff',
  'application/x-font-woff': 'font/woff',
  'application/font-woff2': 'font/woff2',
  'application/x-font-ttf': 'font/ttf',
  'application/x-font-truetype': 'font/ttf',
  'application/font-sfnt': 'font/ttf',
  'font/sfnt': 'font/ttf',
  'application/x-font-opentype': 'font/otf',
  'application/font-otf': 'font/otf',
};

/** The type the bytes show, or 'html' for a document (a login page served in the asset's place). */
export function sniff(bytes: Uint8Array): string | undefined {
  const b = bytes;
  const ascii = (at: number, text: string) => [...text].every((c, i) => b[at + i] === c.charCodeAt(0));
  if (b[0] === 0x89 && ascii(1, 'PNG')) return 'image/png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (ascii(0, 'GIF8')) return 'image/gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'image/webp';
  if (ascii(4, 'ftypavi')) return 'image/avif';
  if (ascii(0, 'BM')) return 'image/bmp';
  if (b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0) return 'image/x-icon';
  if (ascii(0, 'wOFF')) return 'font/woff';
  if (ascii(0, 'wOF2')) return 'font/woff2';
  if ((b[0] === 0 && b[1] === 1 && b[2] === 0 && b[3] === 0) || ascii(0, 'true')) return 'font/ttf';
  if (ascii(0, 'OTTO')) return 'font/otf';
  if (ascii(0, 'ttcf')) return 'font/collection';
  const head = new TextDecoder()
    .decode(b.subarray(0, 512))
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (/^<(!doctype html|html|head|body|script|iframe)/.test(head)) return 'html';
  if (/^<(\?xml|!--|svg|!doctype svg)/.test(head) && head.includes('<svg')) return 'image/svg+xml';
  return undefined;
}

/** Decides an asset's type from what the server said, what the bytes are, and where it was used; undefined to refuse it. */
export function assetMime(contentType: string | null, bytes: Uint8Array, url: string, kind: Kind): string | undefined {
  const declared = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const normal = MIME_ALIASES[declared] ?? declared;
  const sniffed = sniff(bytes);
  if (sniffed === 'html') return undefined;
  if (normal === 'text/css') return kind === 'css' || kind === 'any' ? 'text/css' : undefined;
  if (isAssetMime(normal)) return normal;
  if (sniffed) return sniffed;
  // Fonts are often served as application/octet-stream: trust where they were used and their name.
  const extension = /\.([a-z0-9]+)$/i.exec(new URL(url).pathname)?.[1]?.toLowerCase();
  return kind !== 'css' && extension ? FONT_EXTENSIONS[extension] : undefined;
}

async function readCapped(response: Response, max: number): Promise<Uint8Array | undefined> {
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(await response.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      void reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

interface Wanted {
  url: string;
  kind: Kind;
  /** Sent before: fetched again for a relay that may not have it (not counted twice). */
  again?: boolean;
}

interface Ready extends Wanted {
  mime: string;
  bytes: Uint8Array;
}

export class AssetCapture {
  /** Bytes of asset frames sent. */
  bytesSent = 0;
  private readonly sentUrls = new Set<string>();
  /** Images whose next load is awaited (to capture the srcset candidate they show). */
  private readonly awaitingLoad = new WeakSet<Element>();
  private readonly seen = new Set<string>();
  private readonly queue: Wanted[] = [];
  private active = 0;
  private readonly ready: Ready[] = [];
  /** Sent, with the last batch before them: what a reconnect may need to send again. */
  private sent: (Wanted & { afterSeq: number })[] = [];
  private total = 0;
  private pending: eventWithTime[] = [];
  private scanScheduled = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly options: ResolvedAssetOptions,
    private readonly io: AssetIo,
  ) {}

  /** An event on its way out: looked at in a later task, so it is never delayed. */
  observe(event: eventWithTime): void {
    if (this.stopped) return;
    this.pending.push(event);
    if (this.scanScheduled) return;
    this.scanScheduled = true;
    setTimeout(() => this.scan(), 0);
  }

  /**
   * The socket (re)connected. `relaySeq` is the last batch the relay has of this recording (none:
   * it lost everything, e.g. it restarted). What may not have reached it is fetched and sent again
   * (the browser's cache answers).
   */
  reconnected(relaySeq: number | undefined): void {
    if (this.stopped) return;
    const again = relaySeq === undefined ? this.sent : this.sent.filter((s) => s.afterSeq >= relaySeq);
    if (again.length) {
      this.sent = this.sent.filter((s) => !again.includes(s));
      for (const { url, kind } of again) this.queue.push({ url, kind, again: true });
      this.pump();
    }
    this.flush();
  }

  /** Assets sent, each URL counted once. */
  get count(): number {
    return this.sentUrls.size;
  }

  stop(): void {
    this.stopped = true;
    this.pending = [];
    this.queue.length = 0;
    this.ready.length = 0;
    clearTimeout(this.retryTimer);
  }

  private scan(): void {
    this.scanScheduled = false;
    const events = this.pending;
    this.pending = [];
    for (const event of events) {
      try {
        this.scanEvent(event);
      } catch {
        // never let asset capture reach the page or the recording
      }
    }
  }

  private scanEvent(event: eventWithTime): void {
    const base = document.baseURI;
    if (event.type === FULL_SNAPSHOT) {
      this.scanNode((event.data as { node: SerializedNode }).node);
      return;
    }
    if (event.type !== INCREMENTAL) return;
    const data = event.data as unknown as Record<string, any>;
    switch (data.source) {
      case MUTATION:
        for (const add of data.adds ?? []) this.scanNode(add.node);
        for (const change of data.attributes ?? []) {
          const node = this.io.node(change.id);
          if (node?.nodeType === 1)
            this.scanElement(change.id, (node as Element).localName.toLowerCase(), change.attributes, node as Element);
        }
        for (const text of data.texts ?? []) {
          if (typeof text.value === 'string' && this.io.node(text.id)?.parentNode?.nodeName === 'STYLE')
            this.scanCss(text.value, base);
        }
        return;
      case STYLE_SHEET_RULE:
        for (const add of data.adds ?? []) if (typeof add.rule === 'string') this.scanCss(add.rule, base);
        if (typeof data.replace === 'string') this.scanCss(data.replace, base);
        if (typeof data.replaceSync === 'string') this.scanCss(data.replaceSync, base);
        return;
      case STYLE_DECLARATION:
        if (typeof data.set?.value === 'string') this.scanCss(data.set.value, base);
        return;
      case ADOPTED_STYLE_SHEET:
        for (const style of data.styles ?? [])
          for (const rule of style.rules ?? []) if (typeof rule.rule === 'string') this.scanCss(rule.rule, base);
        return;
    }
  }

  private scanNode(node: SerializedNode | undefined): void {
    if (!node) return;
    if (node.type === ELEMENT && node.attributes && typeof node.id === 'number') {
      this.scanElement(node.id, (node.tagName ?? '').toLowerCase(), node.attributes);
    } else if (node.type === TEXT && node.isStyle && node.textContent) {
      this.scanCss(node.textContent, document.baseURI);
    }
    if (node.childNodes) for (const child of node.childNodes) this.scanNode(child);
  }

  /** One element's references: its stylesheet text, its style attribute, its image/poster/href attributes. */
  private scanElement(id: number, tag: string, attributes: Attributes, live?: Element): void {
    const base = document.baseURI;
    // A stylesheet's text (rrweb inlines <style> and readable <link> sheets, @imports included).
    if (typeof attributes._cssText === 'string') this.scanCss(attributes._cssText, base);
    const found: Wanted[] = [];
    const url = (name: string, kind: Kind) => {
      const value = attributes[name];
      if (typeof value === 'string' && value.trim() && !value.trim().startsWith('#'))
        found.push({ url: value.trim(), kind });
    };
    const style = attributes.style;
    if (typeof style === 'string') for (const ref of cssRefs(style)) found.push({ url: ref, kind: 'image' });
    else if (style && typeof style === 'object') {
      for (const value of Object.values(style as Record<string, unknown>)) {
        const text = Array.isArray(value) ? value[0] : value;
        if (typeof text === 'string') for (const ref of cssRefs(text)) found.push({ url: ref, kind: 'image' });
      }
    }
    let image = false;
    switch (tag) {
      case 'img':
        // A full node, or a change of what it shows.
        image = !live || 'src' in attributes || 'srcset' in attributes;
        break;
      case 'input':
        url('src', 'image');
        break;
      case 'video':
        url('poster', 'image');
        break;
      case 'image':
      case 'feimage':
      case 'use':
        url('href', 'image');
        url('xlink:href', 'image');
        break;
      case 'link':
        if (/(^|\s)stylesheet(\s|$)/i.test(String(attributes.rel ?? (live as HTMLLinkElement | undefined)?.rel ?? '')))
          url('href', 'css');
        break;
      case 'body':
      case 'table':
      case 'td':
      case 'th':
        url('background', 'image');
        break;
    }
    if (!found.length && !image) return;
    const element = live ?? (this.io.node(id) as Element | null);
    // Nothing of a masked or blocked region (and an element gone already cannot be checked: skip it).
    if (!element || element.nodeType !== 1 || this.isPrivate(element)) return;
    if (image) this.scanImage(element as HTMLImageElement, attributes);
    for (const { url: ref, kind } of found) this.want(ref, kind, base);
  }

  /** An `<img>`: what it shows (`currentSrc`, picked from srcset or <picture>) rather than every candidate. */
  private scanImage(img: HTMLImageElement, attributes: Attributes): void {
    const responsive =
      typeof attributes.srcset === 'string' ||
      img.hasAttribute?.('srcset') ||
      img.parentElement?.localName === 'picture';
    if (!responsive) {
      if (typeof attributes.src === 'string') this.want(attributes.src, 'image', document.baseURI);
      return;
    }
    if (img.complete && img.currentSrc) this.want(img.currentSrc, 'image', document.baseURI);
    // Loading, or about to switch candidate: take what it shows once loaded.
    if (this.awaitingLoad.has(img) || !img.addEventListener) return;
    this.awaitingLoad.add(img);
    img.addEventListener(
      'load',
      () => {
        this.awaitingLoad.delete(img);
        if (!this.stopped && img.currentSrc) this.want(img.currentSrc, 'image', document.baseURI);
      },
      { once: true },
    );
  }

  private isPrivate(element: Element): boolean {
    try {
      return !!this.io.privateSelector && element.closest(this.io.privateSelector) !== null;
    } catch {
      return true;
    }
  }

  private scanCss(css: string, base: string): void {
    for (const ref of cssRefs(css))
      this.want(
        ref,
        /\.(woff2?|ttf|otf|eot)(\?|$)/i.test(ref) ? 'font' : /\.css(\?|$)/i.test(ref) ? 'css' : 'any',
        base,
      );
  }

  private want(ref: string, kind: Kind, base: string): void {
    if (this.stopped || this.seen.size >= MAX_URLS || ref.startsWith('data:') || ref.startsWith('#')) return;
    let url: URL;
    try {
      url = new URL(ref, base);
    } catch {
      return;
    }
    url.hash = '';
    const href = url.href;
    if (this.seen.has(href)) return;
    this.seen.add(href);
    if (href.length > MAX_ASSET_URL_LENGTH || !this.eligible(url)) return;
    this.queue.push({ url: href, kind });
    this.pump();
  }

  private eligible(url: URL): boolean {
    if (url.protocol === 'blob:') return url.origin === location.origin;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    return this.options.anyOrigin || this.options.origins.has(url.origin);
  }

  private pump(): void {
    while (this.active < CONCURRENCY && this.queue.length && !this.stopped) {
      const next = this.queue.shift()!;
      this.active++;
      this.fetchOne(next)
        .catch(() => undefined)
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
  }

  private async fetchOne({ url, kind, again }: Wanted): Promise<void> {
    const { maxAssetBytes } = this.options;
    const sameOrigin = url.startsWith('blob:') || new URL(url).origin === location.origin;
    let response: Response;
    try {
      // The page's own cookies; the browser's cache answers for what the page has loaded already.
      response = await fetch(url, { credentials: 'include', cache: 'force-cache', redirect: 'follow' });
    } catch (error) {
      // A CORS answer of "*" refuses credentials: try once more without.
      if (sameOrigin) throw error;
      response = await fetch(url, { credentials: 'omit', cache: 'force-cache', redirect: 'follow' });
    }
    if (this.stopped) return;
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (!response.ok || declared > maxAssetBytes) {
      void response.body?.cancel().catch(() => undefined);
      return;
    }
    let bytes = await readCapped(response, maxAssetBytes);
    if (!bytes || bytes.byteLength === 0 || this.stopped) return;
    const mime = assetMime(response.headers.get('content-type'), bytes, url, kind);
    if (!mime) return;
    if (mime === 'text/css') {
      // A stylesheet's references are relative to it: make them absolute, and capture them too.
      const charset = /charset=["']?([\w-]+)/i.exec(response.headers.get('content-type') ?? '')?.[1];
      let text: string;
      try {
        text = new TextDecoder(charset ?? 'utf-8').decode(bytes);
      } catch {
        text = new TextDecoder().decode(bytes);
      }
      const sheetUrl = response.url || url;
      text = replaceCssRefs(text, (ref) => {
        if (ref.startsWith('data:') || ref.startsWith('#')) return undefined;
        try {
          return new URL(ref, sheetUrl).href;
        } catch {
          return undefined;
        }
      });
      this.scanCss(text, sheetUrl);
      bytes = new TextEncoder().encode(text);
    }
    if (!again) {
      if (this.total + bytes.byteLength > this.options.maxTotalBytes) return;
      this.total += bytes.byteLength;
    }
    this.ready.push({ url, kind, mime, bytes });
    this.flush();
  }

  /** Sends what is fetched, one asset at a time behind whatever the socket still holds. */
  private flush(): void {
    if (this.retryTimer) return;
    while (this.ready.length && !this.stopped) {
      if (!this.io.ready()) return; // sent on the next welcome
      if (this.io.buffered() > MAX_BUFFERED) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.flush();
        }, 50);
        return;
      }
      const asset = this.ready[0]!;
      const frame = encodeBinary({ type: 'asset', url: asset.url, mime: asset.mime }, asset.bytes);
      if (!this.io.send(frame)) return;
      this.ready.shift();
      this.bytesSent += frame.byteLength;
      this.sentUrls.add(asset.url);
      this.sent.push({ url: asset.url, kind: asset.kind, afterSeq: this.io.lastSeq() });
    }
  }
}
