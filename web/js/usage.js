// usage.js - the usage panel of a key (or of the account, with its top
// keys): verifies per hour over 48 hours and per day over 30 days, valid
// against refused, drawn by uPlot (npm uplot, vendored into web/vendor/).
import uPlot from '../vendor/uplot/uPlot.esm.js';
import * as api from './api.js';
import { openDialog } from './dialogs.js';
import { h } from './dom.js';

const OUTCOMES = ['valid', 'invalid_token', 'inactive', 'expired', 'forbidden', 'address_not_allowed', 'rate_limited'];
const HOUR = 3600;
const DAY = 86400;

/** x (bucket starts, Unix seconds) and the valid / refused series over `count` buckets of `span` to now. */
function seriesOf(items, span, count) {
  const now = Math.floor(Date.now() / 1000);
  const end = now - (now % span) + span;
  const xs = [];
  const valid = [];
  const refused = [];
  const byAt = new Map(items.map((it) => [Math.floor(Date.parse(it.at) / 1000), it]));
  for (let t = end - count * span; t < end; t += span) {
    const it = byAt.get(t);
    xs.push(t);
    valid.push(it ? it.valid : 0);
    refused.push(it ? OUTCOMES.slice(1).reduce((sum, o) => sum + (it[o] || 0), 0) : 0);
  }
  return [xs, valid, refused];
}

function chart(title, data, width) {
  const box = h('figure', { class: 'usage-chart' }, h('figcaption', { text: title }));
  const opts = {
    width,
    height: 180,
    series: [
      {},
      { label: 'Valid', stroke: '#1a7f37', fill: 'rgba(26,127,55,0.12)', width: 2 },
      { label: 'Refused', stroke: '#b42318', width: 2 },
    ],
    scales: { x: { time: true } },
    axes: [{}, { size: 50 }],
    cursor: { drag: { x: false, y: false } },
  };
  const plot = new uPlot(opts, data, box);
  box.plot = plot; // for the browser tests: the series and the cursor's values
  return box;
}

/** Opens the panel for `key` (a key object), or for the account when key is null. */
export async function openUsage(key, returnFocus) {
  const [hours, days] = await Promise.all(key
    ? [api.keyUsage(key.key, 'hour'), api.keyUsage(key.key, 'day')]
    : [api.accountUsage('hour'), api.accountUsage('day')]);
  const width = Math.min(640, window.innerWidth - 80);
  const content = [
    chart('Verifies per hour, last 48 hours', seriesOf(hours.items, HOUR, 48), width),
    chart('Verifies per day, last 30 days', seriesOf(days.items, DAY, 30), width),
  ];
  if (!key && hours.top_keys) {
    content.push(h('h3', { text: 'Top keys, last 48 hours' }),
      h('table', { class: 'usage-top' },
        h('thead', {}, h('tr', {}, h('th', { text: 'Key' }), h('th', { text: 'Valid' }), h('th', { text: 'Refused' }))),
        h('tbody', {}, hours.top_keys.map((t) => h('tr', {},
          h('td', {}, h('code', { text: t.key })), h('td', { text: String(t.valid) }), h('td', { text: String(t.refused) }))))));
  }
  openDialog({ title: key ? `Usage of ${key.key}` : 'Usage of the account', wide: true, content, returnFocus });
}
