// external.js - the External tab: keys of other accounts that this account
// grants roles to. Add one by its key identification, edit its roles and
// status here, or remove the grant.

import * as api from './api.js';
import { h, newId } from './dom.js';
import { confirmDialog, openDialog, requiredText, roleChecklist, textField } from './dialogs.js';
import { failure, success } from './feedback.js';
import { formatDate, plural } from './format.js';
import { closeMenuWithin, menuButton } from './menu.js';
import {
  actionState, can, emptyState, getRoles, grantLock, kebabButton, keyBlockedReason, missingHint, RES, renewalAlert,
  roleChips, state, statusBadge,
} from './state.js';

const el = {};
let items = [];
let loaded = false;
let loadSeq = 0;

export function initExternal() {
  el.body = document.getElementById('external-body');
  el.table = document.getElementById('external-table');
  el.empty = document.getElementById('external-empty');
  el.count = document.getElementById('external-count');
  el.add = document.getElementById('add-external-button');
  el.add.addEventListener('click', () => openAdd(el.add));
}

export function resetExternal() {
  items = [];
  loaded = false;
  loadSeq += 1;
  el.body.replaceChildren();
  el.count.textContent = '';
  el.empty.hidden = true;
}

export function applyExternalPermissions() {
  el.add.disabled = !can(RES.editKeys);
  el.add.title = can(RES.editKeys) ? '' : missingHint(RES.editKeys);
}

export async function refreshExternal() {
  const seq = ++loadSeq;
  el.table.setAttribute('aria-busy', 'true');
  try {
    // The roles come along: a grant's actions depend on what its roles give.
    const [list] = await Promise.all([api.listExternal(), getRoles(true).catch(() => null)]);
    if (seq !== loadSeq) return;
    items = list;
    loaded = true;
    renderExternal();
  } catch (err) {
    if (seq !== loadSeq) return;
    items = [];
    el.body.replaceChildren();
    el.table.hidden = true;
    emptyState(el.empty, {
      title: 'The external keys could not be loaded',
      text: err.message,
      action: { label: 'Try again', onClick: () => refreshExternal() },
    });
  } finally {
    if (seq === loadSeq) el.table.removeAttribute('aria-busy');
  }
}

function matches(item, q) {
  if (!q) return true;
  const needle = q.toLowerCase();
  return [item.key, item.name, item.account].some((v) => typeof v === 'string' && v.toLowerCase().includes(needle));
}

/** Renders the loaded list filtered by the search box (the API has no search for external keys). */
export function renderExternal() {
  if (!loaded) return;
  const query = state.query;
  const shown = items.filter((i) => matches(i, query));
  const active = document.activeElement;
  const focusedRow = active && el.body.contains(active) ? active.closest('tr') : null;
  const focusedKey = focusedRow ? focusedRow.dataset.key : null;
  closeMenuWithin(el.body);
  el.body.replaceChildren(...shown.map(renderRow));
  if (focusedKey) {
    const row = [...el.body.rows].find((r) => r.dataset.key === focusedKey);
    (row ? row.querySelector('.kebab') : el.add).focus();
  }
  el.table.hidden = shown.length === 0;
  if (shown.length === 0) {
    if (items.length > 0) {
      emptyState(el.empty, {
        title: `No external keys match “${query}”`,
        text: 'Search looks at the key identifier, its name and its owner account. Try fewer letters, or clear the search.',
      });
    } else {
      emptyState(el.empty, {
        title: 'No external keys',
        text: 'To let a key of another account call this account’s APIs, use Add Key and choose the roles it gets here.',
      });
    }
  } else {
    el.empty.hidden = true;
  }
  const n = shown.length;
  el.count.textContent = query ? `${plural(n, 'external key', 'external keys')} matching “${query}”`
    : plural(n, 'external key', 'external keys');
}

function renderRow(item) {
  const kebab = kebabButton(item.key);
  menuButton(kebab, () => grantActions(item));
  return h('tr', { dataset: { key: item.key }, class: item.status !== 'active' ? 'row-inactive' : null },
    h('th', { scope: 'row', class: 'cell-key' },
      h('div', { class: 'key-line' }, h('code', { class: 'key-id', text: item.key }), renewalAlert(item.renewal_alert)),
      h('div', { class: 'key-name' },
        h('span', { class: 'owner-label', text: 'Account ' }), h('strong', { class: 'owner', text: item.account }),
        item.name ? h('span', { class: 'muted', text: ` · ${item.name}` }) : null)),
    h('td', { class: 'cell-roles' }, roleChips(item.roles)),
    h('td', { class: 'cell-date' }, h('time', { datetime: item.added_at, text: formatDate(item.added_at) })),
    h('td', { class: 'cell-status' }, statusBadge(item.status),
      item.home_status === 'inactive' ? h('div', { class: 'cell-note', text: `Deactivated by ${item.account}` }) : null),
    h('td', { class: 'cell-actions' }, h('div', { class: 'menu-anchor' }, kebab)));
}

