// users.js - the Users tab: the people who sign in to this account's web
// admin. Invite one by email with roles (its one-time invitation link shown
// once, with Copy), change its roles, deactivate or activate it, remove it
// from the account. Managing people needs edit-users, and delegation limits
// it as it limits keys: only roles whose management resources the signed-in
// principal holds can be given, and only people who hold nothing it lacks
// can be acted on. The server checks all of it again.

import * as api from './api.js';
import { h } from './dom.js';
import {
  confirmDialog, openDialog, requiredText, roleChecklist, secretBox, textField,
} from './dialogs.js';
import { failure, success } from './feedback.js';
import { formatDate, formatDateTime } from './format.js';
import { listTab } from './list_tab.js';
import { menuButton } from './menu.js';
import {
  actionState, can, grantLock, kebabButton, keyBlockedReason, lockedRolesHint, missingHint, reloadAuthority, RES,
  roleChips, rolesForForm, state, statusBadge,
} from './state.js';

const EMAIL_MAX = 254;

const tab = listTab({
  name: 'users',
  add: { id: 'invite-button', resource: RES.editUsers, onClick: (button) => openInvite(button) },
  load: () => api.listUsers(),
  serverSearch: false,
  matches: (person, needle) => [person.email, ...(person.roles || [])].some((v) => v.toLowerCase().includes(needle)),
  withRoles: true,
  unavailable: () => (can(RES.editUsers) ? null : {
    title: 'Users are managed with edit-users',
    text: `${missingHint(RES.editUsers)} Ask an Owner of this account to invite people or change their roles.`,
  }),
  rowId: (person) => person.email,
  renderRow,
  noun: ['user', 'users'],
  errorTitle: 'The users could not be loaded',
  empty: (query) => (query
    ? { title: `No users match “${query}”`, text: 'Search looks at email addresses and roles.' }
    : { title: 'No users yet', text: 'Use + Invite User to let a colleague sign in with an email and a password.' }),
});
export default tab;

const isSelf = (person) => state.session && state.session.type === 'user' && state.session.email === person.email;

function renderRow(person) {
  const kebab = kebabButton(person.email);
  menuButton(kebab, () => rowActions(person));
  const never = !person.last_sign_in_at;
  return h('tr', { class: person.status !== 'active' ? 'row-inactive' : null },
    h('th', { scope: 'row', class: 'cell-key' },
      h('div', { class: 'key-line' },
        h('span', { class: 'avatar avatar-small', 'aria-hidden': 'true', text: initialOf(person.email) }),
        h('span', { class: 'user-email', text: person.email }),
        isSelf(person) ? h('span', { class: 'tag tag-muted', text: 'you' }) : null),
      h('div', { class: 'user-facts' },
        person.totp ? h('span', { class: 'tag tag-good', text: 'Authenticator app' }) : null,
        person.sso ? h('span', { class: 'tag tag-muted', text: 'SSO' }) : null)),
    h('td', { class: 'cell-roles' }, roleChips(person.roles)),
    h('td', { class: 'cell-date' }, never
      ? h('span', { class: 'muted', text: 'Never' })
      : h('time', { datetime: person.last_sign_in_at, title: formatDateTime(person.last_sign_in_at), text: formatDate(person.last_sign_in_at) })),
    h('td', { class: 'cell-status' }, statusBadge(person.status)),
    h('td', { class: 'cell-actions' }, h('div', { class: 'menu-anchor' }, kebab)));
}

/** The first letter of an email, upper case: the avatar's text. */
export function initialOf(email) {
  const first = [...String(email || '?')][0] || '?';
  return first.toLocaleUpperCase();
}

/**
 * The row menu: each action needs edit-users and that the person's
 * authority here is within the signed-in principal's; otherwise it is
 * disabled, its tooltip says why, and a note atop the menu says it once.
 */
function rowActions(person) {
  const blocked = keyBlockedReason(person.roles, 'person');
  const edit = actionState(RES.editUsers, blocked);
  return [
    blocked ? { note: blocked } : null,
    { label: 'Change Roles', onSelect: (btn) => openEdit(person, btn), ...edit },
    person.status === 'active'
      ? { label: 'Deactivate', onSelect: (btn) => openDeactivate(person, btn), ...edit }
      : { label: 'Activate', onSelect: (btn) => activate(person, btn), ...edit },
    { separator: true },
    { label: 'Remove from Account', danger: true, onSelect: (btn) => openRemove(person, btn), ...edit },
  ].filter(Boolean);
}

/** After a change to the signed-in person itself, learn again what it may do. */
function afterChangeTo(person) {
  if (isSelf(person)) reloadAuthority();
}

// ---- invite ------------------------------------------------------------------------

