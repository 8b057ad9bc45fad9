import { ErrorCode } from './codes.js';
import { SUPPORTED_VERSIONS } from './version.js';
import { MAX_HELLO_SIGNATURE } from './connection-info.js';
import {
  AGENT_OPS,
  CONTROL_STATES,
  type AgentOp,
  type ControlState,
  MAX_AGENT_COORDINATE,
  MAX_AGENT_VALUE_LENGTH,
} from './agent-tools.js';

/**
 * Every frame on the socket is a JSON header, optionally followed by a newline and a payload.
 * The header carries routing metadata (type, sequence, snapshot boundary); the payload carries
 * rrweb events and is opaque to the relay, so it can later be sealed end to end.
 */

/**
 * Sent first by both SDKs. Recorder: `epoch` names this page's recording, `seq` is the next batch it
 * will send. Replayer: `resume` is the last batch it applied.
 */
export interface Hello {
  readonly type: 'hello';
  /** Protocol version the sender speaks. */
  readonly v: number;
  /** Recorder only: random id of this recording (kept across reconnects, new on every page load). */
  readonly epoch?: string;
  /** Replayer only: resume after this batch of this epoch, when the relay still has what follows. */
  readonly resume?: { readonly epoch: string; readonly seq: number };
  /**
   * Replayer only, and only on a socket opened ahead (`?ahead=1`, see `AHEAD_PARAM`): the signature
   * its URL would have carried. The relay checks it as it checks a URL's, and the socket joins its room.
   */
  readonly signature?: string;
}

/** Relay → both: the socket is accepted. */
export interface Welcome {
  readonly type: 'welcome';
  readonly v: number;
  readonly roomId: string;
  readonly role: 'recorder' | 'replayer';
  /** Whether a recorder is currently connected to the room. */
  readonly recorder: boolean;
  /** Number of replayers in the room, this one included. */
  readonly replayers: number;
  /** Relay wall clock (ms) when the welcome was sent. */
  readonly now: number;
  /**
   * Recorder only: the last batch of the recorder's epoch the relay has. The recorder resends what
   * came after it; when absent (new epoch, relay restarted) it starts again from a full snapshot.
   */
  readonly seq?: number;
}

/** Relay → recorder: every batch up to `seq` has reached the relay; the recorder may forget them. */
export interface Ack {
  readonly type: 'ack';
  readonly seq: number;
}

/**
 * How an `events` payload is encoded. The relay never looks: it forwards and caches the bytes.
 * - 0 (or absent): the JSON array of rrweb events, as text.
 * - 1: that JSON compressed on its own (raw DEFLATE, RFC 1951), in a binary frame.
 * - 2: that JSON as the next piece of one raw DEFLATE stream (window ≤ 32 KiB), ending with a sync
 *   flush, in a binary frame. The stream holds the epoch's `z: 2` batches since the latest `snap`
 *   batch, which starts it afresh; decode them in `seq` order, with no gap, from a `snap` batch on
 *   (`@cobrowse/protocol/decompress`; see `history.ts`).
 */
export type PayloadEncoding = 0 | 1 | 2;

/** Recorder → relay → replayers: one batch of rrweb events (payload encoded as `z` says). */
export interface Events {
  readonly type: 'events';
  /** Recording this batch belongs to. */
  readonly epoch: string;
  /** Batch number within the epoch, starting at 1, no gaps. */
  readonly seq: number;
  /** True when the batch starts with a Meta + FullSnapshot: a replayer can start here. */
  readonly snap?: boolean;
  /** Payload encoding (see {@link PayloadEncoding}); absent means 0, plain JSON text. */
  readonly z?: PayloadEncoding;
}

/**
 * Recorder → relay → replayers (protocol v2): the bytes of an image, font or stylesheet the page
 * uses, fetched by the customer's browser (where the login cookie and the intranet are), for an
 * agent whose browser cannot load it. Always a binary frame; the payload is the asset's bytes. The
 * relay keeps assets per session (deduplicated by URL) for agents who join later.
 */
export interface Asset {
  readonly type: 'asset';
  /** Absolute URL the page refers to the asset by (no fragment): http(s), or a blob: URL of the page. */
  readonly url: string;
  /** One of {@link ASSET_MIME_TYPES}: never anything a browser would run. */
  readonly mime: string;
}

/** Longest asset URL carried (the whole header must fit {@link MAX_HEADER_BYTES}). */
export const MAX_ASSET_URL_LENGTH = 1600;

/**
 * Media types an asset may have: images, fonts, stylesheets. Nothing that can hold script in the
 * contexts the replay uses them in (SVG is only ever shown as an image, a background or a `<use>`).
 */
