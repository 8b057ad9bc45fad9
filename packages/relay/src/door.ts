import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyError, header, readJsonBody, sendJson } from './http-util.js';
import { originAllowed } from './cors.js';
import { clientAddress } from './client-address.js';
import type { KeyedLimiter } from './limiter.js';
import type { Core } from './core.js';
import type { Router } from './router.js';

/** Why a door refuses, independent of the dialect's wording: each dialect maps these to its own body. */
export type RefusalKind =
  | 'bad-request'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'method'
  | 'conflict'
  | 'gone'
  | 'too-large'
  | 'unsupported-media'
  | 'rate-limited'
  | 'internal'
  /** Retryable: the node cannot serve this now (a cluster whose Redis is away); sent with `Retry-After`. */
  | 'unavailable';

const STATUS: Record<RefusalKind, number> = {
  'bad-request': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  method: 405,
  conflict: 409,
  gone: 410,
  'too-large': 413,
  'unsupported-media': 415,
  'rate-limited': 429,
  internal: 500,
  unavailable: 503,
};

/** A refusal thrown anywhere in a door's pipeline; the dialect writes it in its own format. */
export class Refusal extends Error {
  readonly status: number;
  constructor(
    readonly kind: RefusalKind,
    message: string,
    /** Dialect-specific code, when the dialect has one for this case (e.g. seed 003's "106-011"). */
    readonly code?: string,
    /** Seconds, for 429 and 503: sent as `Retry-After`. */
    readonly retryAfter?: number,
    status?: number,
  ) {
    super(message);
    this.status = status ?? STATUS[kind];
  }
}

/** One dialect: where its paths live and how it words a refusal. */
export interface Dialect {
  readonly name: string;
  readonly prefix: string;
  /** The body of a refusal in this dialect's format (status and headers are the pipeline's). */
  refusal(refusal: Refusal): unknown;
  /** `Allow` header for wrong-method answers. */
  readonly allow?: string;
}

export interface DoorContext<P> {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Path parameters, percent-decoded (bad encoding was refused before the handler). */
  readonly params: string[];
  /** The caller's address for per-address limits (see `trustProxy`). */
  readonly address: string;
  readonly principal: P;
  readonly body: Record<string, unknown>;
}

/** What a handler returns: a 200 JSON body, or a status, body and headers of its own. */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

export interface RouteSpec<P> {
  readonly method: 'GET' | 'POST';
  readonly path: string | RegExp;
  /**
   * Origin rule. `browser` (default): a request with an Origin must name an allowed one (requests
   * without, server to server, pass). `named`: Origin or Referer must name an allowed origin.
   */
  readonly origin?: 'browser' | 'named';
  /** A per-address rate limit, taken before the credential is read. */
  readonly limit?: KeyedLimiter;
  /** Reads and checks the dialect's credential; throws a {@link Refusal}. */
  readonly credential?: (req: IncomingMessage) => Promise<P> | P;
  /** `json`: a JSON object body is required; `optional`: read when one was sent; `none`: ignored. Default `json` for POST. */
  readonly body?: 'json' | 'optional' | 'none';
  readonly handle: (ctx: DoorContext<P>) => Promise<unknown> | unknown;
}

/**
 * The one pipeline every HTTP door runs: origin → per-address limit → credential → body (size,
 * type, time) → the dialect's handler → that dialect's refusal format. A door declares routes; it
 * cannot skip a step or answer a refusal in another dialect's words.
 */
export class Door {
  constructor(
    readonly core: Core,
    private readonly router: Router,
    readonly dialect: Dialect,
  ) {
    router.otherwise(dialect.prefix, (req, res, [why]) => {
      req.resume();
      const wrong = why === 'wrong-method';
      if (wrong && dialect.allow) res.setHeader('allow', dialect.allow);
      this.refuse(res, new Refusal(wrong ? 'method' : 'not-found', wrong ? 'method not allowed' : 'no such resource'));
    });
    router.onError(dialect.prefix, (res) => this.refuse(res, new Refusal('internal', 'internal error')));
  }

  /** Writes a refusal in this door's dialect. */
  refuse(res: ServerResponse, refusal: Refusal): void {
    const headers: Record<string, string> = {};
    if (refusal.retryAfter !== undefined) headers['retry-after'] = String(refusal.retryAfter);
    sendJson(res, refusal.status, this.dialect.refusal(refusal), headers);
  }

  route<P = undefined>(spec: RouteSpec<P>): this {
    this.router.on(spec.method, spec.path, async (req, res, rawParams) => {
      try {
        const params = rawParams.map(decodeParam);
        checkOrigin(this.core, req, spec.origin ?? 'browser');
        const address = clientAddress(this.core.options, req);
        if (spec.limit) {
          const wait = spec.limit.take(address);
          if (wait) throw new Refusal('rate-limited', 'too many requests: try again later', undefined, wait);
        }
        const principal = (spec.credential ? await spec.credential(req) : undefined) as P;
        const mode = spec.body ?? (spec.method === 'POST' ? 'json' : 'none');
        const body = await readBody(this.core, req, mode);
        const result = await spec.handle({ req, res, params, address, principal, body });
        if (res.headersSent) return;
        if (result instanceof Reply) sendJson(res, result.status, result.body, result.headers);
        else sendJson(res, 200, result);
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        if (!req.complete) req.resume();
        this.refuse(res, error);
      }
    });
    return this;
  }
}

function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new Refusal('bad-request', 'bad percent-encoding in the path');
  }
}

function checkOrigin(core: Core, req: IncomingMessage, rule: 'browser' | 'named'): void {
  if (rule === 'browser') {
    if (req.headers.origin && !originAllowed(core.options, req.headers.origin))
      throw new Refusal('forbidden', 'origin not allowed');
    return;
  }
  const origin = req.headers.origin ?? refererOrigin(header(req, 'referer'));
  if (!origin || !originAllowed(core.options, origin))
    throw new Refusal('forbidden', 'Origin or Referer must name an allowed origin');
}

function refererOrigin(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

async function readBody(
  core: Core,
  req: IncomingMessage,
  mode: 'json' | 'optional' | 'none',
): Promise<Record<string, unknown>> {
  if (mode === 'none') {
    req.resume();
    return {};
  }
  const length = req.headers['content-length'];
  if (mode === 'optional' && (!length || length === '0') && !req.headers['transfer-encoding']) {
    req.resume();
    return {};
  }
  try {
    return await readJsonBody(req, core.options.maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyError)
      throw new Refusal(
        error.status === 413 ? 'too-large' : error.status === 415 ? 'unsupported-media' : 'bad-request',
        error.message,
      );
    throw error;
  }
}
