/**
 * rrweb's numeric codes that the SDKs act on (from @rrweb/types, which exports them only as enums),
 * and the custom events the recorder adds to rrweb's stream. Both ends rely on these.
 */
export const RrwebEventType = { FullSnapshot: 2, IncrementalSnapshot: 3, Meta: 4, Custom: 5 } as const;

export const RrwebSource = {
  Mutation: 0,
  MouseMove: 1,
  MouseInteraction: 2,
  Input: 5,
  TouchMove: 6,
  StyleSheetRule: 8,
  CanvasMutation: 9,
  Drag: 12,
  Selection: 14,
  AdoptedStyleSheet: 15,
} as const;

/** rrweb-snapshot's serialized node types. */
export const RrwebNodeType = { Element: 2, Text: 3 } as const;

/** Custom event naming the element the customer has focused: `{id}` (rrweb mirror id, -1 for none). */
export const FOCUS_EVENT = 'cobrowse-focus';
/** Custom event with where the customer's pointer came to rest: `{x, y, id}`. */
export const POINTER_EVENT = 'cobrowse-pointer';
