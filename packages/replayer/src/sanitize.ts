import type { eventWithTime } from '@rrweb/types';
import { RrwebEventType, RrwebNodeType, RrwebSource } from '@cobrowse/protocol';
import { type AssetLookup, recordAccess, rewriteAttributes, rewriteCss } from './assets.js';

/**
 * The customer's page is untrusted, and so is anything that claims to be it on the socket. Before
 * an event reaches rrweb, this strips what could run code, navigate, or submit from the agent's
 * side: event-handler attributes, `javascript:` URLs, `srcdoc`, `<meta http-equiv>`, `<base href>`,
 * form targets and script sources. The replay iframe's sandbox (no `allow-scripts`) and the agent
 * page's CSP stay the main walls; this is the one in front of them.
 *
 * The same pass points references to the customer's images, fonts and stylesheets at the copies the
 * recorder captured (see assets.ts), when an {@link AssetLookup} is given.
 */

const ELEMENT = RrwebNodeType.Element;
const TEXT = RrwebNodeType.Text;
const FULL_SNAPSHOT = RrwebEventType.FullSnapshot;
const INCREMENTAL = RrwebEventType.IncrementalSnapshot;
const MUTATION = RrwebSource.Mutation;
const STYLE_SHEET_RULE = RrwebSource.StyleSheetRule;
const ADOPTED_STYLE_SHEET = RrwebSource.AdoptedStyleSheet;
/** rrweb's CSSOM `style.setProperty` on a stylesheet rule. */
const STYLE_DECLARATION = 13;

type Attributes = Record<string, string | number | boolean | null>;
interface SerializedNode {
  type: number;
  tagName?: string;
  attributes?: Attributes;
  childNodes?: SerializedNode[];
  textContent?: string;
  isStyle?: boolean;
}

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

const URL_ATTRIBUTES = new Set([
  'href',
  'src',
  'action',
  'formaction',
  'xlink:href',
  'data',
  'poster',
  'background',
  'codebase',
  'cite',
  'ping',
]);
const DANGEROUS_URL = /^[\s\u0000-\u001f]*(javascript|vbscript|data\s*:\s*text\/html|data\s*:\s*image\/svg)/i;
/** Attributes removed wherever they appear. */
const ALWAYS_REMOVED = new Set(['srcdoc', 'http-equiv', 'formaction', 'formtarget', 'target', 'ping']);
/** Attributes removed on specific elements. */
const REMOVED_ON: Record<string, Set<string>> = {
  base: new Set(['href', 'target']),
  form: new Set(['action', 'target']),
  script: new Set(['src']),
  object: new Set(['data', 'codebase']),
  embed: new Set(['src']),
};

/** Whether an attribute must not reach the replay. */
export function unsafeAttribute(tag: string | undefined, name: string, value: unknown): boolean {
  const key = name.toLowerCase();
  if (key.startsWith('on')) return true;
  if (ALWAYS_REMOVED.has(key)) return true;
  if (tag && REMOVED_ON[tag]?.has(key)) return true;
  if (URL_ATTRIBUTES.has(key) && typeof value === 'string' && DANGEROUS_URL.test(value)) return true;
  return false;
}

function cleanAttributes(tag: string | undefined, attributes: Attributes | undefined): void {
  if (!attributes) return;
  for (const name of Object.keys(attributes)) {
    if (unsafeAttribute(tag, name, attributes[name])) delete attributes[name];
  }
}

/**
 * A `<canvas>` cannot draw in a document without scripts (the replay's sandbox): it shows its
 * fallback content instead. The recorded pixels are shown as the element's background instead.
 */
export function canvasBackground(dataUrl: string): string | undefined {
  return /^data:image\/(png|jpeg|webp);base64,[A-Za-z0-9+/=]+$/.test(dataUrl) ? `url("${dataUrl}")` : undefined;
}

function canvasToBackground(attributes: Attributes | undefined): void {
  if (!attributes || typeof attributes.rr_dataURL !== 'string') return;
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

function cleanNode(node: SerializedNode | undefined, assets: AssetLookup | undefined): void {
  if (!node) return;
  if (node.type === TEXT && node.isStyle && typeof node.textContent === 'string')
    node.textContent = css(node.textContent, assets);
  if (node.type === ELEMENT) {
    const tag = node.tagName?.toLowerCase();
    cleanAttributes(tag, node.attributes);
    if (node.attributes && typeof node.attributes._cssText === 'string')
      node.attributes._cssText = rewriteFocus(node.attributes._cssText);
    if (tag === 'canvas') canvasToBackground(node.attributes);
    if (assets && node.attributes) rewriteAttributes(tag, recordAccess(node.attributes), assets);
    // A script's text never runs in the sandbox; drop it anyway (it can be large, and it is code).
    if (tag === 'script') node.childNodes = [];
  }
  if (node.childNodes) for (const child of node.childNodes) cleanNode(child, assets);
}

export interface SanitizeOptions {
  /** Finds captured copies of the customer's images, fonts and stylesheets. */
  assets?: AssetLookup;
  /** Whether the text node behind an id is a stylesheet's text (only those are CSS; without this, every text is taken for CSS). */
  styleText?: (id: number) => boolean;
}

/**
 * Cleans one event in place. `tagOf` names the element behind a node id (for attribute changes to
 * existing nodes).
 */
export function sanitizeEvent(
  event: eventWithTime,
  tagOf: (id: number) => string | undefined,
  options: SanitizeOptions = {},
): eventWithTime {
  const { assets, styleText } = options;
  if (event.type === FULL_SNAPSHOT) {
    cleanNode((event.data as { node: SerializedNode }).node, assets);
    return event;
  }
  if (event.type !== INCREMENTAL) return event;
  const source = (event.data as { source: number }).source;
  if (source === MUTATION) {
    const data = event.data as unknown as {
      adds?: { node: SerializedNode }[];
      attributes?: { id: number; attributes: Attributes }[];
      texts?: { id: number; value: string | null }[];
    };
    for (const add of data.adds ?? []) cleanNode(add.node, assets);
    for (const change of data.attributes ?? []) {
      const tag = tagOf(change.id);
      cleanAttributes(tag, change.attributes);
      if (typeof change.attributes._cssText === 'string')
        change.attributes._cssText = rewriteFocus(change.attributes._cssText);
      if (assets) rewriteAttributes(tag, recordAccess(change.attributes), assets);
    }
    for (const text of data.texts ?? []) {
      if (typeof text.value === 'string' && (!styleText || styleText(text.id)))
        text.value = css(text.value, styleText ? assets : undefined);
    }
  } else if (source === STYLE_SHEET_RULE) {
    const data = event.data as unknown as { adds?: { rule: string }[]; replace?: string; replaceSync?: string };
    for (const add of data.adds ?? []) if (typeof add.rule === 'string') add.rule = css(add.rule, assets);
    if (typeof data.replace === 'string') data.replace = css(data.replace, assets);
    if (typeof data.replaceSync === 'string') data.replaceSync = css(data.replaceSync, assets);
  } else if (source === STYLE_DECLARATION) {
    const data = event.data as unknown as { set?: { value?: string } };
    if (assets && typeof data.set?.value === 'string') data.set.value = rewriteCss(data.set.value, assets);
  } else if (source === ADOPTED_STYLE_SHEET) {
    const data = event.data as unknown as { styles?: { rules: { rule: string }[] }[] };
    for (const style of data.styles ?? [])
      for (const rule of style.rules) if (typeof rule.rule === 'string') rule.rule = css(rule.rule, assets);
  }
  return event;
}
