// generated.js - the Generated tab: the keys of this account, generating a
// key (its token shown once), and every row action: edit, renew (with the
// choice of deleting the old token later or now), delete old token, undo
// renewal, deactivate/activate, delete.

import * as api from './api.js';
import { h, newId } from './dom.js';
import {
  confirmDialog, openDialog, requiredText, roleChecklist, shareLinkBox, textField, tokenBox,
} from './dialogs.js';
import { failure, success } from './feedback.js';
import { formatAge, formatDate, formatDateTime } from './format.js';
import { listTab } from './list_tab.js';
import { menuButton } from './menu.js';
import {
  actionState, can, grantLock, kebabButton, keyBlockedReason, lockedRolesHint, reloadAuthority, RES, renewalAlert,
  roleChips, rolesForForm, state, statusBadge, yourRoles,
} from './state.js';

const tab = listTab({
  name: 'generated',
  add: { id: 'generate-button', resource: RES.editKeys, onClick: (button) => openGenerate(button) },
  load: (query) => api.listKeys(query),
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
    old ? h('span', { class: 'badge badge-pending', text: 'Pending deletion - Old token' }) : null);
}

function renderRow(key) {
  const tokens = key.tokens || [];
  const hasOld = tokens.some((t) => t.slot === 'old');
  const kebab = kebabButton(key.key);
  menuButton(kebab, () => rowActions(key));
  return h('tr', { class: key.status !== 'active' ? 'row-inactive' : null },
    h('th', { scope: 'row', class: 'cell-key' },
      h('div', { class: 'key-line' }, h('code', { class: 'key-id', text: key.key }), renewalAlert(key.renewal_alert)),
      h('div', { class: 'key-name', text: key.name })),
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
  openDialog({
    title: 'Generate key',
    content: [name.field, checklist],
    returnFocus,
    actions: [
      { label: 'Cancel' },
      {
        label: 'Generate', kind: 'primary', submit: true,
        onClick: async (ctl) => {
          const value = requiredText(ctl, name, 'Enter a key identification: a name that says who or what uses this key.');
          if (value === null) return;
          const created = await ctl.run(() => api.createKey(value, checklist.selectedRoles()));
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
  openDialog({
    title: `Edit ${key.key}`,
    content: [name.field, checklist],
    returnFocus,
    actions: [
      { label: 'Cancel' },
      {
        label: 'Save', kind: 'primary', submit: true,
        onClick: async (ctl) => {
          const value = requiredText(ctl, name, 'Enter a key identification.');
          if (value === null) return;
          const fields = { roles: checklist.selectedRoles() };
          if (value !== key.name) fields.name = value;
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

/**
 * Renews at once (no body: the old token is kept, "Later"), then shows the new
 * token and asks whether to delete the old one now. Closing the dialog in any
 * way before Complete leaves both tokens valid.
 */
async function openRenew(key, returnFocus) {
  let renewed = false;
  let completed = false;
  const ctl = openDialog({
    title: 'Renew token',
    content: [h('p', { class: 'dialog-intro', 'aria-live': 'polite' }, 'Renewing the token of ', h('code', { text: key.key }), '…')],
    returnFocus,
    actions: [{ label: 'Close' }],
    onClose: () => {
      if (renewed) {
        tab.refresh();
        if (!completed) success(`Token of ${key.key} renewed. The old token keeps working until you delete it.`);
      }
    },
  });
  const result = await ctl.run(() => tab.reloadIfStale(() => api.renewKey(key.key)));
  if (!result) {
    ctl.setTitle('Token not renewed');
    ctl.setBody(h('p', { class: 'dialog-intro' }, 'The token of ', h('code', { text: key.key }), ' was not renewed; both of its tokens are unchanged.'));
    return;
  }
  renewed = true;
  if (!ctl.dialog.open) { // closed while the request ran (e.g. sign-out)
    result.token = null;
    return;
  }
  const box = tokenBox(result.token, 'New API token');
  const link = shareLinkBox(result.share_url);
  result.token = null;
  result.share_url = null;

  const groupLabel = newId('delete-old');
  const later = h('input', { type: 'radio', name: groupLabel, value: 'later', checked: true, id: newId('later'), 'aria-describedby': `${groupLabel}-later-hint` });
  const now = h('input', { type: 'radio', name: groupLabel, value: 'now', id: newId('now'), 'aria-describedby': `${groupLabel}-now-hint` });
  const group = h('div', { role: 'radiogroup', class: 'choice-group', 'aria-labelledby': groupLabel },
    h('div', { class: 'group-label', id: groupLabel, text: 'Delete Old Token' }),
    h('div', { class: 'choice-block' },
      h('label', { class: 'choice', for: later.id }, later, h('span', { text: 'Later' })),
      h('p', { class: 'choice-hint', id: `${groupLabel}-later-hint`, text: 'Both tokens keep working until you delete the old one (Actions → Delete Old Token) or undo the renewal. Best while integrations switch over.' })),
    h('div', { class: 'choice-block' },
      h('label', { class: 'choice', for: now.id }, now, h('span', { text: 'Now' })),
      h('p', { class: 'choice-hint', id: `${groupLabel}-now-hint`, text: 'The old token stops working immediately. Only choose this if nothing uses it any more.' })));

  ctl.setTitle(`Token renewed`);
  ctl.setBody(
    h('p', { class: 'dialog-intro' }, 'A new token was created for ', h('code', { text: key.key }),
      key.name ? ` (${key.name})` : '', '. Copy it now: it is shown only once.'),
    box,
    link,
    group);
  ctl.setActions([{
    label: 'Complete', kind: 'primary', submit: true,
    onClick: async (c) => {
      if (now.checked) {
        let ok = false;
        await c.run(async () => {
          await api.deleteOldToken(key.key);
          ok = true;
        });
        if (!ok) return;
        completed = true;
        success(`Token of ${key.key} renewed; the old token was deleted.`);
      } else {
        completed = true;
        success(`Token of ${key.key} renewed. The old token keeps working until you delete it.`);
      }
      c.close();
    },
  }]);
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
