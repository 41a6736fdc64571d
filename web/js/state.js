// state.js - what the signed-in page knows, and small view pieces shared by
// the Generated and External tabs.

import * as api from './api.js';
import { h, icon, ICONS } from './dom.js';

export const state = {
  session: null, // {key, account, resources}
  roles: null, // cached role list of the account
  query: '', // the search box, trimmed
  settings: null,
};

export const RES = {
  viewKeys: 'view-api-keys',
  editKeys: 'edit-api-keys',
  renew: 'renew-api-token',
  editSettings: 'edit-api-keys-settings',
};

/** Whether the signed-in key holds a resource (the server checks again on every call). */
export function can(resource) {
  const resources = state.session && state.session.resources;
  return !resources || resources.includes(resource);
}

export function missingHint(resource) {
  return `Your key's roles do not include ${resource}.`;
}

export async function getRoles(force = false) {
  if (!state.roles || force) state.roles = await api.listRoles();
  return state.roles;
}

export function resetState() {
  state.session = null;
  state.roles = null;
  state.query = '';
  state.settings = null;
}

export function roleChips(roles) {
  if (!roles || roles.length === 0) return h('span', { class: 'muted', text: 'No roles' });
  return h('ul', { class: 'chips', 'aria-label': 'Roles' },
    roles.map((r) => h('li', { class: 'chip', text: r })));
}

export function statusBadge(status) {
  const active = status === 'active';
  return h('span', { class: ['badge', active ? 'badge-active' : 'badge-inactive'] },
    h('span', { class: 'badge-dot', 'aria-hidden': 'true' }), active ? 'Active' : 'Inactive');
}

const ALERTS = {
  recommended: { label: 'Renewal recommended', cls: 'alert-recommended',
    hint: 'The token is older than the token duration: renew it soon.' },
  highly_recommended: { label: 'Renewal highly recommended', cls: 'alert-high',
    hint: 'The token is more than 3 months past the token duration: renew it now.' },
};

/** The orange/red triangle beside a key whose token should be renewed. */
export function renewalAlert(level) {
  const a = ALERTS[level];
  if (!a) return null;
  return h('span', { class: ['alert-icon', a.cls], role: 'img', 'aria-label': a.label, title: `${a.label}. ${a.hint}` },
    icon(ICONS.alert));
}

/** The kebab button of a row. */
export function kebabButton(key) {
  return h('button', { type: 'button', class: 'btn-icon kebab', 'aria-label': `Actions for ${key}` }, icon(ICONS.kebab));
}

/** An empty state: a title, a sentence on what to do next, an optional button. */
export function emptyState(host, { title, text, action }) {
  host.replaceChildren(
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon(ICONS.key)),
    h('p', { class: 'empty-title', text: title }),
    h('p', { class: 'empty-text muted', text }),
    action ? h('button', { type: 'button', class: 'btn btn-secondary', text: action.label, onclick: action.onClick }) : null);
  host.hidden = false;
}
