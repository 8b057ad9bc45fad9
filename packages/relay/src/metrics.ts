import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';

/**
 * The relay's own tallies, kept as plain numbers: the hot path only increments them (no label
 * lookups, no allocation); prom-client reads them when `/metrics` is scraped.
 */
export class Traffic {
  /** Frames received from customers' (recorders') and agents' (replayers') sockets, and their bytes. */
  recorderMessagesIn = 0;
  recorderBytesIn = 0;
  replayerMessagesIn = 0;
  replayerBytesIn = 0;
  /** Batches and assets sent to agents (live fan-out and catch-up), and their bytes. */
  messagesOut = 0;
  bytesOut = 0;
  /** Recorder frames seen: one in {@link FANOUT_SAMPLE} is timed for the fan-out histogram. */
  sampled = 0;
  /** Fan-out times not yet handed to the histogram, seconds: flushed when full and on each scrape. */
  readonly fanout = new Float64Array(1024);
  fanoutCount = 0;
  /** Where full buffers go: the histogram once `/metrics` was first scraped (before that they are dropped). */
  fanoutSink: ((seconds: Float64Array, count: number) => void) | undefined;
  /** Refusals: "kind code" → count (upgrade and HTTP statuses, socket close codes). Never per frame. */
  readonly refusals = new Map<string, number>();

  /** Starts timing a recorder frame when it is one of the sampled ones; returns 0 otherwise. */
  sampleStart(): number {
    return (++this.sampled & (FANOUT_SAMPLE - 1)) === 0 ? performance.now() : 0;
  }

  /** A sampled frame's fan-out is queued (its last send done). */
  observeFanout(start: number): void {
    this.fanout[this.fanoutCount++] = (performance.now() - start) / 1000;
    if (this.fanoutCount === this.fanout.length) this.flushFanout();
  }

  flushFanout(): void {
    this.fanoutSink?.(this.fanout, this.fanoutCount);
    this.fanoutCount = 0;
  }

  refused(kind: 'upgrade' | 'http' | 'socket', code: number): void {
    const key = `${kind} ${code}`;
    this.refusals.set(key, (this.refusals.get(key) ?? 0) + 1);
  }
}

/** One recorder frame in this many is timed (a power of two). */
export const FANOUT_SAMPLE = 8;

/** What the metrics read from the relay when scraped. */
export interface MetricSources {
  traffic: Traffic;
  rooms: () => number;
  sockets: () => { recorder: number; replayer: number };
  cacheBytes: () => number;
  cacheSlabBytes: () => number;
  /** Whether the node takes new rooms (1) or not (0), as `/readyz` says. */
  ready: () => boolean;
}

/**
 * The relay's Prometheus metrics, in a registry of its own (many relays may share a process).
 * Built on the first scrape (prom-client is loaded then), so a relay nobody scrapes pays nothing,
 * not even the default process metrics' collectors. Later modules (a cluster's Redis state) add
 * their own gauges through {@link extend}.
 */
export class Metrics {
  private built: Registry | undefined;
  private building: Promise<Registry> | undefined;
  private readonly extensions: ((registry: Registry) => void)[] = [];

  constructor(private readonly sources: MetricSources) {}

  /** Adds metrics of another module to this relay's registry (now, or when it is built). */
  extend(add: (registry: Registry) => void): void {
    this.extensions.push(add);
    if (this.built) add(this.built);
  }

  /** The metrics in Prometheus text format, and its content type. */
  async render(): Promise<{ body: string; contentType: string }> {
    const registry = await (this.building ??= this.build());
    return { body: await registry.metrics(), contentType: registry.contentType };
  }

  private async build(): Promise<Registry> {
    const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = await import('prom-client');
    const registry = new Registry();
    const registers = [registry];
    const { traffic, rooms, sockets, cacheBytes, cacheSlabBytes, ready } = this.sources;
    collectDefaultMetrics({ register: registry });
    new Gauge({
      name: 'cobrowse_rooms',
      help: 'Rooms this relay holds (live, or empty within their grace period).',
      registers,
      collect() {
        this.set(rooms());
      },
    });
    new Gauge({
      name: 'cobrowse_sockets',
      help: 'Open WebSocket connections, by role (recorder = customer, replayer = agent).',
      labelNames: ['role'],
      registers,
      collect() {
        const now = sockets();
        this.set({ role: 'recorder' }, now.recorder);
        this.set({ role: 'replayer' }, now.replayer);
      },
    });
    new Counter({
      name: 'cobrowse_messages_received_total',
      help: 'WebSocket messages received, by the sender role.',
      labelNames: ['role'],
      registers,
      collect() {
        this.reset();
        this.inc({ role: 'recorder' }, traffic.recorderMessagesIn);
        this.inc({ role: 'replayer' }, traffic.replayerMessagesIn);
      },
    });
    new Counter({
      name: 'cobrowse_bytes_received_total',
      help: 'WebSocket message payload bytes received, by the sender role.',
      labelNames: ['role'],
      registers,
      collect() {
        this.reset();
        this.inc({ role: 'recorder' }, traffic.recorderBytesIn);
        this.inc({ role: 'replayer' }, traffic.replayerBytesIn);
      },
    });
    new Counter({
      name: 'cobrowse_messages_sent_total',
      help: "Recorder batches and assets sent to agents' sockets (live fan-out and late-join catch-up).",
      registers,
      collect() {
        this.reset();
        this.inc(traffic.messagesOut);
      },
    });
    new Counter({
      name: 'cobrowse_bytes_sent_total',
      help: "Payload bytes of the batches and assets sent to agents' sockets.",
      registers,
      collect() {
        this.reset();
        this.inc(traffic.bytesOut);
      },
    });
    const fanout = new Histogram({
      name: 'cobrowse_fanout_seconds',
      help: `Time from a recorder's frame arriving to its last send to the room's agents being queued (one frame in ${FANOUT_SAMPLE} is timed).`,
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers,
      collect() {
        traffic.flushFanout();
      },
    });
    traffic.fanoutSink = (seconds, count) => {
      for (let i = 0; i < count; i++) fanout.observe(seconds[i]!);
    };
    new Counter({
      name: 'cobrowse_refusals_total',
      help: 'Refusals by kind and code: refused WebSocket upgrades and HTTP requests (status), sockets the relay closed (close code).',
      labelNames: ['kind', 'code'],
      registers,
      collect() {
        this.reset();
        for (const [key, count] of traffic.refusals) {
          const [kind, code] = key.split(' ');
          this.inc({ kind: kind!, code: code! }, count);
        }
      },
    });
    new Gauge({
      name: 'cobrowse_cache_bytes',
      help: "Bytes of the rooms' late-join catch-up caches and stored assets.",
      registers,
      collect() {
        this.set(cacheBytes());
      },
    });
    new Gauge({
      name: 'cobrowse_cache_slab_bytes',
      help: "Memory the catch-up caches' slab pool holds (in rooms' caches or idle for reuse).",
      registers,
      collect() {
        this.set(cacheSlabBytes());
      },
    });
    new Gauge({
      name: 'cobrowse_ready',
      help: 'Whether this relay takes new rooms (1) or not (0), as /readyz answers.',
      registers,
      collect() {
        this.set(ready() ? 1 : 0);
      },
    });
    for (const add of this.extensions) add(registry);
    this.built = registry;
    return registry;
  }
}
