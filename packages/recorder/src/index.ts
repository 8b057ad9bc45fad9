import { ConnectionInfoError, connectionInfoSource } from '@cobrowse/protocol/client';
import type { RecorderOptions } from './options.js';
import { RecorderSession } from './session.js';

export type { RecorderOptions } from './options.js';
export type { RecorderSession, RecorderStatus, RecorderEvents } from './session.js';
export { ConnectionInfoError } from '@cobrowse/protocol/client';

/**
 * Starts sharing this page: asks the connection-info service for a recorder connection, opens the
 * socket and records with rrweb. Rejects (never throws synchronously) when the options are wrong or
 * the service refuses; once it resolves, errors are reported through `session.on('error')`.
 */
export async function start(options: RecorderOptions): Promise<RecorderSession> {
  if (!options || typeof options !== 'object') throw new ConnectionInfoError('CobrowseRecorder.start: options are required', 0);
  const fetchInfo = connectionInfoSource(options, 'recorder', { userId: 'customer', userName: 'Customer' });
  const first = await fetchInfo();
  return new RecorderSession(options, first, fetchInfo);
}
