import { ConnectionInfoError, type Connection, connectionInfoSource, warmService } from '@cobrowse/client';
import {
  type JoinOptions,
  type PrepareOptions,
  type ReplayerOptions,
  VIEW_OPTION_KEYS,
  type ViewOptions,
} from './options.js';
import { CloseCode, encodeText } from '@cobrowse/protocol';
import { ParkedSocket } from './park.js';
import { ReplayerSession, View, firstHello } from './session.js';
import { resolveContainer } from './stage.js';
import { WarmUp } from './warm-up.js';

/** The connection info a replayer's join asks for (called again before each reconnect). */
export function replayerInfo(options: ReplayerOptions): () => Promise<Connection> {
  return connectionInfoSource(options, 'replayer', REPLAYER_DEFAULTS);
}

const REPLAYER_DEFAULTS = { userId: 'agent', userName: 'Agent' };

/** The options that name a connection-info service: given to prepare(), any of them has it warmed up. */
const SERVICE_KEYS = ['server', 'dialect', 'headers'] as const;

/** Sockets one prepared view parks at most (about ten minutes at the relay's default wait). */
const MAX_PARKS = 10;
/** How long after the relay let a parked socket go the next one is parked. */
const REPARK_DELAY_MS = 1000;
/**
 * The closes after which another socket is parked (with fresh connection info): 4000 before any
 * message (the relay waited its agentHelloTimeoutMs for a hello), 4014 Moved and 1001 Going Away (a
 * cluster node draining, or a relay shutting down: the room's node is asked again).
 */
const REPARK_ON: ReadonlySet<number> = new Set([CloseCode.BadMessage, CloseCode.Moved, CloseCode.GoingAway]);

/**
 * Whether a view prepared for a room parks its socket with this dialect: those whose agent call
 * names the room and can be made again (not `passphrase`: its code is redeemed once, and an agent's
 * call without one opens a new session).
 */
function parksFor(dialect: PrepareOptions['dialect']): boolean {
  return dialect !== 'passphrase';
}

/** The options that decide where a join connects and as whom (every one but the view's). */
function sameConnection(a: ReplayerOptions, b: ReplayerOptions): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    if ((VIEW_OPTION_KEYS as readonly string[]).includes(key)) continue;
    const x = (a as unknown as Record<string, unknown>)[key];
    const y = (b as unknown as Record<string, unknown>)[key];
    if (key === 'headers') {
      const h = (v: unknown) => JSON.stringify(Object.entries((v as Record<string, string>) ?? {}).sort());
      if (h(x) !== h(y)) return false;
    } else if (x !== y) return false;
  }
  return true;
}

/** Opens the session on a built view; join() rejects (and the view goes) when the connection info does. */
export async function connect(
  view: View,
  options: ReplayerOptions,
  pending: Promise<Connection>,
  fetchInfo: () => Promise<Connection>,
  park?: ParkedSocket,
): Promise<ReplayerSession> {
  let session: ReplayerSession;
  try {
    session = new ReplayerSession(options, view, pending, fetchInfo, park);
  } catch (error) {
    pending.catch(() => undefined); // its failure, if any, is not the one reported
    park?.close();
    view.destroy();
    throw error;
  }
  try {
    session.connected(await pending);
  } catch (error) {
    session.leave();
    throw error;
  }
  return session;
}

/**
 * Every view option, as given to prepare() (undefined when not given: the default). Spread over a
 * join()'s options, it replaces each view option the join names, so a join cannot change them.
 */
function viewOptions(options: ViewOptions): ViewOptions {
  const picked: Record<string, unknown> = {};
  for (const key of VIEW_OPTION_KEYS) picked[key] = options[key];
  return picked as unknown as ViewOptions;
}

/**
 * A replay view built ahead of `join()` (see {@link prepare}): the iframe and rrweb's replayer exist,
 * nothing is connected and nothing is shown. It joins once; a failed join uses it up too.
 */
export class PreparedView {
  private readonly view: View;
  private readonly options: ViewOptions;
  /** The connection options given to prepare(): the join's defaults. */
  private readonly joinDefaults: JoinOptions;
  private readonly warmUp: WarmUp;
  private readonly warmConnection = new AbortController();
  /**
   * Given a room: where its sockets are parked from, one info source for them all and for a join with
   * the same options (a dialect that keeps state across calls refreshes rather than starting over).
   */
  private parking: { fetchInfo: () => Promise<Connection>; options: ReplayerOptions } | undefined;
  /** The socket parked now (park.ts), if any. */
  private park: ParkedSocket | undefined;
  /** Sockets parked so far (one more each time the relay lets the previous one go, up to MAX_PARKS). */
  private parks = 0;
  private reparkTimer: ReturnType<typeof setTimeout> | undefined;
  private state: 'ready' | 'joined' | 'destroyed' = 'ready';

