import { type AssetKind, replaceCssRefs } from '@cobrowse/protocol';
import { assetMime } from './asset-type.js';

/**
 * Fetches one asset as the customer's page would (its cookies; the browser's cache answers for what
 * the page has loaded already), within a size cap, and decides its type. A stylesheet's references
 * are made absolute (they are relative to it, and the agent's replay is elsewhere).
 */

export interface FetchedAsset {
  mime: string;
  bytes: Uint8Array;
  /** A stylesheet: its text (references absolute) and its URL, to capture what it refers to. */
  css?: { text: string; url: string };
}

/** Reads a response body, giving up past `max` bytes. */
async function readCapped(response: Response, max: number): Promise<Uint8Array | undefined> {
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(await response.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      void reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** The asset at `url` used as `kind`, or undefined (failed, too large, refused type). */
export async function fetchAsset(url: string, kind: AssetKind, maxBytes: number): Promise<FetchedAsset | undefined> {
  const sameOrigin = url.startsWith('blob:') || new URL(url).origin === location.origin;
  let response: Response;
  try {
    response = await fetch(url, { credentials: 'include', cache: 'force-cache', redirect: 'follow' });
  } catch (error) {
    // A CORS answer of "*" refuses credentials: try once more without.
    if (sameOrigin) throw error;
    response = await fetch(url, { credentials: 'omit', cache: 'force-cache', redirect: 'follow' });
  }
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (!response.ok || declared > maxBytes) {
    void response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  const bytes = await readCapped(response, maxBytes);
  if (!bytes || bytes.byteLength === 0) return undefined;
  const mime = assetMime(response.headers.get('content-type'), bytes, url, kind);
  if (!mime) return undefined;
  if (mime !== 'text/css') return { mime, bytes };
  const charset = /charset=["']?([\w-]+)/i.exec(response.headers.get('content-type') ?? '')?.[1];
  let text: string;
  try {
    text = new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    text = new TextDecoder().decode(bytes);
  }
  const sheetUrl = response.url || url;
  text = replaceCssRefs(text, (ref) => {
    if (ref.startsWith('data:') || ref.startsWith('#')) return undefined;
    try {
      return new URL(ref, sheetUrl).href;
    } catch {
      return undefined;
    }
  });
  return { mime, bytes: new TextEncoder().encode(text), css: { text, url: sheetUrl } };
}
