/**
 * Fixed-size slabs for the rooms' catch-up caches, recycled across rooms. A cached batch is copied
 * into a slab instead of keeping the buffer it arrived in: the socket's read buffers then die young
 * (cheap for the garbage collector), and the cache's memory is allocated once, up to the node's
 * budget, and reused instead of piling up as old garbage between collections.
 */
export class SlabPool {
  private readonly idle: Buffer[] = [];
  /** Bytes of slabs allocated and not released: in rooms' caches or idle here. */
  allocatedBytes = 0;

  constructor(
    readonly slabBytes: number,
    /** Idle slabs kept for reuse, in bytes; past this, returned slabs are let go. */
    private readonly keepIdleBytes: number,
  ) {}

  take(): Buffer {
    const slab = this.idle.pop();
    if (slab) return slab;
    this.allocatedBytes += this.slabBytes;
    return Buffer.allocUnsafeSlow(this.slabBytes);
  }

  give(slab: Buffer): void {
    if ((this.idle.length + 1) * this.slabBytes <= this.keepIdleBytes) this.idle.push(slab);
    else this.allocatedBytes -= this.slabBytes;
  }
}

interface Entry {
  readonly seq: number;
  readonly binary: boolean;
  /** A slab (shared with neighbouring entries) or, for a batch larger than a slab, its own buffer. */
  readonly buffer: Buffer;
  readonly own: boolean;
  readonly offset: number;
  readonly length: number;
}

/** One room's cached batches, in order, packed into slabs taken from a shared pool. */
export class FrameCache {
  private entries: Entry[] = [];
  private slabs: Buffer[] = [];
  private slabUsed = 0;
  /** Bytes of the batches held (what the budget counts). */
  bytes = 0;

  constructor(private readonly pool: SlabPool) {}

  get length(): number {
    return this.entries.length;
  }

  get firstSeq(): number | undefined {
    return this.entries[0]?.seq;
  }

  push(seq: number, data: Buffer, binary: boolean): void {
    const size = data.length;
    this.bytes += size;
    if (size > this.pool.slabBytes) {
      // A big batch (a full snapshot) arrives in a buffer of its own: keep that one.
      const own = data.byteOffset === 0 && data.buffer.byteLength === size ? data : Buffer.from(data);
      this.entries.push({ seq, binary, buffer: own, own: true, offset: 0, length: size });
      return;
    }
    let slab = this.slabs[this.slabs.length - 1];
    if (!slab || this.slabUsed + size > slab.length) {
      slab = this.pool.take();
      this.slabs.push(slab);
      this.slabUsed = 0;
    }
    data.copy(slab, this.slabUsed);
    this.entries.push({ seq, binary, buffer: slab, own: false, offset: this.slabUsed, length: size });
    this.slabUsed += size;
  }

  /**
   * The batches from index `start` on, each as a buffer of its own: a slab goes back to the pool
   * when the cache is cleared, possibly while a socket still holds what was sent from it.
   */
  *from(start: number): Generator<{ data: Buffer; binary: boolean }> {
    for (let i = start; i < this.entries.length; i++) {
      const { buffer, own, offset, length, binary } = this.entries[i]!;
      const data = own ? buffer : Buffer.from(buffer.subarray(offset, offset + length));
      yield { data, binary };
    }
  }

  clear(): void {
    for (const slab of this.slabs) this.pool.give(slab);
    this.slabs = [];
    this.slabUsed = 0;
    this.entries = [];
    this.bytes = 0;
  }
}
