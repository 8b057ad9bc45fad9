import type { Plugin } from 'rollup';

/**
 * rrweb 2.2.2 checks whether the page has patched DOM prototypes (zone.js and the like) before it
 * trusts them, and when they look patched it takes clean ones from a throw-away `<iframe>`. Its
 * list of `Element` accessors to check names `querySelector` and `querySelectorAll`, which are
 * methods, so the check always fails: every recording start appends and removes hidden iframes
 * (one per bundled copy of the helper) inside the first full snapshot's task — 15–20 ms of that
 * long task on a 2-core machine — and then reads `shadowRoot` of every node through another realm.
 *
 * This moves the two names to the list of methods, as upstream's fix does
 * (https://github.com/rrweb-io/rrweb/pull/1802). Pages whose prototypes really are patched still
 * get the iframe's clean ones. Drop this plugin once rrweb ships that fix.
 */
const ACCESSORS = /(\tElement: \[\n\t\t"shadowRoot"),\n\t\t"querySelector",\n\t\t"querySelectorAll"\n\t\]/g;
const METHODS = /(var testableMethods(?:\$\d)? = \{\n(?:\t.*\n)*?\tElement: )\[\]/g;

export function patchRrwebSource(code: string): { code: string; patched: number } {
  let accessors = 0;
  let methods = 0;
  const out = code
    .replace(ACCESSORS, (_m, head: string) => {
      accessors++;
      return `${head}\n\t]`;
    })
    .replace(METHODS, (_m, head: string) => {
      methods++;
      return `${head}["querySelector", "querySelectorAll"]`;
    });
  if (accessors !== methods)
    throw new Error(`rrweb-untainted: patched ${accessors} accessor lists but ${methods} method lists`);
  return { code: out, patched: accessors };
}

/** Rollup plugin: applies {@link patchRrwebSource} to rrweb's ESM build; fails the build if rrweb changed shape. */
export function rrwebUntainted(): Plugin {
  let seen = false;
  return {
    name: 'rrweb-untainted',
    transform(code, id) {
      if (!/[\\/]node_modules[\\/]rrweb[\\/]dist[\\/]rrweb\.js$/.test(id)) return null;
      seen = true;
      const { code: out, patched } = patchRrwebSource(code);
      if (patched === 0) {
        if (code.includes('"querySelectorAll"\n\t],\n\tMutationObserver'))
          this.error('rrweb-untainted: rrweb changed shape; check the untainted-prototype lists by hand');
        this.warn('rrweb-untainted: nothing to patch (rrweb already fixed?): remove this plugin');
        return null;
      }
      return { code: out, map: null };
    },
    buildEnd() {
      if (!seen) this.warn('rrweb-untainted: rrweb/dist/rrweb.js was not part of this bundle');
    },
  };
}
