// state.js - what the signed-in page knows (who signed in, what it may do),
// and small view pieces shared by the tabs.

import * as api from './api.js';
import { h, icon, ICONS } from './dom.js';
import { failure } from './feedback.js';

export const state = {
  // Who signed in: {type: 'key', key, account, resources} or {type: 'user',
  // email, account, accounts: [{account, roles}], roles, resources, totp}.
  // resources: the management resources it holds in `account`, or null
  // while unknown (then the page offers everything and the server decides).
  session: null,
  roles: null, // cached role list of the account
  query: '', // the search box, trimmed
  settings: null,
};

/**
 * The management resources, in the order the API names them (and so the order
 * in which "the first missing one" is told). Every other resource (orders.read...)
 * is an API permission of the account and limits no one here.
 */
export const RES = {
  viewKeys: 'view-api-keys',
  editKeys: 'edit-api-keys',
  renew: 'renew-api-token',
  editSettings: 'edit-api-keys-settings',
  editRoles: 'edit-roles',
  viewAudit: 'view-audit-log',
  editUsers: 'edit-users',
  editWebhooks: 'edit-webhooks',
};
export const MANAGEMENT = Object.values(RES);

/** Whether the signed-in principal holds a resource (the server checks again on every call). */
export function can(resource) {
  const resources = state.session && state.session.resources;
  return !resources || resources.includes(resource);
}

export const isPerson = () => !!state.session && state.session.type === 'user';

/** "Your key's roles" or, for a person, "Your roles". */
export function yourRoles() {
  return isPerson() ? 'Your roles' : 'Your key\'s roles';
}

export function missingHint(resource) {
  return `${yourRoles()} do not include ${resource}.`;
}

/** The hint atop a role checklist when some roles cannot be granted. */
export function lockedRolesHint() {
  return isPerson()
    ? 'Roles that give management permissions you do not hold cannot be granted by you.'
    : 'Roles that give management permissions your key does not hold cannot be granted from it.';
}

// ---- who signed in ----------------------------------------------------------------

/** What the built-in roles give, for when the account's role list cannot be read. */
const BUILTIN_ROLES = {
  Owner: MANAGEMENT,
  'User Administrator - RESTRICTED': [RES.viewKeys, RES.editKeys, RES.renew, RES.editSettings, RES.editUsers],
};

/**
 * The management resources that the roles `names` give in the current
 * account, from the role list (state.roles), else from what the built-in
 * roles give; null when a role is unknown.
 */
function resourcesOfRoles(names) {
  const out = new Set();
  for (const name of names || []) {
    const role = (state.roles || []).find((r) => r.name === name);
    const resources = role ? role.resources : BUILTIN_ROLES[name];
    if (!resources) return null;
    for (const r of resources) out.add(r);
  }
  return [...out];
}

/**
 * Who a session answer (GET or POST /api/v1/session) and GET /api/v1/me say
 * signed in, in the shape of state.session. `wanted`: the account a person
 * chose (kept when it still belongs to it). me is null on a server without
 * people; then it is the key of the session answer.
 */
export function identityOf(info, me, wanted = null) {
  const principal = (info && info.principal) || {};
  if (!me || me.type !== 'user') {
    return {
      type: 'key',
      key: info.key || principal.key || (me && me.key),
      account: info.account || principal.account || (me && me.account),
      resources: Array.isArray(info.resources) ? info.resources : null,
    };
  }
  const accounts = Array.isArray(me.accounts) ? me.accounts : [];
  const names = accounts.map((a) => a.account);
  const account = [wanted, info.account].find((a) => a && names.includes(a)) || names[0] || null;
  const membership = accounts.find((a) => a.account === account);
  return {
    type: 'user',
    email: me.email,
    account,
    accounts,
    roles: membership ? membership.roles || [] : [],
    // The session answer's resources are for its own account only.
    resources: Array.isArray(info.resources) && info.account === account ? info.resources : null,
    totp: !!me.totp,
  };
}

/** Asks the server who is signed in (session and me): the identity, or throws ApiError. */
export async function loadIdentity(wanted = null) {
  const [info, me] = await Promise.all([api.loadSession(), api.loadMe()]);
  return identityOf(info, me, wanted);
}

