import { INERT_ELEMENTS, unsafeAttribute } from './attribute-safety.js';

/**
 * A captured SVG is handed to the replay as a `blob:` URL of the agent's page. Shown as an image
 * it could run nothing, but the same URL opened on its own (a new tab, "open image") would be a
 * document of the agent console's origin. So an SVG is parsed (as data: parsing runs nothing) and
 * kept only without what could run or navigate: scripts, foreign content, embedded documents,
 * handlers, script URLs, link animations, processing instructions (`xml-stylesheet`) and doctypes
 * (entities). What cannot be parsed as SVG is refused.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Elements dropped with their content. */
const DROPPED = new Set(['script', 'foreignobject', 'handler', 'listener', 'iframe', ...INERT_ELEMENTS]);

/** The SVG text without anything that could run or navigate; undefined when it is not an SVG document (or no parser exists here). */
export function cleanSvg(text: string): string | undefined {
  if (typeof DOMParser === 'undefined' || typeof XMLSerializer === 'undefined') return undefined;
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  const root = doc.documentElement;
  if (!root || root.namespaceURI !== SVG_NS || root.localName !== 'svg') return undefined;
  if (doc.getElementsByTagName('parsererror').length) return undefined;
  // Doctypes (entities), processing instructions (xml-stylesheet) and comments before or after the root.
  for (const node of [...doc.childNodes]) if (node !== root) doc.removeChild(node);
  const walker = doc.createTreeWalker(root, 0x1 | 0x40 | 0x80 /* elements, PIs, comments */);
  const drop: Node[] = [];
  for (let node: Node | null = root; node; node = walker.nextNode()) {
    if (node.nodeType !== 1) {
      drop.push(node);
      continue;
    }
    const element = node as Element;
    const tag = element.localName.toLowerCase();
    if (element.namespaceURI !== SVG_NS || DROPPED.has(tag)) {
      drop.push(element);
      continue;
    }
    for (const attribute of [...element.attributes]) {
      if (unsafeAttribute(tag, attribute.name, attribute.value, undefined, true))
        element.removeAttributeNode(attribute);
    }
  }
  for (const node of drop) node.parentNode?.removeChild(node);
  return new XMLSerializer().serializeToString(doc);
}
