import { MAGIC, RecordKind, encodeRecord, jsonRecord } from './format.js';
import type { Participant, RecordingAppender, RecordingMeta, RecordingStore } from './store.js';

/** Records are written at least this often while they arrive: a killed relay loses at most this much. */
export const FLUSH_MS = 500;
/** …or as soon as this many bytes wait. */
const FLUSH_BYTES = 256 * 1024;
/** Bytes waiting for a slow storage past which the recording stops (and says so in the log). */
const MAX_UNWRITTEN_BYTES = 64 * 1024 * 1024;

export interface RecordingStart {
  readonly id: string;
  readonly roomId: string;
  readonly tenant?: string;
  readonly dialect: string | null;
  readonly policy: string;
}

export interface WriterLimits {
  /** Bytes of one recording past which it stops (flagged truncated). */
  readonly maxBytes: number;
}

/** Why a recording stopped before its session ended. */
export type StopCause = 'size' | 'storage';

const FLAGS = [Buffer.from([0]), Buffer.from([1])] as const;
const ONE = (flag: boolean) => FLAGS[flag ? 1 : 0];

/**
 * One room's recording on its way to the store: records are kept in memory for at most
 * {@link FLUSH_MS} and then appended in one write, in order. Never throws into the room: a
 * storage failure is logged once and the recording stops (the session goes on).
 */
