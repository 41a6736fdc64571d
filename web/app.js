// app.js - entry point of the Keystile web admin: sign-in and sign-out, the
// top bar (a person's avatar and its menu), the pages (API Keys with its tabs,
// Security), search and export. No framework and no build step; see js/ for
// the pieces. Nothing here writes to localStorage, sessionStorage, cookies or
// the URL: the session is an HttpOnly cookie set by the server, and the CSRF
// value is kept in memory only.

import * as api from './js/api.js';
import { closeAllDialogs } from './js/dialogs.js';
import { h } from './js/dom.js';
import { clearErrors, failure, success } from './js/feedback.js';
import { closeMenu, menuButton } from './js/menu.js';
import externalTab from './js/external.js';
import generatedTab from './js/generated.js';
import rolesTab from './js/roles.js';
import securityPage from './js/security.js';
import settingsTab from './js/settings.js';
import usersTab, { initialOf } from './js/users.js';
import { openUsage } from './js/usage.js';
import webhooksTab from './js/webhooks.js';
import {
  RES, can, completeAuthority, isPerson, loadIdentity, onAuthorityChange, reloadAuthority, resetState,
  state, yourRoles,
} from './js/state.js';

const $ = (id) => document.getElementById(id);

/**
 * The tabs, in the order of the tab bar: each is {name, init, reset,
 * applyPermissions, refresh, search} (js/list_tab.js says what each does) and
 * owns #tab-NAME and #panel-NAME. Sign-in, sign-out, a tab switch, the search
 * box and a refusal go through this list, never to one tab by hand.
 */
const TABS = [generatedTab, externalTab, rolesTab, settingsTab, usersTab, webhooksTab];
const FIRST_TAB = TABS[0].name;
const tabNamed = (name) => TABS.find((tab) => tab.name === name);

const views = {
  boot: $('boot'),
  signin: $('signin-view'),
  app: $('app-view'),
};

function showView(name) {
  for (const [key, el] of Object.entries(views)) el.hidden = key !== name;
}

// ---- sign-in ----------------------------------------------------------------
//
// Two forms behind two tabs: Email (a person: email, password, and the code
// of its authenticator app when the server asks for it) and API key (a key
// and its token, for automation and first use). "Sign in with SSO" shows
// when the server has single sign-on (GET /auth/oidc/config).

const signin = {
  passwordTab: $('signin-tab-password'),
  keyTab: $('signin-tab-key'),
  passwordForm: $('password-form'),
  email: $('signin-email'),
  password: $('signin-password'),
  totpField: $('signin-totp-field'),
  totp: $('signin-totp'),
  passwordError: $('password-error'),
  passwordSubmit: $('password-submit'),
  keyForm: $('signin-form'),
  key: $('signin-key'),
  token: $('signin-token'),
  keyError: $('signin-error'),
  keySubmit: $('signin-submit'),
  note: $('signin-note'),
  sso: $('sso-block'),
};
let lastMode = 'password'; // the form shown at the next sign-in page

function showError(el, message) {
  el.textContent = message || '';
  el.hidden = !message;
}

function showSigninNote(message) {
  signin.note.textContent = message || '';
  signin.note.hidden = !message;
}

/** Shows the Email ('password') or the API key ('key') form. */
function showSigninMode(mode, focus = false) {
  lastMode = mode;
  const key = mode === 'key';
  signin.passwordTab.setAttribute('aria-selected', String(!key));
  signin.keyTab.setAttribute('aria-selected', String(key));
  signin.passwordTab.tabIndex = key ? -1 : 0;
  signin.keyTab.tabIndex = key ? 0 : -1;
  signin.passwordForm.hidden = key;
  signin.keyForm.hidden = !key;
  if (focus) (key ? signin.keyTab : signin.passwordTab).focus();
}

for (const [tab, mode] of [[signin.passwordTab, 'password'], [signin.keyTab, 'key']]) {
  tab.addEventListener('click', () => {
    showSigninMode(mode);
    firstEmptyField().focus();
  });
  tab.addEventListener('keydown', (ev) => {
    if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(ev.key)) {
      ev.preventDefault();
      showSigninMode(mode === 'key' ? 'password' : 'key', true);
    }
  });
}

function firstEmptyField() {
  if (lastMode === 'key') return signin.key.value ? signin.token : signin.key;
  if (!signin.email.value) return signin.email;
  if (!signin.totpField.hidden && signin.password.value) return signin.totp;
  return signin.password;
}

/** The TOTP field, shown once the server asked for a code (and kept for the retry). */
function showTotpField(visible) {
  signin.totpField.hidden = !visible;
  if (!visible) signin.totp.value = '';
}

