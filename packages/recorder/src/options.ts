import type { ConnectionOptions } from '@cobrowse/client';
import type { AssetOptions } from './assets.js';
import type { AgentInfo } from './control.js';

export type { AssetOptions } from './assets.js';

/** Options of `CobrowseRecorder.start()`. */
export interface RecorderOptions extends ConnectionOptions {
  /**
   * Mask the value of every form field (default true). Passwords, card fields
   * (`autocomplete="cc-*"`) and anything inside `[data-cobrowse-mask]` are masked whatever this says.
   */
  maskAllInputs?: boolean;
  /** Extra CSS selector whose fields and text are always masked. */
  maskSelector?: string;
  /** Extra CSS selector whose elements are never recorded (the agent sees an empty box). `[data-cobrowse-block]` always is. */
  blockSelector?: string;
  /** Show the "You are sharing this page — Stop" indicator (default true). */
  indicator?: boolean;
  /** Take a fresh full snapshot this often, ms (bounds what the relay keeps). Default 10 minutes; 0 = never. */
  checkoutEveryMs?: number;
  /**
   * Share what `<canvas>` elements show (default true): charts, signatures and maps drawn on a canvas
   * would otherwise be empty boxes for the agent. Each canvas is sampled `canvasFps` times a second,
   * encoded as a lossless PNG in a worker (started once the page has a canvas), and a frame is sent
   * only when its pixels changed. Canvases inside blocked or masked regions are never read.
   * `false` turns it off: no canvas pixels leave the page.
   */
  recordCanvas?: boolean;
  /** Canvas frames per second at most (only changed frames are sent). Default 2. */
  canvasFps?: number;
  /**
   * Capture the images, fonts and stylesheets the page uses (default on, for the page's own origin):
   * the customer's browser fetches them — with its cookies, from its network — and the agents'
   * replay shows these copies, so pages behind a login or on an intranet look the same to the agent.
   * Nothing inside blocked or masked regions is captured. `false` turns it off; an object sets
   * `origins` (more origins to capture from; `'*'`: any that allows it by CORS), `maxAssetBytes`
   * (2 MiB) and `maxTotalBytes` (8 MiB per page).
   */
  assets?: boolean | AssetOptions;
  /**
   * Let an agent control the page remotely once the customer allows it (default true). `false`
   * answers every request "denied" without asking. Masked fields (with the default `maskAllInputs:
   * true`, every text field and select), passwords, card fields, file inputs and anything inside
   * `[data-cobrowse-no-control]` are never driven remotely.
   */
  control?: boolean;
  /**
   * Replaces the built-in consent prompt: called with the agent asking; resolve `true` to allow.
   * Unanswered after 60 s means no.
   */
  onControlRequest?: (agent: AgentInfo) => boolean | Promise<boolean>;
}