export const ASSET_MIME_TYPES: ReadonlySet<string> = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/apng',
  'image/bmp',
  'image/svg+xml',
  'image/x-icon',
  'image/vnd.microsoft.icon',
  'font/woff',
  'font/woff2',
  'font/ttf',
  'font/otf',
  'font/collection',
  'application/vnd.ms-fontobject',
  'text/css',
]);

export function isAssetMime(value: unknown): value is string {
  return typeof value === 'string' && ASSET_MIME_TYPES.has(value);
}

/** An absolute http(s) URL, or a blob: URL of an http(s) page, without a fragment or control characters. */
export function isAssetUrl(value: unknown): value is string {
  return (
    typeof value === 'string' && value.length <= MAX_ASSET_URL_LENGTH && /^(blob:)?https?:\/\/[^\s#]+$/i.test(value)
  );
}

/** Replayer → relay → recorder (or relay → recorder): please take a new full snapshot. */
export interface RequestSnapshot {
  readonly type: 'request-snapshot';
  readonly reason?: string;
}

/** Relay → both: who is in the room now. */
export interface Presence {
  readonly type: 'presence';
  readonly recorder: boolean;
  readonly replayers: number;
}

/** Either way: a refusal or a problem, with a stable code. */
export interface ErrorMessage {
  readonly type: 'error';
  readonly code: string;
  readonly message: string;
}

/** Either way: the sender is leaving on purpose. From the recorder it ends the session for everyone. */
export interface Bye {
  readonly type: 'bye';
  readonly reason?: string;
}

/**
 * Whether the session is being recorded for audit (since protocol v2; a peer that does not know it
 * ignores it). Relay → both: the room's recording state, sent when it changes and after each
 * welcome while it is on; the customer's indicator then says "This session is recorded".
 * Replayer → relay: asks to start (`on: true`) or stop recording, honoured when the relay's
 * recording policy is `requested`; the relay answers with the state it is in.
 */
export interface Recording {
  readonly type: 'recording';
  readonly on: boolean;
  /** Relay → both: why the state is what it is ({@link RecordingReason}). */
  readonly reason?: RecordingReason;
}

/**
 * Why a room is (or is not) recorded, in `recording` messages from the relay. Explicit, stable
 * values: never renumber, only add.
 */
export const RecordingReason = {
  /** The relay records every room (policy `all`). */
  Policy: 1,
  /** An agent asked for it (policy `requested`). */
  Requested: 2,
  /** An agent stopped it (policy `requested`). */
  Stopped: 3,
  /** The relay does not record (policy `off`, or the request was refused). */
  Unavailable: 4,
} as const;
export type RecordingReason = (typeof RecordingReason)[keyof typeof RecordingReason];

/**
 * Replayer → relay → recorder (protocol v3): one agent tool action ({@link AgentOp}). The relay
 * overwrites `from`, `user` and `name` with the sending socket's identity before forwarding, so
 * the recorder knows who asks and an agent cannot speak for another.
 */
export interface AgentAction {
  readonly type: 'agent';
  readonly op: AgentOp;
  /** Set by the relay: the sending agent's connection id (one per socket). */
  readonly from?: string;
  /** Set by the relay: the sending agent's user id and display name (from its signed token). */
  readonly user?: string;
  readonly name?: string;
  /** rrweb node id of the element acted on (0: the window, for Scroll). */
  readonly id?: number;
  readonly x?: number;
  readonly y?: number;
  readonly w?: number;
  readonly h?: number;
  /** SetValue / Select: the new value; Key: unused. */
  readonly value?: string;
  /** SetValue: also fire `change` (the agent left the field). */
  readonly commit?: boolean;
  /** Key: the key pressed (only "Enter" is acted on). */
  readonly key?: string;
}

/**
 * Recorder → relay → replayers (protocol v3), or relay → both: the state of remote control for
 * agent `agent`. The relay learns who holds control from these and sets `mine` on the copy sent
 * to the agent concerned.
 */
export interface Control {
  readonly type: 'control';
  readonly state: ControlState;
  /** Connection id of the agent concerned (the `from` of its `agent` frames). */
  readonly agent: string;
  readonly user?: string;
  readonly name?: string;
  /** Set by the relay on the copy sent to the agent concerned. */
  readonly mine?: boolean;
}

/** Recorder → relay → one replayer (protocol v3): an agent action was not allowed (nothing happened). */
export interface Refused {
  readonly type: 'refused';
  /** Connection id of the agent whose action it was. */
  readonly agent: string;
  readonly op: AgentOp;
  readonly id?: number;
  /** Why, for the agent's cue: e.g. "masked", "no-control", "other-origin". */
  readonly reason?: string;
}

export type Message =
  | Hello
  | Welcome
  | Ack
  | Events
  | Asset
  | RequestSnapshot
  | Presence
  | ErrorMessage
  | Bye
  | AgentAction
  | Control
  | Refused
  | Recording;
export type MessageType = Message['type'];

/** Messages each role may send to the relay. */
export const RECORDER_SENDS: ReadonlySet<MessageType> = new Set([
  'hello',
  'events',
  'asset',
  'bye',
  'error',
  'control',
  'refused',
]);
export const REPLAYER_SENDS: ReadonlySet<MessageType> = new Set([
  'hello',
  'request-snapshot',
  'bye',
  'error',
  'agent',
  'recording',
]);

export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

type Check = (value: unknown) => boolean;
const str =
  (max = 256): Check =>
  (v) =>
    typeof v === 'string' && v.length > 0 && v.length <= max;
const optStr =
  (max = 256): Check =>
  (v) =>
    v === undefined || (typeof v === 'string' && v.length <= max);
const nat: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const optNat: Check = (v) => v === undefined || nat(v);
const optBool: Check = (v) => v === undefined || typeof v === 'boolean';
const bool: Check = (v) => typeof v === 'boolean';
const version: Check = (v) => typeof v === 'number' && Number.isInteger(v);
const role: Check = (v) => v === 'recorder' || v === 'replayer';
const coordinate: Check = (v) =>
  v === undefined || (typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_AGENT_COORDINATE);
const size: Check = (v) =>
  v === undefined || (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_AGENT_COORDINATE);
const agentOp: Check = (v) => typeof v === 'number' && AGENT_OPS.has(v);
const controlState: Check = (v) => typeof v === 'string' && CONTROL_STATES.has(v);
const optId: Check = (v) => v === undefined || (nat(v) && (v as number) < 2 ** 31);
const optReason: Check = (v) => v === undefined || v === 1 || v === 2 || v === 3 || v === 4;
const optZ: Check = (v) => v === undefined || v === 0 || v === 1 || v === 2;
const optResume: Check = (v) =>
  v === undefined ||
  (typeof v === 'object' &&
    v !== null &&
    str(64)((v as { epoch?: unknown }).epoch) &&
    nat((v as { seq?: unknown }).seq));

/** One row per message type: the fields it must (or may) carry. Adding a message is adding a row. */
const SCHEMAS: Record<MessageType, Record<string, Check>> = {
  hello: { v: version, epoch: optStr(64), resume: optResume, signature: optStr(MAX_HELLO_SIGNATURE) },
  welcome: { v: version, roomId: str(), role, recorder: bool, replayers: nat, now: nat, seq: optNat },
  ack: { seq: nat },
  events: { epoch: str(64), seq: nat, snap: optBool, z: optZ },
  asset: { url: isAssetUrl, mime: isAssetMime },
  'request-snapshot': { reason: optStr() },
  presence: { recorder: bool, replayers: nat },
  error: { code: str(64), message: optStr(1024) },
  bye: { reason: optStr() },
  agent: {
    op: agentOp,
    from: optStr(64),
    user: optStr(256),
    name: optStr(256),
    id: optId,
    x: coordinate,
    y: coordinate,
    w: size,
    h: size,
    value: (v) => v === undefined || (typeof v === 'string' && v.length <= MAX_AGENT_VALUE_LENGTH),
    commit: optBool,
    key: optStr(32),
  },
  control: { state: controlState, agent: str(64), user: optStr(256), name: optStr(256), mine: optBool },
  refused: { agent: str(64), op: agentOp, id: optId, reason: optStr(64) },
  recording: { on: bool, reason: optReason },
};

/** Validates a parsed header; throws {@link ProtocolError} with a stable code and a clear message. */
export function validateMessage(value: unknown): Message {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(ErrorCode.BadFrame, 'frame header must be a JSON object');
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') throw new ProtocolError(ErrorCode.UnknownType, 'frame header has no "type"');
  const schema = Object.prototype.hasOwnProperty.call(SCHEMAS, type) ? SCHEMAS[type as MessageType] : undefined;
  if (!schema)
    throw new ProtocolError(ErrorCode.UnknownType, `unknown message type ${JSON.stringify(type.slice(0, 40))}`);
  for (const field in schema) {
    if (!schema[field]!((value as Record<string, unknown>)[field])) {
      throw new ProtocolError(ErrorCode.BadField, `"${type}" has a missing or invalid "${field}"`);
    }
  }
  if (type === 'hello' && !SUPPORTED_VERSIONS.includes((value as Hello).v)) {
    throw new ProtocolError(ErrorCode.UnsupportedVersion, `protocol version ${(value as Hello).v} is not supported`);
  }
  return value as Message;
}
