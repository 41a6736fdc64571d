// roles.js - the Roles tab: the roles of this account and what each gives.
// A role gives management resources (what a key may do here, RES in state.js)
// and API permissions (orders.read...: what an integration may call). Creating
// or editing one may only put in management resources the signed-in key holds;
// a role giving one it lacks cannot be edited or deleted from it. Built-in
// roles cannot be changed at all. The server checks all of it again.

import * as api from './api.js';
import { h, newId } from './dom.js';
import { confirmDialog, openDialog, requiredText, textField } from './dialogs.js';
import { success } from './feedback.js';
import { listTab } from './list_tab.js';
import { menuButton } from './menu.js';
import {
  actionState, can, getRoles, kebabButton, MANAGEMENT, reloadAuthority, RES, roleEditBlockedReason,
} from './state.js';

// The list is the role cache of state.js (state.roles), shared with the key dialogs.
const tab = listTab({
  name: 'roles',
  add: { id: 'add-role-button', resource: RES.editRoles, onClick: (button) => openRoleDialog(null, button) },
  load: () => getRoles(true),
  serverSearch: false,
  matches: (role, needle) => [role.name, ...(role.resources || [])].some((v) => v.toLowerCase().includes(needle)),
  rowId: (role) => role.name,
  renderRow,
  noun: ['role', 'roles'],
  errorTitle: 'The roles could not be loaded',
  empty: (query) => (query
    ? { title: `No roles match “${query}”`, text: 'Search looks at role names and their resources.' }
    : { title: 'No roles', text: 'Use + New Role to name a set of resources that keys can be given.' }),
});
export default tab;

/** Resources as two chip lists: management first, then API permissions. */
function resourceCell(resources) {
  const management = MANAGEMENT.filter((r) => resources.includes(r));
  const other = resources.filter((r) => !MANAGEMENT.includes(r));
  if (!management.length && !other.length) return h('span', { class: 'muted', text: 'No resources' });
  return h('div', { class: 'resource-lists' },
    management.length ? h('ul', { class: 'chips', 'aria-label': 'Management resources' },
      management.map((r) => h('li', { class: ['chip', 'chip-management'], text: r }))) : null,
    other.length ? h('ul', { class: 'chips', 'aria-label': 'API permissions' },
      other.map((r) => h('li', { class: 'chip', text: r }))) : null);
}

function renderRow(role) {
  const kebab = kebabButton(role.name);
  menuButton(kebab, () => roleActions(role));
  return h('tr', {},
    h('th', { scope: 'row', class: 'cell-key' },
      h('div', { class: 'key-line' }, h('span', { class: 'role-name', text: role.name }),
        role.builtin ? h('span', { class: 'tag tag-muted', text: 'built-in' }) : null)),
    h('td', { class: 'cell-roles' }, resourceCell(role.resources || [])),
    h('td', { class: 'cell-actions' }, h('div', { class: 'menu-anchor' }, kebab)));
}

/**
 * Why a role's Edit and Delete are not offered: built-in, the route's resource
 * (edit-roles) missing, or the role giving a management resource the signed-in
 * key lacks. The reason is each item's tooltip and, once, a note atop the menu.
 */
function roleActions(role) {
  const blocked = role.builtin ? 'Built-in roles cannot be edited or deleted.' : roleEditBlockedReason(role);
  const edit = actionState(RES.editRoles, blocked);
  return [
    blocked ? { note: blocked } : null,
    { label: 'Edit', onSelect: (btn) => openRoleDialog(role, btn), ...edit },
    { separator: true },
    { label: 'Delete Role', danger: true, onSelect: (btn) => openDelete(role, btn), ...edit },
  ].filter(Boolean);
}

/** After any change to a role: it may change what the signed-in key holds, and every list. */
function afterChange() {
  reloadAuthority();
}

/**
 * The create/edit form: the name, one checkbox per management resource
 * (those the signed-in key lacks shown disabled, kept as they are), and the
 * API permissions as a list separated by spaces or commas.
 */
function openRoleDialog(role, returnFocus) {
  const resources = role ? role.resources || [] : [];
  const name = textField({ label: 'Role name', value: role ? role.name : '', required: true, maxlength: 100 });
  const boxes = MANAGEMENT.map((r) => {
    const id = newId('res');
    const held = can(r);
    const noteId = held ? null : newId('res-lock');
    const input = h('input', { type: 'checkbox', id, value: r, checked: resources.includes(r), disabled: !held, 'aria-describedby': noteId });
    const reason = `You cannot put ${r} into a role: you do not hold it.`;
    return h('label', { class: ['choice', 'role-choice', !held && 'role-choice-locked'], for: id, title: held ? null : reason },
      input, h('span', { class: 'role-choice-name mono', text: r }),
      held ? null : h('span', { class: 'role-lock-note', id: noteId, 'aria-hidden': 'true', text: 'You do not hold it' }));
  });
  const management = h('fieldset', { class: 'fieldset' }, h('legend', { text: 'Management resources' }),
    h('p', { class: 'field-hint', text: 'What keys and people with this role may do in this web admin and the management API. Only resources you hold can be given.' }),
    h('div', { class: 'role-grid' }, boxes));
  const other = textField({
    label: 'API permissions', mono: true, maxlength: 13000,
    value: resources.filter((r) => !MANAGEMENT.includes(r)).join(' '),
    placeholder: 'orders.read orders.write',
    hint: 'The resources your APIs check with verify, separated by spaces or commas.',
  });
  openDialog({
    title: role ? `Edit ${role.name}` : 'New role',
    content: [name.field, management, other.field],
    returnFocus,
    actions: [
      { label: 'Cancel' },
      {
        label: role ? 'Save' : 'Create', kind: 'primary', submit: true,
        onClick: async (ctl) => {
          const value = requiredText(ctl, name, 'Enter a role name.');
          if (value === null) return;
          const chosen = [
            ...[...management.querySelectorAll('input:checked')].map((i) => i.value),
            ...other.input.value.split(/[\s,]+/).filter(Boolean),
          ];
          const fields = { resources: [...new Set(chosen)] };
          if (!role || value !== role.name) fields.name = value;
          const saved = await ctl.run(() => tab.reloadIfStale(() => (role ? api.updateRole(role.name, fields)
            : api.createRole(fields.name, fields.resources))));
          if (!saved) return;
          ctl.close();
          afterChange();
          success(role ? `Changes to role ${value} saved.` : `Role ${value} created.`);
        },
      },
    ],
  });
}

function openDelete(role, returnFocus) {
  confirmDialog({
    title: 'Delete role?',
    message: `The role ${role.name} will be deleted. A role that a key or an external key still holds cannot be deleted.`,
    confirmLabel: 'Delete',
    danger: true,
    returnFocus,
    action: () => tab.reloadIfStale(() => api.deleteRole(role.name)),
    done: () => {
      afterChange();
      success(`Role ${role.name} deleted.`);
    },
  });
}
