import type { ConnectionOptions } from '@cobrowse/client';

/**
 * Options of the view: where and how the customer's page is shown, and the limits that guard the
 * agent. Given to `CobrowseReplayer.prepare()` (a view built ahead of `join()`) or to `join()`.
 */
export interface ViewOptions {
  /** Where to show the customer's page: an element or a CSS selector. */
  container: HTMLElement | string;
  /** Show connection state over the replay ("Connecting…", "Reconnecting…", "Session ended"). Default true. */
  statusOverlay?: boolean;
  /** Show the customer's mouse pointer. Default true. */
  showPointer?: boolean;
  /**
   * Where the replay may load the customer's images, fonts and stylesheets from. `'direct'` (default):
   * the captured copies the relay sends, and the customer page's origin plus {@link origins}.
   * `'relay'`: only the copies the relay sends — the agent's browser fetches nothing else for the
   * replay (what the customer's recorder did not capture is not shown).
   */
  assets?: 'direct' | 'relay';
  /** Origins besides the customer page's the replay may load from in `'direct'` mode (e.g. the customer's CDN). Default none. */
  origins?: string[];
  /** Largest events frame taken from the socket, bytes (compressed or not). Default 16 MiB. */
  maxFrameBytes?: number;
  /** Largest batch once inflated, bytes; checked while inflating. Default 32 MiB. */
  maxBatchBytes?: number;
  /** Most nodes a replayed page may have; past it "page too large to show". Default 100,000. */
  maxNodes?: number;
  /** Deepest nesting a replayed page may have; past it "page too large to show". Default 1,000. */
  maxDepth?: number;
}

/** The keys of {@link ViewOptions}: a prepared view keeps the ones it was built with. */
export const VIEW_OPTION_KEYS = [
  'container',
  'statusOverlay',
  'showPointer',
  'assets',
  'origins',
  'maxFrameBytes',
  'maxBatchBytes',
  'maxNodes',
  'maxDepth',
] as const satisfies readonly (keyof ViewOptions)[];

/** Options of `CobrowseReplayer.join()`: the view's and the connection's. */
export interface ReplayerOptions extends ConnectionOptions, ViewOptions {
  /** Connect to `wssUrlOut` instead of `wssUrl` (an agent outside the contact-centre network). Default false. */
  external?: boolean;
  /** Show this agent's pointer, labelled with `userName`, on the customer's page while it is over the replay. Default true. */
  sharePointer?: boolean;
}

/** Options of a prepared view's `join()`: the connection's (the view's were given to `prepare()`). */
export type JoinOptions = Omit<ReplayerOptions, (typeof VIEW_OPTION_KEYS)[number]>;

/**
 * Options of `CobrowseReplayer.prepare()`: the view's, and optionally the connection's. Connection
 * options given here are the join's defaults (the join's own win; headers merge, name by name), and
 * given `server`, `dialect` or `headers` the prepared view also opens the way to the connection-info
 * service ahead (see `PreparedView.warming`). Given the `roomId` as well (any dialect but
 * `passphrase`), it fetches the connection info and opens the socket ahead, without joining the
 * room until `join()` (see `prepare()`).
 */
export type PrepareOptions = ViewOptions & JoinOptions;
