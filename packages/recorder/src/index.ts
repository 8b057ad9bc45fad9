import { ConnectionInfoError, connectionInfoSource } from '@cobrowse/client';
import type { RecorderOptions } from './options.js';
import { RecorderSession } from './session.js';
import { forget, recall, remember } from './continuity.js';
import { loadCompressor } from './compressor.js';

export type { RecorderOptions } from './options.js';
export type { RecorderSession, RecorderStatus, RecorderEvents } from './session.js';
export { ConnectionInfoError } from '@cobrowse/client';
export type { AgentInfo, ControlEvent } from './control.js';

let active: RecorderSession | undefined;
let resuming: Promise<RecorderSession | undefined> = Promise.resolve(undefined);

/**
 * Starts sharing this page: asks the connection-info service for a recorder connection, opens the
 * socket and records with rrweb. Rejects (never throws synchronously) when the options are wrong or
 * the service refuses; once it resolves, errors are reported through `session.on('error')`.
 * The share carries over to the next pages of the site in this tab until it is stopped.
 */
export async function start(options: RecorderOptions): Promise<RecorderSession> {
  return begin(options, undefined);
}

async function begin(options: RecorderOptions, resume: unknown): Promise<RecorderSession> {
  if (!options || typeof options !== 'object')
    throw new ConnectionInfoError('CobrowseRecorder.start: options are required', 0);
  if (active && active.status !== 'ended') active.stop();
  const fetchInfo = connectionInfoSource(options, 'recorder', { userId: 'customer', userName: 'Customer' }, resume);
  void loadCompressor(); // alongside the connection info; never delays the share
  const first = await fetchInfo();
  const session = new RecorderSession(options, first, fetchInfo);
  active = session;
  remember(options, session.roomId, fetchInfo.state());
  session.on('ended', () => {
    if (active === session) {
      active = undefined;
      forget();
    }
  });
  return session;
}

/** The share running on this page (started here, or resumed from a previous page), if any. */
export function current(): RecorderSession | undefined {
  return active && active.status !== 'ended' ? active : undefined;
}

/** Resolves once a share left running by a previous page has been resumed (undefined if there was none). */
export function resumed(): Promise<RecorderSession | undefined> {
  return resuming;
}

// A share that a previous page of this tab left running carries on here.
const saved = typeof window !== 'undefined' ? recall() : undefined;
if (saved) {
  resuming = begin(saved.options, saved.resume).catch(() => {
    forget();
    return undefined;
  });
}
