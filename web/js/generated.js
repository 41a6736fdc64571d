// generated.js - the Generated tab: the keys of this account, generating a
// key (its token shown once), and every row action: edit, renew (with the
// choice of deleting the old token later, now or at a time), delete old
// token, undo renewal, deactivate/activate, delete. An old token with a
// deadline shows a countdown, kept current by one timer. A key whose token
// was reported leaked (an audit entry token.leaked, read when the signed-in
// principal holds view-audit-log) shows a red Leaked badge that opens that
// entry.

import * as api from './api.js';
import { h, newId } from './dom.js';
import {
  confirmDialog, openDialog, requiredText, roleChecklist, shareLinkBox, textField, tokenBox,
} from './dialogs.js';
import { failure, success } from './feedback.js';
import { formatAge, formatAgo, formatCountdown, formatDate, formatDateTime } from './format.js';
import { listTab } from './list_tab.js';
import { limitsFields } from './limits.js';
import { menuButton } from './menu.js';
import { openUsage } from './usage.js';
import {
  actionState, can, grantLock, kebabButton, keyBlockedReason, lockedRolesHint, reloadAuthority, RES, renewalAlert,
  roleChips, rolesForForm, state, statusBadge, yourRoles,
} from './state.js';

const tab = listTab({
  name: 'generated',
  add: { id: 'generate-button', resource: RES.editKeys, onClick: (button) => openGenerate(button) },
  load: (query) => loadKeys(query),
  serverSearch: true,
  withRoles: true,
  rowId: (key) => key.key,
  renderRow,
  noun: ['key', 'keys'],
  errorTitle: 'The keys could not be loaded',
  empty: (query) => (query ? {
    title: `No keys match “${query}”`,
    text: 'Search looks at key names and key identifiers. Try fewer letters, or clear the search.',
    action: { label: 'Clear search', onClick: clearSearch },
  } : {
    title: 'No keys yet',
    text: can(RES.editKeys)
      ? 'Use + Generate Key to create a key for each integration that calls your APIs. Its token is shown once, when you generate it.'
      : `Keys generated in this account will be listed here. You cannot generate keys: ${yourRoles().toLowerCase()} lack edit-api-keys.`,
  }),
});
export default tab;
const listInit = tab.init;
tab.init = () => {
  listInit();
  startCountdowns();
};

/** The keys matching query, each with `leak`: its newest token.leaked audit entry, if any. */
async function loadKeys(query) {
  const [keys, leaks] = await Promise.all([
    api.listKeys(query),
    can(RES.viewAudit) ? api.listLeaks().catch(() => null) : null,
  ]);
  const newest = new Map();
  for (const entry of (leaks && leaks.items) || []) {
    if (!newest.has(entry.target)) newest.set(entry.target, entry); // newest first
  }
  for (const key of keys) key.leak = newest.get(key.key) || null;
  return keys;
}

/** The red badge of a key that had a leak: a button opening its audit entry. */
function leakBadge(key) {
  if (!key.leak) return null;
  const when = formatDateTime(key.leak.at);
  return h('button', {
    type: 'button',
    class: 'badge badge-leaked',
    'aria-haspopup': 'dialog',
    title: `A token of this key was found in public (${when}). Open the audit entry.`,
    text: 'Leaked',
    onclick: (ev) => openLeak(key, ev.currentTarget),
  });
}

