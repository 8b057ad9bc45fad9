import type { ConnectionOptions } from '@cobrowse/client';

/** Options of `CobrowseReplayer.join()`. */
export interface ReplayerOptions extends ConnectionOptions {
  /** Where to show the customer's page: an element or a CSS selector. */
  container: HTMLElement | string;
  /** Connect to `wssUrlOut` instead of `wssUrl` (an agent outside the contact-centre network). Default false. */
  external?: boolean;
  /** Show connection state over the replay ("Connecting…", "Reconnecting…", "Session ended"). Default true. */
  statusOverlay?: boolean;
  /** Show the customer's mouse pointer. Default true. */
  showPointer?: boolean;
  /** Show this agent's pointer, labelled with `userName`, on the customer's page while it is over the replay. Default true. */
  sharePointer?: boolean;
}
