import type { eventWithTime } from '@rrweb/types';
import {
  type RrwebVisitor,
  type SerializedElement,
  mayReferToAssets,
  parseSrcset,
  replaceCssRefs,
  serializeSrcset,
  walkEvent,
} from '@cobrowse/protocol';
import { type AssetLookup, recordAccess, rewriteAttributes, rewriteCss } from './assets.js';
import { INERT_ELEMENTS, INERT_KEEPS, INERT_TAG, URL_ATTRIBUTES, unsafeAttribute } from './attribute-safety.js';
import { urlScheme } from './url-safety.js';

export { INERT_TAG, unsafeAttribute } from './attribute-safety.js';

/**
 * The customer's page is untrusted, and so is anything that claims to be it on the socket. Before
 * an event reaches rrweb, this strips what could run code, navigate, submit or change the replay's
 * policy: event-handler attributes, script-bearing or unknown URL schemes (however written),
 * `srcdoc`, `<meta>`, `<base>`, `<object>`, `<embed>`, form targets, frame sources and SVG
 * animations of links. Each attribute is judged on the element it will end up on — an element added
 * earlier in the same event counts, whatever order rrweb applies them in — so the state the replay
 * reaches is safe, not only each step. The replay iframe's sandbox (no `allow-scripts`) and the
 * policy the replayer puts in it (see policy.ts) stay the walls behind this.
 *
 * The same pass points references to the customer's images, fonts and stylesheets at the copies the
 * recorder captured (see assets.ts), when an {@link AssetLookup} is given.
 */

/** Attribute the replayer puts on the element the customer has focused. */
export const FOCUS_ATTRIBUTE = 'data-cobrowse-focus';

/**
 * Nothing is ever focused inside the replay, so the page's focus styling is keyed to the attribute
 * the replayer sets instead: `:focus` and `:focus-visible` become `[data-cobrowse-focus]`,
 * `:focus-within` becomes `:has([data-cobrowse-focus])`, and `:host(:focus-within)` becomes
 * `:host([data-cobrowse-focus])` (the shadow hosts around the focused element carry the attribute too).
 */
export function rewriteFocus(css: string): string {
  if (!css.includes(':focus')) return css;
  return css
    .replace(/:host\(:focus-within\)/g, `:host([${FOCUS_ATTRIBUTE}])`)
    .replace(/:focus-within\b/g, `:has([${FOCUS_ATTRIBUTE}])`)
    .replace(/:focus(-visible)?\b(?!-)/g, `[${FOCUS_ATTRIBUTE}]`);
}

type Attributes = Record<string, unknown>;

function cleanAttributes(tag: string | undefined, attributes: Attributes): void {
  for (const name of Object.keys(attributes)) {
    if (unsafeAttribute(tag, name, attributes[name], attributes.rel)) delete attributes[name];
  }
}

/**
 * A `<canvas>` cannot draw in a document without scripts (the replay's sandbox): it shows its
 * fallback content instead. The recorded pixels are shown as the element's background instead.
 */
export function canvasBackground(dataUrl: string): string | undefined {
  return /^data:image\/(png|jpeg|webp);base64,[A-Za-z0-9+/=]+$/.test(dataUrl) ? `url("${dataUrl}")` : undefined;
}

function canvasToBackground(attributes: Attributes): void {
  if (typeof attributes.rr_dataURL !== 'string') return;
  const background = canvasBackground(attributes.rr_dataURL);
  delete attributes.rr_dataURL;
  if (!background) return;
  const style =
    typeof attributes.style === 'string' && attributes.style.trim() ? `${attributes.style.replace(/;\s*$/, '')}; ` : '';
  attributes.style = `${style}background-image: ${background}`;
}

/** A URL made absolute against the customer's page (the replay's own document is the agent console's). */
function absolute(ref: string, base: string): string | undefined {
  const trimmed = ref.trim();
  if (!trimmed || trimmed.startsWith('#') || urlScheme(trimmed) !== undefined) return undefined;
  try {
    return new URL(trimmed, base).href;
  } catch {
    return undefined;
  }
}