/** The audit entry of a key's leak: when, which token, where, and what was done. */
function openLeak(key, button) {
  const e = key.leak;
  const d = e.detail || {};
  const done = d.action === 'revoke'
    ? (d.slot === 'old' ? 'The old token was deleted.' : 'The key was deactivated.')
    : (d.revoke_refused === 'last_owner'
      ? 'Only alerted: this is the last active Owner key, so it was not deactivated.'
      : 'Only alerted: the token still works. Renew it now.');
  const isHttp = typeof d.url === 'string' && /^https:\/\//.test(d.url);
  const rows = [
    ['When', formatDateTime(e.at)],
    ['Reported by', e.actor],
    ['Token', d.slot === 'old' ? 'Old token' : 'Current token'],
    ['Found in', d.source || '-'],
  ];
  const ctl = openDialog({
    title: `Leaked token of ${key.name}`,
    returnFocus: button,
    content: [
      h('div', { class: 'callout callout-warning' }, h('p', { text: done })),
      h('dl', { class: 'leak-entry' }, rows.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })])),
      isHttp ? h('p', {}, h('a', { href: d.url, target: '_blank', rel: 'noopener noreferrer', text: 'Where it was found' })) : null,
      h('p', {}, h('a', { href: api.auditUrl('token.leaked'), target: '_blank', rel: 'noopener', text: 'The audit entries of leaked tokens' })),
    ],
  });
  return ctl;
}

function clearSearch() {
  const search = document.getElementById('search');
  search.value = '';
  search.dispatchEvent(new Event('input', { bubbles: true }));
  search.focus();
}

const AGE_CLASS = { recommended: 'age-recommended', highly_recommended: 'age-high' };

function tokenLine(token, labelled, alert) {
  const created = formatDateTime(token.created_at);
  const expires = formatDate(token.expires_at);
  const old = token.slot === 'old';
  return h('li', { class: ['token-age', old && 'token-age-old'], title: `Created ${created}; duration ends ${expires}` },
    labelled ? h('span', { class: 'slot', text: old ? 'Old' : 'Current' }) : null,
    h('span', { class: ['age', !old && AGE_CLASS[alert]], text: formatAge(token.created_at) }),
    old ? h('span', { class: 'badge badge-pending', text: 'Pending deletion - Old token' }) : null,
    old && token.ends_at ? countdown(token.ends_at) : null);
}

/** "Ends in 23 h 59 min": the time left before an old token's deadline (ends_at). */
function countdown(endsAt) {
  const el = h('span', { class: 'countdown', dataset: { endsAt }, title: `Stops working ${formatDateTime(endsAt)}` });
  updateCountdown(el);
  return el;
}

function updateCountdown(el) {
  const left = formatCountdown(el.dataset.endsAt);
  el.textContent = left ? `Ends in ${left}` : 'Ended';
  return !left;
}

/** Every 15 s: the countdowns on screen tick; one that reached its end reloads the list once. */
let countdownTimer = null;
function startCountdowns() {
  if (countdownTimer) return;
  countdownTimer = setInterval(() => {
    let ended = false;
    for (const el of document.querySelectorAll('#generated-body .countdown')) {
      if (updateCountdown(el) && !el.dataset.reloaded) {
        el.dataset.reloaded = '1';
        ended = true;
      }
    }
    if (ended) tab.refresh();
  }, 15000);
}

/** "Last used 3 min ago from 203.0.113.7" (the token used last, and its caller
 * when known), or "Never used". */
function lastUsedLine(tokens) {
  const last = tokens.filter((t) => t.last_used_at)
    .sort((a, b) => a.last_used_at.localeCompare(b.last_used_at)).pop();
  if (!last) return h('div', { class: 'key-last-used muted', text: 'Never used' });
  const from = last.last_used_from ? ` from ${last.last_used_from}` : '';
  return h('div', { class: 'key-last-used muted', title: formatDateTime(last.last_used_at),
    text: `Last used ${formatAgo(last.last_used_at)}${from}` });
}

function renderRow(key) {
  const tokens = key.tokens || [];
  const hasOld = tokens.some((t) => t.slot === 'old');
  const kebab = kebabButton(key.key);
  menuButton(kebab, () => rowActions(key));
  return h('tr', { class: key.status !== 'active' ? 'row-inactive' : null },
    h('th', { scope: 'row', class: 'cell-key' },
      h('div', { class: 'key-line' }, h('code', { class: 'key-id', text: key.key }), renewalAlert(key.renewal_alert),
        leakBadge(key)),
      h('div', { class: 'key-name', text: key.name }),
      lastUsedLine(tokens)),
    h('td', { class: 'cell-roles' }, roleChips(key.roles)),
    h('td', { class: 'cell-date' }, h('time', { datetime: key.created_at, text: formatDate(key.created_at) })),
    h('td', { class: 'cell-status' }, statusBadge(key.status)),
    h('td', { class: 'cell-tokens' }, h('ul', { class: 'token-ages' }, tokens.map((t) => tokenLine(t, hasOld, key.renewal_alert)))),
    h('td', { class: 'cell-actions' }, h('div', { class: 'menu-anchor' }, kebab)));
}