/**
 * For a person whose session answer did not say what it may do in the
 * chosen account: works it out from its roles there and the role list.
 */
export async function completeAuthority(session) {
  if (session.type !== 'user' || session.resources) return;
  await getRoles(true).catch(() => null);
  session.resources = resourcesOfRoles(session.roles);
}

// ---- authority: nobody grants or acts on more than it holds -----------------------
//
// The signed-in key's authority is the management resources of its roles (the
// session's resources). A role is grantable when every management resource it
// gives is held; a key or grant may be acted on when the management resources
// of its roles here are all held. Both are only what the page offers: the
// server refuses the rest with 403 forbidden whatever this page shows.

/** Management resources that `resources` give and the signed-in key lacks, in API order. */
function missingOf(resources) {
  if (!state.session || !state.session.resources) return []; // unknown: let the server decide
  const given = new Set(resources || []);
  return MANAGEMENT.filter((r) => given.has(r) && !can(r));
}

/** The role objects of the cached list named in `names` (unknown names are skipped). */
function rolesNamed(names) {
  const roles = state.roles || [];
  return (names || []).map((n) => roles.find((r) => r.name === n)).filter(Boolean);
}

/** The first management resource a role gives that the signed-in key lacks, or null. */
export function roleMissing(role) {
  return missingOf(role.resources)[0] || null;
}

/**
 * For the role checkboxes: null when the signed-in key may grant the role, else
 * {reason, note}: a sentence naming the first resource it lacks, and a short label.
 */
export function grantLock(role) {
  const missing = roleMissing(role);
  return missing ? { reason: `You cannot grant ${role.name}: it gives ${missing}, which you do not hold.`, note: `Needs ${missing}` } : null;
}

/** Why a role cannot be edited or deleted by the signed-in key, or null when it can. */
export function roleEditBlockedReason(role) {
  const missing = roleMissing(role);
  return missing ? `This role gives ${missing}, which you do not hold.` : null;
}

/**
 * Why the signed-in principal may not act on a key or grant (or, with
 * what = 'person', a person) holding the roles `names` in this account (a
 * sentence naming the first resource it lacks), or null.
 */
export function keyBlockedReason(names, what = 'key') {
  const missing = missingOf(rolesNamed(names).flatMap((r) => r.resources || []))[0];
  return missing ? `This ${what} holds ${missing}, which you do not.` : null;
}

/**
 * A row action's state: disabled with the reason when the signed-in key lacks
 * the route's resource, else when the target is more powerful, else enabled.
 */
export function actionState(resource, blocked) {
  if (!can(resource)) return { disabled: true, hint: missingHint(resource) };
  if (blocked) return { disabled: true, hint: blocked };
  return { disabled: false, hint: null };
}

const authorityListeners = [];

/** fn() runs after the signed-in key's resources or the role list changed. */
export function onAuthorityChange(fn) {
  authorityListeners.push(fn);
}

/**
 * Asks the server again what the signed-in principal holds (GET
 * /api/v1/session and /api/v1/me) and for the roles, then lets every view
 * re-apply what it offers. Called after a refusal (403: this page's picture
 * was stale) and after a change to the signed-in key or person itself.
 * Failures are left to the next call to report.
 */
export async function reloadAuthority() {
  const before = state.session;
  if (!before) return;
  try {
    const [now] = await Promise.all([loadIdentity(before.account), getRoles(true).catch(() => null)]);
    if (state.session !== before || now.type !== before.type || now.key !== before.key || now.email !== before.email) return;
    await completeAuthority(now);
    if (state.session !== before) return;
    Object.assign(before, { resources: now.resources, roles: now.roles, accounts: now.accounts, totp: now.totp });
  } catch {
    return;
  }
  for (const fn of authorityListeners) fn();
}

export async function getRoles(force = false) {
  if (!state.roles || force) state.roles = await api.listRoles();
  return state.roles;
}

/** The role list for a form about to open, or null after an error toast saying why it cannot open. */
export async function rolesForForm() {
  try {
    return await getRoles(true);
  } catch (err) {
    failure(`Cannot open the form: ${err.message}`, err);
    return null;
  }
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
