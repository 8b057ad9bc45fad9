// Percentiles and formatting.

/** Nearest-rank percentile of an ascending array (undefined when empty). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (x) => (x === undefined ? null : Math.round(x * 100) / 100);
  return {
    count: sorted.length,
    min: round(sorted[0]),
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1]),
    mean: round(sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : undefined),
  };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return undefined;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function fmtMs(x) {
  if (x === undefined || x === null || Number.isNaN(x)) return '—';
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

export function fmtBytes(n) {
  if (n === undefined || n === null) return '—';
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** ours / naive, or "—" when either side has no figure. */
export function ratio(ours, naive) {
  if (
    typeof ours !== 'number' ||
    typeof naive !== 'number' ||
    !Number.isFinite(ours) ||
    !Number.isFinite(naive) ||
    naive === 0
  )
    return null;
  return Math.round((ours / naive) * 1000) / 1000;
}

export function fmtRatio(r) {
  return r === null || r === undefined ? '—' : `${r < 0.1 ? r.toFixed(3) : r.toFixed(2)}×`;
}