/**
 * The row menu. An action is offered when the signed-in key holds its route's
 * resource and the key's authority here is within its own; otherwise it is
 * disabled, its tooltip says why, and a note atop the menu says it once for all.
 */
function rowActions(key) {
  const hasOld = (key.tokens || []).some((t) => t.slot === 'old');
  const blocked = keyBlockedReason(key.roles);
  const edit = actionState(RES.editKeys, blocked);
  const renew = actionState(RES.renew, blocked);
  const items = [];
  if (blocked) items.push({ note: blocked });
  items.push(
    { label: 'Usage', onSelect: (btn) => openUsage(key, btn) },
    { label: 'Edit', onSelect: (btn) => openEdit(key, btn), ...edit },
    { label: 'Renew Token', onSelect: (btn) => openRenew(key, btn), ...renew });
  if (hasOld) {
    items.push(
      { label: 'Delete Old Token', onSelect: (btn) => openDeleteOld(key, btn), ...renew },
      { label: 'Undo Renewal', onSelect: (btn) => openUndo(key, btn), ...renew });
  }
  if (key.status === 'active') {
    items.push({ label: 'Deactivate', onSelect: (btn) => openDeactivate(key, btn), ...edit });
  } else {
    items.push({ label: 'Activate', onSelect: (btn) => activate(key, btn), ...edit });
  }
  items.push({ separator: true },
    { label: 'Delete Key', danger: true, onSelect: (btn) => openDeleteKey(key, btn), ...edit });
  return items;
}

/** After a change to the key this page is signed in with, learn again what it may do. */
function afterChangeTo(key) {
  if (state.session && key.key === state.session.key) reloadAuthority();
}

/** A key as people name it in messages: its id and, in quotes, its name. */
function keyLabel(key) {
  return key.name ? `${key.key} (“${key.name}”)` : key.key;
}

// ---- generate ---------------------------------------------------------------

async function openGenerate(returnFocus) {
  const roles = await rolesForForm();
  if (!roles) return;
  const name = textField({
    label: 'Key identification', required: true, maxlength: 100,
    hint: 'A name that says who or what uses this key, e.g. “ERP sync” or “Marketplace feed”.',
  });
  const checklist = roleChecklist(roles, [], { lock: grantLock, lockedHint: lockedRolesHint() });
  const limits = limitsFields();
  openDialog({
    title: 'Generate key',
    content: [name.field, checklist, ...limits.fields],
    returnFocus,
    actions: [
      { label: 'Cancel' },
      {
        label: 'Generate', kind: 'primary', submit: true,
        onClick: async (ctl) => {
          const value = requiredText(ctl, name, 'Enter a key identification: a name that says who or what uses this key.');
          if (value === null) return;
          const wanted = limits.read(ctl);
          if (!wanted) return;
          const extra = {};
          if (wanted.allowed_cidrs.length) extra.allowed_cidrs = wanted.allowed_cidrs;
          if (wanted.rate_limit) extra.rate_limit = wanted.rate_limit;
          const created = await ctl.run(() => api.createKey(value, checklist.selectedRoles(), extra));
          if (!created) return;
          showCreated(ctl, created);
          tab.refresh();
          success(`Key ${created.key} generated.`);
        },
      },
    ],
  });
}

