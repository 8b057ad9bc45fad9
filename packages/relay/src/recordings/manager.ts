import { randomBytes } from 'node:crypto';
import { type Message, RecordingReason, encodeText } from '@cobrowse/protocol';
import type { Room, Peer } from '../room.js';
import type { ResolvedRecordings } from './config.js';
import { LocalDirStore, type RecordingMeta, type RecordingStore, validRecordingId } from './store.js';
import { RecordingWriter } from './writer.js';
import { RecordKind, readRecords, type Damage } from './format.js';
import { startRetention } from './retention.js';

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

  constructor(
    readonly config: ResolvedRecordings,
    private readonly log: (line: string) => void,
  ) {
    this.store = config.store ?? (config.dir ? new LocalDirStore(config.dir) : undefined);
    // Retention runs whenever there is a store, even with policy `off`: old recordings still age out.
    this.stopRetention = this.store
      ? startRetention(this.store, config.retentionDays, (id) => this.active.has(id), log)
      : () => undefined;
  }

  get enabled(): boolean {
    return this.store !== undefined && this.config.policy !== 'off';
  }

  /** A socket joined a room (after its welcome): policy `all` starts the room's recording; everyone is told. */
  joined(room: Room, peer: Peer, who: Who, dialect: string | null): void {
    if (!this.enabled) return;
    if (!room.tap && this.config.policy === 'all') this.start(room, who, dialect, RecordingReason.Policy);
    else if (room.tap) send(peer, { type: 'recording', on: true, reason: this.reasonOf(room) });
    room.tap?.note('join', { role: who.role, user: who.user, name: who.name });
  }

  left(room: Room, who: Who): void {
    room.tap?.note('leave', { role: who.role, user: who.user, name: who.name });
  }

  /** An agent's `recording` message: honoured under policy `requested`; the asker hears the state either way. */
  request(room: Room, peer: Peer, who: Who, on: boolean): void {
    if (this.config.policy === 'requested' && this.store) {
      if (on && !room.tap) {
        const writer = this.start(room, who, null, RecordingReason.Requested);
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
        room.tap.note('recording', { on: false, user: who.user, name: who.name });
        void room.tap.end(`recording stopped by ${who.name}`);
        room.tap = undefined;
        this.broadcast(room, { type: 'recording', on: false, reason: RecordingReason.Stopped });
        return;
      }
    }
    send(
      peer,
      room.tap
        ? { type: 'recording', on: true, reason: this.reasonOf(room) }
        : { type: 'recording', on: false, reason: RecordingReason.Unavailable },
    );
  }

  private reasonOf(room: Room): RecordingReason {
    return room.tap?.start.policy === 'requested' ? RecordingReason.Requested : RecordingReason.Policy;
  }

  private start(room: Room, who: Who, dialect: string | null, reason: RecordingReason): RecordingWriter {
    const [tenant, roomId] = room.id.includes('/') ? room.id.split('/', 2) : [undefined, room.id];
    const writer = new RecordingWriter(
      this.store!,
      { id: newRecordingId(), roomId: roomId!, ...(tenant ? { tenant } : {}), dialect, policy: this.config.policy },
      this.log,
      (done) => {
        if (this.active.get(done.id) === done) this.active.delete(done.id);
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
    return this.store.delete(id);
  }

  isActive(id: string): boolean {
    return this.active.has(id);
  }

  /** Ends every recording (relay shutting down). */
  async close(): Promise<void> {
    this.stopRetention();
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
