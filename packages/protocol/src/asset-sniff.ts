/**
 * What an asset's bytes are, read the same way by the recorder (before it sends an asset) and the
 * replayer (before it hands one to the replay): a type named by the protocol, `'html'` for a
 * document (a login page served in an image's place, or a hostile stream), or undefined.
 */
export function sniffAsset(bytes: Uint8Array): string | undefined {
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

/** Binary image formats, told apart by their first bytes. */
const BINARY_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp']);

/**
 * Whether bytes may be handed over as `mime`: never a document, and a binary image or an SVG only
 * when the bytes are one (a mislabelled asset is refused, not trusted).
 */
export function assetBytesMatch(mime: string, bytes: Uint8Array): boolean {
  const sniffed = sniffAsset(bytes);
  if (sniffed === 'html') return false;
  if (BINARY_IMAGES.has(mime)) return sniffed === mime || (mime === 'image/png' && sniffed === 'image/apng');
  if (mime === 'image/svg+xml') return sniffed === 'image/svg+xml';
  if (mime === 'text/css') return sniffed === undefined;
  return true;
}
