import { ConnectionInfoError } from '@cobrowse/client';
import type { ReplayerOptions } from './options.js';
import { type ReplayerSession, View } from './session.js';
import { resolveContainer } from './stage.js';
import { connect, replayerInfo } from './prepare.js';

export type { JoinOptions, PrepareOptions, ReplayerOptions, ViewOptions } from './options.js';
export type { ReplayerSession, ReplayerStatus, ReplayerEvents } from './session.js';
export { ConnectionInfoError } from '@cobrowse/client';
export type { ControlEvent, ControlStatus, HighlightTarget, RefusedEvent } from './tools.js';
export { play, RecordingError, type PlayOptions, type PlaybackSession } from './play.js';
export { prepare, type PreparedView } from './prepare.js';

/**
 * Joins a room as an agent: asks the connection-info service for a replayer connection, opens the
 * socket and shows the customer's page live in `options.container`.
 */
export async function join(options: ReplayerOptions): Promise<ReplayerSession> {
  if (!options || typeof options !== 'object')
    throw new ConnectionInfoError('CobrowseReplayer.join: options are required', 0);
  const container = resolveContainer(options.container);
  const fetchInfo = replayerInfo(options);
  const pending = fetchInfo(); // the request goes out now…
  let view: View;
  try {
    view = new View(container, options); // …while the view is built
  } catch (error) {
    pending.catch(() => undefined); // its failure, if any, is not the one reported
    throw error;
  }
  return connect(view, options, pending, fetchInfo);
}
export type { TooLargeReason } from './limits.js';