function keySigninMessage(err) {
  if (err.status === 401 && err.code === 'unauthenticated') {
    // One message whichever half was wrong.
    return 'Sign-in failed: the API key or the API token is not correct.';
  }
  if (err.status === 401) return err.message; // e.g. "expired" when the account enforces durations
  if (err.status === 403) {
    return 'This key cannot sign in to the web admin: its roles give it no permission to manage keys.';
  }
  if (err.status === 429) return 'Too many sign-in attempts. Wait a moment and try again.';
  return err.message;
}

function passwordSigninMessage(err, sentCode) {
  if (api.totpWanted(err)) return 'Enter the 6-digit code of your authenticator app to finish signing in.';
  if (err.status === 401 && sentCode) {
    // The password was right a moment ago (the server asked for a code): most likely the code.
    return 'Sign-in failed: the code is not correct or was already used (or the password is wrong). Type the code your app shows now.';
  }
  if (err.status === 401) return 'Sign-in failed: the email or the password is not correct.';
  if (err.status === 403) return err.message;
  if (err.status === 429) return 'Too many failed sign-ins for this email. Wait a few minutes and try again.';
  return err.message;
}

function showSignin(message) {
  closeMenu();
  closeAllDialogs();
  resetState();
  api.setSession(null);
  for (const tab of TABS) tab.reset();
  securityPage.reset();
  document.title = 'Sign in · Keystile';
  showView('signin');
  showSigninMode(lastMode);
  showError(lastMode === 'key' ? signin.keyError : signin.passwordError, message || '');
  showError(lastMode === 'key' ? signin.passwordError : signin.keyError, '');
  signin.token.value = '';
  signin.password.value = '';
  showTotpField(false);
  firstEmptyField().focus();
}

async function withBusy(form, button, fn) {
  button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

signin.keyForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const key = signin.key.value.trim();
  const token = signin.token.value.trim();
  if (!key || !token) {
    showError(signin.keyError, 'Enter your API key and your API token.');
    (key ? signin.token : signin.key).focus();
    return;
  }
  showError(signin.keyError, '');
  await withBusy(signin.keyForm, signin.keySubmit, async () => {
    try {
      await api.signIn(key, token);
      signin.token.value = ''; // the token is not needed any more
      await enterApp(await loadIdentity(), true);
    } catch (err) {
      showError(signin.keyError, keySigninMessage(err));
      signin.token.select();
      signin.token.focus();
    }
  });
});

signin.passwordForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const email = signin.email.value.trim();
  const password = signin.password.value;
  const code = signin.totpField.hidden ? '' : signin.totp.value.replace(/\s+/g, '');
  if (!email || !password) {
    showError(signin.passwordError, 'Enter your email and your password.');
    (email ? signin.password : signin.email).focus();
    return;
  }
  if (!signin.totpField.hidden && !/^[0-9]{6}$/.test(code)) {
    showError(signin.passwordError, 'Enter the 6-digit code of your authenticator app.');
    signin.totp.focus();
    return;
  }
  showError(signin.passwordError, '');
  await withBusy(signin.passwordForm, signin.passwordSubmit, async () => {
    try {
      await api.signInWithPassword(email, password, code || undefined);
      signin.password.value = '';
      showTotpField(false);
      await enterApp(await loadIdentity(), true);
    } catch (err) {
      // The code field stays once asked for: a wrong or used code is tried again.
      const wantsCode = api.totpWanted(err) || (!!code && err.status === 401);
      showError(signin.passwordError, passwordSigninMessage(err, !!code));
      if (wantsCode) {
        showTotpField(true);
        signin.totp.value = '';
        signin.totp.focus();
      } else {
        showTotpField(false);
        signin.password.select();
        signin.password.focus();
      }
    }
  });
});

/** Shows "Sign in with SSO" when the server has single sign-on. */
async function loadSso() {
  const sso = await api.ssoConfig();
  if (sso.enabled) $('sso-link').setAttribute('href', sso.loginUrl);
  signin.sso.hidden = !sso.enabled;
}

// ---- the signed-in page --------------------------------------------------------

const avatar = {
  anchor: $('avatar-anchor'),
  button: $('avatar-button'),
  letter: $('avatar-letter'),
};