/** Relative URLs in an element's URL attributes, resolved against the customer's page. */
function resolveUrls(attributes: Attributes, base: string): void {
  for (const name of Object.keys(attributes)) {
    const value = attributes[name];
    if (typeof value !== 'string') continue;
    const key = name.toLowerCase();
    if (key === 'srcset' || key === 'imagesrcset') {
      const candidates = parseSrcset(value);
      if (candidates.some((c) => absolute(c.url, base)))
        attributes[name] = serializeSrcset(candidates.map((c) => ({ ...c, url: absolute(c.url, base) ?? c.url })));
    } else if (URL_ATTRIBUTES.has(key)) {
      const next = absolute(value, base);
      if (next) attributes[name] = next;
    }
  }
}

/**
 * Stylesheet text as the replay needs it: relative references resolved against the customer's
 * page, focus styling keyed to the replayer's attribute, references at captured copies.
 */
function css(text: string, assets: AssetLookup | undefined, base?: string): string {
  let out = rewriteFocus(text);
  if (base && mayReferToAssets(out)) out = replaceCssRefs(out, (ref) => absolute(ref, base));
  return assets ? rewriteCss(out, assets) : out;
}

function cleanElement(node: SerializedElement, tag: string, assets: AssetLookup | undefined, base?: string): void {
  const attributes = node.attributes;
  if (INERT_ELEMENTS.has(tag)) {
    node.tagName = INERT_TAG;
    for (const name of Object.keys(attributes)) if (!INERT_KEEPS.has(name.toLowerCase())) delete attributes[name];
    node.childNodes = [];
  }
  cleanAttributes(tag, attributes);
  if (base) resolveUrls(attributes, base);
  if (typeof attributes._cssText === 'string') attributes._cssText = css(attributes._cssText, undefined, base);
  if (typeof attributes.style === 'string' && base) attributes.style = css(attributes.style, undefined, base);
  if (tag === 'canvas') canvasToBackground(attributes);
  if (assets) rewriteAttributes(tag, recordAccess(attributes), assets);
  // A script's text never runs in the sandbox; drop it anyway (it can be large, and it is code).
  if (tag === 'script') node.childNodes = [];
}

export interface SanitizeOptions {
  /** Finds captured copies of the customer's images, fonts and stylesheets. */
  assets?: AssetLookup;
  /** Whether the text node behind an id is a stylesheet's text (only those are CSS; without this, every text is taken for CSS). */
  styleText?: (id: number) => boolean;
  /** The customer page's URL: relative URLs in attributes and stylesheets are resolved against it. */
  base?: string;
  /**
   * Checks to run in the same walk (the size limits: see NodeGuard.watch): one pass over the
   * event's nodes instead of two. What they throw stops the walk and comes out of sanitizeEvent.
   */
  checks?: Pick<RrwebVisitor, 'node' | 'add'>;
}

/**
 * Cleans one event in place. `tagOf` names the element behind a node id (for attribute changes to
 * nodes not added by the same event); undefined means unknown, and is treated as the worst case.
 */
export function sanitizeEvent(
  event: eventWithTime,
  tagOf: (id: number) => string | undefined,
  options: SanitizeOptions = {},
): eventWithTime {
  const { assets, styleText } = options;
  const base = options.base && /^https?:/i.test(options.base) ? options.base : undefined;
  walkEvent(
    event,
    {
      node: options.checks?.node,
      add: options.checks?.add,
      element: (node, tag) => cleanElement(node, tag, assets, base),
      styleText: (node) => {
        node.textContent = css(node.textContent, assets, base);
      },
      attributes: (change, tag) => {
        const attributes = change.attributes;
        const inert = tag === INERT_TAG || (tag !== undefined && INERT_ELEMENTS.has(tag));
        if (inert) for (const name of Object.keys(attributes)) if (!INERT_KEEPS.has(name)) delete attributes[name];
        cleanAttributes(tag, attributes);
        if (base) resolveUrls(attributes, base);
        if (typeof attributes._cssText === 'string') attributes._cssText = css(attributes._cssText, undefined, base);
        if (typeof attributes.style === 'string' && base) attributes.style = css(attributes.style, undefined, base);
        if (assets && !inert) rewriteAttributes(tag, recordAccess(attributes), assets);
      },
      text: (change) => {
        if (typeof change.value === 'string' && (!styleText || styleText(change.id)))
          change.value = css(change.value, styleText ? assets : undefined, base);
      },
      css: (text) => css(text, assets, base),
    },
    { tagOf },
  );
  return event;
}
