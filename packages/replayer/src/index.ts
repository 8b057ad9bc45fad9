import { ConnectionInfoError, connectionInfoSource } from '@cobrowse/protocol/client';
import type { ReplayerOptions } from './options.js';
import { ReplayerSession, View } from './session.js';
import { resolveContainer } from './stage.js';

export type { ReplayerOptions } from './options.js';
export type { ReplayerSession, ReplayerStatus, ReplayerEvents } from './session.js';
export { ConnectionInfoError } from '@cobrowse/protocol/client';

/**
 * Joins a room as an agent: asks the connection-info service for a replayer connection, opens the
 * socket and shows the customer's page live in `options.container`.
 */
export async function join(options: ReplayerOptions): Promise<ReplayerSession> {
  if (!options || typeof options !== 'object') throw new ConnectionInfoError('CobrowseReplayer.join: options are required', 0);
  const container = resolveContainer(options.container);
  const fetchInfo = connectionInfoSource(options, 'replayer', { userId: 'agent', userName: 'Agent' });
  const pending = fetchInfo(); // the request goes out now…
  const view = new View(container, options); // …while rrweb's Replayer and its iframe are built
  try {
    return new ReplayerSession(options, view, await pending, fetchInfo);
  } catch (error) {
    view.destroy();
    throw error;
  }
}
