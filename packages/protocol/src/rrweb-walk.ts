import { RrwebEventType, RrwebNodeType, RrwebSource } from './rrweb-codes.js';

/**
 * One walk over rrweb events, shared by the recorder (which finds the assets a recording refers
 * to) and the replayer (which cleans events before they reach the replay). It visits, in an
 * event's own order of effect: every serialized node of a full snapshot or of a mutation's added
 * subtrees (iteratively, so a 20,000-deep tree cannot overflow the stack), then attribute changes,
 * then text changes, then every piece of CSS text the CSSOM events carry.
 *
 * Visitors may change what they are given in place (the replayer does); the walk itself never
 * throws on malformed events: what is not shaped as rrweb writes it is skipped.
 */

/** rrweb-snapshot's serialized node, as far as the SDKs read it. */
export interface SerializedNode {
  type: number;
  id?: number;
  tagName?: string;
  attributes?: Record<string, unknown>;
  childNodes?: SerializedNode[];
  textContent?: string;
  isStyle?: boolean;
  isSVG?: boolean;
}

export type SerializedElement = SerializedNode & { tagName: string; attributes: Record<string, unknown> };

/** rrweb's CSSOM `style.setProperty` / `removeProperty` on a stylesheet rule. */
export const STYLE_DECLARATION_SOURCE = 13;

export interface RrwebVisitor {
  /**
   * A serialized node of a snapshot or an added subtree, before its children. `depth` counts from
   * the snapshot's document (0) or from the added subtree's root (0) plus `baseDepth` of the add.
   * Returning false skips the node's children.
   */
  node?(node: SerializedNode, depth: number): boolean | void;
  /** An element node (lower-case tag), after {@link node}. */
  element?(node: SerializedElement, tag: string): void;
  /** The text of a `<style>` element (a text node rrweb marks `isStyle`). */
  styleText?(node: SerializedNode & { textContent: string }): void;
  /** One added subtree of a mutation, before it is walked: its parent's id. Returns the depth the subtree's root sits at. */
  add?(parentId: number, node: SerializedNode): number | void;
  /** One node removed by a mutation. */
  remove?(id: number, parentId: number): void;
  /**
   * Attributes changed on an existing node. `tag` is the element's tag when known: from a node
   * added earlier in the same event (the final state, whatever order rrweb applies them in), else
   * from `tagOf`.
   */
  attributes?(change: { id: number; attributes: Record<string, unknown> }, tag: string | undefined): void;
  /** A text node's new value. */
  text?(change: { id: number; value: string | null }): void;
  /** CSS text of a CSSOM event (inserted rules, replaced sheets, declarations, adopted sheets): what to put instead, or undefined to keep it. */
  css?(text: string): string | undefined;
}

export interface WalkOptions {
  /** Tag of an existing node (for attribute changes to nodes not added in the same event). */
  tagOf?: (id: number) => string | undefined;
}

type Dict = Record<string, unknown>;
const isObject = (value: unknown): value is Dict => typeof value === 'object' && value !== null;
const { FullSnapshot: FULL_SNAPSHOT, IncrementalSnapshot: INCREMENTAL } = RrwebEventType;
const { Mutation: MUTATION, StyleSheetRule: STYLE_SHEET_RULE, AdoptedStyleSheet: ADOPTED_STYLE_SHEET } = RrwebSource;
const { Element: ELEMENT, Text: TEXT } = RrwebNodeType;

/**
 * Walks one serialized tree depth-first, parents before children, with an explicit stack. Records
 * the tag of every element it meets in `tags` (id → tag) when given.
 */
export function walkNode(
  root: unknown,
  visitor: RrwebVisitor,
  baseDepth = 0,
  tags?: Map<number, string | undefined>,
): void {
  const stack: [unknown, number][] = [[root, baseDepth]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (!isObject(value) || typeof value.type !== 'number') continue;
    const node = value as unknown as SerializedNode;
    if (visitor.node?.(node, depth) === false) continue;
    if (node.type === ELEMENT && typeof node.tagName === 'string') {
      if (!isObject(node.attributes)) node.attributes = {};
      const tag = node.tagName.toLowerCase();
      if (tags && typeof node.id === 'number') tags.set(node.id, tag);
      visitor.element?.(node as SerializedElement, tag);
    } else if (node.type === TEXT && node.isStyle && typeof node.textContent === 'string') {
      visitor.styleText?.(node as SerializedNode & { textContent: string });
    } else if (tags && typeof node.id === 'number') {
      tags.set(node.id, undefined);
    }
    const children = node.childNodes;
    if (Array.isArray(children)) for (let i = children.length - 1; i >= 0; i--) stack.push([children[i], depth + 1]);
  }
}

/** Walks one rrweb event (see the module's description). */
export function walkEvent(event: unknown, visitor: RrwebVisitor, options: WalkOptions = {}): void {
  if (!isObject(event) || !isObject(event.data)) return;
  const data = event.data;
  if (event.type === FULL_SNAPSHOT) {
    walkNode(data.node, visitor, 0);
    return;
  }
  if (event.type !== INCREMENTAL) return;
  const css = visitor.css;
  const rewrite = (holder: Dict, key: string) => {
    const text = holder[key];
    if (css && typeof text === 'string') {
      const next = css(text);
      if (next !== undefined) holder[key] = next;
    }
  };
  switch (data.source) {
    case MUTATION: {
      const added = new Map<number, string | undefined>();
      if (visitor.remove && Array.isArray(data.removes))
        for (const removal of data.removes)
          if (isObject(removal) && typeof removal.id === 'number')
            visitor.remove(removal.id, typeof removal.parentId === 'number' ? removal.parentId : -1);
      if (Array.isArray(data.adds)) {
        for (const add of data.adds) {
          if (!isObject(add)) continue;
          const parentId = typeof add.parentId === 'number' ? add.parentId : -1;
          const depth = visitor.add?.(parentId, add.node as SerializedNode) ?? 0;
          walkNode(add.node, visitor, depth, added);
        }
      }
      if (visitor.attributes && Array.isArray(data.attributes)) {
        for (const change of data.attributes) {
          if (!isObject(change) || typeof change.id !== 'number' || !isObject(change.attributes)) continue;
          const tag = added.has(change.id) ? added.get(change.id) : options.tagOf?.(change.id);
          visitor.attributes(change as { id: number; attributes: Dict }, tag);
        }
      }
      if (visitor.text && Array.isArray(data.texts))
        for (const change of data.texts)
          if (isObject(change) && typeof change.id === 'number')
            visitor.text(change as { id: number; value: string | null });
      return;
    }
    case STYLE_SHEET_RULE:
      if (Array.isArray(data.adds)) for (const add of data.adds) if (isObject(add)) rewrite(add, 'rule');
      rewrite(data, 'replace');
      rewrite(data, 'replaceSync');
      return;
    case STYLE_DECLARATION_SOURCE:
      if (isObject(data.set)) rewrite(data.set, 'value');
      return;
    case ADOPTED_STYLE_SHEET:
      if (Array.isArray(data.styles))
        for (const style of data.styles)
          if (isObject(style) && Array.isArray(style.rules))
            for (const rule of style.rules) if (isObject(rule)) rewrite(rule, 'rule');
      return;
  }
}
