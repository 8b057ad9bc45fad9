import type { eventWithTime } from '@rrweb/types';
import { type AssetKind, MAX_ASSET_URL_LENGTH, encodeBinary } from '@cobrowse/protocol';
import type { ResolvedAssetOptions } from './asset-options.js';
import { fetchAsset } from './asset-fetch.js';
import { AssetScanner, type ScanIo } from './asset-scan.js';

/**
 * Captures the images, fonts and stylesheets the recording refers to, where only the customer's
 * browser can load them (behind the site's login cookie, on the customer's intranet), and sends
 * their bytes after the events so the agents' replay uses these copies.
 *
 * What to capture is found by asset-scan.ts as the events go out; each URL is fetched once,
 * asynchronously (the events never wait), from the page's own origin and the origins the options
 * name, within a size budget (asset-fetch.ts), and sent one at a time behind what the socket
 * still holds. After a reconnect, what may not have reached the relay is sent again.
 */

/** Fetches at a time. */
const CONCURRENCY = 3;
/** Distinct URLs considered per page at most. */
const MAX_URLS = 5000;
/** An asset waits while this much is still queued in the socket, so DOM events are not stuck behind it. */
const MAX_BUFFERED = 256 * 1024;

/** What the capture needs from the session. */
export interface AssetIo extends ScanIo {
  /** Sends a frame now if the relay is connected and takes assets; false otherwise. */
  send(frame: Uint8Array): boolean;
  /** Whether frames sent now reach a relay that takes assets. */
  ready(): boolean;
  /** Bytes still queued in the socket. */
  buffered(): number;
  /** Last batch handed to the socket (assets sent after it may be lost if the socket drops). */
  lastSeq(): number;
}

interface Wanted {
  url: string;
  kind: AssetKind;
  /** Sent before: fetched again for a relay that may not have it (not counted twice). */
  again?: boolean;
}

interface Ready extends Wanted {
  mime: string;
  bytes: Uint8Array;
}

export class AssetCapture {
  /** Bytes of asset frames sent. */
  bytesSent = 0;
  private readonly sentUrls = new Set<string>();
  private readonly seen = new Set<string>();
  private readonly queue: Wanted[] = [];
  private active = 0;
  private readonly ready: Ready[] = [];
  /** Sent, with the last batch before them: what a reconnect may need to send again. */
  private sent: (Wanted & { afterSeq: number })[] = [];
  private total = 0;
  private pending: eventWithTime[] = [];
  private scanScheduled = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private readonly scanner: AssetScanner;

  constructor(
    private readonly options: ResolvedAssetOptions,
    private readonly io: AssetIo,
  ) {
    this.scanner = new AssetScanner(io, (ref, kind, base) => this.want(ref, kind, base));
  }

  /** An event on its way out: looked at in a later task, so it is never delayed. */
  observe(event: eventWithTime): void {
    if (this.stopped) return;
    this.pending.push(event);
    if (this.scanScheduled) return;
    this.scanScheduled = true;
    setTimeout(() => this.scan(), 0);
  }

  /**
   * The socket (re)connected. `relaySeq` is the last batch the relay has of this recording (none:
   * it lost everything, e.g. it restarted). What may not have reached it is fetched and sent again
   * (the browser's cache answers).
   */
  reconnected(relaySeq: number | undefined): void {
    if (this.stopped) return;
    const again = relaySeq === undefined ? this.sent : this.sent.filter((s) => s.afterSeq >= relaySeq);
    if (again.length) {
      this.sent = this.sent.filter((s) => !again.includes(s));
      for (const { url, kind } of again) this.queue.push({ url, kind, again: true });
      this.pump();
    }
    this.flush();
  }

  /** Assets sent, each URL counted once. */
  get count(): number {
    return this.sentUrls.size;
  }

  stop(): void {
    this.stopped = true;
    this.scanner.stopped = true;
    this.pending = [];
    this.queue.length = 0;
    this.ready.length = 0;
    clearTimeout(this.retryTimer);
  }

  private scan(): void {
    this.scanScheduled = false;
    const events = this.pending;
    this.pending = [];
    for (const event of events) {
      try {
        this.scanner.scan(event);
      } catch {
        // never let asset capture reach the page or the recording
      }
    }
  }

  private want(ref: string, kind: AssetKind, base: string): void {
    if (this.stopped || this.seen.size >= MAX_URLS || ref.startsWith('data:') || ref.startsWith('#')) return;
    let url: URL;
    try {
      url = new URL(ref, base);
    } catch {
      return;
    }
    url.hash = '';
    const href = url.href;
    if (this.seen.has(href)) return;
    this.seen.add(href);
    if (href.length > MAX_ASSET_URL_LENGTH || !this.eligible(url)) return;
    this.queue.push({ url: href, kind });
    this.pump();
  }

  private eligible(url: URL): boolean {
    if (url.protocol === 'blob:') return url.origin === location.origin;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    return this.options.anyOrigin || this.options.origins.has(url.origin);
  }

  private pump(): void {
    while (this.active < CONCURRENCY && this.queue.length && !this.stopped) {
      const next = this.queue.shift()!;
      this.active++;
      this.fetchOne(next)
        .catch(() => undefined)
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
  }

  private async fetchOne({ url, kind, again }: Wanted): Promise<void> {
    const asset = await fetchAsset(url, kind, this.options.maxAssetBytes);
    if (!asset || this.stopped) return;
    // A stylesheet's own references are captured too.
    if (asset.css) this.scanner.scanCss(asset.css.text, asset.css.url);
    if (!again) {
      if (this.total + asset.bytes.byteLength > this.options.maxTotalBytes) return;
      this.total += asset.bytes.byteLength;
    }
    this.ready.push({ url, kind, mime: asset.mime, bytes: asset.bytes });
    this.flush();
  }

  /** Sends what is fetched, one asset at a time behind whatever the socket still holds. */
  private flush(): void {
    if (this.retryTimer) return;
    while (this.ready.length && !this.stopped) {
      if (!this.io.ready()) return; // sent on the next welcome
      if (this.io.buffered() > MAX_BUFFERED) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.flush();
        }, 50);
        return;
      }
      const asset = this.ready[0]!;
      const frame = encodeBinary({ type: 'asset', url: asset.url, mime: asset.mime }, asset.bytes);
      if (!this.io.send(frame)) return;
      this.ready.shift();
      this.bytesSent += frame.byteLength;
      this.sentUrls.add(asset.url);
      this.sent.push({ url: asset.url, kind: asset.kind, afterSeq: this.io.lastSeq() });
    }
  }
}
