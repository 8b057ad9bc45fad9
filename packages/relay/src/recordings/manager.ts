import { randomBytes } from 'node:crypto';
import { type Message, RecordingReason, encodeText } from '@cobrowse/protocol';
import type { Room, Peer } from '../room.js';
import type { ResolvedRecordings } from './config.js';
import { LocalDirStore, type RecordingMeta, type RecordingStore, validRecordingId } from './store.js';
import { RecordingWriter } from './writer.js';
import { RecordKind, readRecords, type Damage } from './format.js';
import { startRetention } from './retention.js';
import { TokenBucket } from '../limiter.js';

/** A room's recording is switched on at most once per this many ms after its last change; extra asks hear the state. */
export const RECORDING_TOGGLE_MS = 5_000;
/** `recording` messages one agent may send per second (burst 5); past it they are dropped unanswered. */
const RECORDING_ASKS_PER_S = 1;
/** How often the store's size is re-read for `recordings.maxStoreBytes`. */
const STORE_SIZE_MS = 60_000;

export interface Who {
  readonly user: string;
  readonly name: string;
  readonly role: 'recorder' | 'replayer';
}

/** A new recording id: base36 time (ids sort by start) and 12 random bytes. */
export function newRecordingId(): string {
  return `${Date.now().toString(36)}-${randomBytes(12).toString('base64url')}`;
}

function send(peer: Peer | undefined, message: Message): void {
  if (peer && peer.socket.readyState === peer.socket.OPEN) peer.socket.send(encodeText(message));
}

/**
 * The relay's recordings: decides which rooms are recorded (the policy), starts and ends their
 * writers, tells everyone in a recorded room, and answers the HTTP routes' questions.
 */
export class Recordings {
  readonly store: RecordingStore | undefined;
  /** Recordings being written, by id. */
  private readonly active = new Map<string, RecordingWriter>();
  private readonly stopRetention: () => void;
  /** Bytes of the stored recordings not being written, as last listed (for `maxStoreBytes`). */
  private storedBytes = 0;
  private storeFullLogged = false;
  private readonly sizeTimer: NodeJS.Timeout | undefined;
  /** When each room's recording last changed state by an agent's ask. */
  private readonly toggledAt = new WeakMap<Room, number>();
  private readonly asks = new WeakMap<Peer, TokenBucket>();

  constructor(
    readonly config: ResolvedRecordings,
    private readonly log: (line: string) => void,
  ) {
    this.store = config.store ?? (config.dir ? new LocalDirStore(config.dir) : undefined);
    // Retention runs whenever there is a store, even with policy `off`: old recordings still age out.
    this.stopRetention = this.store
      ? startRetention(this.store, config.retentionDays, (id) => this.active.has(id), log)
      : () => undefined;
    if (this.store) {
      void this.refreshStoreSize();
      this.sizeTimer = setInterval(() => void this.refreshStoreSize(), STORE_SIZE_MS);
      this.sizeTimer.unref();
    }
  }

  private async refreshStoreSize(): Promise<void> {
    try {
      let total = 0;
      for (const entry of (await this.store?.list()) ?? []) if (!this.active.has(entry.id)) total += entry.bytes;
      this.storedBytes = total;
    } catch {
      // the store could not be listed: the last figure stands
    }
  }

  /** Bytes the store holds (listed) plus the recordings being written. */
  private storeBytes(): number {
    let total = this.storedBytes;
    for (const writer of this.active.values()) total += writer.meta().bytes;
    return total;
  }

  /** Whether a room's recording is on (not paused, stopped or ended). */
  private on(room: Room): boolean {
    return room.tap?.recording === true;
  }

  get enabled(): boolean {
    return this.store !== undefined && this.config.policy !== 'off';
  }

  /** A socket joined a room (after its welcome): policy `all` starts the room's recording; everyone is told. */
  joined(room: Room, peer: Peer, who: Who, dialect: string | null): void {
    if (!this.enabled) return;
    if (!room.tap && this.config.policy === 'all') {
      if (!this.start(room, who, dialect, RecordingReason.Policy))
        send(peer, { type: 'recording', on: false, reason: RecordingReason.Unavailable });
    } else if (this.on(room)) send(peer, { type: 'recording', on: true, reason: this.reasonOf(room) });
    else if (room.tap && room.tap.truncated)
      send(peer, { type: 'recording', on: false, reason: RecordingReason.Unavailable });
    room.tap?.note('join', { role: who.role, user: who.user, name: who.name });
  }

