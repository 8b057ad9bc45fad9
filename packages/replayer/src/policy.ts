import type { eventWithTime } from '@rrweb/types';
import { RrwebEventType, RrwebNodeType, type SerializedNode } from '@cobrowse/protocol';

/**
 * The policy the replayer puts inside the replayed document, so that an integrator who sets no CSP
 * of their own is still safe: no referrer leaves it, it runs no script, frames, plugins, workers or
 * connections, submits no form, and loads images, fonts, media and stylesheets only from the
 * captured copies (`blob:`, `data:`) and the customer's origins. With `assets: 'relay'` not even
 * those: the agent's browser fetches nothing for the replay beyond what the relay sent.
 *
 * Relative URLs are resolved against the customer's page by the sanitizer (a `<base>` would depend
 * on the console's own CSP allowing it), never against the agent console. Policies set by `<meta>` outlast the document's `document.open()` (rrweb's rebuild),
 * and add up: each full snapshot brings them again, which changes nothing while the customer's
 * origin stays the same.
 */

export type AssetMode = 'direct' | 'relay';

export interface ReplayPolicy {
  /** Content-Security-Policy of the replay. */
  csp: string;
  /** The customer page's URL (relative URLs resolve against it), when it is an http(s) URL. */
  base: string | undefined;
}

/** The origin of an http(s) URL, or undefined. */
export function httpOrigin(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** The replay's policy for a customer page at `pageHref`, with `origins` the integrator allows besides. */
export function replayPolicy(pageHref: string, mode: AssetMode, origins: readonly string[] = []): ReplayPolicy {
  const page = httpOrigin(pageHref);
  const allowed =
    mode === 'relay'
      ? []
      : [...new Set([page, ...origins.map(httpOrigin)].filter((o): o is string => o !== undefined))];
  const sources = ['blob:', 'data:', ...allowed].join(' ');
  const csp = [
    "default-src 'none'",
    "script-src 'none'",
    "object-src 'none'",
    "frame-src 'none'",
    "child-src 'none'",
    "worker-src 'none'",
    "connect-src 'none'",
    "manifest-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
    `img-src ${sources}`,
    `media-src ${sources}`,
    `font-src ${sources}`,
    `style-src 'unsafe-inline' ${['blob:', ...allowed].join(' ')}`,
  ].join('; ');
  return { csp, base: page ? pageHref : undefined };
}

/** Id of the node the replayer adds (negative: rrweb's ids are positive). */
const REFERRER_ID = -101;

/**
 * Puts a no-referrer `<meta>` first in a (sanitized) full snapshot's `<head>`: before anything in
 * the page is built, so it governs every load of the snapshot. (rrweb renames the content of a CSP
 * `<meta>` it builds: the CSP goes in with {@link applyPolicy}.)
 */
export function injectReferrerPolicy(event: eventWithTime): void {
  if (event.type !== RrwebEventType.FullSnapshot) return;
  const root = (event.data as { node?: SerializedNode }).node;
  const html = root?.childNodes?.find((n) => n?.type === RrwebNodeType.Element && n.tagName?.toLowerCase() === 'html');
  if (!html) return;
  html.childNodes ??= [];
  let head = html.childNodes.find((n) => n?.type === RrwebNodeType.Element && n.tagName?.toLowerCase() === 'head');
  if (!head) {
    head = { type: RrwebNodeType.Element, id: -100, tagName: 'head', attributes: {}, childNodes: [] };
    html.childNodes.unshift(head);
  }
  const nodes: SerializedNode[] = [
    {
      type: RrwebNodeType.Element,
      id: REFERRER_ID,
      tagName: 'meta',
      attributes: { name: 'referrer', content: 'no-referrer' },
      childNodes: [],
    },
  ];
  head.childNodes = [...nodes, ...(head.childNodes ?? [])];
}

/**
 * Sets the policy on the replay's document as it is now (before the snapshot that follows a Meta
 * event is built). A policy set by `<meta>` stays with the document through `document.open()`.
 */
export function applyPolicy(doc: Document | null | undefined, policy: ReplayPolicy): void {
  if (!doc) return;
  const head =
    doc.head ??
    (doc.documentElement ?? doc.appendChild(doc.createElement('html'))).appendChild(doc.createElement('head'));
  const referrer = doc.createElement('meta');
  referrer.name = 'referrer';
  referrer.content = 'no-referrer';
  const csp = doc.createElement('meta');
  csp.httpEquiv = 'Content-Security-Policy';
  csp.content = policy.csp;
  head.prepend(referrer, csp);
}
