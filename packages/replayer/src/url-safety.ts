/**
 * How the replay judges a URL the customer's page (or a stream claiming to be it) puts in an
 * attribute: read the way a browser would read it (tabs and newlines anywhere dropped, leading
 * control characters and spaces dropped, scheme case-insensitive), and stricter than a browser
 * (HTML character references decoded first, so `&#106;avascript:` is judged as `javascript:`).
 */

const NAMED: Record<string, string> = { colon: ':', tab: '\t', newline: '\n', sol: '/', lpar: '(', rpar: ')' };

/** Decodes numeric and a few named character references (only to judge a URL, never to use it). */
function decodeReferences(value: string): string {
  if (!value.includes('&')) return value;
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);?/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : '';
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

/** The scheme a browser would see in `value` (lower case), or undefined for a relative URL. */
export function urlScheme(value: string): string | undefined {
  const clean = decodeReferences(value)
    .replace(/[\t\n\r]/g, '')
    .replace(/^[\u0000-\u0020]+/, '');
  const match = /^([a-z][a-z0-9+.-]*):/i.exec(clean);
  return match ? match[1]!.toLowerCase() : undefined;
}

/** The media type of a `data:` URL (lower case), as a browser would read it. */
function dataType(value: string): string {
  const clean = decodeReferences(value)
    .replace(/[\t\n\r]/g, '')
    .replace(/^[\u0000-\u0020]+/, '');
  return (/^data:([^;,]*)/i.exec(clean)?.[1] ?? '').trim().toLowerCase();
}

/** Where a URL is used: somewhere that loads an image or stylesheet copy, or anywhere else (links, frames…). */
export type UrlPosition = 'asset' | 'other';

/** Schemes a link or other reference may keep: they can neither run script nor reach the agent's files. */
const SAFE_SCHEMES = new Set(['http', 'https', 'mailto', 'tel']);

/**
 * Whether a URL may stay in the replay. Relative URLs may (they resolve against the customer's
 * page: the replay's `<base>`). In asset positions `blob:` (the captured copies) and `data:image/…`
 * may too; nowhere `javascript:`, `vbscript:`, `data:text/html`, `data:text/xml`, `file:` or any
 * scheme not named here.
 */
export function safeUrl(value: string, position: UrlPosition): boolean {
  const scheme = urlScheme(value);
  if (scheme === undefined) return true;
  if (SAFE_SCHEMES.has(scheme)) return true;
  if (position !== 'asset') return false;
  if (scheme === 'blob') return true;
  return scheme === 'data' && dataType(value).startsWith('image/');
}

/** Whether every candidate URL of a `srcset` may stay. */
export function safeSrcset(value: string): boolean {
  return value.split(',').every((candidate) => safeUrl(candidate.trim().split(/\s+/)[0] ?? '', 'asset'));
}

/** Whether an SVG animation value (`to`, `from`, `by`, `values`: `;`-separated) holds a URL that may not stay. */
export function unsafeAnimationValue(value: string): boolean {
  return value.split(';').some((part) => part.trim() && !safeUrl(part.trim(), 'other'));
}
