// Load test helpers: a fixed-bin latency histogram (mergeable across worker processes) and
// readers for /proc/<pid>/stat, /proc/<pid>/status and /proc/stat.
import { readFileSync } from 'node:fs';

/** 10 µs bins up to 100 ms, then 1 ms bins up to 120 s; anything above lands in the last bin (max stays exact). */
const FINE_MS = 100;
const FINE_PER_MS = 100;
const FINE_BINS = FINE_MS * FINE_PER_MS;
const COARSE_BINS = 120_000 - FINE_MS;
const BINS = FINE_BINS + COARSE_BINS + 1;

export class Histogram {
  constructor() {
    this.bins = new Uint32Array(BINS);
    this.count = 0;
    this.max = -Infinity;
    this.min = Infinity;
    this.sum = 0;
  }

  add(ms) {
    if (ms < 0) ms = 0;
    const index =
      ms < FINE_MS ? Math.floor(ms * FINE_PER_MS) : Math.min(BINS - 1, FINE_BINS + Math.floor(ms - FINE_MS));
    this.bins[index]++;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
    if (ms < this.min) this.min = ms;
  }

  /** Sparse form for IPC: [index, count] pairs of the non-empty bins. */
  toJSON() {
    const pairs = [];
    for (let i = 0; i < BINS; i++) if (this.bins[i]) pairs.push(i, this.bins[i]);
    return { pairs, count: this.count, max: this.max, min: this.min, sum: this.sum };
  }

  merge(json) {
    for (let i = 0; i < json.pairs.length; i += 2) this.bins[json.pairs[i]] += json.pairs[i + 1];
    this.count += json.count;
    this.sum += json.sum;
    if (json.count) {
      this.max = Math.max(this.max, json.max);
      this.min = Math.min(this.min, json.min);
    }
  }

  /** Upper edge of the bin holding the nearest-rank percentile, capped by the exact max. */
  percentile(p) {
    if (!this.count) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BINS; i++) {
      seen += this.bins[i];
      if (seen >= rank) {
        const edge = i < FINE_BINS ? (i + 1) / FINE_PER_MS : FINE_MS + (i - FINE_BINS) + 1;
        return Math.min(edge, this.max);
      }
    }
    return this.max;
  }

  summary() {
    const r = (x) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 100) / 100);
    return {
      count: this.count,
      min: r(this.min),
      p50: r(this.percentile(50)),
      p90: r(this.percentile(90)),
      p99: r(this.percentile(99)),
      p999: r(this.percentile(99.9)),
      max: r(this.max),
      mean: r(this.count ? this.sum / this.count : null),
    };
  }
}

/** CPU ticks (utime + stime) of a process; undefined once it is gone. */
export function cpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** User and system CPU ticks of a process (all threads), apart. */
export function cpuTicksSplit(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]), system: Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** VmRSS and VmHWM (kernel-tracked peak RSS) of a process, in MiB. */
export function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => {
      const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
      return match ? Number(match[1]) / 1024 : undefined;
    };
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: undefined, hwm: undefined };
  }
}

/** Jiffies from /proc/stat, whole machine and per CPU: total, busy (all but idle, iowait and steal), steal. */
export function machineTicks() {
  const parse = (line) => {
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = v[3] + (v[4] ?? 0);
    const steal = v[7] ?? 0;
    // user + nice + system: time in processes; irq + softirq: the kernel's network stack on loopback, mostly.
    return { total, busy: total - idle - steal, steal, process: v[0] + v[1] + v[2], irq: (v[5] ?? 0) + (v[6] ?? 0) };
  };
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  return { ...parse(lines[0]), perCpu: lines.filter((l) => /^cpu\d/.test(l)).map(parse) };
}

export const CLK_TCK = 100;

export function round(x, digits = 1) {
  if (x === null || x === undefined || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * Bytes sitting in the kernel's TCP queues (from /proc/net/tcp) of the connections to a local port:
 * `toServer` = not yet read by the server (its receive queues + what clients could not send yet),
 * `fromServer` = sent by the server, not yet read by the clients.
 */
export function socketQueues(port) {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let toServer = 0;
  let fromServer = 0;
  let text;
  try {
    text = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || f[3] !== '01') continue; // ESTABLISHED only
    const [tx, rx] = f[4].split(':').map((h) => parseInt(h, 16));
    if (f[1].endsWith(`:${hexPort}`)) {
      toServer += rx;
      fromServer += tx;
    } else if (f[2].endsWith(`:${hexPort}`)) {
      toServer += tx;
      fromServer += rx;
    }
  }
  return {
    toServerMiB: Math.round((toServer / 1048576) * 10) / 10,
    fromServerMiB: Math.round((fromServer / 1048576) * 10) / 10,
  };
}
