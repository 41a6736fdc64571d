// webhooks.js - the Webhooks tab: the URLs this account's events are POSTed
// to, signed as Standard Webhooks specify. Create (the events as checkboxes;
// the signing secret shown once, with Copy), enable/disable, delete, and each
// webhook's deliveries (status, attempts, the receiver's response code) with a
// "Send Test Event" button. Every route needs edit-webhooks, so the tab is
// shown only to keys holding it; should the key lose it while the tab is on
// screen, its actions are disabled with the reason, as the keys tab does.

import * as api from './api.js';
import { h, icon, ICONS, newId } from './dom.js';
import { confirmDialog, openDialog, requiredText, textField, tokenBox } from './dialogs.js';
import { failure, success } from './feedback.js';
import { formatDate, formatDateTime } from './format.js';
import { listTab } from './list_tab.js';
import { menuButton } from './menu.js';
import { actionState, can, kebabButton, RES } from './state.js';

/** The event types of the API, with what each means to the person choosing. */
export const EVENTS = [
  ['key.created', 'A key was generated'],
  ['key.deleted', 'A key was deleted'],
  ['key.activated', 'A key was activated'],
  ['key.deactivated', 'A key was deactivated'],
  ['token.renewed', 'A token was renewed'],
  ['token.renewal_undone', 'A renewal was undone'],
  ['token.old_deleted', 'An old token was deleted (by a person, its deadline or auto-delete)'],
  ['key.renewal_due', 'A token expires within the renewal notice days'],
  ['key.renewal_recommended', 'A token became outdated'],
  ['key.renewal_highly_recommended', 'A token is 3 months past its duration'],
  ['token.leaked', 'A token was reported as leaked'],
];

const tab = listTab({
  name: 'webhooks',
  add: { id: 'add-webhook-button', resource: RES.editWebhooks, onClick: (button) => openCreate(button) },
  load: () => api.listWebhooks(),
  serverSearch: false,
  matches: (w, needle) => [w.url, w.id, ...(w.events || [])].some((v) => v.toLowerCase().includes(needle)),
  rowId: (w) => w.id,
  renderRow,
  noun: ['webhook', 'webhooks'],
  errorTitle: 'The webhooks could not be loaded',
  empty: (query) => (query
    ? { title: `No webhooks match “${query}”`, text: 'Search looks at webhook URLs and their events.' }
    : {
      title: 'No webhooks yet',
      text: 'Use + New Webhook to have renewals, deletions and renewal notices POSTed to your systems, signed with a secret only you and Keystile know.',
    }),
});

// Shown only to keys holding edit-webhooks: the tab button follows the key's resources.
const listApply = tab.applyPermissions;
const listRefresh = tab.refresh;
tab.applyPermissions = () => {
  const button = document.getElementById('tab-webhooks');
  const allowed = can(RES.editWebhooks);
  button.hidden = !allowed;
  if (!allowed && button.getAttribute('aria-selected') === 'true') {
    document.getElementById('tab-generated').click(); // the tab on screen went away
  }
  listApply();
};
tab.refresh = () => (can(RES.editWebhooks) ? listRefresh() : Promise.resolve());
export default tab;

function enabledBadge(enabled) {
  return h('span', { class: ['badge', enabled ? 'badge-active' : 'badge-inactive'] },
    h('span', { class: 'badge-dot', 'aria-hidden': 'true' }), enabled ? 'Enabled' : 'Disabled');
}

function renderRow(w) {
  const kebab = kebabButton(w.url);
  menuButton(kebab, () => rowActions(w));
  return h('tr', { class: w.enabled ? null : 'row-inactive' },
    h('th', { scope: 'row', class: 'cell-key' },
      h('div', { class: 'key-line' }, h('code', { class: 'key-id webhook-url', text: w.url })),
      h('div', { class: 'key-name muted', text: w.id })),
    h('td', { class: 'cell-roles' }, h('ul', { class: 'chips', 'aria-label': 'Events' },
      (w.events || []).map((e) => h('li', { class: 'chip', text: e })))),
    h('td', { class: 'cell-date' }, h('time', { datetime: w.created_at, text: formatDate(w.created_at) })),
    h('td', { class: 'cell-status' }, enabledBadge(w.enabled)),
    h('td', { class: 'cell-actions' }, h('div', { class: 'menu-anchor' }, kebab)));
}