function showCreated(ctl, created) {
  ctl.setTitle('Key generated');
  const box = tokenBox(created.token, 'API token');
  const link = shareLinkBox(created.share_url);
  created.token = null; // the only copies are now the dialog's text, wiped on close
  created.share_url = null;
  ctl.setBody(
    h('p', { class: 'dialog-intro' }, 'The key ', h('strong', { text: created.name }), ' is ready.'),
    h('dl', { class: 'facts' },
      h('dt', { text: 'API key' }), h('dd', {}, h('code', { class: 'key-id', text: created.key }))),
    box,
    h('div', { class: 'callout callout-warning' },
      h('p', { text: 'Copy the token now and hand it to the integration. It is shown only this once: Keystile keeps only a hash of it.' })),
    link);
  ctl.setActions([{ label: 'Close', kind: 'primary' }]);
  box.querySelector('button').focus();
}

// ---- edit -------------------------------------------------------------------

async function openEdit(key, returnFocus) {
  const roles = await rolesForForm();
  if (!roles) return;
  const name = textField({ label: 'Key identification', value: key.name, required: true, maxlength: 100 });
  const checklist = roleChecklist(roles, key.roles, { lock: grantLock, lockedHint: lockedRolesHint() });
  const limits = limitsFields(key);
  openDialog({
    title: `Edit ${key.key}`,
    content: [name.field, checklist, ...limits.fields],
    returnFocus,
    actions: [
      { label: 'Cancel' },
      {
        label: 'Save', kind: 'primary', submit: true,
        onClick: async (ctl) => {
          const value = requiredText(ctl, name, 'Enter a key identification.');
          if (value === null) return;
          const wanted = limits.read(ctl);
          if (!wanted) return;
          const fields = { roles: checklist.selectedRoles() };
          if (value !== key.name) fields.name = value;
          if (JSON.stringify(wanted.allowed_cidrs) !== JSON.stringify(key.allowed_cidrs || [])) {
            fields.allowed_cidrs = wanted.allowed_cidrs;
          }
          if (JSON.stringify(wanted.rate_limit) !== JSON.stringify(key.rate_limit ?? null)) {
            fields.rate_limit = wanted.rate_limit;
          }
          const updated = await ctl.run(() => tab.reloadIfStale(() => api.updateKey(key.key, fields)));
          if (!updated) return;
          ctl.close();
          tab.refresh();
          afterChangeTo(key);
          success(`Changes to ${key.key} saved.`);
        },
      },
    ],
  });
}

// ---- renew ------------------------------------------------------------------

const HOUR = 3600000;
const DEADLINE_PRESETS = [
  { value: '1h', label: 'In 1 hour', ms: HOUR },
  { value: '24h', label: 'In 24 hours', ms: 24 * HOUR },
  { value: '7d', label: 'In 7 days', ms: 7 * 24 * HOUR },
  { value: 'date', label: 'At a date and time…', ms: null },
];
const DEADLINE_MAX_MS = 30 * 24 * HOUR; // the API's limit on old_token_expires_at

/** A Date as the value of a datetime-local input (local time, to the minute). */
function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/**
 * The "Delete Old Token" choice: Later (both tokens work until someone acts),
 * Now, or At a time (in 1 hour, 24 hours, 7 days, or a date and time). The
 * API takes a deadline only with the renewal itself, so the choice comes
 * before the token is made. Returns {group, body()}: body() is the renew
 * request's body, or a string saying what is wrong with the chosen time.
 */
