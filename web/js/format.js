// format.js - dates and token ages as people read them.

const DAY = 86400000;

const dateFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
});

function parse(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function formatDate(iso) {
  const d = parse(iso);
  return d ? dateFormat.format(d) : '—';
}

export function formatDateTime(iso) {
  const d = parse(iso);
  return d ? dateTimeFormat.format(d) : '—';
}

/** Age of a token created at `iso`, e.g. "Less than a day", "1 day", "47 days". */
export function formatAge(iso, now = Date.now()) {
  const d = parse(iso);
  if (!d) return '—';
  const days = Math.max(0, Math.floor((now - d.getTime()) / DAY));
  if (days === 0) return 'Less than a day';
  if (days === 1) return '1 day';
  return `${days} days`;
}

/** How long ago `iso` was: "just now", "3 min ago", "5 h ago", "2 days ago". */
export function formatAgo(iso, now = Date.now()) {
  const d = parse(iso);
  if (!d) return '';
  const s = Math.max(0, Math.floor((now - d.getTime()) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${plural(Math.floor(s / 86400), 'day', 'days')} ago`;
}

/** Whole days from `iso` to now (negative in the future). */
export function daysSince(iso, now = Date.now()) {
  const d = parse(iso);
  return d ? Math.floor((now - d.getTime()) / DAY) : 0;
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/** Time left until `iso`, e.g. "6 d 23 h", "23 h 59 min", "5 min", "less than a minute"; "" once past. */
export function formatCountdown(iso, now = Date.now()) {
  const d = parse(iso);
  if (!d) return '';
  const left = d.getTime() - now;
  if (left <= 0) return '';
  const minutes = Math.floor(left / 60000);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  if (days >= 2) return `${days} d ${hours % 24} h`;
  if (hours >= 1) return `${hours} h ${minutes % 60} min`;
  if (minutes >= 1) return `${minutes} min`;
  return 'less than a minute';
}
