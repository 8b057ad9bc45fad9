/**
 * How pages refer to assets, read the same way by the recorder (to find what to capture) and the
 * replayer (to point the replay at the captured copies): `url()` and `@import "…"` in CSS text, and
 * the candidates of a `srcset`.
 */

/** `url(…)` (quoted or not) or `@import "…"` / `@import '…'`. */
const CSS_REF =
  /url\(\s*(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|([^)"'\s]+))\s*\)|(@import\s+)(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')/gi;

const unescape = (value: string) => value.replace(/\\(.)/g, '$1');

/** Whether CSS text may refer to anything (cheap test before the real scan). */
export function mayReferToAssets(css: string): boolean {
  return css.includes('url(') || css.includes('URL(') || css.includes('@import');
}

/** Every reference in CSS text, as written (unescaped, not resolved). */
export function cssRefs(css: string): string[] {
  if (!mayReferToAssets(css)) return [];
  const refs: string[] = [];
  for (const match of css.matchAll(CSS_REF)) {
    const ref = match[1] ?? match[2] ?? match[3] ?? match[5] ?? match[6];
    if (ref) refs.push(unescape(ref.trim()));
  }
  return refs;
}

/**
 * Replaces references in CSS text: `map` gets each reference as written and returns what to put
 * instead (a URL), or undefined to leave it. Returns the same string when nothing changed.
 */
export function replaceCssRefs(css: string, map: (ref: string) => string | undefined): string {
  if (!mayReferToAssets(css)) return css;
  return css.replace(CSS_REF, (whole, q1, q2, bare, importPrefix, i1, i2) => {
    const ref = q1 ?? q2 ?? bare ?? i1 ?? i2;
    if (!ref) return whole;
    const next = map(unescape(String(ref).trim()));
    if (next === undefined) return whole;
    const quoted = JSON.stringify(next);
    return importPrefix ? `${importPrefix}${quoted}` : `url(${quoted})`;
  });
}

export interface SrcsetCandidate {
  url: string;
  /** Width or density descriptor (`640w`, `2x`), or empty. */
  descriptor: string;
}

/** Parses a `srcset` value (HTML's candidate list: URL, optional descriptors, commas between). */
export function parseSrcset(value: string): SrcsetCandidate[] {
  const out: SrcsetCandidate[] = [];
  let i = 0;
  const n = value.length;
  const space = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';
  while (i < n) {
    while (i < n && (space(value[i]) || value[i] === ',')) i++;
    if (i >= n) break;
    let start = i;
    while (i < n && !space(value[i])) i++;
    let url = value.slice(start, i);
    let descriptor = '';
    if (url.endsWith(',')) {
      url = url.replace(/,+$/, '');
    } else {
      start = i;
      let depth = 0;
      while (i < n) {
        const c = value[i];
        if (c === '(') depth++;
        else if (c === ')') depth = Math.max(0, depth - 1);
        else if (c === ',' && depth === 0) break;
        i++;
      }
      descriptor = value.slice(start, i).trim();
      i++;
    }
    if (url) out.push({ url, descriptor });
  }
  return out;
}

export function serializeSrcset(candidates: readonly SrcsetCandidate[]): string {
  return candidates.map((c) => (c.descriptor ? `${c.url} ${c.descriptor}` : c.url)).join(', ');
}

/** Where an asset is used, which decides the types it may have. */
export type AssetKind = 'image' | 'css' | 'font' | 'any';

/**
 * The one table of attributes that load an image or a sprite, per element (lower-case tag). `srcset`
 * holds a candidate list (see {@link parseSrcset}); `<link>` is decided by its `rel` (see
 * {@link linkAssetKind}). Links, frames, objects and forms are not here: they navigate or embed, and
 * are never pointed at a captured copy.
 */
export const ASSET_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  img: ['src', 'srcset'],
  source: ['src', 'srcset'],
  input: ['src'],
  video: ['poster'],
  image: ['href', 'xlink:href'],
  feimage: ['href', 'xlink:href'],
  use: ['href', 'xlink:href'],
  body: ['background'],
  table: ['background'],
  td: ['background'],
  th: ['background'],
};

/** Elements that may carry an asset reference in an attribute (besides `style`). */
export const ASSET_ELEMENTS: ReadonlySet<string> = /* @__PURE__ */ new Set([...Object.keys(ASSET_ATTRIBUTES), 'link']);

/** What a `<link>` with this `rel` loads: a stylesheet (`css`), an icon (`image`), or nothing we capture. */
export function linkAssetKind(rel: unknown): AssetKind | undefined {
  const value = typeof rel === 'string' ? rel : '';
  if (/(^|\s)stylesheet(\s|$)/i.test(value)) return 'css';
  if (/(^|\s)icon(\s|$)/i.test(value)) return 'image';
  return undefined;
}

/** The kind of asset a reference in CSS text probably is, by its name. */
export function cssRefKind(ref: string): AssetKind {
  return /\.(woff2?|ttf|otf|eot)(\?|$)/i.test(ref) ? 'font' : /\.css(\?|$)/i.test(ref) ? 'css' : 'any';
}
