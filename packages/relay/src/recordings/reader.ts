import { promisify } from 'node:util';
import { inflateRaw } from 'node:zlib';
import { ErrorCode, type Message, ProtocolError, expandNestedAdds, parseHeader } from '@cobrowse/protocol';
import { HistoryDecompressor } from '@cobrowse/protocol/decompress';
import { type Damage, type FileRecord, RecordKind, readRecords } from './format.js';

/** An rrweb event (`eventWithTime`) as the relay passes it on: type, timestamp, data. */
export interface RrwebEvent {
  type: number;
  timestamp: number;
  data: unknown;
  [key: string]: unknown;
}

const FULL_SNAPSHOT = 2;
const CUSTOM = 5;
/**
 * Largest batch a `z: 1` payload may inflate to (the customer's page is untrusted: a deflate bomb).
 * Inflated off the event loop (zlib's thread pool); a batch past it is skipped and still costs this
 * much of the decode's budget.
 */
export const MAX_BATCH_INFLATED_BYTES = 16 * 1024 * 1024;
/** Default of the whole decode's budget (config `recordings.maxEventsBytes`). */
export const DEFAULT_MAX_EVENTS_BYTES = 256 * 1024 * 1024;
/** Bytes decoded between two yields to the event loop. */
const YIELD_EVERY_BYTES = 1024 * 1024;

const inflate = promisify(inflateRaw) as (buffer: Buffer, options: { maxOutputLength: number }) => Promise<Buffer>;
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Tags of the custom events (rrweb type 5) the relay adds to a recording's events. */
export const CustomTag = {
  /** `{user, name, message, payload?}`: a frame an agent sent (pointer, highlight, control …). */
  Agent: 'cobrowse.agent',
  /** `{note: 'join'|'leave'|'recording'|…, role?, user?, name?}`: who came and went. */
  Note: 'cobrowse.note',
  /** `{url, mime, base64}`: an image, font or stylesheet the customer's browser captured. */
  Asset: 'cobrowse.asset',
  /** `{reason, offset}`: the file is damaged or cut short here; nothing after it could be read. Always last. */
  Truncated: 'cobrowse.truncated',
  /** `{reason}`: the session ended. */
  End: 'cobrowse.end',
} as const;

const text = new TextDecoder('utf-8', { fatal: false });

function custom(tag: string, timestamp: number, payload: unknown): RrwebEvent {
  return { type: CUSTOM, timestamp, data: { tag, payload } };
}

/** Largest header of an agent record: the agent's (at most 2 KiB) re-encoded with the identity the relay stamped. */
export const MAX_AGENT_RECORD_HEADER = 4096;

function splitFrame(frame: Buffer, maxHeader = 2048): { message: Message; payload: Buffer | undefined } {
  const nl = frame.indexOf(0x0a);
  const end = nl === -1 ? frame.length : nl;
  if (end > maxHeader) throw new ProtocolError(ErrorCode.BadFrame, 'header too long');
  return {
    message: parseHeader(frame.toString('utf8', 0, end)),
    payload: nl === -1 ? undefined : frame.subarray(nl + 1),
  };
}

function parseEvents(json: string): RrwebEvent[] {
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value)) throw new Error('events payload is not an array');
  for (const event of value) {
    if (
      typeof event !== 'object' ||
      event === null ||
      typeof (event as RrwebEvent).type !== 'number' ||
      typeof (event as RrwebEvent).timestamp !== 'number' ||
      !Number.isFinite((event as RrwebEvent).timestamp)
    )
      throw new Error('events payload holds something that is not an rrweb event');
  }
  return value as RrwebEvent[];
}

/**
 * A sliced snapshot's nested adds (see the protocol's nested-adds.ts) as rrweb's flat adds: the
 * events endpoint serves what plain rrweb-player takes. False for an event that cannot be expanded
 * (malformed, or past the replayer's default page limits): it is left out.
 */
