import type { Plugin } from 'rollup';

/**
 * rrweb 2.2.2 takes a full snapshot in one synchronous walk of the document: one 150–330 ms task
 * on a 10,000–20,000-node page. This gives the recorder (packages/recorder/src/snapshot-slices.ts)
 * three hooks on `record.cobrowse`, so that it can cut that walk short and send the rest of the
 * document in time slices, as ordinary rrweb "add" mutations:
 *
 * - `defer(fn)`: before serialising each child of an element, rrweb asks `fn(parent)`; true leaves
 *   that parent's remaining children out (the recorder sends them later);
 * - `serialize(node)`: serialises a node and its subtree with the options and the node mirror of
 *   the running record(), exactly as its full snapshot would (iframes, stylesheets, shadow roots
 *   tracked the same way);
 * - `emit(event)`: emits an event through record()'s own emitter (timestamps, checkouts).
 *
 * Applied to the recorder's builds only; fails the build if rrweb changed shape.
 */
const CHILD_LOOP =
  /(\t\t\tfor \(const childN of Array\.from\(src_default(?:\$\d+)?\.childNodes\(n\)\)\) \{\n)(\t\t\t\tconst serializedChildNode = serializeNodeWithId\(childN, bypassOptions\);\n\t\t\t\tif \(serializedChildNode\) serializedNode\.childNodes\.push\(serializedChildNode\);)/g;
const SERIALIZE_FN = /\nfunction serializeNodeWithId\(n, options\) \{\n/g;
const SNAPSHOT_CALL = /\t\tconst node = snapshot\(document, \{\n/g;
const RECORD_MIRROR = /\nrecord\.mirror = mirror;\n/g;

const HOOKS = `
record.cobrowse = {
	defer: (fn) => { cobrowseDefer = fn; },
	serialize: (n) => serializeNodeWithId(n, { ...cobrowseOptions, doc: document, maskInputOptions: cobrowseOptions.maskAllInputs, slimDOMOptions: cobrowseOptions.slimDOM, skipChild: false, newlyAddedElement: false }),
	emit: (event) => wrappedEmit(event)
};
`;

export function patchRrwebSlices(code: string): string {
  const counts: number[] = [];
  const once = (re: RegExp, to: (...groups: string[]) => string) => (text: string) => {
    let n = 0;
    const out = text.replace(re, (...m: string[]) => {
      n++;
      return to(...m);
    });
    counts.push(n);
    return out;
  };
  const steps = [
    once(CHILD_LOOP, (_m, head, body) => `${head}\t\t\t\tif (cobrowseDefer && cobrowseDefer(n)) break;\n${body}`),
    once(SERIALIZE_FN, (m) => `\nvar cobrowseDefer = null;\nvar cobrowseOptions = null;${m}`),
    once(SNAPSHOT_CALL, () => `\t\tconst node = snapshot(document, cobrowseOptions = {\n`),
    once(RECORD_MIRROR, (m) => `${m}${HOOKS}`),
  ];
  const out = steps.reduce((text, step) => step(text), code);
  if (counts.some((n) => n !== 1))
    throw new Error(`rrweb-sliced-snapshot: expected one match of each pattern, found ${counts.join(', ')}`);
  return out;
}

/** Rollup plugin: applies {@link patchRrwebSlices} to rrweb's ESM build. */
export function rrwebSlicedSnapshot(): Plugin {
  return {
    name: 'rrweb-sliced-snapshot',
    transform(code, id) {
      if (!/[\\/]node_modules[\\/]rrweb[\\/]dist[\\/]rrweb\.js$/.test(id)) return null;
      try {
        return { code: patchRrwebSlices(code), map: null };
      } catch (error) {
        this.error(String((error as Error).message));
      }
    },
  };
}
