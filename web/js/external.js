// external.js - the External tab: keys of other accounts that this account
// grants roles to. Add one by its key identification, edit its roles and
// status here, or remove the grant.

import * as api from './api.js';
import { h, newId } from './dom.js';
import { confirmDialog, openDialog, requiredText, roleChecklist, textField } from './dialogs.js';
import { success } from './feedback.js';
import { formatDate } from './format.js';
import { listTab } from './list_tab.js';
import { menuButton } from './menu.js';
import {
  actionState, grantLock, kebabButton, keyBlockedReason, lockedRolesHint, RES, renewalAlert, roleChips, rolesForForm,
  statusBadge,
} from './state.js';

const tab = listTab({
  name: 'external',
  add: { id: 'add-external-button', resource: RES.editKeys, onClick: (button) => openAdd(button) },
  load: () => api.listExternal(),
  serverSearch: false, // the API has no search for external keys
  matches: (item, needle) => [item.key, item.name, item.account]
    .some((v) => typeof v === 'string' && v.toLowerCase().includes(needle)),
  withRoles: true,
  rowId: (item) => item.key,
  renderRow,
  noun: ['external key', 'external keys'],
  errorTitle: 'The external keys could not be loaded',
  empty: (query, total) => (total > 0 ? {
    title: `No external keys match “${query}”`,
    text: 'Search looks at the key identifier, its name and its owner account. Try fewer letters, or clear the search.',
  } : {
    title: 'No external keys',
    text: 'To let a key of another account call this account’s APIs, use Add Key and choose the roles it gets here.',
  }),
});
export default tab;

function renderRow(item) {
  const kebab = kebabButton(item.key);
  menuButton(kebab, () => grantActions(item));
  return h('tr', { class: item.status !== 'active' ? 'row-inactive' : null },
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

async function openAdd(returnFocus) {
  const roles = await rolesForForm();
  if (!roles) return;
  const keyField = textField({
    label: 'External key identification', required: true, mono: true, maxlength: 80,
    placeholder: 'kst-otheraccount-xxxxxxxxxx',
    hint: 'The API key (not the token) of a key of another account. Its owner keeps managing its tokens.',
  });
  const checklist = roleChecklist(roles, [], { legend: 'Roles in this account', lock: grantLock, lockedHint: lockedRolesHint() });
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
          tab.refresh();
          success(`External key ${added.key} added.`);
        },
      },
    ],
  });
}

async function openEdit(item, returnFocus) {
  const roles = await rolesForForm();
  if (!roles) return;
  const checklist = roleChecklist(roles, item.roles, { legend: 'Roles in this account', lock: grantLock, lockedHint: lockedRolesHint() });
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
          const updated = await ctl.run(() => tab.reloadIfStale(() => api.updateExternal(item.key, fields), [404]));
          if (!updated) return;
          ctl.close();
          tab.refresh();
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
    action: () => tab.reloadIfStale(() => api.removeExternal(item.key), [404]),
    done: () => {
      tab.refresh();
      success(`External key ${item.key} removed.`);
    },
  });
}
