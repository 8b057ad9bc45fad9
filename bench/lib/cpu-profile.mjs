// Reading Chromium CPU profiles (CDP Profiler) of an agent page's join: main-thread self time per
// phase window, by function (minified positions in our script-tag bundle mapped through its source
// map) or by bucket (rrweb, the SDK, DOM calls, GC, idle…). Used by bench/run.mjs (row 4's profile
// summary) and bench/join-profile.mjs.
import { existsSync, readFileSync } from 'node:fs';
import { REPO } from '../../test-support/processes.mjs';

/** source-map-js comes with rrweb's postcss (not a dependency of ours): without it, frames keep their minified names. */
const { SourceMapConsumer } = await import('source-map-js').catch(() => ({}));

/** The windows of a join, in ms after join() (ours) / new WebSocket (naive); naive has no connection-info window. */
export const PHASES = [
  'join → connection info',
  'connection info → socket open',
  'socket open → last frame in',
  'last frame in → rendered',
];

let replayerMap;
/** Where a frame of our script-tag bundle comes from: `{source, line, name}`, or undefined. */
function original(callFrame) {
  if (!callFrame.url.includes('/sdk/replayer.js')) return undefined;
  if (replayerMap === undefined) {
    const file = `${REPO}/packages/relay/sdk/replayer.iife.js.map`;
    replayerMap =
      SourceMapConsumer && existsSync(file) ? new SourceMapConsumer(JSON.parse(readFileSync(file, 'utf8'))) : null;
  }
  if (!replayerMap) return undefined;
  const pos = replayerMap.originalPositionFor({ line: callFrame.lineNumber + 1, column: callFrame.columnNumber });
  if (!pos.source) return undefined;
  return { source: pos.source, line: pos.line, name: pos.name ?? callFrame.functionName };
}

/** `name file:line` of a frame, through the source map for our bundle. */
export function functionKey(callFrame) {
  const at = original(callFrame);
  if (at) return `${at.name} ${at.source.replace(/^.*node_modules\//, '').replace(/^.*packages\//, '')}:${at.line}`;
  const file = callFrame.url.split('?')[0].split('/').pop() || callFrame.url;
  return `${callFrame.functionName || '(anonymous)'}${file ? ` ${file}:${callFrame.lineNumber + 1}` : ''}`;
}

/** A coarse bucket for a frame: idle, GC, other (style, layout, parsing: V8's "(program)"), DOM, rrweb, sdk, page. */
export function bucketKey(callFrame) {
  const name = callFrame.functionName;
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)') return 'other';
  if (!callFrame.url) return 'DOM and natives';
  if (/rrweb/.test(callFrame.url)) return 'rrweb';
  const at = original(callFrame);
  if (at) return /rrweb/.test(at.source) ? 'rrweb' : 'SDK';
  return 'page';
}

/**
 * Self time (ms) by key per window of `windows` ([name, fromMs, toMs] after the clock start),
 * aligned on the first sample inside the bench page's `bench.join` (where the clock starts).
 */
export function selfTimes(profile, keyOf, windows) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inJoin = (id) => {
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const cf = byId.get(at).callFrame;
      if (/^(bench\.)?join$/.test(cf.functionName) && cf.url.includes('bench.js')) return true;
    }
    return false;
  };
  let t = profile.startTime;
  const times = profile.timeDeltas.map((d) => (t += d));
  const anchorIndex = profile.samples.findIndex((id) => inJoin(id));
  const anchor = anchorIndex === -1 ? profile.startTime : times[anchorIndex];
  const totals = new Map(windows.map(([name]) => [name, new Map()]));
  profile.samples.forEach((id, i) => {
    const dt = ((times[i + 1] ?? times[i]) - times[i]) / 1000;
    const ms = (times[i] - anchor) / 1000;
    const w = windows.find(([, from, to]) => ms >= from && ms < to);
    if (!w) return;
    const map = totals.get(w[0]);
    const key = keyOf(byId.get(id).callFrame);
    map.set(key, (map.get(key) ?? 0) + dt);
  });
  return totals;
}

/**
 * Phase windows from a join's marks (ms after the clock start; see bench/pages/bench.js), on the
 * profile's time line, which starts at bench.join: naive builds its Replayer there (`setup` ms)
 * before its clock starts, so that comes first as a window of its own.
 */
export function phaseWindows(marks) {
  const setup = marks.setup ?? 0;
  const edges = [
    0,
    marks.connectionInfo ?? marks.socketCreated ?? 0,
    marks.socketOpen,
    marks.lastFrame,
    marks.rendered,
  ];
  const windows = PHASES.map((name, k) => [name, setup + (edges[k] ?? 0), setup + (edges[k + 1] ?? edges[k] ?? 0)]);
  return setup ? [[SETUP, 0, setup], ...windows] : windows;
}

/** naive only: building rrweb's Replayer before its clock starts. */
export const SETUP = 'Replayer setup (before the clock)';

/** `{phase: {bucket: ms}}`, rounded, largest first. */
export function bucketSummary(profile, marks) {
  const out = {};
  for (const [phase, totals] of selfTimes(profile, bucketKey, phaseWindows(marks))) {
    out[phase] = Object.fromEntries(
      [...totals].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v * 10) / 10]),
    );
  }
  return out;
}