function flatten(event: RrwebEvent): boolean {
  try {
    expandNestedAdds(event);
    return true;
  } catch {
    return false;
  }
}

/**
 * The customer's clock against the relay's, per page load (epoch): each batch reaches the relay
 * just after its last event, so `arrival - lastEvent` is the skew plus the network delay. The
 * first batch of an epoch sets the offset; a later batch that would place its events after their
 * own arrival lowers it (the customer's clock was closer than it looked).
 */
class Clock {
  private offset: number | undefined;
  map(events: RrwebEvent[], arrival: number): void {
    const last = events[events.length - 1]!.timestamp;
    if (this.offset === undefined || last + this.offset > arrival) this.offset = arrival - last;
    for (const event of events) event.timestamp = Math.round(event.timestamp + this.offset);
  }
}

/** State of one epoch's batches: which seq comes next and whether the compression history is whole. */
class EpochState {
  readonly history = new HistoryDecompressor();
  readonly clock = new Clock();
  lastSeq = 0;
  /** The history (and the page) can be rebuilt: a snapshot batch and no gap since. */
  whole = false;
  constructor(readonly epoch: string) {}
}

export interface DecodeResult {
  /** Set when the file is damaged or cut short, or its events exceed the budget: events end there. */
  damage?: Damage;
}

export interface DecodeOptions {
  /** The recording is being written now: a last record still on its way is not damage. */
  live?: boolean;
  /**
   * Bytes the decode may inflate and pass on in all (batches' JSON, assets, notes); past it the
   * events end with the {@link CustomTag.Truncated} flag. Default {@link DEFAULT_MAX_EVENTS_BYTES}.
   */
  maxBytes?: number;
}

/**
 * Turns a recording's records into rrweb events, sorted, on the relay's clock: the customer's
 * batches are inflated per epoch in order (a snapshot batch restarts the `z: 2` history; batches
 * after a gap wait for the next snapshot), agents' frames, joins and leaves and assets become
 * custom events. Nothing is emitted before the first full snapshot (a player needs one to start);
 * what came before it follows it. Never throws on the file's content: a damaged record ends the
 * events with a {@link CustomTag.Truncated} event, and so does the budget (`maxBytes`) running out.
 * Yields to the event loop every {@link YIELD_EVERY_BYTES}: a large recording never stalls the relay.
 */
