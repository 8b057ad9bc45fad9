import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** What the listing says about one recording (`GET /cobrowse/recordings`). */
export interface RecordingMeta {
  readonly id: string;
  readonly roomId: string;
  readonly tenant?: string;
  /** Connection-info dialect the session came through, when the relay knows it; otherwise null. */
  readonly dialect: string | null;
  /** Relay wall clock, ms since the epoch. */
  readonly startedAt: number;
  /** Undefined while the recording goes on (or when the relay died before ending it and no reader has looked since). */
  readonly endedAt?: number;
  readonly durationMs: number;
  /** Bytes of the recording file. */
  readonly bytes: number;
  /** Everyone who took part: the customer and the agents. */
  readonly participants: readonly Participant[];
  /** True when the file was found cut short or damaged (its events end at the damage). */
  readonly truncated?: boolean;
}

export interface Participant {
  readonly role: 'recorder' | 'replayer';
  readonly userId: string;
  readonly userName: string;
}

/** An open recording: bytes are only ever appended. */
export interface RecordingAppender {
  /** Appends bytes; resolves once they are handed to the storage (for a file: written, so a killed process keeps them). */
  append(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where recordings live. The relay writes through this interface only, so an operator can swap the
 * local directory for object storage (see docs/recordings.md): one append-only object of records
 * per recording plus a small JSON summary beside it. Ids reaching a store are already validated.
 */
export interface RecordingStore {
  /** Starts a new, empty recording. */
  create(id: string): Promise<RecordingAppender>;
  /** The recording's bytes from the start, as a stream; undefined when there is no such recording. */
  read(id: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Replaces the recording's summary. */
  writeMeta(id: string, meta: RecordingMeta): Promise<void>;
  /** The recording's summary, or undefined when it has none. */
  readMeta(id: string): Promise<RecordingMeta | undefined>;
  /** Every recording: id, size in bytes and when it was last written. */
  list(): Promise<{ id: string; bytes: number; modifiedAt: number }[]>;
  /** Deletes a recording and its summary; false when there was none. */
  delete(id: string): Promise<boolean>;
}

/** Recording ids: what the relay makes (base36 time, a dash, random base64url), and nothing that could be a path. */
export function validRecordingId(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{8,80}$/.test(value);
}

const DATA = '.cbrec';
const META = '.json';

/** The default store: `<dir>/<id>.cbrec` (the records) and `<dir>/<id>.json` (the summary). */
export class LocalDirStore implements RecordingStore {
  private ready: Promise<unknown> | undefined;

  constructor(readonly dir: string) {}

  private path(id: string, ext: string): string {
    if (!validRecordingId(id)) throw new Error('invalid recording id');
    return join(this.dir, id + ext);
  }

  private ensureDir(): Promise<unknown> {
    return (this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 }));
  }

  async create(id: string): Promise<RecordingAppender> {
    await this.ensureDir();
    const handle: FileHandle = await open(this.path(id, DATA), 'wx', 0o600);
    return {
      async append(bytes) {
        let done = 0;
        while (done < bytes.length) done += (await handle.write(bytes, done, bytes.length - done)).bytesWritten;
      },
      close: () => handle.close(),
    };
  }

  async read(id: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const path = this.path(id, DATA);
    try {
      await stat(path);
    } catch {
      return undefined;
    }
    return createReadStream(path, { highWaterMark: 256 * 1024 });
  }

  async writeMeta(id: string, meta: RecordingMeta): Promise<void> {
    await this.ensureDir();
    const path = this.path(id, META);
    // Written aside and renamed: a crash never leaves half a summary.
    await writeFile(`${path}.tmp`, JSON.stringify(meta), { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }

  async readMeta(id: string): Promise<RecordingMeta | undefined> {
    try {
      const value: unknown = JSON.parse(await readFile(this.path(id, META), 'utf8'));
      return typeof value === 'object' && value !== null ? (value as RecordingMeta) : undefined;
    } catch {
      return undefined;
    }
  }

  async list(): Promise<{ id: string; bytes: number; modifiedAt: number }[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: { id: string; bytes: number; modifiedAt: number }[] = [];
    for (const name of names) {
      if (!name.endsWith(DATA)) continue;
      const id = name.slice(0, -DATA.length);
      if (!validRecordingId(id)) continue;
      try {
        const info = await stat(join(this.dir, name));
        out.push({ id, bytes: info.size, modifiedAt: info.mtimeMs });
      } catch {
        // deleted meanwhile
      }
    }
    return out;
  }

  async delete(id: string): Promise<boolean> {
    const data = this.path(id, DATA);
    let existed = true;
    try {
      await stat(data);
    } catch {
      existed = false;
    }
    await rm(data, { force: true });
    await rm(this.path(id, META), { force: true });
    return existed;
  }
}