/** The top bar: a key's account and id and Sign out; a person's account and avatar (with its menu). */
function renderTopBar() {
  const s = state.session;
  const person = s.type === 'user';
  $('who-account').textContent = s.account || '—';
  $('who-key').textContent = person ? '' : s.key;
  $('who-key').hidden = person;
  $('who-email').textContent = person ? s.email : '';
  $('who-email').hidden = !person;
  $('signout').hidden = person;
  avatar.anchor.hidden = !person;
  if (person) {
    avatar.letter.textContent = initialOf(s.email);
    avatar.button.setAttribute('aria-label', `Profile of ${s.email}`);
    avatar.button.title = s.email;
  }
}

/** The avatar's menu: who, Account Settings (API Keys, Users, Security), other accounts, Sign out. */
function avatarMenu() {
  const s = state.session;
  const others = (s.accounts || []).map((a) => a.account).filter((a) => a !== s.account);
  return [
    { note: `Signed in as ${s.email}` },
    { heading: 'Account Settings' },
    { label: 'API Keys', onSelect: () => openKeysPage(FIRST_TAB) },
    { label: 'Users', onSelect: () => openKeysPage('users') },
    { label: 'Security', onSelect: () => openSecurityPage() },
    ...(others.length ? [{ separator: true }, { heading: 'Switch account' },
      ...others.map((name) => ({ label: name, onSelect: () => switchAccount(name) }))] : []),
    { separator: true },
    { label: 'Sign out', onSelect: () => signOut() },
  ];
}
menuButton(avatar.button, avatarMenu);

async function enterApp(identity, fresh) {
  state.session = identity;
  api.useAccount(identity.account);
  if (identity.type === 'user' && !identity.account) {
    showSignin('You belong to no account yet: ask an Owner of an account to invite you.');
    api.signOut().catch(() => {});
    return;
  }
  await completeAuthority(identity);
  if (state.session !== identity) return; // signed out meanwhile
  renderTopBar();
  $('head-account').textContent = identity.account;
  $('head-account-users').textContent = identity.account;
  signin.key.value = '';
  signin.token.value = '';
  showError(signin.keyError, '');
  showError(signin.passwordError, '');
  showSigninNote('');
  lastMode = identity.type === 'user' ? 'password' : 'key';
  searchInput.value = '';
  state.query = '';
  showView('app');
  showPage('keys');
  for (const tab of TABS) tab.applyPermissions();
  showTab(FIRST_TAB, false);
  for (const tab of TABS) tab.refresh();
  if (fresh) success(`Signed in to account ${identity.account}.`);
  $('main').focus();
}

async function signOut() {
  const button = $('signout');
  button.disabled = true;
  try {
    await api.signOut();
    showSignin('');
    success('Signed out.');
  } catch (err) {
    if (err.status === 401) {
      showSignin('');
      success('Signed out.');
    } else {
      failure(`Sign-out failed: ${err.message}`, err);
    }
  } finally {
    button.disabled = false;
  }
}
$('signout').addEventListener('click', signOut);

/** A person in several accounts moves to another: what it may do there is asked again. */
async function switchAccount(name) {
  try {
    const identity = await loadIdentity(name);
    for (const tab of TABS) tab.reset();
    await enterApp(identity, false);
    success(`Switched to account ${identity.account}.`);
  } catch (err) {
    failure(`Could not switch to account ${name}: ${err.message}`, err);
  }
}

// A management call answered 401: the session expired or its key stopped working.
api.setSessionLostHandler((err) => {
  if (views.app.hidden) return;
  const why = err.code === 'expired' ? err.message : 'Your session has ended. Sign in again to continue.';
  clearErrors();
  showSignin(why);
});

// A change was refused (403): the page's picture of what this principal may
// do was stale (its roles changed, or a target got more powerful). The
// refusal itself is shown where the action started, with the API's message;
// here the page asks again and offers only what is now allowed.
api.setForbiddenHandler(() => {
  if (!views.app.hidden) reloadAuthority();
});

onAuthorityChange(() => {
  if (views.app.hidden) return;
  for (const tab of TABS) tab.applyPermissions(); // a list on screen reloads: its rows' actions change too
});

// ---- pages: API Keys (the tabs) and Security -------------------------------------------

const pages = { keys: $('keys-page'), security: $('security-page') };

function showPage(name) {
  for (const [key, el] of Object.entries(pages)) el.hidden = key !== name;
  closeMenu();
}

function openKeysPage(tabName) {
  if (!pages.keys.hidden && tabNamed(tabName)) {
    selectTab(tabName);
    return;
  }
  securityPage.reset();
  showPage('keys');
  selectTab(tabName);
}

function openSecurityPage() {
  if (!isPerson()) return;
  showPage('security');
  securityPage.show();
  document.title = `Security · ${state.session.account} · Keystile`;
  $('main').focus();
}

