import rrwebPlayer from 'rrweb-player';
import playerCss from 'rrweb-player/dist/style.css';
import type { eventWithTime } from '@rrweb/types';
import { RrwebEventType, RrwebNodeType, RrwebSource, expandNestedAdds } from '@cobrowse/protocol';
import { sanitizeEvent } from './sanitize.js';
import { AssetStore } from './assets.js';
import { guardNavigation } from './live-player.js';
import { applyPolicy, injectReferrerPolicy, replayPolicy } from './policy.js';
import { resolveContainer } from './stage.js';

/** Options of `CobrowseReplayer.play()`. */
export interface PlayOptions {
  /** Base URL of the relay that holds the recording. */
  server: string;
  /** Id from `GET /cobrowse/recordings`. */
  recordingId: string;
  /** Where to show the player: an element or a CSS selector. */
  container: HTMLElement | string;
  /** Headers for the recordings API: the operator credential, e.g. `{ authorization: 'Bearer …' }`. */
  headers?: Record<string, string>;
  /** Start playing once loaded. Default false. */
  autoPlay?: boolean;
}

/** A stored session in rrweb-player (timeline, play/pause, speed, skip inactivity). Created by `play()`. */
export interface PlaybackSession {
  /** The replay iframe; its `contentDocument` is the replayed page at the player's position. */
  readonly iframe: HTMLIFrameElement;
  /** Length of the recording, ms. */
  readonly durationMs: number;
  /** True when the relay found the recording cut short or damaged: it plays up to the damage. */
  readonly truncated: boolean;
  /** The recording's events as played (sanitized), agents' actions and joins as custom events (type 5). */
  readonly events: readonly eventWithTime[];
  /** Moves to `ms` from the start (paused there unless `play`). */
  goto(ms: number, play?: boolean): void;
  play(): void;
  pause(): void;
  /** Removes the player from the container and frees what it holds. */
  destroy(): void;
}

/** Thrown by `play()` when the recording cannot be fetched: `status` is the HTTP status (0 for a network error). */
export class RecordingError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'RecordingError';
  }
}

const STYLE_ID = 'cobrowse-player-style';
const ASSET_TAG = 'cobrowse.asset';
const TRUNCATED_TAG = 'cobrowse.truncated';
/** Colours of the relay's custom events on the player's timeline. */
const TAGS = { 'cobrowse.agent': '#2f80ed', 'cobrowse.note': '#9aa4b1', [TRUNCATED_TAG]: '#e5484d' };
const CONTROLLER_HEIGHT = 80;

function injectStyles(doc: Document): void {
  if (doc.getElementById(STYLE_ID)) return;
  const style = doc.createElement('style');
  style.id = STYLE_ID;
  style.textContent = playerCss;
  doc.head.appendChild(style);
}

interface Node {
  type: number;
  id: number;
  tagName?: string;
  isStyle?: boolean;
  childNodes?: Node[];
}

/** What the sanitizer asks of a recording: node id → tag, and which text nodes are stylesheet text. */
class Tags {
  private readonly tags = new Map<number, string>();
  private readonly styleText = new Set<number>();
  readonly tagOf = (id: number): string | undefined => this.tags.get(id);
  readonly isStyleText = (id: number): boolean => this.styleText.has(id);

  see(event: eventWithTime): void {
    if (event.type === RrwebEventType.FullSnapshot) {
      this.tags.clear();
      this.styleText.clear();
      this.walk((event.data as { node?: Node }).node, undefined);
    } else if (
      event.type === RrwebEventType.IncrementalSnapshot &&
      (event.data as { source: number }).source === RrwebSource.Mutation
    ) {
      for (const add of (event.data as { adds?: { parentId: number; node: Node }[] }).adds ?? [])
        this.walk(add.node, this.tags.get(add.parentId));
    }
  }

  private walk(node: Node | undefined, parentTag: string | undefined): void {
    if (!node || typeof node.id !== 'number') return;
    const tag = node.type === RrwebNodeType.Element ? node.tagName?.toLowerCase() : undefined;
    if (tag) this.tags.set(node.id, tag);
    if (node.type === RrwebNodeType.Text && (node.isStyle || parentTag === 'style')) this.styleText.add(node.id);
    for (const child of node.childNodes ?? []) this.walk(child, tag);
  }
}