  left(room: Room, who: Who): void {
    room.tap?.note('leave', { role: who.role, user: who.user, name: who.name });
  }

  /**
   * An agent's `recording` message: honoured under policy `requested`; the asker hears the state either way.
   * Rate-limited: an agent's asks past {@link RECORDING_ASKS_PER_S} are dropped, and a room changes
   * state at most once per {@link RECORDING_TOGGLE_MS} (other asks hear the current state). "Off"
   * pauses the room's recording and "on" resumes the same one: one file per co-browse session.
   */
  request(room: Room, peer: Peer, who: Who, on: boolean): void {
    let asks = this.asks.get(peer);
    if (!asks) this.asks.set(peer, (asks = new TokenBucket(RECORDING_ASKS_PER_S, 5)));
    if (!asks.take(1)) return;
    if (this.config.policy === 'requested' && this.store && on !== this.on(room)) {
      const now = Date.now();
      // "Off" is honoured at once; "on" waits out the room's interval (so at most one on and one off per interval).
      const recent = on && now - (this.toggledAt.get(room) ?? -Infinity) < RECORDING_TOGGLE_MS;
      if (!recent) {
        if (on && room.tap?.paused && !room.tap.ending) {
          this.toggledAt.set(room, now);
          const writer = room.tap;
          writer.paused = false;
          writer.note('recording', { on: true, user: who.user, name: who.name });
          this.broadcast(room, { type: 'recording', on: true, reason: RecordingReason.Requested });
          room.requestSnapshot('recording');
          return;
        }
        if (on && !room.tap) {
          this.toggledAt.set(room, now);
          const writer = this.start(room, who, null, RecordingReason.Requested);
          if (!writer) return send(peer, { type: 'recording', on: false, reason: RecordingReason.Unavailable });
          writer.note('join', { role: who.role, user: who.user, name: who.name });
          for (const other of [room.recorder, ...room.replayers])
            if (other && other !== peer)
              writer.note('join', {
                role: other === room.recorder ? 'recorder' : 'replayer',
                user: other.user,
                name: '',
              });
          // The recording needs a full snapshot to start from.
          room.requestSnapshot('recording');
          return;
        }
        if (!on && room.tap) {
          this.toggledAt.set(room, now);
          room.tap.note('recording', { on: false, user: who.user, name: who.name });
          room.tap.paused = true; // resumed by the next "on"; ended with the room
          this.broadcast(room, { type: 'recording', on: false, reason: RecordingReason.Stopped });
          return;
        }
      }
    }
    send(
      peer,
      this.on(room)
        ? { type: 'recording', on: true, reason: this.reasonOf(room) }
        : {
            type: 'recording',
            on: false,
            reason: room.tap?.paused ? RecordingReason.Stopped : RecordingReason.Unavailable,
          },
    );
  }

  private reasonOf(room: Room): RecordingReason {
    return room.tap?.start.policy === 'requested' ? RecordingReason.Requested : RecordingReason.Policy;
  }

  /** Starts a room's recording; undefined (and logged) when the store is past `maxStoreBytes`. */
  private start(room: Room, who: Who, dialect: string | null, reason: RecordingReason): RecordingWriter | undefined {
    if (this.storeBytes() >= this.config.maxStoreBytes) {
      if (!this.storeFullLogged)
        this.log(
          `relay: recordings: the store holds ${this.storeBytes()} bytes, past recordings.maxStoreBytes ` +
            `(${this.config.maxStoreBytes}): no new recording starts until retention or an operator frees space`,
        );
      this.storeFullLogged = true;
      return undefined;
    }
    this.storeFullLogged = false;
    const [tenant, roomId] = room.id.includes('/') ? room.id.split('/', 2) : [undefined, room.id];
    const writer = new RecordingWriter(
      this.store!,
      { id: newRecordingId(), roomId: roomId!, ...(tenant ? { tenant } : {}), dialect, policy: this.config.policy },
      this.log,
      (done) => {
        if (this.active.get(done.id) === done) {
          this.active.delete(done.id);
          this.storedBytes += done.meta().bytes;
        }
      },
      { maxBytes: this.config.maxBytes },
      // Stopped early (size budget, storage): everyone in the room hears the recording is off.
      (stopped) => {
        if (room.tap === stopped)
          this.broadcast(room, { type: 'recording', on: false, reason: RecordingReason.Unavailable });
      },
    );
    this.active.set(writer.id, writer);
    room.tap = writer;
    if (reason === RecordingReason.Requested) writer.note('recording', { on: true, user: who.user, name: who.name });
    this.broadcast(room, { type: 'recording', on: true, reason });
    return writer;
  }