/** The row menu; each action needs edit-webhooks, and says so when the key lacks it. */
function rowActions(w) {
  const edit = actionState(RES.editWebhooks, null);
  return [
    edit.disabled ? { note: edit.hint } : null,
    { label: 'Deliveries', onSelect: (btn) => openDeliveries(w, btn), ...edit },
    { label: 'Send Test Event', onSelect: () => sendTest(w), ...edit },
    w.enabled
      ? { label: 'Disable', onSelect: () => setEnabled(w, false), ...edit }
      : { label: 'Enable', onSelect: () => setEnabled(w, true), ...edit },
    { separator: true },
    { label: 'Delete Webhook', danger: true, onSelect: (btn) => openDelete(w, btn), ...edit },
  ].filter(Boolean);
}

// ---- create -----------------------------------------------------------------

function eventChecklist(selected = []) {
  const boxes = EVENTS.map(([type, meaning]) => {
    const id = newId('event');
    return h('label', { class: ['choice', 'role-choice'], for: id, title: meaning },
      h('input', { type: 'checkbox', id, value: type, checked: selected.includes(type) }),
      h('span', { class: 'role-choice-name mono', text: type }));
  });
  const fieldset = h('fieldset', { class: 'fieldset' }, h('legend', { text: 'Events' }),
    h('p', { class: 'field-hint', text: 'The events sent to this URL. Bodies never hold a token.' }),
    h('div', { class: 'role-grid' }, boxes));
  fieldset.selected = () => [...fieldset.querySelectorAll('input:checked')].map((i) => i.value);
  return fieldset;
}

function openCreate(returnFocus) {
  const url = textField({
    label: 'URL', required: true, maxlength: 2048, mono: true, placeholder: 'https://hooks.example.com/keystile',
    hint: 'Keystile POSTs each event here as JSON and retries for 24 hours until it answers 2xx within 10 seconds.',
  });
  const events = eventChecklist(['token.renewed', 'token.old_deleted', 'key.renewal_due']);
  openDialog({
    title: 'New webhook',
    content: [url.field, events],
    returnFocus,
    wide: true,
    actions: [
      { label: 'Cancel' },
      {
        label: 'Create', kind: 'primary', submit: true,
        onClick: async (ctl) => {
          const value = requiredText(ctl, url, 'Enter the URL that should receive the events.');
          if (value === null) return;
          const chosen = events.selected();
          if (chosen.length === 0) {
            ctl.setError('Choose at least one event to send.');
            events.querySelector('input').focus();
            return;
          }
          const created = await ctl.run(() => api.createWebhook(value, chosen));
          if (!created) return;
          showCreated(ctl, created);
          tab.refresh();
          success(`Webhook ${created.id} created.`);
        },
      },
    ],
  });
}

function showCreated(ctl, created) {
  const box = tokenBox(created.secret, 'Signing secret');
  created.secret = null; // the only copy is now the dialog's text, wiped on close
  ctl.setTitle('Webhook created');
  ctl.setBody(
    h('p', { class: 'dialog-intro' }, 'Events will be sent to ', h('code', { text: created.url }), '.'),
    box,
    h('div', { class: 'callout callout-warning' },
      icon(ICONS.warn, 'icon callout-icon'),
      h('p', { text: 'Copy the signing secret now and give it to the receiver: it checks each delivery’s webhook-signature with it. It is shown only this once.' })));
  ctl.setActions([{ label: 'Done', kind: 'primary' }]);
  box.querySelector('button').focus();
}

// ---- enable, disable, delete, test -------------------------------------------

async function setEnabled(w, enabled) {
  try {
    await tab.reloadIfStale(() => api.updateWebhook(w.id, { enabled }));
    success(enabled ? `Webhook ${w.id} enabled.` : `Webhook ${w.id} disabled: it gets no new events until enabled again.`);
  } catch (err) {
    failure(`Could not ${enabled ? 'enable' : 'disable'} ${w.id}: ${err.message}`, err);
  }
  await tab.refresh();
}

