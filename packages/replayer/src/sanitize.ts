import type { eventWithTime } from '@rrweb/types';

/**
 * The customer's page is untrusted, and so is anything that claims to be it on the socket. Before
 * an event reaches rrweb, this strips what could run code, navigate, or submit from the agent's
 * side: event-handler attributes, `javascript:` URLs, `srcdoc`, `<meta http-equiv>`, `<base href>`,
 * form targets and script sources. The replay iframe's sandbox (no `allow-scripts`) and the agent
 * page's CSP stay the main walls; this is the one in front of them.
 */

/** rrweb-snapshot node types and event types used here. */
const ELEMENT = 2;
const FULL_SNAPSHOT = 2;
const INCREMENTAL = 3;
const MUTATION = 0;

type Attributes = Record<string, string | number | boolean | null>;
interface SerializedNode {
  type: number;
  tagName?: string;
  attributes?: Attributes;
  childNodes?: SerializedNode[];
}

const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster', 'background', 'codebase', 'cite', 'ping']);
const DANGEROUS_URL = /^[\s\u0000-\u001f]*(javascript|vbscript|data\s*:\s*text\/html|data\s*:\s*image\/svg)/i;
/** Attributes removed wherever they appear. */
const ALWAYS_REMOVED = new Set(['srcdoc', 'http-equiv', 'formaction', 'formtarget', 'target', 'ping']);
/** Attributes removed on specific elements. */
const REMOVED_ON: Record<string, Set<string>> = {
  base: new Set(['href', 'target']),
  form: new Set(['action', 'target']),
  script: new Set(['src']),
  object: new Set(['data', 'codebase']),
  embed: new Set(['src']),
};

/** Whether an attribute must not reach the replay. */
export function unsafeAttribute(tag: string | undefined, name: string, value: unknown): boolean {
  const key = name.toLowerCase();
  if (key.startsWith('on')) return true;
  if (ALWAYS_REMOVED.has(key)) return true;
  if (tag && REMOVED_ON[tag]?.has(key)) return true;
  if (URL_ATTRIBUTES.has(key) && typeof value === 'string' && DANGEROUS_URL.test(value)) return true;
  return false;
}

function cleanAttributes(tag: string | undefined, attributes: Attributes | undefined): void {
  if (!attributes) return;
  for (const name of Object.keys(attributes)) {
    if (unsafeAttribute(tag, name, attributes[name])) delete attributes[name];
  }
}

function cleanNode(node: SerializedNode | undefined): void {
  if (!node) return;
  if (node.type === ELEMENT) {
    const tag = node.tagName?.toLowerCase();
    cleanAttributes(tag, node.attributes);
    // A script's text never runs in the sandbox; drop it anyway (it can be large, and it is code).
    if (tag === 'script') node.childNodes = [];
  }
  if (node.childNodes) for (const child of node.childNodes) cleanNode(child);
}

/**
 * Cleans one event in place. `tagOf` names the element behind a node id (for attribute changes to
 * existing nodes).
 */
export function sanitizeEvent(event: eventWithTime, tagOf: (id: number) => string | undefined): eventWithTime {
  if (event.type === FULL_SNAPSHOT) {
    cleanNode((event.data as { node: SerializedNode }).node);
  } else if (event.type === INCREMENTAL && (event.data as { source: number }).source === MUTATION) {
    const data = event.data as unknown as { adds?: { node: SerializedNode }[]; attributes?: { id: number; attributes: Attributes }[] };
    for (const add of data.adds ?? []) cleanNode(add.node);
    for (const change of data.attributes ?? []) cleanAttributes(tagOf(change.id), change.attributes);
  }
  return event;
}