function deleteOldChoice() {
  const name = newId('delete-old');
  const radio = (value, checked) => h('input', {
    type: 'radio', name, value, checked, id: newId(value), 'aria-describedby': `${name}-${value}-hint`,
  });
  const later = radio('later', true);
  const now = radio('now', false);
  const at = radio('at', false);
  const preset = h('select', { id: newId('deadline'), disabled: true },
    DEADLINE_PRESETS.map((p) => h('option', { value: p.value, text: p.label })));
  const date = h('input', {
    type: 'datetime-local', id: newId('deadline-date'), disabled: true,
    min: localInputValue(new Date()), max: localInputValue(new Date(Date.now() + DEADLINE_MAX_MS)),
  });
  const dateField = h('div', { class: 'field deadline-date', hidden: true },
    h('label', { for: date.id, text: 'Date and time (your time zone)' }), date);
  const sync = () => {
    preset.disabled = !at.checked;
    dateField.hidden = !(at.checked && preset.value === 'date');
    date.disabled = dateField.hidden;
    if (!date.disabled && !date.value) date.value = localInputValue(new Date(Date.now() + 24 * HOUR));
  };
  for (const el of [later, now, at, preset]) el.addEventListener('change', sync);
  const block = (input, label, hint, ...extra) => h('div', { class: 'choice-block' },
    h('label', { class: 'choice', for: input.id }, input, h('span', { text: label })),
    h('p', { class: 'choice-hint', id: `${name}-${input.value}-hint`, text: hint }), ...extra);
  const group = h('div', { role: 'radiogroup', class: 'choice-group', 'aria-labelledby': `${name}-label` },
    h('div', { class: 'group-label', id: `${name}-label`, text: 'Delete Old Token' }),
    block(later, 'Later', 'Both tokens keep working until you delete the old one (Actions → Delete Old Token) or undo the renewal. Best while integrations switch over.'),
    block(now, 'Now', 'The old token stops working immediately. Only choose this if nothing uses it any more.'),
    block(at, 'At a time', 'Both tokens work until then; the old token then stops everywhere and is deleted by itself. At most 30 days ahead.',
      h('div', { class: 'deadline-pick' },
        h('div', { class: 'field' }, h('label', { for: preset.id, text: 'Old token ends' }), preset),
        dateField)));
  function body() {
    if (later.checked) return null;
    if (now.checked) return { delete_old: 'now' };
    const p = DEADLINE_PRESETS.find((x) => x.value === preset.value);
    let when;
    if (p.ms !== null) {
      when = new Date(Date.now() + p.ms);
    } else {
      when = date.value ? new Date(date.value) : null;
      if (!when || Number.isNaN(when.getTime())) return 'Choose the date and time at which the old token ends.';
      if (when.getTime() <= Date.now()) return 'Choose a time in the future for the old token to end.';
      if (when.getTime() > Date.now() + DEADLINE_MAX_MS) return 'The old token can be kept at most 30 days: choose an earlier time.';
    }
    return { delete_old: 'later', old_token_expires_at: when.toISOString() };
  }
  return { group, body, focusError: () => date.focus() };
}

/** What happens to the old token after a renewal, for the dialog and the toast. */
function oldTokenFate(result) {
  const old = (result.tokens || []).find((t) => t.slot === 'old');
  if (!old) return { text: 'The old token no longer works.', toast: 'the old token was deleted.' };
  if (old.ends_at) {
    const when = formatDateTime(old.ends_at);
    return {
      text: `The old token keeps working until ${when} (in ${formatCountdown(old.ends_at)}), then stops and is deleted.`,
      toast: `the old token ends ${when}.`,
    };
  }
  return {
    text: 'The old token keeps working until you delete it (Actions → Delete Old Token) or undo the renewal.',
    toast: 'the old token keeps working until you delete it.',
  };
}

/**
 * First the choice of what happens to the old token, then the renewal, then
 * the new token, shown once. Closing before Renew changes nothing.
 */
function openRenew(key, returnFocus) {
  const choice = deleteOldChoice();
  let renewed = null;
  openDialog({
    title: 'Renew token',
    content: [
      h('p', { class: 'dialog-intro' }, 'A new token will be made for ', h('code', { text: key.key }),
        key.name ? ` (${key.name})` : '', '. It is shown once.'),
      choice.group],
    returnFocus,
    onClose: () => {
      if (renewed) tab.refresh();
    },
    actions: [
      { label: 'Cancel' },
      {
        label: 'Renew', kind: 'primary', submit: true,
        onClick: async (ctl) => {
          const body = choice.body();
          if (typeof body === 'string') {
            ctl.setError(body);
            choice.focusError();
            return;
          }
          const result = await ctl.run(() => tab.reloadIfStale(() => api.renewKey(key.key, body)));
          if (!result) return;
          renewed = result;
          if (!ctl.dialog.open) { // closed while the request ran (e.g. sign-out)
            result.token = null;
            return;
          }
          showRenewed(ctl, key, result);
        },
      },
    ],
  });
}

