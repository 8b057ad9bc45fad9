import { ASSET_ATTRIBUTES, linkAssetKind } from '@cobrowse/protocol';
import { safeSrcset, safeUrl, unsafeAnimationValue } from './url-safety.js';

/**
 * Which attributes and elements may reach the replay (of the customer's page, or of a captured SVG):
 * the one table both the event sanitizer and the SVG asset cleaner use.
 */

/** What elements that could embed, navigate or set policy become in the replay: an inert, unknown element. */
export const INERT_TAG = 'cobrowse-inert';

/** Elements replaced by {@link INERT_TAG}: they embed plugins or documents, or set the document's policy or base. */
export const INERT_ELEMENTS = new Set([
  'object',
  'embed',
  'applet',
  'frame',
  'frameset',
  'portal',
  'base',
  'meta',
  'param',
]);
/** What an inert element keeps: enough to keep its box. */
export const INERT_KEEPS = new Set(['id', 'class', 'style', 'width', 'height', 'hidden']);
/** SVG animation elements: they may not animate a link or a handler. */
const ANIMATIONS = new Set(['animate', 'set', 'animatemotion', 'animatetransform', 'animatecolor', 'discard']);
const ANIMATION_VALUES = new Set(['to', 'from', 'by', 'values']);

/** Attributes that hold a URL (`srcset`s hold several). */
export const URL_ATTRIBUTES: ReadonlySet<string> = new Set([
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
  'lowsrc',
  'dynsrc',
  'longdesc',
  'manifest',
  'icon',
  'archive',
  'classid',
  'profile',
  'itemtype',
  'attributionsrc',
]);
/** Attributes removed wherever they appear: they run, embed, navigate, submit or leak. */
const ALWAYS_REMOVED = new Set([
  'srcdoc',
  'http-equiv',
  'action',
  'formaction',
  'formtarget',
  'formmethod',
  'target',
  'ping',
  'codebase',
  'classid',
  'archive',
  'attributionsrc',
  'referrerpolicy',
]);
/** Attributes removed on specific elements (and on elements of unknown tag). */
const REMOVED_ON: Record<string, Set<string>> = {
  script: new Set(['src']),
  // rrweb replays frames from their serialized content (`rr_src`), never by loading them.
  iframe: new Set(['src']),
  link: new Set(['imagesrcset']),
};
const REMOVED_ON_UNKNOWN = new Set(['src', 'data', 'attributename']);

/** Whether an attribute may name an asset (then `blob:` copies and `data:image/…` may stay). */
function assetPosition(tag: string | undefined, name: string, rel: unknown): boolean {
  if (!tag) return false;
  if (tag === 'link') return name === 'href' && linkAssetKind(rel) !== undefined;
  return ASSET_ATTRIBUTES[tag]?.includes(name) ?? false;
}

/**
 * Whether an attribute must not reach the replay. `tag` undefined: the element is unknown, and
 * what is dangerous on any element is removed. `rel`: a `<link>`'s rel, when known.
 */
export function unsafeAttribute(
  tag: string | undefined,
  name: string,
  value: unknown,
  rel?: unknown,
  /** Inside a captured SVG: links may only point inside it (`#id`) or at images given as data. */
  svgAsset = false,
): boolean {
  const key = name.toLowerCase();
  if (svgAsset && (key === 'href' || key === 'xlink:href') && typeof value === 'string')
    return !value.trim().startsWith('#') && !/^data:image\//i.test(value.trim());
  const local = key.slice(key.indexOf(':') + 1);
  if (local.startsWith('on')) return true;
  if (ALWAYS_REMOVED.has(key)) return true;
  if (tag === undefined ? REMOVED_ON_UNKNOWN.has(key) : REMOVED_ON[tag]?.has(key)) return true;
  if (tag === undefined || ANIMATIONS.has(tag)) {
    if (key === 'attributename' && typeof value === 'string') {
      const target = value.trim().toLowerCase();
      if (target.endsWith('href') || target.replace(/^.*:/, '').startsWith('on')) return true;
    }
    if (ANIMATION_VALUES.has(key) && typeof value === 'string' && unsafeAnimationValue(value)) return true;
  }
  if (typeof value !== 'string') return false;
  if (key === 'srcset' || key === 'imagesrcset') return !safeSrcset(value);
  if (URL_ATTRIBUTES.has(key)) return !safeUrl(value, assetPosition(tag, key, rel) ? 'asset' : 'other');
  return false;
}
