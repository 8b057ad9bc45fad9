import type { RecordingStore } from './store.js';

const SWEEP_MS = 60 * 60_000;
const DAY_MS = 24 * 60 * 60_000;

/** Deletes recordings older than `days` (by their end, or last write) now and every hour; returns a stop function. */
export function startRetention(
  store: RecordingStore,
  days: number,
  active: (id: string) => boolean,
  log: (line: string) => void,
): () => void {
  const sweep = () => {
    sweepOnce(store, days, active).catch((error) =>
      log(`relay: recordings retention sweep failed: ${(error as Error)?.message ?? error}`),
    );
  };
  sweep();
  const timer = setInterval(sweep, SWEEP_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** One sweep; resolves with the ids deleted. */
export async function sweepOnce(
  store: RecordingStore,
  days: number,
  active: (id: string) => boolean,
  now = Date.now(),
): Promise<string[]> {
  const cutoff = now - days * DAY_MS;
  const deleted: string[] = [];
  for (const entry of await store.list()) {
    if (active(entry.id)) continue;
    const meta = await store.readMeta(entry.id);
    const age = meta?.endedAt ?? entry.modifiedAt;
    if (age < cutoff && (await store.delete(entry.id))) deleted.push(entry.id);
  }
  return deleted;
}
