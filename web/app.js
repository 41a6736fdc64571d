// app.js - entry point of the Keystile web admin: sign-in and sign-out, the
// tabs, search and export. No framework and no build step; see js/ for the
// pieces. Nothing here writes to localStorage, sessionStorage, cookies or the
// URL: the session is an HttpOnly cookie set by the server, and the CSRF value
// is kept in memory only.

import * as api from './js/api.js';
import { closeAllDialogs } from './js/dialogs.js';
import { clearErrors, failure, success } from './js/feedback.js';
import { closeMenu, menuButton } from './js/menu.js';
import externalTab from './js/external.js';
import generatedTab from './js/generated.js';
import rolesTab from './js/roles.js';
import settingsTab from './js/settings.js';
import webhooksTab from './js/webhooks.js';
import {
  RES, can, onAuthorityChange, reloadAuthority, resetState, state,
} from './js/state.js';

const $ = (id) => document.getElementById(id);

/**
 * The tabs, in the order of the tab bar: each is {name, init, reset,
 * applyPermissions, refresh, search} (js/list_tab.js says what each does) and
 * owns #tab-NAME and #panel-NAME. Sign-in, sign-out, a tab switch, the search
 * box and a refusal go through this list, never to one tab by hand.
 */
const TABS = [generatedTab, externalTab, rolesTab, settingsTab, webhooksTab];
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

const signinForm = $('signin-form');
const signinKey = $('signin-key');
const signinToken = $('signin-token');
const signinError = $('signin-error');
const signinSubmit = $('signin-submit');

function showSigninError(message) {
  signinError.textContent = message || '';
  signinError.hidden = !message;
}

function signinMessage(err) {
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

function showSignin(message) {
  closeMenu();
  closeAllDialogs();
  resetState();
  for (const tab of TABS) tab.reset();
  document.title = 'Sign in · Keystile';
  showView('signin');
  showSigninError(message || '');
  signinToken.value = '';
  (signinKey.value ? signinToken : signinKey).focus();
}

signinForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const key = signinKey.value.trim();
  const token = signinToken.value.trim();
  if (!key || !token) {
    showSigninError('Enter your API key and your API token.');
    (key ? signinToken : signinKey).focus();
    return;
  }
  showSigninError('');
  signinSubmit.disabled = true;
  signinForm.setAttribute('aria-busy', 'true');
  try {
    await api.signIn(key, token);
    signinToken.value = ''; // the token is not needed any more
    const info = await api.loadSession();
    enterApp(info, true);
  } catch (err) {
    showSigninError(signinMessage(err));
    signinToken.select();
    signinToken.focus();
  } finally {
    signinSubmit.disabled = false;
    signinForm.removeAttribute('aria-busy');
  }
});

// ---- the signed-in page --------------------------------------------------------

function enterApp(info, fresh) {
  state.session = { key: info.key, account: info.account, resources: info.resources || null };
  $('who-account').textContent = info.account;
  $('who-key').textContent = info.key;
  $('head-account').textContent = info.account;
  document.title = `API Keys · ${info.account} · Keystile`;
  signinKey.value = '';
  signinToken.value = '';
  showSigninError('');
  searchInput.value = '';
  state.query = '';
  showView('app');
  for (const tab of TABS) tab.applyPermissions();
  showTab(FIRST_TAB, false);
  for (const tab of TABS) tab.refresh();
  if (fresh) success(`Signed in to account ${info.account}.`);
  $('main').focus();
}

$('signout').addEventListener('click', async () => {
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
});

// A management call answered 401: the session expired or its key stopped working.
api.setSessionLostHandler((err) => {
  if (views.app.hidden) return;
  const why = err.code === 'expired' ? err.message : 'Your session has ended. Sign in again to continue.';
  clearErrors();
  showSignin(why);
});

// A change was refused (403): the page's picture of what this key may do was
// stale (its roles changed, or a key got more powerful). The refusal itself is
// shown where the action started, with the API's message; here the page asks
// again and offers only what is now allowed.
api.setForbiddenHandler(() => {
  if (!views.app.hidden) reloadAuthority();
});

onAuthorityChange(() => {
  if (views.app.hidden) return;
  for (const tab of TABS) tab.applyPermissions(); // a list on screen reloads: its rows' actions change too
});

// ---- tabs ---------------------------------------------------------------------

const tabButtons = TABS.map((tab) => $(`tab-${tab.name}`));
const tabName = (button) => button.id.replace(/^tab-/, '');

/** Shows the tab `name` and hides the others (the ARIA tabs pattern). */
function showTab(name, focus) {
  for (const button of tabButtons) {
    const selected = tabName(button) === name;
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(button.getAttribute('aria-controls')).hidden = !selected;
    if (selected && focus) button.focus();
  }
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

// ---- export ---------------------------------------------------------------------

const exportButton = $('export-button');

async function download(format) {
  if (!can(RES.viewKeys)) {
    failure('Your key cannot export keys: its roles do not include view-api-keys.');
    return;
  }
  try {
    const blob = await api.exportKeys(format);
    const day = new Date().toISOString().slice(0, 10);
    const name = `keystile-${state.session.account}-keys-${day}.${format}`;
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.className = 'offscreen';
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

// Restore the signed-in state after a reload (the cookie is HttpOnly, so ask the server).
(async () => {
  try {
    const info = await api.loadSession();
    enterApp(info, false);
  } catch (err) {
    showSignin(err.status === 401 || err.status === 404 ? '' : err.message);
  }
})();
