// Times, durations and payloads as the page shows them (as the CLI does: UTC, short durations).

/// Milliseconds since the epoch, keeping the API's microseconds as a fraction.
export function parseTime(iso) {
  if (!iso) return NaN;
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  if (!match) return Date.parse(iso);
  const fraction = (match[2] || '').padEnd(6, '0').slice(0, 6);
  return Date.parse(`${match[1]}Z`) + Number(fraction) / 1000;
}

/// "2024-05-01 12:34:56.123" (UTC, milliseconds): the API's time without the noise.
export function formatTime(iso) {
  if (!iso) return '-';
  return iso.replace('T', ' ').replace(/(\.\d{3})\d*Z$/, '$1').replace(/Z$/, '');
}

/// "850µs", "12.3ms", "4.21s", "3m07s", "2h05m", as the CLI's timeline.
export function formatDuration(ms) {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 100) return `${ms.toFixed(1)}ms`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(2)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/// A payload on one line, cut to `width` characters; "-" when there is none.
export function shortPayload(value, width = 60) {
  if (value === null || value === undefined) return '-';
  const text = JSON.stringify(value);
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/// A payload for a <pre>: indented JSON; "(none)" when absent.
export function prettyPayload(value) {
  if (value === null || value === undefined) return '(none)';
  return JSON.stringify(value, null, 2);
}

export function formatCount(n) {
  return Number(n).toLocaleString('en-US');
}