function showRenewed(ctl, key, result) {
  const box = tokenBox(result.token, 'New API token');
  const link = shareLinkBox(result.share_url);
  result.token = null; // the only copies are now the dialog's text, wiped on close
  result.share_url = null;
  const fate = oldTokenFate(result);
  ctl.setTitle('Token renewed');
  ctl.setBody(
    h('p', { class: 'dialog-intro' }, 'A new token was created for ', h('code', { text: key.key }),
      key.name ? ` (${key.name})` : '', '. Copy it now: it is shown only once.'),
    box,
    link,
    h('p', { class: 'renew-fate', text: fate.text }));
  ctl.setActions([{ label: 'Done', kind: 'primary' }]);
  success(`Token of ${key.key} renewed; ${fate.toast}`);
  box.querySelector('button').focus();
}

// ---- confirmations ------------------------------------------------------------

function openDeleteOld(key, returnFocus) {
  confirmDialog({
    title: 'Delete old token?',
    message: `The old token of ${keyLabel(key)} will be deleted; only the current token will work.`,
    warning: 'Integrations still using the old token will fail at once. This cannot be undone, and Undo Renewal will no longer be possible.',
    confirmLabel: 'Delete',
    danger: true,
    returnFocus,
    action: () => tab.reloadIfStale(() => api.deleteOldToken(key.key)),
    done: () => {
      tab.refresh();
      success(`Old token of ${key.key} deleted.`);
    },
  });
}

function openUndo(key, returnFocus) {
  confirmDialog({
    title: 'Undo renewal?',
    message: `The old token of ${keyLabel(key)} becomes the current token again.`,
    warning: 'The newer token stops working at once.',
    confirmLabel: 'Undo',
    returnFocus,
    action: () => tab.reloadIfStale(() => api.undoRenewal(key.key)),
    done: () => {
      tab.refresh();
      success(`Renewal of ${key.key} undone: the previous token is current again.`);
    },
  });
}

/** A warning when the action hits the key this page is signed in with. */
function selfWarning(key) {
  return state.session && key.key === state.session.key
    ? 'This is the key you are signed in with: this page will sign you out.'
    : undefined;
}

function openDeactivate(key, returnFocus) {
  confirmDialog({
    title: 'Deactivate key?',
    message: `${keyLabel(key)} will stop working: neither of its tokens will be accepted until you activate it again. Its tokens are kept.`,
    warning: selfWarning(key),
    confirmLabel: 'Deactivate',
    danger: true,
    returnFocus,
    action: () => tab.reloadIfStale(() => api.updateKey(key.key, { status: 'inactive' })),
    done: () => {
      tab.refresh();
      success(`Key ${key.key} deactivated.`);
    },
  });
}

async function activate(key) {
  try {
    await tab.reloadIfStale(() => api.updateKey(key.key, { status: 'active' }));
    success(`Key ${key.key} activated.`);
    afterChangeTo(key);
  } catch (err) {
    failure(`Could not activate ${key.key}: ${err.message}`, err);
  }
  await tab.refresh();
}

function openDeleteKey(key, returnFocus) {
  confirmDialog({
    title: 'Delete key?',
    message: `${keyLabel(key)} and its tokens will be deleted. Integrations using it stop working at once.`,
    warning: selfWarning(key),
    confirmCheck: 'I understand that this action cannot be undone',
    confirmLabel: 'Delete',
    danger: true,
    returnFocus,
    action: () => tab.reloadIfStale(() => api.deleteKey(key.key)),
    done: () => {
      tab.refresh();
      success(`Key ${key.key} deleted.`);
    },
  });
}
