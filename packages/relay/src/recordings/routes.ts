import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Router } from '../router.js';
import type { ResolvedOptions } from '../options.js';
import { requireOperator } from '../operator.js';
import { sendJson } from '../http-util.js';
import type { Recordings } from './manager.js';
import { validRecordingId } from './store.js';
import { CustomTag, type DecodeResult, type RrwebEvent, decodeRecording } from './reader.js';

export const RECORDINGS_PATH = '/cobrowse/recordings';
/** Largest `?limit=` page. */
export const MAX_PAGE = 50_000;
/** Bytes of JSON past which a page ends early (its Link says where the next begins), whatever its `limit`. */
export const MAX_PAGE_BYTES = 32 * 1024 * 1024;

/**
 * The recordings API, all behind the operator credential:
 *   GET    /cobrowse/recordings              summaries, newest first
 *   GET    /cobrowse/recordings/{id}         one summary
 *   DELETE /cobrowse/recordings/{id}         204
 *   GET    /cobrowse/recordings/{id}/events  rrweb eventWithTime[] (one JSON array, streamed);
 *          ?limit=N[&from=K] pages, with `Link: <…>; rel="next"` while more follow (a page also
 *          ends past {@link MAX_PAGE_BYTES}); the whole of it is bounded by `recordings.maxEventsBytes`
 */
export function recordingRoutes(router: Router, options: ResolvedOptions, recordings: Recordings): void {
  router
    .on('GET', RECORDINGS_PATH, async (req, res) => {
      if (!requireOperator(options, req, res)) return;
      sendJson(res, 200, await recordings.list());
    })
    .on(undefined, /^\/cobrowse\/recordings\/([^/]*)$/, async (req, res, [id]) => {
      if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'DELETE') {
        req.resume();
        return sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET, DELETE' });
      }
      if (!requireOperator(options, req, res) || !checkId(id!, res)) return;
      if (req.method === 'DELETE') {
        if (await recordings.delete(id!)) {
          res.writeHead(204, { 'cache-control': 'no-store' });
          return void res.end();
        }
        return sendJson(res, 404, { error: 'no such recording' });
      }
      const meta = await recordings.meta(id!);
      if (!meta) return sendJson(res, 404, { error: 'no such recording' });
      sendJson(res, 200, meta);
    })
    .on('GET', /^\/cobrowse\/recordings\/([^/]*)\/events$/, async (req, res, [id]) => {
      if (!requireOperator(options, req, res) || !checkId(id!, res)) return;
      await serveEvents(req, res, recordings, id!);
    });
}

function checkId(id: string, res: ServerResponse): boolean {
  if (validRecordingId(id)) return true;
  sendJson(res, 400, { error: 'invalid recording id' });
  return false;
}

function pageParams(req: IncomingMessage): { limit?: number; from: number } | string {
  const url = new URL(req.url ?? '/', 'http://relay');
  const limitText = url.searchParams.get('limit');
  const fromText = url.searchParams.get('from');
  const from = fromText === null ? 0 : Number(fromText);
  if (!Number.isSafeInteger(from) || from < 0) return '"from" must be a whole number ≥ 0';
  if (limitText === null) return from === 0 ? { from } : '"from" needs a "limit"';
  const limit = Number(limitText);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE)
    return `"limit" must be a whole number from 1 to ${MAX_PAGE}`;
  return { limit, from };
}

async function serveEvents(
  req: IncomingMessage,
  res: ServerResponse,
  recordings: Recordings,
  id: string,
): Promise<void> {
  const page = pageParams(req);
  if (typeof page === 'string') return sendJson(res, 400, { error: page });
  const chunks = recordings.store ? await recordings.store.read(id) : undefined;
  if (!chunks) return sendJson(res, 404, { error: 'no such recording' });
  const result: DecodeResult = {};
  const maxBytes = recordings.config.maxEventsBytes;
  const events = decodeRecording(chunks, result, { live: recordings.isActive(id), maxBytes });

  if (page.limit !== undefined) {
    // A page is decoded whole first: its Link header depends on whether more follow.
    const out: string[] = [];
    let bytes = 0;
    let index = 0;
    let more = false;
    try {
      for await (const event of events) {
        if (index++ < page.from) continue;
        const json = JSON.stringify(event);
        if (out.length === page.limit || (out.length > 0 && bytes + json.length > MAX_PAGE_BYTES)) {
          more = true;
          break;
        }
        out.push(json);
        bytes += json.length + 1;
      }
    } catch {
      // The storage failed mid-read: the page ends where it is, flagged.
      result.damage ??= { reason: 'the recording could not be read further', offset: -1 };
      out.push(JSON.stringify(truncatedFlag(result)));
    }
    await events.return(undefined);
    const body = `[${out.join(',')}]`;
    const next = `${RECORDINGS_PATH}/${id}/events?limit=${page.limit}&from=${page.from + out.length}`;
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      ...(more ? { link: `<${next}>; rel="next"` } : {}),
      ...(result.damage && !more ? { 'x-cobrowse-truncated': '1' } : {}),
    });
    return void res.end(req.method === 'HEAD' ? undefined : body);
  }

  // The whole recording, streamed: the flag for a cut file is the array's last event (and a trailer).
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    trailer: 'x-cobrowse-truncated',
  });
  if (req.method === 'HEAD') return void res.end();
  let first = true;
  let closed = false;
  let sent = 0;
  res.once('close', () => (closed = true));
  res.write('[');
  try {
    for await (const event of events as AsyncGenerator<RrwebEvent>) {
      if (closed) break;
      const json = JSON.stringify(event);
      sent += json.length;
      if (sent > maxBytes && event.data && (event.data as { tag?: string }).tag !== CustomTag.Truncated) {
        // Escaped JSON can outgrow what was inflated: the served bytes are bounded too.
        await events.return(undefined);
        throw new Error(`the events exceed the budget of one read (recordings.maxEventsBytes ${maxBytes})`);
      }
      const ok = res.write((first ? '' : ',') + json);
      first = false;
      if (!ok) await drained(res);
    }
  } catch (error) {
    // The storage failed mid-read (or the budget ran out): end the array where it is, flagged.
    result.damage ??= {
      reason: /maxEventsBytes/.test((error as Error)?.message)
        ? (error as Error).message
        : 'the recording could not be read further',
      offset: -1,
    };
    res.write((first ? '' : ',') + JSON.stringify(truncatedFlag(result)));
  }
  if (closed) return;
  res.addTrailers({ 'x-cobrowse-truncated': result.damage ? '1' : '0' });
  res.end(']');
}

function truncatedFlag(result: DecodeResult): RrwebEvent {
  return { type: 5, timestamp: 0, data: { tag: CustomTag.Truncated, payload: result.damage } };
}

/** Resolves when the response drains or closes; both listeners are removed either way. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
