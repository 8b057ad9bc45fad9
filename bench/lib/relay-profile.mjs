// Reads a V8 .cpuprofile (node --cpu-prof) and sums self time per function: what `bench/load.mjs
// --profile` prints after a server's run, and what its JSON report keeps.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * Self time per function (name, file and line), largest first. `pct` is of every sample, `busyPct`
 * of the samples that were not `(idle)`: time spent inside a system call (a socket write) counts for
 * the JavaScript function that made it, time in V8's collector for `(garbage collector)`.
 */
export function selfTimes(profile, window = {}) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  // Sample i lasted timeDeltas[i + 1] (the last one: the mean).
  const deltas = profile.timeDeltas ?? [];
  const mean = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length);
  const micros = new Map();
  // Sample times are V8's monotonic clock in µs, the same clock as process.hrtime in any process.
  const from = window.fromUs ?? -Infinity;
  const to = window.toUs ?? Infinity;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += deltas[i] ?? 0;
    if (t < from || t >= to) continue;
    const id = profile.samples[i];
    const dt = i + 1 < deltas.length ? Math.max(0, deltas[i + 1]) : mean;
    micros.set(id, (micros.get(id) ?? 0) + dt);
  }
  const byFunction = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, us] of micros) {
    const { callFrame } = nodes.get(id);
    const name = callFrame.functionName || '(anonymous)';
    const where = callFrame.url ? `${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    total += us;
    if (name === '(idle)') idle += us;
    const entry = byFunction.get(key) ?? { name, where, ms: 0 };
    entry.ms += us / 1000;
    byFunction.set(key, entry);
  }
  const busy = Math.max(1, total - idle);
  return {
    totalMs: total / 1000,
    idleMs: idle / 1000,
    functions: [...byFunction.values()]
      .sort((a, b) => b.ms - a.ms)
      .map((f) => ({
        ...f,
        ms: Math.round(f.ms),
        pct: Math.round((f.ms * 1000 * 1000) / total) / 10,
        busyPct: f.name === '(idle)' ? null : Math.round((f.ms * 1000 * 1000) / busy) / 10,
      })),
  };
}

/** `node_modules/ws/lib/sender.js` rather than a whole file URL; node's own modules as `node:…`. */
function shortUrl(url) {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm !== -1) return path.slice(nm);
  const pkg = path.indexOf('/packages/');
  if (pkg !== -1) return path.slice(pkg + 1);
  return path.startsWith('node:') ? path : basename(path);
}

/** Now on the clock V8's profiles use (monotonic, µs): to give {@link summarizeProfile} a window. */
export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * The top `n` functions by self time of a .cpuprofile file, as markdown table rows and as data;
 * `window` ({@link monotonicUs} readings `fromUs`, `toUs`) keeps only the samples taken within it.
 */
export function summarizeProfile(file, n = 10, window = {}) {
  const summary = selfTimes(JSON.parse(readFileSync(file, 'utf8')), window);
  const top = summary.functions.filter((f) => f.name !== '(idle)').slice(0, n);
  const rows = [
    `| self time (% of busy) | function | where |`,
    `|---:|---|---|`,
    ...top.map((f) => `| ${f.busyPct.toFixed(1)} % (${f.ms} ms) | ${f.name} | ${f.where} |`),
  ];
  return {
    file,
    totalMs: Math.round(summary.totalMs),
    idlePct: Math.round((summary.idleMs / Math.max(1, summary.totalMs)) * 1000) / 10,
    top,
    markdown: rows.join('\n'),
  };
}
