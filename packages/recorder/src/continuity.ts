import type { RecorderOptions } from './options.js';

/**
 * A share survives page navigations within the site: while it runs, what is needed to pick it up
 * again (the options, the room, the dialect's session state) is kept in this tab's sessionStorage;
 * the next page that loads the recorder resumes it. Stopping or ending the share forgets it.
 */
const KEY = 'cobrowse:share';
/** A saved share older than this is not resumed (the tab was left for a long time). */
const MAX_AGE_MS = 30 * 60_000;

export interface SavedShare {
  options: RecorderOptions;
  resume: unknown;
  savedAt: number;
}

function storage(): Storage | undefined {
  try {
    return typeof sessionStorage === 'undefined' ? undefined : sessionStorage;
  } catch {
    return undefined; // storage disabled (privacy settings, sandboxed frames)
  }
}

/** Saves a running share; shares with a function dialect cannot be carried over (a function is not data). */
export function remember(options: RecorderOptions, roomId: string, resume: unknown): void {
  if (typeof options.dialect === 'function') return;
  const share: SavedShare = { options: { ...options, roomId }, resume, savedAt: Date.now() };
  try {
    storage()?.setItem(KEY, JSON.stringify(share));
  } catch {
    // quota or serialization problems only mean no resume on the next page
  }
}

export function forget(): void {
  try {
    storage()?.removeItem(KEY);
  } catch {
    // nothing to forget
  }
}

/** The share a previous page of this tab left running, if any. */
export function recall(): SavedShare | undefined {
  try {
    const text = storage()?.getItem(KEY);
    if (!text) return undefined;
    const share = JSON.parse(text) as SavedShare;
    if (!share?.options || Date.now() - share.savedAt > MAX_AGE_MS) {
      forget();
      return undefined;
    }
    return share;
  } catch {
    forget();
    return undefined;
  }
}
