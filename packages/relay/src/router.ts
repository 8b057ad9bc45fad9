import type { IncomingMessage, ServerResponse } from 'node:http';

export type Handler = (req: IncomingMessage, res: ServerResponse, params: string[]) => void | Promise<void>;

interface Route {
  readonly method: string | undefined;
  readonly match: (path: string) => string[] | undefined;
  readonly handler: Handler;
}

/**
 * Exact paths, patterns and prefixes, each a row. A path that matches a row of another method
 * only is 405; a path under a registered prefix that matches nothing goes to that prefix's handler.
 */
export class Router {
  private readonly routes: Route[] = [];
  private readonly fallbacks: [prefix: string, handler: Handler][] = [];
  private readonly failures: [prefix: string, reply: (res: ServerResponse) => void][] = [];

  on(method: string | undefined, path: string | RegExp, handler: Handler): this {
    const match =
      typeof path === 'string'
        ? (p: string) => (p === path ? [] : undefined)
        : (p: string) => {
            const m = path.exec(p);
            return m ? m.slice(1).map((part) => part ?? '') : undefined;
          };
    this.routes.push({ method, match, handler });
    return this;
  }

  /** Handler for anything under `prefix` that no route matched (a dialect's own 404/405 body). */
  otherwise(prefix: string, handler: Handler): this {
    this.fallbacks.push([prefix, handler]);
    return this;
  }

  /** How a dialect answers an internal error under `prefix` (500 with its own error body). */
  onError(prefix: string, reply: (res: ServerResponse) => void): this {
    this.failures.push([prefix, reply]);
    return this;
  }

  /** The internal-error reply for a path, if its dialect registered one. */
  failure(path: string): ((res: ServerResponse) => void) | undefined {
    return this.failures.find(([prefix]) => path.startsWith(prefix))?.[1];
  }

  /**
   * The methods the routes matching `path` answer (GET brings HEAD); empty when none matches. A
   * route of any method (it checks the method itself, and answers OPTIONS too) is not counted.
   */
  methods(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.routes) {
      if (!route.method || !route.match(path)) continue;
      methods.add(route.method);
      if (route.method === 'GET') methods.add('HEAD');
    }
    return [...methods];
  }

  /** Finds the handler for a request, or undefined. Method mismatches fall to the prefix handler. */
  find(method: string, path: string): { handler: Handler; params: string[] } | { wrongMethod: true } | undefined {
    let wrongMethod = false;
    for (const route of this.routes) {
      const params = route.match(path);
      if (!params) continue;
      if (route.method && route.method !== method && !(route.method === 'GET' && method === 'HEAD')) {
        wrongMethod = true;
        continue;
      }
      return { handler: route.handler, params };
    }
    for (const [prefix, handler] of this.fallbacks)
      if (path.startsWith(prefix)) return { handler, params: [wrongMethod ? 'wrong-method' : 'not-found'] };
    return wrongMethod ? { wrongMethod: true } : undefined;
  }
}