export async function* decodeRecording(
  chunks: AsyncIterable<Uint8Array>,
  result: DecodeResult = {},
  { live = false, maxBytes = DEFAULT_MAX_EVENTS_BYTES }: DecodeOptions = {},
): AsyncGenerator<RrwebEvent> {
  /** Bytes inflated or passed on so far (the budget), and since the last yield. */
  let spent = 0;
  let sinceYield = 0;
  let epoch: EpochState | undefined;
  let started = false;
  let last = 0;
  let held: RrwebEvent[] = [];
  const emit = function* (events: RrwebEvent[]): Generator<RrwebEvent> {
    for (const event of events) {
      // One clock, never backwards: rrweb-player plays events in order.
      if (event.timestamp < last) event.timestamp = last;
      last = event.timestamp;
      yield event;
    }
  };
  const pass = function* (events: RrwebEvent[], snapshot: boolean): Generator<RrwebEvent> {
    if (!started && snapshot) {
      started = true;
      const first = events[0]!.timestamp;
      last = first;
      yield* emit(events);
      for (const event of held) event.timestamp = Math.max(event.timestamp, last);
      yield* emit(held);
      held = [];
      return;
    }
    if (!started) {
      if (events.every((e) => e.type === CUSTOM)) held.push(...events);
      return;
    }
    yield* emit(events);
  };

  const records = readRecords(chunks, (damage) => (result.damage = damage));
  for await (const record of records) {
    const before = spent;
    const events = await decodeRecord(record);
    if (spent > maxBytes) {
      result.damage = {
        reason: `the recording's events exceed the budget of one read (recordings.maxEventsBytes ${maxBytes})`,
        offset: record.offset,
      };
      break;
    }
    sinceYield += spent - before;
    if (sinceYield >= YIELD_EVERY_BYTES) {
      sinceYield = 0;
      await breathe();
    }
    if (!events || events.length === 0) continue;
    yield* pass(
      events,
      events.some((e) => e.type === FULL_SNAPSHOT),
    );
  }
  // The flag is an event, last in the array, so the JSON stays valid however the file ends.
  if (result.damage && live && result.damage.incomplete) result.damage = undefined;
  if (result.damage)
    yield* emit([custom(CustomTag.Truncated, last, { reason: result.damage.reason, offset: result.damage.offset })]);

  async function decodeRecord(record: FileRecord): Promise<RrwebEvent[] | undefined> {
    try {
      if (record.kind !== RecordKind.Recorder) spent += record.data.length;
      switch (record.kind) {
        case RecordKind.Recorder:
          return await recorderFrame(record.data.subarray(1), record.data[0] === 1, record.time);
        case RecordKind.Asset: {
          const { message, payload } = splitFrame(record.data);
          if (message.type !== 'asset' || !payload) return undefined;
          return [
            custom(CustomTag.Asset, record.time, {
              url: message.url,
              mime: message.mime,
              base64: payload.toString('base64'),
            }),
          ];
        }
        case RecordKind.Agent: {
          const length = record.data.readUInt16BE(0);
          const who = JSON.parse(record.data.toString('utf8', 2, 2 + length)) as { user?: string; name?: string };
          const binary = record.data[2 + length] === 1;
          const { message, payload } = splitFrame(record.data.subarray(3 + length), MAX_AGENT_RECORD_HEADER);
          return [
            custom(CustomTag.Agent, record.time, {
              user: who.user,
              name: who.name,
              message,
              ...(payload && !binary && payload.length <= 64 * 1024 ? { payload: text.decode(payload) } : {}),
            }),
          ];
        }
        case RecordKind.Note:
          return [custom(CustomTag.Note, record.time, JSON.parse(record.data.toString('utf8')))];
        case RecordKind.End:
          return [custom(CustomTag.End, record.time, JSON.parse(record.data.toString('utf8')))];
        default:
          return undefined; // Start, and kinds of later versions
      }
    } catch {
      // One malformed record (the customer's page is untrusted) is skipped, not the rest.
      return undefined;
    }
  }

  async function recorderFrame(frame: Buffer, binary: boolean, arrival: number): Promise<RrwebEvent[] | undefined> {
    const { message, payload } = splitFrame(frame);
    if (message.type !== 'events' || !payload) return undefined;
    if (!epoch || epoch.epoch !== message.epoch) epoch = new EpochState(message.epoch);
    const state = epoch;
    const snap = message.snap === true;
    if (snap) {
      state.history.reset();
      state.whole = true;
    } else if (message.seq !== state.lastSeq + 1) {
      state.whole = false; // a gap: nothing decodes until the next snapshot batch
    }
    state.lastSeq = message.seq;
    if (!state.whole) return undefined;
    const z = message.z ?? 0;
    let json: string;
    try {
      if (z === 0) json = payload.toString('utf8');
      else if (!binary) throw new Error('compressed payload in a text frame');
      else if (z === 2) json = state.history.decompress(payload);
      else {
        // A bomb costs the budget what it made the relay inflate before it was stopped.
        spent += MAX_BATCH_INFLATED_BYTES;
        const inflated = await inflate(payload, { maxOutputLength: MAX_BATCH_INFLATED_BYTES });
        spent -= MAX_BATCH_INFLATED_BYTES - inflated.length;
        json = inflated.toString('utf8');
      }
    } catch {
      if (z === 2) state.whole = false;
      return undefined;
    }
    if (z !== 1) spent += json.length;
    let events: RrwebEvent[];
    try {
      events = parseEvents(json).filter(flatten);
    } catch {
      return undefined;
    }
    if (events.length === 0) return undefined;
    state.clock.map(events, arrival);
    return events;
  }
}
