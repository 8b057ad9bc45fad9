import {
  ASSET_ATTRIBUTES,
  ASSET_ELEMENTS,
  assetBytesMatch,
  linkAssetKind,
  isAssetMime,
  isAssetUrl,
  parseSrcset,
  replaceCssRefs,
  serializeSrcset,
  cssRefs,
  mayReferToAssets,
} from '@cobrowse/protocol';
import { cleanSvg } from './svg-asset.js';

/**
 * The customer's images, fonts and stylesheets as the recorder captured them (its browser could
 * load them; the agent's may not: login cookie, intranet), kept as `blob:` URLs of the agent's page
 * for as long as the session lasts, and the rewriting that points the replay at them: in events
 * before rrweb applies them (see sanitize.ts), and in the replayed document when an asset arrives
 * after the events that use it.
 *
 * Only image, font and stylesheet types are accepted, and only when the bytes are what the type
 * says (a mislabelled asset is refused); an SVG is kept only as cleaned by svg-asset.ts, so even
 * opened on its own its copy runs nothing. The copies are only ever referenced from image, font
 * and stylesheet positions (`<img src>`, CSS `url()`, `<link rel=stylesheet>` …), never from
 * anything that could navigate to or run them.
 */

/** Asset bytes kept per session at most (the relay bounds what it stores; this bounds what it forwards too). */
const MAX_STORE_BYTES = 64 * 1024 * 1024;

/**
 * Finds the captured copy (a blob: URL, with the reference's fragment) for a reference as written
 * in the replay: absolute, relative to the customer's page, or a copy itself (then the current one).
 */
export type AssetLookup = (ref: string) => string | undefined;

export class AssetStore {
  /** Original URL (absolute, without fragment) → current blob: URL. */
  private readonly blobs = new Map<string, string>();
  /** Every blob: URL made (current or superseded) → the original URL. */
  private readonly originals = new Map<string, string>();
  /** Stylesheet assets' text (references absolute), remade as their own references arrive. */
  private readonly sheets = new Map<string, string>();
  private readonly made: string[] = [];
  bytes = 0;
  /** The customer page's URL (from rrweb's Meta event): what relative references resolve against. */
  base = '';
  private closed = false;

  get size(): number {
    return this.blobs.size;
  }

  has(url: string): boolean {
    return this.blobs.has(url);
  }

  /**
   * Keeps an asset. Returns the URLs whose copy is new (the asset, and stylesheets that refer to
   * it), or an empty list when it is refused (type, size, duplicate, session over).
   */
  add(url: string, mime: string, bytes: Uint8Array): string[] {
    if (this.closed || !isAssetUrl(url) || !isAssetMime(mime) || this.blobs.has(url) || bytes.byteLength === 0)
      return [];
    if (this.bytes + bytes.byteLength > MAX_STORE_BYTES || !assetBytesMatch(mime, bytes)) return [];
    if (mime === 'image/svg+xml') {
      const clean = cleanSvg(new TextDecoder().decode(bytes));
      if (clean === undefined) return [];
      bytes = new TextEncoder().encode(clean);
    }
    this.bytes += bytes.byteLength;
    if (mime === 'text/css') {
      this.sheets.set(url, new TextDecoder().decode(bytes));
      this.makeSheet(url);
    } else {
      this.publish(url, new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime }));
    }
    // Stylesheets that refer to it (or @import one that does) get a copy that refers to the copy.
    const changed = [url];
    for (let i = 0; i < changed.length; i++) {
      for (const [sheetUrl, text] of this.sheets) {
        if (!changed.includes(sheetUrl) && cssRefs(text).includes(changed[i]!)) {
          this.makeSheet(sheetUrl);
          changed.push(sheetUrl);
        }
      }
    }
    return changed;
  }

  private makeSheet(url: string): void {
    const text = replaceCssRefs(this.sheets.get(url)!, (ref) => this.blobs.get(ref));
    this.publish(url, new Blob([text], { type: 'text/css' }));
  }

  private publish(url: string, blob: Blob): void {
    const blobUrl = URL.createObjectURL(blob);
    this.made.push(blobUrl);
    this.blobs.set(url, blobUrl);
    this.originals.set(blobUrl, url);
  }

  /** See {@link AssetLookup}; `base` defaults to the customer page's URL. */
  lookup(ref: string, base = this.base): string | undefined {
    if (!this.blobs.size) return undefined;
    const trimmed = ref.trim();
    const hashAt = trimmed.indexOf('#');
    const hash = hashAt === -1 ? '' : trimmed.slice(hashAt);
    const bare = hashAt === -1 ? trimmed : trimmed.slice(0, hashAt);
    if (!bare) return undefined;
    // One of our copies (then its current one), or a blob: URL of the customer's page.
    let key = bare.startsWith('blob:') ? (this.originals.get(bare) ?? bare) : undefined;
    if (!key) {
      try {
        key = new URL(bare, base || undefined).href;
      } catch {
        return undefined;
      }
    }
    const current = this.blobs.get(key);
    return current ? current + hash : undefined;
  }

  /** Frees every copy (the session is over). */
  revoke(): void {
    this.closed = true;
    for (const url of this.made) URL.revokeObjectURL(url);
    this.made.length = 0;
    this.blobs.clear();
    this.originals.clear();
    this.sheets.clear();
  }
}