  constructor(options: PrepareOptions) {
    if (!options || typeof options !== 'object')
      throw new ConnectionInfoError('CobrowseReplayer.prepare: options are required', 0);
    this.options = viewOptions(options);
    const defaults: Record<string, unknown> = { ...options };
    for (const key of VIEW_OPTION_KEYS) delete defaults[key];
    this.joinDefaults = defaults as JoinOptions;
    const container = resolveContainer(options.container);
    this.view = new View(container, this.options);
    // Compiles the code a join runs, while the agent waits (see warm-up.ts); a join stops it.
    this.warmUp = new WarmUp(container);
    // Named the room: its connection info and socket are made now (the service's preflight and
    // connection with them). Named only the service (server, dialect or headers): its preflight and
    // connection are made now.
    let service: Promise<boolean> = Promise.resolve(true);
    try {
      if (typeof options.roomId === 'string' && options.roomId !== '' && parksFor(options.dialect)) {
        const parking = { ...this.joinDefaults, ...this.options } as ReplayerOptions;
        this.parking = { fetchInfo: replayerInfo(parking), options: parking };
        service = this.parkSocket();
      } else if (SERVICE_KEYS.some((key) => options[key] !== undefined)) {
        const external = options.external === true;
        service = warmService(this.joinDefaults, 'replayer', REPLAYER_DEFAULTS, this.warmConnection.signal).then(
          // The relay names its socket opened ahead: it is opened now, and the join signs it.
          (warmed) =>
            warmed.ok && warmed.socketAhead && this.state === 'ready'
              ? this.parkAhead(warmed.socketAhead, external)
              : warmed.ok,
        );
      }
    } catch (error) {
      // An unknown dialect: nothing is left behind.
      this.warmUp.stop();
      this.view.destroy();
      throw error;
    }
    // A join or destroy() stops both warm-ups, and this settles at once (false).
    this.warming = this.warmUp.done.then((ran) => ran && service);
  }

  /** Fetches the connection info for prepare()'s room and opens its socket without a hello ({@link keepParked}). */
  private parkSocket(): Promise<boolean> {
    const { fetchInfo, options } = this.parking!;
    return this.keepParked((onDead) => new ParkedSocket(fetchInfo(), options.external === true, onDead));
  }

  /**
   * Opens the relay's socket ahead of any connection info (the URL its warm-up's answer named): the
   * join fetches the info and signs the socket's hello ({@link keepParked}).
   */
  private parkAhead(url: string, external: boolean): Promise<boolean> {
    return this.keepParked((onDead) => new ParkedSocket(url, external, onDead));
  }

  /**
   * Parks the socket `open` makes. When the relay lets it go because it waited its
   * `agentHelloTimeoutMs` for the hello, or moves it (REPARK_ON), another is parked a second later,
   * up to MAX_PARKS in all, while the view is in the page; one refused or failed is not replaced
   * (the join makes its own connection).
   */
  private keepParked(open: (onDead: (code: number) => void) => ParkedSocket): Promise<boolean> {
    this.parks++;
    // Set once made: a socket that cannot even be made reports it from inside `open`.
    const made: { socket?: ParkedSocket } = {};
    made.socket = open((code) => {
      const gone = made.socket;
      if (!gone || this.park !== gone || !REPARK_ON.has(code) || this.parks >= MAX_PARKS) return;
      this.reparkTimer = setTimeout(() => {
        this.reparkTimer = undefined;
        if (this.state === 'ready' && this.park === gone && this.view.player.iframe.isConnected)
          this.keepParked(open).catch(() => undefined);
      }, REPARK_DELAY_MS);
    });
    this.park = made.socket;
    return made.socket.opened;
  }

  /** Takes the parked socket, if any (to hand over or close), and parks no other. */
  private unpark(): ParkedSocket | undefined {
    const park = this.park;
    this.park = undefined;
    clearTimeout(this.reparkTimer);
    return park;
  }

