import { ConfigError } from '../config-error.js';
import type { RecordingStore } from './store.js';

/** When rooms are recorded. */
export type RecordingPolicy = 'off' | 'all' | 'requested';

/** Config key `recordings` (CLI `--recordings DIR`, env `COBROWSE_RECORDINGS_DIR`). */
export interface RecordingsConfig {
  /** Directory of the default local store. Without it (and without `store`) nothing is recorded. */
  dir?: string;
  /**
   * `off`; `all` (every room; the default once `dir` or `store` is given); `requested` (a room is
   * recorded once an agent asks, `session.record(true)`, and the customer is told).
   */
  policy?: RecordingPolicy;
  /** Recordings older than this many days are deleted (checked at start and hourly). Default 30. */
  retentionDays?: number;
  /** Bytes one recording may take; past it the recording stops (flagged truncated, the room told). Default 256 MiB. */
  maxBytes?: number;
  /** Bytes the whole store may hold; past it no new recording starts (logged). Default 10 GiB. */
  maxStoreBytes?: number;
  /**
   * Bytes of inflated events one `/events` request may decode and serve; past it the events end
   * with the `cobrowse.truncated` flag. Default 256 MiB.
   */
  maxEventsBytes?: number;
  /** Library mode: a store of your own (object storage …) instead of `dir`; see docs/recordings.md. */
  store?: RecordingStore;
}

export interface ResolvedRecordings {
  readonly dir: string | undefined;
  readonly policy: RecordingPolicy;
  readonly retentionDays: number;
  readonly store: RecordingStore | undefined;
  readonly maxBytes: number;
  readonly maxStoreBytes: number;
  readonly maxEventsBytes: number;
}

const MiB = 1024 * 1024;
export const RECORDING_DEFAULTS = { maxBytes: 256 * MiB, maxStoreBytes: 10 * 1024 * MiB, maxEventsBytes: 256 * MiB };

function byteLimit(value: unknown, key: keyof typeof RECORDING_DEFAULTS): number {
  if (value === undefined) return RECORDING_DEFAULTS[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new ConfigError(`config "recordings.${key}" must be a whole number of bytes ≥ 1`);
  return value;
}

const POLICIES: readonly string[] = ['off', 'all', 'requested'];

/** Checks and completes the `recordings` config; throws a clear error on a value it cannot use. */
export function resolveRecordings(config: RecordingsConfig | undefined): ResolvedRecordings {
  const value = config ?? {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(
      'config "recordings" must be an object {dir, policy, retentionDays, maxBytes, maxStoreBytes, maxEventsBytes}',
    );
  if (value.dir !== undefined && (typeof value.dir !== 'string' || value.dir === ''))
    throw new ConfigError('config "recordings.dir" must be a directory path');
  if (value.policy !== undefined && !POLICIES.includes(value.policy))
    throw new ConfigError('config "recordings.policy" must be "off", "all" or "requested"');
  const days = value.retentionDays ?? 30;
  if (typeof days !== 'number' || !(days > 0) || !Number.isFinite(days))
    throw new ConfigError('config "recordings.retentionDays" must be a positive number of days');
  const where = value.dir !== undefined || value.store !== undefined;
  const policy = value.policy ?? (where ? 'all' : 'off');
  if (policy !== 'off' && !where) throw new ConfigError('config "recordings" needs a "dir" to record into');
  return {
    dir: value.dir,
    policy,
    retentionDays: days,
    store: value.store,
    maxBytes: byteLimit(value.maxBytes, 'maxBytes'),
    maxStoreBytes: byteLimit(value.maxStoreBytes, 'maxStoreBytes'),
    maxEventsBytes: byteLimit(value.maxEventsBytes, 'maxEventsBytes'),
  };
}
