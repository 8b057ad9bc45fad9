import { NestedAddsError, expandNestedAdds } from '@cobrowse/protocol';
import { type Limits, TooLargeError } from './limits.js';

/**
 * Expands the nested adds of a sliced snapshot (see the protocol's nested-adds.ts) into the flat
 * adds rrweb's replayer takes, in place. Past the size limits: a {@link TooLargeError}, as for any
 * page too large to show; malformed: the protocol's NestedAddsError. Either way nothing of the event
 * was changed by it.
 */
export function expandAdds<E>(event: E, limits: Pick<Limits, 'maxNodes' | 'maxDepth'>): E {
  try {
    return expandNestedAdds(event, { maxNodes: limits.maxNodes, maxDepth: limits.maxDepth });
  } catch (error) {
    if (error instanceof NestedAddsError && (error.reason === 'nodes' || error.reason === 'depth'))
      throw new TooLargeError(error.reason, error.limit ?? 0);
    throw error;
  }
}
