import type { eventWithTime } from '@rrweb/types';
import { ASSET_ATTRIBUTES, type AssetKind, cssRefKind, cssRefs, linkAssetKind, walkEvent } from '@cobrowse/protocol';

/**
 * Finds what a recording refers to, from the rrweb events themselves as they go out (with the walker
 * the replayer's sanitizer uses, and the one table of asset-bearing attributes): exactly what the
 * agent will need, and nothing of blocked regions (rrweb never records them) or masked ones (skipped
 * here). `<img>` elements give what they show (`currentSrc`) rather than every srcset candidate.
 */

/** What the scan needs from the page. */
export interface ScanIo {
  /** The live node behind an rrweb id. */
  node(id: number): Node | null;
  /** Elements whose content is masked or blocked: nothing of theirs is captured. */
  privateSelector: string;
}

export type Want = (ref: string, kind: AssetKind, base: string) => void;

type Attributes = Record<string, unknown>;

export class AssetScanner {
  /** Images whose next load is awaited (to capture the srcset candidate they show). */
  private readonly awaitingLoad = new WeakSet<Element>();
  stopped = false;

  constructor(
    private readonly io: ScanIo,
    private readonly want: Want,
  ) {}

  /** Every reference of one event. */
  scan(event: eventWithTime): void {
    // Read once per event: document.baseURI serialises a URL on every read (2,000 elements a frame in a burst).
    const base = document.baseURI;
    walkEvent(event, {
      element: (node, tag) => {
        if (typeof node.id === 'number') this.scanElement(node.id, tag, node.attributes, undefined, base);
      },
      styleText: (node) => this.scanCss(node.textContent, base),
      attributes: (change) => {
        const node = this.io.node(change.id);
        if (node?.nodeType === 1)
          this.scanElement(
            change.id,
            (node as Element).localName.toLowerCase(),
            change.attributes,
            node as Element,
            base,
          );
      },
      text: (change) => {
        if (typeof change.value === 'string' && this.io.node(change.id)?.parentNode?.nodeName === 'STYLE')
          this.scanCss(change.value, base);
      },
      css: (text) => {
        this.scanCss(text, base);
        return undefined;
      },
    });
  }

  /** References in CSS text (a stylesheet's, relative to `base`). */
  scanCss(css: string, base: string): void {
    for (const ref of cssRefs(css)) this.want(ref, cssRefKind(ref), base);
  }

  /** One element's references: its stylesheet text, its style attribute, its asset attributes. */
  private scanElement(id: number, tag: string, attributes: Attributes, live: Element | undefined, base: string): void {
    // A stylesheet's text (rrweb inlines <style> and readable <link> sheets, @imports included).
    if (typeof attributes._cssText === 'string') this.scanCss(attributes._cssText, base);
    const found: { url: string; kind: AssetKind }[] = [];
    const style = attributes.style;
    if (typeof style === 'string') for (const ref of cssRefs(style)) found.push({ url: ref, kind: 'image' });
    else if (style && typeof style === 'object') {
      for (const value of Object.values(style as Record<string, unknown>)) {
        const text = Array.isArray(value) ? value[0] : value;
        if (typeof text === 'string') for (const ref of cssRefs(text)) found.push({ url: ref, kind: 'image' });
      }
    }
    // An <img>: a full node, or a change of what it shows (its srcset and <picture> decide: see scanImage).
    const image = tag === 'img' && (!live || 'src' in attributes || 'srcset' in attributes);
    if (tag === 'link') {
      const kind = linkAssetKind(attributes.rel ?? (live as HTMLLinkElement | undefined)?.rel);
      if (kind === 'css') this.push(found, attributes.href, 'css');
    } else if (tag !== 'img' && tag !== 'source') {
      // (<source> candidates are captured as the <img> of their <picture> shows them.)
      for (const name of ASSET_ATTRIBUTES[tag] ?? []) this.push(found, attributes[name], 'image');
    }
    if (!found.length && !image) return;
    const element = live ?? (this.io.node(id) as Element | null);
    // Nothing of a masked or blocked region (and an element gone already cannot be checked: skip it).
    if (!element || element.nodeType !== 1 || this.isPrivate(element)) return;
    if (image) this.scanImage(element as HTMLImageElement, attributes);
    for (const { url, kind } of found) this.want(url, kind, base);
  }

  private push(found: { url: string; kind: AssetKind }[], value: unknown, kind: AssetKind): void {
    if (typeof value === 'string' && value.trim() && !value.trim().startsWith('#'))
      found.push({ url: value.trim(), kind });
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
}
