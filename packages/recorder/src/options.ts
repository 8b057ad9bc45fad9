import type { ConnectionOptions } from '@cobrowse/protocol/client';

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
  /** Record `<canvas>` pixels (default false: it costs bandwidth). */
  recordCanvas?: boolean;
  /** With `recordCanvas`: canvas frames per second at most (only changed frames are sent). Default 2. */
  canvasFps?: number;
}
