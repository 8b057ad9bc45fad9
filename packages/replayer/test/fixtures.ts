import type { eventWithTime } from '@rrweb/types';

/** An rrweb serialized element (all with id 1: the sanitizer does not look at ids). */
export const el = (tagName: string, attributes: Record<string, unknown>, childNodes: unknown[] = []) => ({
  type: 2,
  tagName,
  attributes,
  childNodes,
  id: 1,
});

/** A full-snapshot event of a document whose only child is `html`. */
export function fullSnapshot(html: unknown): eventWithTime {
  return {
    type: 2,
    timestamp: 1,
    data: { initialOffset: { top: 0, left: 0 }, node: { type: 0, childNodes: [html] } },
  } as unknown as eventWithTime;
}
