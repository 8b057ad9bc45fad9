import { RrwebEventType, RrwebSource } from './rrweb-codes.js';

/**
 * Nested adds: the recorder's sliced full snapshot (see the recorder's snapshot-slices.ts) sends the
 * part of the page its first slice left out as rrweb "add" mutations that carry whole subtrees. Such
 * a mutation's data has `cobrowseNested: 1`, and each of its adds is
 * `{parentId, nextId, node}` with `node.childNodes` holding the node's serialised children (and
 * theirs, as in a full snapshot).
 *
 * rrweb's replayer builds an add's node without its children (`skipChild`: its own recorder sends
 * each node as an add of its own), so a consumer expands these before rrweb sees them:
 * {@link expandNestedAdds} turns each add into rrweb's flat adds — the subtree's root with the add's
 * `parentId` and `nextId`, then each descendant, parents first, appended to its parent (`nextId`
 * null). The replayer does it in live view and in playback, the relay's recordings endpoint serves
 * recordings expanded (plain rrweb-player takes them as they are).
 *
 * Why a marker rather than "an add whose node has children": rrweb's own recorder emits those too
 * (the document of an iframe, `isAttachIframe`), and its replayer builds them whole.
 */

/** Key on a mutation event's data that marks its adds as nested (value {@link NESTED_ADDS_VERSION}). */
export const NESTED_ADDS = 'cobrowseNested';
/** Value of {@link NESTED_ADDS}: the format described above. Another value is refused (a later format). */
export const NESTED_ADDS_VERSION = 1;

/** What one nested mutation may hold; the replayer passes its own size limits. */
export interface NestedAddLimits {
  /** Most nodes, over all of the event's adds. */
  maxNodes: number;
  /** Deepest node below an add's root (the root is 0). */
  maxDepth: number;
}

/** The replayer's default page limits (its `maxNodes` and `maxDepth`). */
export const DEFAULT_NESTED_ADD_LIMITS: NestedAddLimits = { maxNodes: 100_000, maxDepth: 1_000 };

export type NestedAddsFault = 'malformed' | 'nodes' | 'depth';

/** A nested mutation that cannot be expanded: nothing of it was changed. */
export class NestedAddsError extends Error {
  constructor(
    readonly reason: NestedAddsFault,
    detail: string,
    /** The limit passed, for `nodes` and `depth`. */
    readonly limit?: number,
  ) {
    super(`nested adds refused: ${detail}`);
    this.name = 'NestedAddsError';
  }
}

type Dict = Record<string, unknown>;
const isObject = (value: unknown): value is Dict => typeof value === 'object' && value !== null;
const isId = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value > 0;

/** An rrweb "add" as rrweb's replayer takes it. */
export interface FlatAdd {
  parentId: number;
  nextId: number | null;
  node: { id: number; childNodes?: unknown[]; [key: string]: unknown };
  [key: string]: unknown;
}

/** Whether an event is a mutation marked as carrying nested adds (whatever the marker's value). */
export function isNestedAdds(event: unknown): boolean {
  return (
    isObject(event) &&
    event.type === RrwebEventType.IncrementalSnapshot &&
    isObject(event.data) &&
    event.data.source === RrwebSource.Mutation &&
    NESTED_ADDS in event.data
  );
}

/**
 * Marks a mutation's data as carrying nested adds (the recorder's side). Returns `data`.
 */
export function markNestedAdds<T extends object>(data: T): T & { [NESTED_ADDS]: number } {
  return Object.assign(data, { [NESTED_ADDS]: NESTED_ADDS_VERSION });
}

/**
 * Turns a nested mutation (see the module's description) into the flat adds rrweb's replayer takes,
 * in place, and returns the event; any other event is returned as it is. Throws a
 * {@link NestedAddsError}, before changing anything, when the event is malformed (an add or a node
 * not shaped as rrweb writes it, a node id that is not a positive integer or appears twice, an
 * unknown marker value, an iframe's document) or past `limits`. Never recursive: a subtree nested
 * 100,000 deep is refused by its depth, not by the stack.
 */
export function expandNestedAdds<E>(event: E, limits: NestedAddLimits = DEFAULT_NESTED_ADD_LIMITS): E {
  if (!isNestedAdds(event)) return event;
  const data = (event as Dict).data as Dict;
  const bad = (detail: string) => new NestedAddsError('malformed', detail);
  if (data[NESTED_ADDS] !== NESTED_ADDS_VERSION) throw bad(`unknown format ${JSON.stringify(data[NESTED_ADDS])}`);
  if (data.isAttachIframe) throw bad('an iframe document cannot be nested adds');
  if (!Array.isArray(data.adds)) throw bad('adds is not an array');
  const { maxNodes, maxDepth } = limits;
  const seen = new Set<number>();
  /** Every node, parents first, with the id of the parent it is appended to (-1: an add's root). */
  const order: [Dict, number][] = [];
  const stack: [unknown, number, number][] = [];
  for (const add of data.adds as unknown[]) {
    if (!isObject(add) || !isObject(add.node)) throw bad('an add without a node');
    if (!isId(add.parentId)) throw bad('an add without a valid parentId');
    if (add.nextId !== null && add.nextId !== undefined && !isId(add.nextId)) throw bad('an add with a bad nextId');
    stack.push([add.node, -1, 0]);
    while (stack.length) {
      const [value, parentId, depth] = stack.pop()!;
      if (!isObject(value) || typeof value.type !== 'number') throw bad('a node that is not an rrweb node');
      const id = value.id;
      if (!isId(id)) throw bad('a node without a valid id');
      if (seen.has(id)) throw bad(`node ${id} appears twice`);
      seen.add(id);
      if (seen.size > maxNodes) throw new NestedAddsError('nodes', `more than ${maxNodes} nodes`, maxNodes);
      if (depth > maxDepth) throw new NestedAddsError('depth', `nested deeper than ${maxDepth} levels`, maxDepth);
      const children = value.childNodes;
      if (children !== undefined && !Array.isArray(children))
        throw bad(`node ${id} has childNodes that are not a list`);
      order.push([value, parentId]);
      if (children) for (let i = children.length - 1; i >= 0; i--) stack.push([children[i], id, depth + 1]);
    }
  }
  // Valid: now the change, in one go.
  const adds: unknown[] = [];
  let root = 0;
  for (const [node, parentId] of order) {
    const children = node.childNodes as unknown[] | undefined;
    if (children?.length) node.childNodes = [];
    if (parentId === -1) adds.push((data.adds as unknown[])[root++]);
    else adds.push({ parentId, nextId: null, node });
  }
  data.adds = adds;
  delete data[NESTED_ADDS];
  return event;
}
