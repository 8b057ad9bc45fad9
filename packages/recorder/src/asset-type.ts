import { type AssetKind, isAssetMime, sniffAsset } from '@cobrowse/protocol';

/** What type a fetched asset is: what the server said, what its bytes are, and where the page used it. */

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
export const sniff = sniffAsset;

/** Decides an asset's type from what the server said, what the bytes are, and where it was used; undefined to refuse it. */
export function assetMime(
  contentType: string | null,
  bytes: Uint8Array,
  url: string,
  kind: AssetKind,
): string | undefined {
  const declared = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const normal = MIME_ALIASES[declared] ?? declared;
  const sniffed = sniff(bytes);
  if (sniffed === 'html') return undefined;
  if (normal === 'text/css') return kind === 'css' || kind === 'any' ? 'text/css' : undefined;
  // A server's type the bytes contradict (a JPEG served as image/png): the bytes win, or the replay would refuse it.
  if (isAssetMime(normal)) return sniffed && isAssetMime(sniffed) ? sniffed : normal;
  if (sniffed) return sniffed;
  // Fonts are often served as application/octet-stream: trust where they were used and their name.
  const extension = /\.([a-z0-9]+)$/i.exec(new URL(url).pathname)?.[1]?.toLowerCase();
  return kind !== 'css' && extension ? FONT_EXTENSIONS[extension] : undefined;
}
