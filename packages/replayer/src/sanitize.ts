import type { eventWithTime } from '@rrweb/types';
import { type SerializedElement, walkEvent } from '@cobrowse/protocol';
import { type AssetLookup, recordAccess, rewriteAttributes, rewriteCss } from './assets.js';
import { INERT_ELEMENTS, INERT_KEEPS, INERT_TAG, unsafeAttribute } from './attribute-safety.js';

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
 * `:focus-within` becomes `:has([data-cobrowse-focus])`.
 */
export function rewriteFocus(css: string): string {
  if (!css.includes(':focus')) return css;
  return css
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

/** Stylesheet text as the replay needs it: focus styling keyed to the replayer's attribute, references at captured copies. */
function css(text: string, assets: AssetLookup | undefined): string {
  const focused = rewriteFocus(text);
  return assets ? rewriteCss(focused, assets) : focused;
}

function cleanElement(node: SerializedElement, tag: string, assets: AssetLookup | undefined): void {
  const attributes = node.attributes;
  if (INERT_ELEMENTS.has(tag)) {
    node.tagName = INERT_TAG;
    for (const name of Object.keys(attributes)) if (!INERT_KEEPS.has(name.toLowerCase())) delete attributes[name];
    node.childNodes = [];
  }
  cleanAttributes(tag, attributes);
  if (typeof attributes._cssText === 'string') attributes._cssText = rewriteFocus(attributes._cssText);
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
  walkEvent(
    event,
    {
      element: (node, tag) => cleanElement(node, tag, assets),
      styleText: (node) => {
        node.textContent = css(node.textContent, assets);
      },
      attributes: (change, tag) => {
        const attributes = change.attributes;
        const inert = tag === INERT_TAG || (tag !== undefined && INERT_ELEMENTS.has(tag));
        if (inert) for (const name of Object.keys(attributes)) if (!INERT_KEEPS.has(name)) delete attributes[name];
        cleanAttributes(tag, attributes);
        if (typeof attributes._cssText === 'string') attributes._cssText = rewriteFocus(attributes._cssText);
        if (assets && !inert) rewriteAttributes(tag, recordAccess(attributes), assets);
      },
      text: (change) => {
        if (typeof change.value === 'string' && (!styleText || styleText(change.id)))
          change.value = css(change.value, styleText ? assets : undefined);
      },
      css: (text) => css(text, assets),
    },
    { tagOf },
  );
  return event;
}