  /**
   * Settles when the view has warmed up: true when it ran the replay code once on a small made-up
   * page, hidden, so that the join finds it compiled, and (given the service's options) the
   * connection-info service answered the warm-up request, or (given a room) the socket opened
   * ahead; false at once when a join or destroy() came first (they stop both), and false when the
   * service did not answer within 10 s or the socket could not open. A join never waits for it.
   */
  readonly warming: Promise<boolean>;

  /** The replay iframe (empty until a session shows the customer's page in it). */
  get iframe(): HTMLIFrameElement {
    return this.view.player.iframe;
  }

  /**
   * Joins a room in this view: `CobrowseReplayer.join()` without building the view. View options
   * (container, limits, assets…) are the ones given to `prepare()`; any given here are ignored.
   * Connection options given here win over those given to `prepare()`.
   */
  async join(options: JoinOptions = {}): Promise<ReplayerSession> {
    if (this.state !== 'ready') {
      const why = this.state === 'joined' ? 'has joined already' : 'was destroyed';
      throw new ConnectionInfoError(`CobrowseReplayer: this prepared view ${why}; prepare() another`, 0);
    }
    this.state = 'joined';
    this.warmUp.stop();
    // The join makes its own request; one still out for the warm-up has nothing left to give.
    this.warmConnection.abort();
    // Taken or closed below, whatever happens.
    const park = this.unpark();
    let all: ReplayerOptions;
    let fetchInfo: () => Promise<Connection>;
    let pending: Promise<Connection>;
    /** The socket opened ahead that this join signs, if any. */
    let signed: ParkedSocket | undefined;
    try {
      if (!options || typeof options !== 'object')
        throw new ConnectionInfoError('CobrowseReplayer.join: options are required', 0);
      // Its iframe has no document out of the page (a container removed, or never shown).
      if (!this.view.player.iframe.isConnected)
        throw new ConnectionInfoError("CobrowseReplayer: the prepared view's container is no longer in the page", 0);
      // The connection's options from the join over prepare()'s (one given as undefined is not given;
      // headers merge name by name: a per-call header next to prepare()'s credential), every view
      // option from prepare().
      const given: JoinOptions = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
      const headers =
        this.joinDefaults.headers && given.headers ? { ...this.joinDefaults.headers, ...given.headers } : undefined;
      all = { ...this.joinDefaults, ...given, ...(headers ? { headers } : {}), ...this.options };
      // The room's socket parked ahead, when it is still there and this join goes where it went.
      const same = this.parking && sameConnection(this.parking.options, all);
      if (park?.usable && same) {
        // Its hello goes now (when open): the relay answers while the session is set up.
        park.sayHello(encodeText(firstHello()));
        return connect(this.view, this.parking!.options, park.info!, this.parking!.fetchInfo, park);
      }
      fetchInfo = same ? this.parking!.fetchInfo : replayerInfo(all);
      pending = fetchInfo();
      // The relay's socket opened ahead: its hello goes signed when the info comes, if it names that
      // node. Any other is closed.
      if (park?.ahead && park.usable) {
        park.sign(pending, firstHello(), all.external === true);
        signed = park;
      } else park?.close();
    } catch (error) {
      // Any failure uses the view up, as a refused connection does: prepare() another.
      park?.close();
      this.view.destroy();
      throw error;
    }
    return connect(this.view, all, pending, fetchInfo, signed);
  }

  /** Removes a view that did not join from its container (a joined one goes with its session's `leave()`). */
  destroy(): void {
    if (this.state !== 'ready') return;
    this.state = 'destroyed';
    this.warmUp.stop();
    this.warmConnection.abort();
    this.unpark()?.close();
    this.view.destroy();
  }
}

/**
 * Builds the replay view now, in `options.container`, so that a later `join()` only connects: an
 * agent console prepares it when a session may be about to start (the agent opened the co-browse
 * panel, a customer is reading out a code), and the agent sees the page that much sooner. Given the
 * connection options the join will use (`server`, `dialect`, `headers`…), it also makes the
 * connection-info service's CORS preflight and connection ahead, and they become the join's defaults.
 * Given the `roomId` too (any dialect but `passphrase`), it fetches the connection info and opens the
 * socket now, without a hello: the relay keeps it out of the room (the customer sees no agent) until
 * the join says hello on it, and the page comes one trip after `join()`. A join with other
 * connection options, `destroy()` or a failed join closes that socket. Given the service but no room,
 * it opens the socket the relay's answer to the warm-up names, in no room: the join fetches the
 * connection info and sends its signature in the hello on that socket.
 */
export function prepare(options: PrepareOptions): PreparedView {
  return new PreparedView(options);
}
