// The per-key limits in the key dialogs (API.md "Per-key limits and usage"):
// the allowed addresses (one IPv4 or IPv6 range or address per line, checked
// as you type) and the rate limit (verifies per period). The server checks
// and normalises again; this only catches typing mistakes early.
import { h, newId } from './dom.js';

const MAX_RANGES = 32;

/** True when `text` is an IPv4 or IPv6 address, optionally with a /prefix. */
export function validRange(text) {
  const m = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(text);
  if (!m) return false;
  const [, addr, prefix] = m;
  if (prefix !== undefined && prefix.length > 1 && prefix[0] === '0') return false;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  if (v4) {
    if (v4.slice(1).some((o) => Number(o) > 255 || (o.length > 1 && o[0] === '0'))) return false;
    return prefix === undefined || Number(prefix) <= 32;
  }
  if (!addr.includes(':') || !/^[0-9a-fA-F:.]+$/.test(addr)) return false;
  try {
    new URL(`http://[${addr}]/`); // the URL parser knows IPv6
  } catch {
    return false;
  }
  return prefix === undefined || Number(prefix) <= 128;
}

/** The lines of the ranges box that are not ranges, as "line N: text". */
function rangeProblems(lines) {
  const bad = [];
  lines.forEach((line, i) => { if (!validRange(line)) bad.push(`line ${i + 1}: ${line}`); });
  if (lines.length > MAX_RANGES) bad.push(`at most ${MAX_RANGES} ranges`);
  return bad;
}

function numberInput(label, value, min, max) {
  const id = newId('field');
  const input = h('input', { type: 'number', id, min: String(min), max: String(max), step: '1', value: value ?? '', inputmode: 'numeric' });
  return { field: h('div', { class: 'field field-inline' }, h('label', { for: id, text: label }), input), input };
}

/**
 * The limits fields for a key (or none, for a new key): { fields, read(ctl) }.
 * read() gives {allowed_cidrs, rate_limit} or null after showing the problem.
 */
export function limitsFields(key = null) {
  const rangesId = newId('field');
  const errorId = newId('hint');
  const ranges = h('textarea', {
    id: rangesId, rows: '3', spellcheck: 'false', class: 'mono', 'aria-describedby': errorId,
    placeholder: '203.0.113.0/24\n2001:db8::/48',
  });
  ranges.value = (key && key.allowed_cidrs ? key.allowed_cidrs : []).join('\n');
  const problem = h('p', { class: 'field-hint field-error', id: errorId, 'aria-live': 'polite',
    text: 'One range or address per line; empty: any address.' });
  const lines = () => ranges.value.split('\n').map((l) => l.trim()).filter(Boolean);
  const check = () => {
    const bad = rangeProblems(lines());
    if (bad.length) {
      ranges.setAttribute('aria-invalid', 'true');
      problem.textContent = `Not a valid address or range: ${bad.join('; ')}`;
    } else {
      ranges.removeAttribute('aria-invalid');
      problem.textContent = 'One range or address per line; empty: any address.';
    }
    return bad;
  };
  ranges.addEventListener('input', check);
  const rate = key && key.rate_limit;
  const limit = numberInput('Rate limit (verifies)', rate ? rate.limit : '', 1, 1000000000);
  const period = numberInput('per seconds', rate ? rate.period_seconds : '', 1, 86400);
  const fields = [
    h('div', { class: 'field' }, h('label', { for: rangesId, text: 'Allowed addresses' }), ranges, problem),
    h('div', { class: 'field-row' }, limit.field, period.field),
    h('p', { class: 'field-hint', text: 'Leave the rate limit empty for none.' }),
  ];
  const read = (ctl) => {
    if (check().length) {
      ctl.setError('Fix the allowed addresses first.');
      ranges.focus();
      return null;
    }
    let rateLimit = null;
    if (limit.input.value.trim() !== '') {
      const n = Number(limit.input.value), s = Number(period.input.value || 0);
      if (!Number.isInteger(n) || n < 1 || n > 1000000000 || !Number.isInteger(s) || s < 1 || s > 86400) {
        ctl.setError('The rate limit is 1 to 1,000,000,000 verifies per 1 to 86,400 seconds.');
        limit.input.focus();
        return null;
      }
      rateLimit = { limit: n, period_seconds: s };
    }
    return { allowed_cidrs: lines(), rate_limit: rateLimit };
  };
  return { fields, read };
}