// ---- tabs ---------------------------------------------------------------------

const tabButtons = TABS.map((tab) => $(`tab-${tab.name}`));
const tabName = (button) => button.id.replace(/^tab-/, '');

/** The heading, search hint and Export follow the tab: keys, or the people of the account. */
function applyTabChrome(name) {
  const users = name === 'users';
  $('page-title').textContent = users ? 'Users' : 'API Keys';
  $('page-sub-keys').hidden = users;
  $('page-sub-users').hidden = !users;
  $('export-anchor').hidden = users;
  $('account-usage-button').hidden = users;
  searchInput.placeholder = users ? 'Search by email or role' : 'Search by name or key';
  if (state.session) document.title = `${users ? 'Users' : 'API Keys'} · ${state.session.account} · Keystile`;
}

/** Shows the tab `name` and hides the others (the ARIA tabs pattern). */
function showTab(name, focus) {
  for (const button of tabButtons) {
    const selected = tabName(button) === name;
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(button.getAttribute('aria-controls')).hidden = !selected;
    if (selected && focus) button.focus();
  }
  applyTabChrome(name);
  closeMenu();
}

/** A tab chosen by the person: shown, and loaded again so it is current. */
function selectTab(name) {
  showTab(name, true);
  tabNamed(name).refresh();
}

for (const button of tabButtons) {
  button.addEventListener('click', () => selectTab(tabName(button)));
  button.addEventListener('keydown', (ev) => {
    const shown = tabButtons.filter((b) => !b.hidden); // a tab may be hidden from keys lacking its resource
    const i = shown.indexOf(button);
    let next = null;
    if (ev.key === 'ArrowRight') next = shown[(i + 1) % shown.length];
    else if (ev.key === 'ArrowLeft') next = shown[(i - 1 + shown.length) % shown.length];
    else if (ev.key === 'Home') next = shown[0];
    else if (ev.key === 'End') next = shown[shown.length - 1];
    if (next) {
      ev.preventDefault();
      selectTab(tabName(next));
    }
  });
}

// ---- search (as you type) ----------------------------------------------------

const searchInput = $('search');
let searchTimer = null;
searchInput.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    const q = searchInput.value.trim().slice(0, 200);
    if (q === state.query) return;
    state.query = q;
    for (const tab of TABS) tab.search();
  }, 150);
});

// ---- the account's usage (web/js/usage.js) -----------------------------------

$('account-usage-button').addEventListener('click', (ev) => {
  if (!can(RES.viewKeys)) {
    failure(`You cannot see the usage: ${yourRoles().toLowerCase()} do not include view-api-keys.`);
    return;
  }
  openUsage(null, ev.currentTarget).catch((err) => failure(err.message || String(err)));
});

// ---- export ---------------------------------------------------------------------

const exportButton = $('export-button');

async function download(format) {
  if (!can(RES.viewKeys)) {
    failure(`You cannot export keys: ${yourRoles().toLowerCase()} do not include view-api-keys.`);
    return;
  }
  try {
    const blob = await api.exportKeys(format);
    const day = new Date().toISOString().slice(0, 10);
    const name = `keystile-${state.session.account}-keys-${day}.${format}`;
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: name, class: 'offscreen' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    success(`Export downloaded: ${name}`);
  } catch (err) {
    failure(`Export failed: ${err.message}`, err);
  }
}

menuButton(exportButton, () => [
  { label: 'CSV', onSelect: () => download('csv') },
  { label: 'XLSX', onSelect: () => download('xlsx') },
]);

// ---- start ------------------------------------------------------------------------

for (const tab of TABS) tab.init();
securityPage.init();

/**
 * The invitation page sends people here as /#welcome=<email> once their
 * password is set: sign-in starts on the Email form with it filled in, and
 * the fragment leaves the address bar at once.
 */
function takeWelcome() {
  const m = /^#welcome=(.*)$/.exec(location.hash);
  if (!m) return;
  history.replaceState(null, '', location.pathname + location.search);
  let email = '';
  try {
    email = decodeURIComponent(m[1]).slice(0, 254);
  } catch { /* a broken fragment: no email then */ }
  lastMode = 'password';
  signin.email.value = email;
  showSigninNote('Your password is set. Sign in with it now.');
}

// Restore the signed-in state after a reload (the cookie is HttpOnly, so ask the server).
(async () => {
  takeWelcome();
  loadSso();
  try {
    const identity = await loadIdentity();
    await enterApp(identity, false);
  } catch (err) {
    showSignin(err.status === 401 || err.status === 404 ? '' : err.message);
  }
})();