function openDelete(w, returnFocus) {
  confirmDialog({
    title: 'Delete webhook?',
    message: `Events will no longer be sent to ${w.url}; its deliveries still queued are dropped.`,
    confirmLabel: 'Delete',
    danger: true,
    returnFocus,
    action: () => tab.reloadIfStale(() => api.deleteWebhook(w.id)),
    done: () => {
      tab.refresh();
      success(`Webhook ${w.id} deleted.`);
    },
  });
}

async function sendTest(w) {
  try {
    const sent = await tab.reloadIfStale(() => api.testWebhook(w.id));
    success(`Test event ${sent.event_id} queued for ${w.url}. See it under Deliveries.`);
    return sent;
  } catch (err) {
    failure(`Could not send a test event: ${err.message}`, err);
    return null;
  }
}

// ---- deliveries ------------------------------------------------------------------

const STATUS_LABEL = { pending: 'Pending', delivered: 'Delivered', failed: 'Failed' };
const STATUS_CLASS = { pending: 'badge-pending', delivered: 'badge-active', failed: 'badge-inactive' };

function deliveryRow(d) {
  return h('tr', { dataset: { row: d.event_id } },
    h('td', {}, h('code', { text: d.event })),
    h('td', {}, h('span', { class: ['badge', STATUS_CLASS[d.status]], text: STATUS_LABEL[d.status] || d.status })),
    h('td', { class: 'num', text: String(d.attempts) }),
    h('td', { class: 'num', text: d.response_code === null ? '—' : String(d.response_code) }),
    h('td', {}, d.last_attempt_at ? h('time', { datetime: d.last_attempt_at, text: formatDateTime(d.last_attempt_at) }) : '—'),
    h('td', {}, h('code', { class: 'muted', text: d.event_id })));
}

/** The newest deliveries of a webhook (100 at most), with Send Test Event and Refresh. */
function openDeliveries(w, returnFocus) {
  const body = h('tbody');
  const table = h('table', { class: 'keys-table deliveries-table' },
    h('caption', { class: 'visually-hidden', text: `Deliveries of ${w.url}` }),
    h('thead', {}, h('tr', {}, ['Event', 'Status', 'Attempts', 'Response', 'Last attempt', 'Event ID']
      .map((t) => h('th', { scope: 'col', text: t })))),
    body);
  const empty = h('p', { class: 'muted', hidden: true, text: 'No deliveries yet. Send a test event to try the receiver.' });
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  let seq = 0;
  let poll = null;
  const ctl = openDialog({
    title: 'Deliveries',
    wide: true,
    content: [h('p', { class: 'dialog-intro' }, 'Newest first, for ', h('code', { text: w.url }), '.'), count,
      h('div', { class: 'table-card' }, table, empty)],
    returnFocus,
    onClose: () => clearTimeout(poll),
    actions: [
      { label: 'Close' },
      {
        label: 'Refresh', kind: 'secondary', onClick: () => load(),
      },
      {
        label: 'Send Test Event', kind: 'primary',
        onClick: async (c) => {
          const sent = await c.run(() => api.testWebhook(w.id));
          if (!sent) return;
          success(`Test event ${sent.event_id} queued.`);
          await load();
          follow(sent.event_id, 20);
        },
      },
    ],
  });

  async function load() {
    const mine = ++seq;
    table.setAttribute('aria-busy', 'true');
    try {
      const page = await api.listDeliveries(w.id);
      if (mine !== seq || !ctl.dialog.open) return null;
      body.replaceChildren(...page.items.map(deliveryRow));
      empty.hidden = page.items.length > 0;
      table.hidden = page.items.length === 0;
      count.textContent = page.items.length === 1 ? '1 delivery' : `${page.items.length} deliveries`;
      ctl.clearError();
      return page.items;
    } catch (err) {
      if (mine === seq) ctl.setError(`The deliveries could not be loaded: ${err.message}`);
      return null;
    } finally {
      if (mine === seq) table.removeAttribute('aria-busy');
    }
  }

  /** Reloads every second while the event is pending (at most `tries` times). */
  function follow(eventId, tries) {
    clearTimeout(poll);
    poll = setTimeout(async () => {
      const items = await load();
      const d = items && items.find((x) => x.event_id === eventId);
      if (d && d.status === 'pending' && tries > 1) follow(eventId, tries - 1);
    }, 1000);
  }

  load();
}