/** CSS text with its references pointed at the captured copies (the same string when none apply). */
export function rewriteCss(css: string, lookup: AssetLookup): string {
  if (!mayReferToAssets(css)) return css;
  return replaceCssRefs(css, (ref) => {
    const copy = lookup(ref);
    return copy && copy !== ref ? copy : undefined;
  });
}

/**
 * A srcset pointed at the captured copies. The recorder captures the candidate the customer's
 * browser shows; once one is known only known ones are kept, so the agent's browser (another pixel
 * ratio, perhaps) cannot pick one it cannot load. Undefined when nothing changes.
 */
export function rewriteSrcset(value: string, lookup: AssetLookup): string | undefined {
  const known = parseSrcset(value).flatMap((c) => {
    const copy = lookup(c.url);
    return copy ? [{ url: copy, descriptor: c.descriptor }] : [];
  });
  if (!known.length) return undefined;
  const next = serializeSrcset(known);
  return next === value ? undefined : next;
}

/** Reads and writes one element's attributes: a serialized node's (in events) or a live element's. */
export interface AttributeAccess {
  get(name: string): unknown;
  set(name: string, value: string): void;
  remove(name: string): void;
}

export function recordAccess(attributes: Record<string, unknown>): AttributeAccess {
  return {
    get: (name) => attributes[name],
    set: (name, value) => {
      attributes[name] = value;
    },
    remove: (name) => {
      delete attributes[name];
    },
  };
}

export function elementAccess(element: Element): AttributeAccess {
  return {
    get: (name) => element.getAttribute(name) ?? undefined,
    set: (name, value) => {
      if (name === 'xlink:href') element.setAttributeNS('http://www.w3.org/1999/xlink', name, value);
      else element.setAttribute(name, value);
    },
    remove: (name) => element.removeAttribute(name),
  };
}

/**
 * Points one element's references at the captured copies: image sources, posters, SVG image and
 * sprite references, stylesheet links, legacy backgrounds, its style attribute and rrweb's inlined
 * stylesheet text (`_cssText`). Nothing else: links, frames and objects keep their URLs.
 */