/**
 * The row menu: Edit and Remove need edit-api-keys and that the grant's roles
 * here give nothing the signed-in key lacks (else disabled, saying why).
 */
function grantActions(item) {
  const blocked = keyBlockedReason(item.roles);
  const edit = actionState(RES.editKeys, blocked);
  return [
    blocked ? { note: blocked } : null,
    { label: 'Edit', onSelect: (btn) => openEdit(item, btn), ...edit },
    { separator: true },
    { label: 'Remove', danger: true, onSelect: (btn) => openRemove(item, btn), ...edit },
  ].filter(Boolean);
}

async function rolesOrFail() {
  try {
    return await getRoles(true);
  } catch (err) {
    failure(`Cannot open the form: ${err.message}`, err);
    return null;
  }
}

async function openAdd(returnFocus) {
  const roles = await rolesOrFail();
  if (!roles) return;
  const keyField = textField({
    label: 'External key identification', required: true, mono: true, maxlength: 80,
    placeholder: 'kst-otheraccount-xxxxxxxxxx',
    hint: 'The API key (not the token) of a key of another account. Its owner keeps managing its tokens.',
  });
  const checklist = roleChecklist(roles, [], { legend: 'Roles in this account', lock: grantLock });
  openDialog({
    title: 'Add external key',
    content: [keyField.field, checklist],
    returnFocus,
    actions: [
      { label: 'Cancel' },
      {
        label: 'Add', kind: 'primary', submit: true,
        onClick: async (ctl) => {
          const key = requiredText(ctl, keyField, 'Enter the API key of a key of another account, e.g. kst-partner-abcdefghij.');
          if (key === null) return;
          const added = await ctl.run(async () => {
            try {
              return await api.addExternal(key, checklist.selectedRoles());
            } catch (err) {
              if (err.status === 404 && err.code === 'not_found') {
                throw new Error(`No key ${key} exists. Check the key identification with its owner.`);
              }
              throw err;
            }
          });
          if (!added) return;
          ctl.close();
          refreshExternal();
          success(`External key ${added.key} added.`);
        },
      },
    ],
  });
}

async function openEdit(item, returnFocus) {
  const roles = await rolesOrFail();
  if (!roles) return;
  const checklist = roleChecklist(roles, item.roles, { legend: 'Roles in this account', lock: grantLock });
  const activeId = newId('active');
  const active = h('input', { type: 'checkbox', id: activeId, checked: item.status === 'active' });
  openDialog({
    title: `Edit ${item.key}`,
    content: [
      h('p', { class: 'dialog-intro' }, 'Key of account ', h('strong', { text: item.account }),
        item.name ? ` · ${item.name}` : ''),
      checklist,
      h('label', { class: 'choice', for: activeId }, active, h('span', { text: 'Active in this account' })),
    ],
    returnFocus,
    actions: [
      { label: 'Cancel' },
      {
        label: 'Save', kind: 'primary', submit: true,
        onClick: async (ctl) => {
          const fields = { roles: checklist.selectedRoles() };
          const status = active.checked ? 'active' : 'inactive';
          if (status !== item.status) fields.status = status;
          const updated = await ctl.run(async () => {
            try {
              return await api.updateExternal(item.key, fields);
            } catch (err) {
              if (err.status === 404) refreshExternal();
              throw err;
            }
          });
          if (!updated) return;
          ctl.close();
          refreshExternal();
          success(`Changes to ${item.key} saved.`);
        },
      },
    ],
  });
}

function openRemove(item, returnFocus) {
  confirmDialog({
    title: 'Remove external key?',
    message: `${item.key} (account ${item.account}) will lose its roles in this account and can no longer call its APIs. The key itself stays with its owner.`,
    confirmLabel: 'Remove',
    danger: true,
    returnFocus,
    action: async () => {
      try {
        return await api.removeExternal(item.key);
      } catch (err) {
        if (err.status === 404) refreshExternal();
        throw err;
      }
    },
    done: () => {
      refreshExternal();
      success(`External key ${item.key} removed.`);
    },
  });
}