function base64Bytes(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Fetches a recording's events (`GET /cobrowse/recordings/{id}/events`). */
async function fetchEvents(options: PlayOptions): Promise<unknown[]> {
  const url = `${options.server.replace(/\/+$/, '')}/cobrowse/recordings/${encodeURIComponent(options.recordingId)}/events`;
  let response: Response;
  try {
    response = await fetch(url, { headers: options.headers ?? {}, credentials: 'omit', cache: 'no-store' });
  } catch (error) {
    throw new RecordingError(`CobrowseReplayer.play: cannot reach ${url}: ${(error as Error).message}`, 0);
  }
  if (!response.ok)
    throw new RecordingError(
      `CobrowseReplayer.play: the relay answered ${response.status} for the recording`,
      response.status,
    );
  const events: unknown = await response.json();
  if (!Array.isArray(events)) throw new RecordingError('CobrowseReplayer.play: the recording is not an event array', 0);
  return events;
}

/**
 * Plays a stored session (see the relay's recordings) in rrweb-player, with the live view's
 * guarantees: every event goes through the same sanitizer, the replay iframe runs no script and
 * never navigates, and the customer's captured images, fonts and stylesheets are used from copies.
 */
export async function play(options: PlayOptions): Promise<PlaybackSession> {
  if (!options || typeof options !== 'object')
    throw new RecordingError('CobrowseReplayer.play: options are required', 0);
  if (typeof options.server !== 'string' || typeof options.recordingId !== 'string')
    throw new RecordingError('CobrowseReplayer.play: "server" and "recordingId" are required', 0);
  const container = resolveContainer(options.container);
  const raw = await fetchEvents(options);

  // Assets first (the events anywhere in the recording may refer to them), then every event sanitized.
  const assets = new AssetStore();
  let truncated = false;
  const kept: eventWithTime[] = [];
  for (const value of raw) {
    const event = value as eventWithTime;
    if (
      typeof event !== 'object' ||
      event === null ||
      typeof event.type !== 'number' ||
      typeof event.timestamp !== 'number'
    )
      continue;
    if (event.type === RrwebEventType.Custom) {
      const { tag, payload } = event.data as {
        tag?: string;
        payload?: { url?: string; mime?: string; base64?: string };
      };
      if (tag === ASSET_TAG) {
        if (
          payload &&
          typeof payload.url === 'string' &&
          typeof payload.mime === 'string' &&
          typeof payload.base64 === 'string'
        ) {
          try {
            assets.add(payload.url, payload.mime, base64Bytes(payload.base64));
          } catch {
            // a malformed asset is left out
          }
        }
        continue;
      }
      if (tag === TRUNCATED_TAG) truncated = true;
    }
    kept.push(event);
  }
  const tags = new Tags();
  const lookup = assets.size ? (ref: string) => assets.lookup(ref) : undefined;
  const events: eventWithTime[] = [];
  const pages: string[] = [];
  for (const event of kept) {
    if (event.type === RrwebEventType.Meta) {
      const href = (event.data as { href?: unknown }).href;
      if (typeof href === 'string') {
        assets.base = href;
        pages.push(href);
      }
    }
    try {
      // A sliced snapshot's nested adds as rrweb's flat ones (the relay serves them expanded already;
      // this is for recordings that reach here otherwise). Malformed or too large: left out.
      expandNestedAdds(event);
      tags.see(event);
      const clean = sanitizeEvent(event, tags.tagOf, { assets: lookup, styleText: tags.isStyleText });
      // As in live view: no referrer leaves the replay, from the first load of every snapshot on.
      injectReferrerPolicy(clean);
      events.push(clean);
    } catch {
      // an event the sanitizer cannot read does not reach rrweb
    }
  }
  if (!events.some((e) => e.type === RrwebEventType.FullSnapshot))
    throw new RecordingError('CobrowseReplayer.play: the recording holds no full snapshot to start from', 0);

  injectStyles(container.ownerDocument);
  const width = Math.max(320, container.clientWidth || 1024);
  const height = Math.max(200, (container.clientHeight || 656) - CONTROLLER_HEIGHT);
  const player = new rrwebPlayer({
    target: container,
    props: {
      events,
      width,
      height,
      autoPlay: options.autoPlay === true,
      skipInactive: true,
      showController: true,
      tags: TAGS,
      mouseTail: false,
      showWarning: false,
      // Never UNSAFE_replayCanvas: it would let the customer's page run script.
      UNSAFE_replayCanvas: false,
    },
  });
  const replayer = player.getReplayer();
  const harden = () => {
    // rrweb sandboxes the iframe without scripts already; say so explicitly, and leak no referrer.
    replayer.iframe.setAttribute('sandbox', 'allow-same-origin');
    replayer.iframe.setAttribute('referrerpolicy', 'no-referrer');
  };
  harden();
  // The live view's policy inside the replay (policy.ts): the recording's pages' origins and the
  // captured copies may load, nothing runs, connects or submits; kept through every rebuild.
  const policy = replayPolicy(pages[0] ?? '', 'direct', pages.slice(1));
  const secure = () => {
    applyPolicy(replayer.iframe.contentDocument, policy);
    guardNavigation(replayer.iframe.contentDocument);
  };
  replayer.on('fullsnapshot-rebuilded', secure);
  secure();

  let destroyed = false;
  const durationMs = player.getMetaData().totalTime;
  return {
    get iframe() {
      return replayer.iframe;
    },
    durationMs,
    truncated,
    events,
    goto(ms, playing = false) {
      if (!destroyed) player.goto(Math.max(0, Math.min(ms, durationMs)), playing);
    },
    play() {
      if (!destroyed) player.play();
    },
    pause() {
      if (!destroyed) player.pause();
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      player.pause();
      (player as unknown as { $destroy(): void }).$destroy();
      assets.revoke();
    },
  };
}