  private broadcast(room: Room, message: Message): void {
    send(room.recorder, message);
    for (const peer of room.replayers) send(peer, message);
  }

  /** Every recording's summary, newest first. */
  async list(): Promise<RecordingMeta[]> {
    if (!this.store) return [];
    const out: RecordingMeta[] = [];
    for (const entry of await this.store.list()) {
      const meta = await this.meta(entry.id, entry.bytes);
      if (meta) out.push(meta);
    }
    return out.sort((a, b) => b.startedAt - a.startedAt);
  }

  /** One recording's summary; undefined when unknown. A recording its relay never ended is summarised from its file. */
  async meta(id: string, bytes?: number): Promise<RecordingMeta | undefined> {
    if (!this.store || !validRecordingId(id)) return undefined;
    const writer = this.active.get(id);
    if (writer) return writer.meta();
    const stored = await this.store.readMeta(id);
    if (stored?.endedAt !== undefined) return bytes === undefined ? stored : { ...stored, bytes };
    const chunks = await this.store.read(id);
    if (!chunks) return undefined;
    const meta = await summarise(id, chunks, stored);
    if (meta) await this.store.writeMeta(id, meta).catch(() => undefined);
    return meta;
  }

  /** Deletes a recording (ending it first when it is being written); false when unknown. */
  async delete(id: string): Promise<boolean> {
    if (!this.store || !validRecordingId(id)) return false;
    const writer = this.active.get(id);
    if (writer) await writer.end('recording deleted by the operator');
    const deleted = await this.store.delete(id);
    void this.refreshStoreSize();
    return deleted;
  }

  isActive(id: string): boolean {
    return this.active.has(id);
  }

  /** Ends every recording (relay shutting down). */
  async close(): Promise<void> {
    this.stopRetention();
    if (this.sizeTimer) clearInterval(this.sizeTimer);
    await Promise.all([...this.active.values()].map((writer) => writer.end('the relay shut down')));
  }
}

/** Summary of a recording whose relay died before ending it: read from its records. */
async function summarise(
  id: string,
  chunks: AsyncIterable<Uint8Array>,
  stored: RecordingMeta | undefined,
): Promise<RecordingMeta | undefined> {
  let damage: Damage | undefined;
  let start: Record<string, unknown> | undefined;
  let last = 0;
  let bytes = 0;
  const participants = new Map<string, { role: 'recorder' | 'replayer'; userId: string; userName: string }>();
  for await (const record of readRecords(chunks, (d) => (damage = d))) {
    last = record.time;
    bytes = record.offset + 17 + record.data.length;
    try {
      if (record.kind === RecordKind.Start) start = JSON.parse(record.data.toString('utf8'));
      else if (record.kind === RecordKind.Note) {
        const note = JSON.parse(record.data.toString('utf8')) as Record<string, unknown>;
        if (note.note === 'join' && typeof note.user === 'string') {
          const role = note.role === 'recorder' ? 'recorder' : 'replayer';
          participants.set(`${role}\n${note.user}`, { role, userId: note.user, userName: String(note.name ?? '') });
        }
      }
    } catch {
      // a malformed note is skipped
    }
  }
  const startedAt = typeof start?.startedAt === 'number' ? start.startedAt : stored?.startedAt;
  if (startedAt === undefined) return undefined;
  const dialect = typeof start?.dialect === 'string' ? start.dialect : null;
  return {
    id,
    roomId: typeof start?.roomId === 'string' ? start.roomId : (stored?.roomId ?? ''),
    ...(typeof start?.tenant === 'string' ? { tenant: start.tenant } : {}),
    dialect,
    startedAt,
    endedAt: Math.max(last, startedAt),
    durationMs: Math.max(0, last - startedAt),
    bytes: damage ? damage.offset : bytes,
    participants: [...participants.values()],
    ...(damage ? { truncated: true } : {}),
  };
}
