import { ConnectionInfoError, connectionInfoSource } from '@cobrowse/client';
import type { ReplayerOptions } from './options.js';
import { ReplayerSession } from './session.js';
import { resolveContainer } from './stage.js';

export type { ReplayerOptions } from './options.js';
export type { ReplayerSession, ReplayerStatus, ReplayerEvents } from './session.js';
export { ConnectionInfoError } from '@cobrowse/client';
export type { ControlEvent, ControlStatus, HighlightTarget, RefusedEvent } from './tools.js';
export { play, RecordingError, type PlayOptions, type PlaybackSession } from './play.js';

/**
 * Joins a room as an agent: asks the connection-info service for a replayer connection, opens the
 * socket and shows the customer's page live in `options.container`.
 */
export async function join(options: ReplayerOptions): Promise<ReplayerSession> {
  if (!options || typeof options !== 'object')
    throw new ConnectionInfoError('CobrowseReplayer.join: options are required', 0);
  const container = resolveContainer(options.container);
  const fetchInfo = connectionInfoSource(options, 'replayer', { userId: 'agent', userName: 'Agent' });
  const pending = fetchInfo(); // the request goes out now…
  const session = new ReplayerSession(options, container, pending, fetchInfo); // …while the view is built
  try {
    session.connected(await pending);
  } catch (error) {
    session.leave();
    throw error;
  }
  return session;
}
export type { TooLargeReason } from './limits.js';