async function openInvite(returnFocus) {
  const roles = await rolesForForm();
  if (!roles) return;
  const email = textField({
    label: 'Email', required: true, maxlength: EMAIL_MAX, placeholder: 'colleague@example.com',
    hint: 'They get a one-time link to set a password. Someone who already has one simply joins this account.',
  });
  email.input.type = 'email';
  const checklist = roleChecklist(roles, [], { lock: grantLock, lockedHint: lockedRolesHint() });
  openDialog({
    title: 'Invite user',
    content: [email.field, checklist],
    returnFocus,
    actions: [
      { label: 'Cancel' },
      {
        label: 'Invite', kind: 'primary', submit: true,
        onClick: async (ctl) => {
          const value = requiredText(ctl, email, 'Enter the email address of the person to invite.');
          if (value === null) return;
          if (!/^[^\s@]+@[^\s@]+$/.test(value)) {
            email.input.setAttribute('aria-invalid', 'true');
            ctl.setError('Enter an email address, like colleague@example.com.');
            email.input.focus();
            return;
          }
          const person = await ctl.run(() => api.inviteUser(value, checklist.selectedRoles()));
          if (!person) return;
          showInvited(ctl, person);
          tab.refresh();
          success(`${person.email} invited.`);
        },
      },
    ],
  });
}

/** The answer of an invitation: its one-time link once, with Copy, or why there is none. */
function showInvited(ctl, person) {
  const url = person.invite_url;
  person.invite_url = null; // the only copy is now the dialog's text, wiped on close
  ctl.setTitle('User invited');
  if (url) {
    const box = secretBox(url, {
      label: 'Invitation link', copyLabel: 'Copy link', className: 'token-box token-box-link',
      hint: 'Send this link to them: it lets them set a password once, within 72 hours. It is shown only now.',
    });
    ctl.setBody(
      h('p', { class: 'dialog-intro' }, h('strong', { text: person.email }), ' can join account ',
        h('strong', { text: state.session.account }), ' with this link.'),
      box);
    ctl.setActions([{ label: 'Close', kind: 'primary' }]);
    box.querySelector('button').focus();
  } else {
    ctl.setBody(h('p', { class: 'dialog-intro' }, h('strong', { text: person.email }),
      ' already has a password: they can sign in to account ', h('strong', { text: state.session.account }), ' now.'));
    ctl.setActions([{ label: 'Close', kind: 'primary' }]);
    ctl.buttons.Close.focus();
  }
}

// ---- change roles ------------------------------------------------------------------

async function openEdit(person, returnFocus) {
  const roles = await rolesForForm();
  if (!roles) return;
  const checklist = roleChecklist(roles, person.roles, { lock: grantLock, lockedHint: lockedRolesHint() });
  openDialog({
    title: `Roles of ${person.email}`,
    content: [checklist],
    returnFocus,
    actions: [
      { label: 'Cancel' },
      {
        label: 'Save', kind: 'primary', submit: true,
        onClick: async (ctl) => {
          const saved = await ctl.run(() => tab.reloadIfStale(() => api.updateUser(person.email, { roles: checklist.selectedRoles() })));
          if (!saved) return;
          ctl.close();
          tab.refresh();
          afterChangeTo(person);
          success(`Roles of ${person.email} saved.`);
        },
      },
    ],
  });
}

// ---- status and removal --------------------------------------------------------------

function selfWarning(person) {
  return isSelf(person) ? 'This is you: this page will sign you out.' : undefined;
}

function openDeactivate(person, returnFocus) {
  confirmDialog({
    title: 'Deactivate user?',
    message: `${person.email} will be signed out at once and cannot sign in until activated again. Their roles are kept.`,
    warning: selfWarning(person),
    confirmLabel: 'Deactivate',
    danger: true,
    returnFocus,
    action: () => tab.reloadIfStale(() => api.updateUser(person.email, { status: 'inactive' })),
    done: () => {
      tab.refresh();
      success(`${person.email} deactivated.`);
    },
  });
}

async function activate(person) {
  try {
    await tab.reloadIfStale(() => api.updateUser(person.email, { status: 'active' }));
    success(`${person.email} activated.`);
    afterChangeTo(person);
  } catch (err) {
    failure(`Could not activate ${person.email}: ${err.message}`, err);
  }
  await tab.refresh();
}

function openRemove(person, returnFocus) {
  confirmDialog({
    title: 'Remove user from account?',
    message: `${person.email} loses their roles in account ${state.session.account} and is signed out of it at once. Their other accounts are not touched.`,
    warning: selfWarning(person),
    confirmLabel: 'Remove',
    danger: true,
    returnFocus,
    action: () => tab.reloadIfStale(() => api.removeUser(person.email)),
    done: () => {
      tab.refresh();
      success(`${person.email} removed from account ${state.session.account}.`);
    },
  });
}