export class RecordingWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown>;
  private appender: RecordingAppender | undefined;
  private failed = false;
  private ended = false;
  /** Stopped before the session ended (size budget, slow or failing storage): flagged truncated. */
  private stopped = false;
  /** Paused by an agent (policy `requested`): frames are not recorded until it resumes. */
  paused = false;
  /** Bytes handed to the storage and not yet written. */
  private unwritten = 0;
  private endedAt: number | undefined;
  private bytes = MAGIC.length;
  private readonly startedAt = Date.now();
  private readonly participants = new Map<string, Participant>();

  constructor(
    private readonly store: RecordingStore,
    readonly start: RecordingStart,
    private readonly log: (line: string) => void,
    private readonly onClosed: (writer: RecordingWriter) => void = () => undefined,
    private readonly limits: WriterLimits = { maxBytes: Number.MAX_SAFE_INTEGER },
    /** Told once when the recording stops before its session ends (the room is then told it is off). */
    private readonly onStopped: (writer: RecordingWriter, cause: StopCause) => void = () => undefined,
  ) {
    this.chain = store
      .create(start.id)
      .then((appender) => {
        this.appender = appender;
        return this.writeMeta();
      })
      .catch((error) => this.fail(error));
    this.push(MAGIC);
    this.push(jsonRecord(RecordKind.Start, this.startedAt, { v: 1, ...start, startedAt: this.startedAt }));
  }

  get id(): string {
    return this.start.id;
  }

  /** Whether frames are being recorded now (not paused, stopped or ended). */
  get recording(): boolean {
    return !this.paused && !this.stopped && !this.ended && !this.failed;
  }

  /** A customer's frame (events), exactly as received. */
  recorderFrame(data: Buffer, binary: boolean): void {
    if (this.paused) return;
    this.push(encodeRecord(RecordKind.Recorder, Date.now(), [ONE(binary), data]));
  }

  /** A customer's asset frame, exactly as received. */
  asset(data: Buffer): void {
    if (this.paused) return;
    this.push(encodeRecord(RecordKind.Asset, Date.now(), [data]));
  }

  /** A frame of an agent's the relay accepted (re-encoded by the relay), with who sent it (from the token). */
  agentFrame(user: string, name: string, data: Buffer, binary: boolean): void {
    if (this.paused) return;
    const who = Buffer.from(JSON.stringify({ user, name }), 'utf8');
    const length = Buffer.allocUnsafe(2);
    length.writeUInt16BE(Math.min(who.length, 0xffff));
    this.push(encodeRecord(RecordKind.Agent, Date.now(), [length, who.subarray(0, 0xffff), ONE(binary), data]));
  }

  /** Someone joined or left, or the recording state changed. */
  note(note: string, fields: Record<string, unknown> = {}): void {
    if (note === 'join' && typeof fields.user === 'string') {
      const role = fields.role === 'recorder' ? 'recorder' : 'replayer';
      const key = `${role}\n${fields.user}`;
      if (!this.participants.has(key))
        this.participants.set(key, { role, userId: fields.user, userName: String(fields.name ?? '') });
    }
    this.push(jsonRecord(RecordKind.Note, Date.now(), { note, ...fields }));
  }

  /** Ends the recording (idempotent): last records written, summary completed. */
  end(reason: string): Promise<void> {
    if (this.ended) return this.chain.then(() => undefined);
    this.push(jsonRecord(RecordKind.End, Date.now(), { reason }), true);
    this.ended = true;
    this.flush();
    const endedAt = Date.now();
    this.endedAt = endedAt;
    this.chain = this.chain
      .then(() => this.writeMeta(endedAt))
      .then(() => this.appender?.close())
      .catch((error) => this.fail(error))
      .finally(() => this.onClosed(this));
    return this.chain.then(() => undefined);
  }

  get ending(): boolean {
    return this.ended;
  }

  /** Summary as it stands (endedAt once ended). */
  meta(endedAt = this.endedAt): RecordingMeta {
    return {
      id: this.start.id,
      roomId: this.start.roomId,
      ...(this.start.tenant ? { tenant: this.start.tenant } : {}),
      dialect: this.start.dialect,
      startedAt: this.startedAt,
      ...(endedAt !== undefined ? { endedAt } : {}),
      durationMs: (endedAt ?? Date.now()) - this.startedAt,
      bytes: this.bytes,
      participants: [...this.participants.values()],
      ...(this.stopped ? { truncated: true } : {}),
    };
  }

  /** Whether it stopped before its session ended. */
  get truncated(): boolean {
    return this.stopped;
  }

  private writeMeta(endedAt?: number): Promise<void> {
    // After a storage failure the summary is still tried (it says "truncated"); its failure is only logged.
    if (this.failed) return this.store.writeMeta(this.start.id, this.meta(endedAt)).catch(() => undefined);
    return this.store.writeMeta(this.start.id, this.meta(endedAt));
  }

  /** O(1): a record is queued, or the recording stops when a budget would be exceeded. */
  private push(record: Buffer, last = false): void {
    if (this.failed || this.ended) return;
    if (!last) {
      if (this.stopped) return;
      // Storage far behind (a stalled disk or bucket): stop recording rather than fill the memory.
      if (this.unwritten > MAX_UNWRITTEN_BYTES) return this.stop('storage', 'the storage is too slow to keep up');
      if (this.bytes + record.length > this.limits.maxBytes)
        return this.stop('size', `it reached its size limit (recordings.maxBytes ${this.limits.maxBytes})`);
    }
    this.pending.push(record);
    this.pendingBytes += record.length;
    this.bytes += record.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0 || this.failed) return;
    const bytes = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.unwritten += bytes.length;
    this.chain = this.chain
      .then(() => (this.failed ? undefined : this.appender?.append(bytes)))
      .catch((error) => this.fail(error))
      .finally(() => (this.unwritten -= bytes.length));
  }

  /** Stops recording before the session ends: the end record and a summary flagged truncated are written, the room told. */
  private stop(cause: StopCause, why: string): void {
    if (this.stopped || this.ended) return;
    this.stopped = true;
    this.log(`relay: recording ${this.start.id} stopped: ${why}`);
    this.onStopped(this, cause);
    void this.end(`recording stopped: ${why}`);
  }

  private fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.pending = [];
    if (this.timer) clearTimeout(this.timer);
    const why = (error as Error)?.message ?? String(error);
    if (this.stopped || this.ended) return this.log(`relay: recording ${this.start.id} stopped: ${why}`);
    this.stopped = true;
    this.log(`relay: recording ${this.start.id} stopped: ${why}`);
    this.onStopped(this, 'storage');
    // The summary says so now (if the store still takes it), not only when the session ends.
    this.chain = this.chain.then(() => this.writeMeta());
  }
}