export function rewriteAttributes(tag: string | undefined, access: AttributeAccess, lookup: AssetLookup): void {
  const style = access.get('style');
  if (typeof style === 'string') {
    const next = rewriteCss(style, lookup);
    if (next !== style) access.set('style', next);
  } else if (style && typeof style === 'object') {
    // rrweb's style change: property → value, [value, priority] or false.
    const properties = style as Record<string, unknown>;
    for (const [property, value] of Object.entries(properties)) {
      if (typeof value === 'string') properties[property] = rewriteCss(value, lookup);
      else if (Array.isArray(value) && typeof value[0] === 'string')
        properties[property] = [rewriteCss(value[0], lookup), ...value.slice(1)];
    }
  }
  const cssText = access.get('_cssText');
  if (typeof cssText === 'string') {
    const next = rewriteCss(cssText, lookup);
    if (next !== cssText) access.set('_cssText', next);
  }
  if (!tag) return;
  /** Points one URL attribute at its copy; whether there is one. */
  const one = (name: string) => {
    const value = access.get(name);
    if (typeof value !== 'string' || !value.trim()) return false;
    const copy = lookup(value);
    if (copy && copy !== value) access.set(name, copy);
    return !!copy;
  };
  if (tag === 'img' || tag === 'source') {
    const srcset = access.get('srcset');
    const srcKnown = one('src');
    if (typeof srcset === 'string') {
      const next = rewriteSrcset(srcset, lookup);
      if (next !== undefined) access.set('srcset', next);
      // The customer's browser showed src: leave no candidate the agent's browser could prefer and not load.
      else if (srcKnown && tag === 'img' && !parseSrcset(srcset).some((c) => lookup(c.url))) access.remove('srcset');
    }
    return;
  }
  if (tag === 'link') {
    if (linkAssetKind(access.get('rel'))) one('href');
    return;
  }
  for (const name of ASSET_ATTRIBUTES[tag] ?? []) one(name);
}

/**
 * An asset arrived after the events that use it: point what is already in the replayed document at
 * it — attributes, and the rules of every stylesheet (those of <style> and <link> elements, adopted
 * ones, in shadow roots and same-origin frames too). Rules are replaced in place, one by one, so
 * rules rrweb inserted through the CSSOM stay.
 */
export function patchDocument(doc: Document, lookup: AssetLookup): void {
  patchRoot(doc, doc, lookup, 0);
}

function patchRoot(doc: Document, root: Document | ShadowRoot, lookup: AssetLookup, depth: number): void {
  if (depth > 8) return;
  const walker = doc.createTreeWalker(root, 1 /* NodeFilter.SHOW_ELEMENT */);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node as Element;
    const tag = element.localName.toLowerCase();
    if (ASSET_ELEMENTS.has(tag) || element.hasAttribute('style')) {
      try {
        rewriteAttributes(tag, elementAccess(element), lookup);
      } catch {
        // one odd element must not stop the others
      }
    }
    if (element.shadowRoot) patchRoot(doc, element.shadowRoot, lookup, depth + 1);
    if (tag === 'iframe') {
      try {
        const inner = (element as HTMLIFrameElement).contentDocument;
        if (inner) patchRoot(inner, inner, lookup, depth + 1);
      } catch {
        // cross-origin: not ours to patch
      }
    }
  }
  const sheets: CSSStyleSheet[] = [
    ...(root.styleSheets as unknown as CSSStyleSheet[]),
    ...((root as { adoptedStyleSheets?: CSSStyleSheet[] }).adoptedStyleSheets ?? []),
  ];
  for (const sheet of sheets) patchRules(sheet, lookup);
}

type RuleParent = {
  cssRules: CSSRuleList;
  insertRule(rule: string, index?: number): number;
  deleteRule(index: number): void;
};

function patchRules(parent: RuleParent, lookup: AssetLookup): void {
  let rules: CSSRuleList;
  try {
    rules = parent.cssRules;
  } catch {
    return; // a sheet from another origin
  }
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    // @media, @supports, @layer, @container…: their rules one by one.
    const group = rule as unknown as Partial<RuleParent> & { selectorText?: string };
    if (group.cssRules && typeof group.insertRule === 'function' && group.selectorText === undefined) {
      patchRules(group as RuleParent, lookup);
      continue;
    }
    const text = rule.cssText;
    if (!mayReferToAssets(text)) continue;
    const next = rewriteCss(text, lookup);
    if (next === text) continue;
    try {
      parent.insertRule(next, i);
      parent.deleteRule(i + 1);
    } catch {
      // the rewritten rule did not parse here: keep the original
    }
  }
}
