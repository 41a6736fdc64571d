// people.mjs - browser cases of people in the web admin (issue "People"):
// invite -> accept -> sign in -> TOTP enrol -> sign out -> sign in with a
// code, the avatar and its menu, the Users tab limited by delegation, the
// Security page, "Sign in with SSO". People are invited through the API by
// the Owner key of `acme` (or in the page), each case with its own emails,
// so cases run in any order and twice. TOTP codes are computed here as an
// authenticator app would (totp.mjs); the QR code on the page is read back
// with jsQR from a screenshot, so the test checks what a phone would scan.

import assert from 'node:assert/strict';
import path from 'node:path';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { ROOT, acct, call, randomTag } from './harness.mjs';
import {
  button, dialogGone, eventually, gotoKeySignin, openRowMenu, row, sessionCookie, signIn, waitForList,
} from './cases.mjs';
import { selfTest as totpSelfTest, timeStep, totp } from './totp.mjs';

const RESTRICTED = 'User Administrator - RESTRICTED';
const PASSWORD = 'correct horse battery staple';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- API helpers -------------------------------------------------------------------------

/** Invites `email` into acme with `roles` (as acme's Owner key): the one-time invite_url. */
async function invite(t, email, roles) {
  const r = await call(t.base, 'POST', acct('acme', 'users'), { cred: t.acme, body: { email, roles } });
  assert.equal(r.status, 201, r.text);
  assert.match(r.data.invite_url || '', /\/invite\/[^/]+$/, r.text);
  return r.data.invite_url;
}

const inviteId = (url) => url.slice(url.lastIndexOf('/invite/') + '/invite/'.length);

/** Sets the password of an invitation (as the invitation page does). */
async function accept(t, url, password = PASSWORD) {
  const r = await call(t.base, 'POST', `/api/v1/invites/${inviteId(url)}/accept`, { body: { password } });
  assert.equal(r.status, 200, r.text);
  return r.data;
}

/** A person invited and with a password: its email. */
async function person(t, name, roles) {
  const email = `${name}-${randomTag()}@example.com`;
  await accept(t, await invite(t, email, roles));
  return email;
}

/** A session of a person made through the API (another browser, say): {cookie, csrf}. */
async function apiSession(t, email, password = PASSWORD, code = undefined) {
  const r = await call(t.base, 'POST', '/api/v1/session', { body: { email, password, ...(code ? { totp: code } : {}) } });
  assert.equal(r.status, 201, r.text);
  return { cookie: r.headers.get('set-cookie').split(';')[0], csrf: r.data.csrf };
}

async function removeFromAcme(t, email) {
  await call(t.base, 'DELETE', acct('acme', 'users', email), { cred: t.acme });
}

// ---- page helpers ------------------------------------------------------------------------

/** Signs a person in on the Email form (with a TOTP code when code() is given). */
async function signInPerson(t, email, password = PASSWORD) {
  const { page } = t;
  await page.goto(`${t.base}/`);
  await page.getByRole('tab', { name: 'Email', exact: true }).click();
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await button(page, 'Sign in').click();
  await page.getByRole('heading', { name: 'API Keys', level: 1 }).waitFor();
  await waitForList(t);
}

const avatarOf = (t, email) => t.page.getByRole('button', { name: `Profile of ${email}`, exact: true });

/** Opens the avatar's menu and picks `item`. */
async function avatarMenu(t, email, item) {
  await avatarOf(t, email).click();
  const menu = t.page.getByRole('menu');
  await menu.waitFor();
  await menu.getByRole('menuitem', { name: item, exact: true }).click();
}

/** What the QR code element shows, decoded from its pixels by jsQR (as a phone would). */
async function readQr(locator) {
  const png = PNG.sync.read(await locator.screenshot());
  const found = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
  assert.ok(found, 'the QR code on the page decodes');
  return found.data;
}

/** The token-box value under `label` in scope (its text). */
async function boxValue(scope, className) {
  return (await scope.locator(`.${className} .token-value`).textContent()).trim();
}

// ---- cases ------------------------------------------------------------------------------

export function registerPeopleCases(test) {
  test('people: invite, accept, sign in, enrol TOTP, sign out, sign in with a code; the avatar (screenshot)', async (t) => {
    totpSelfTest();
    const { page } = t;
    // A plain address, as the docs screenshot shows it: each run has a database of its own.
    const email = 'alice@example.com';
    try {
      // An Owner key invites Alice from the Users tab; the link is shown once, with Copy.
      await signIn(t);
      await page.getByRole('tab', { name: 'Users', exact: true }).click();
      await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
      await button(page, '+ Invite User').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Email').fill(email);
      await dialog.getByRole('checkbox', { name: 'Owner', exact: true }).check();
      await t.shot('people-invite-form');
      await button(dialog, 'Invite').click();
      const link = dialog.getByText(/\/invite\/[^/\s]+$/);
      await link.waitFor();
      const inviteUrl = (await link.textContent()).trim();
      assert.ok(inviteUrl.startsWith(`${t.base}/invite/`), inviteUrl);
      await button(dialog, 'Copy link').click();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), inviteUrl);
      await t.shot('people-invite-link');
      await button(dialog, 'Close').click();
      await dialogGone(t);
      assert.ok(!(await page.content()).includes(inviteId(inviteUrl)), 'the invitation link left the page');
      await page.evaluate(() => navigator.clipboard.writeText(''));
      const r = row(t, email);
      await r.waitFor();
      assert.match(await r.textContent(), /Owner.*Never.*Active/s);
      await button(page, 'Sign out').click();
      await button(page, 'Sign in').waitFor();

      // The invitation page: the rules first, then the password is set and sign-in is next.
      await page.goto(inviteUrl);
      await page.getByRole('heading', { name: 'Set your password' }).waitFor();
      await page.getByLabel('New password').fill('too short');
      await page.getByLabel('Repeat the password').fill('too short');
      await button(page, 'Set password').click();
      await page.getByRole('alert').filter({ hasText: /at least 12/ }).waitFor();
      await page.getByLabel('New password').fill(PASSWORD);
      await page.getByLabel('Repeat the password').fill(`${PASSWORD}!`);
      await button(page, 'Set password').click();
      await page.getByRole('alert').filter({ hasText: /differ/ }).waitFor();
      await page.getByLabel('Repeat the password').fill(PASSWORD);
      await t.shot('people-invite-page');
      await button(page, 'Set password').click();
      await page.getByText('Your password is set. Sign in with it now.').waitFor();
      assert.equal(page.url(), `${t.base}/`, 'the welcome fragment left the address bar');
      assert.equal(await page.getByLabel('Email', { exact: true }).inputValue(), email);
      // The link is spent: the API says gone, and the page says so too.
      const again = await call(t.base, 'POST', `/api/v1/invites/${inviteId(inviteUrl)}/accept`, { body: { password: PASSWORD } });
      assert.equal(again.status, 410, again.text);
      assert.equal(again.data.error.code, 'gone');

      // Sign in with email and password: the avatar is the first letter of the email.
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await button(page, 'Sign in').click();
      await page.getByRole('heading', { name: 'API Keys', level: 1 }).waitFor();
      await waitForList(t);
      const avatar = avatarOf(t, email);
      assert.equal((await avatar.textContent()).trim(), 'A');
      assert.equal((await page.locator('#who-account').textContent()).trim(), 'acme');
      assert.equal(await button(page, 'Sign out').count(), 0, 'a person signs out from the avatar menu');
      const stored = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }));
      assert.deepEqual(stored, { local: 0, session: 0, cookie: '' });
      assert.ok(!(await page.content()).includes(PASSWORD), 'the password left the page');

      // The menu: Account Settings > API Keys, Users, Security; Sign out.
      await page.evaluate(() => document.getElementById('toasts').replaceChildren());
      await avatar.click();
      const menu = page.getByRole('menu');
      await menu.waitFor();
      assert.deepEqual((await menu.getByRole('menuitem').allTextContents()).map((s) => s.trim()),
        ['API Keys', 'Users', 'Security', 'Sign out']);
      await menu.getByText('Account Settings', { exact: true }).waitFor();
      await menu.getByText(`Signed in as ${email}`, { exact: true }).waitFor();
      await page.mouse.move(0, 0);
      const bar = await page.locator('header.topbar').boundingBox();
      const menuBox = await menu.boundingBox();
      const clip = { x: 0, y: 0, width: 1280, height: Math.ceil(Math.max(bar.height, menuBox.y + menuBox.height) + 16) };
      if (process.env.KEYSTILE_DOCS_SCREENSHOT !== '0') { // =0 leaves the committed picture alone
        await page.screenshot({ path: path.join(ROOT, 'docs', 'screenshot-topbar.png'), clip });
      }
      await t.shot('people-avatar-menu');
      await menu.getByRole('menuitem', { name: 'Users', exact: true }).click();
      await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
      assert.equal(await page.getByRole('tab', { name: 'Users', exact: true }).getAttribute('aria-selected'), 'true');
      await row(t, email).getByText('you', { exact: true }).waitFor();

      // Security: enrol an authenticator app from the QR code.
      await avatarMenu(t, email, 'Security');
      await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();
      await button(page, 'Set up authenticator app').click();
      const qr = page.getByRole('img', { name: 'QR code of your authenticator app secret' });
      await qr.waitFor();
      const secret = await boxValue(page, 'token-box-secret');
      assert.match(secret, /^[A-Z2-7]{16,}=*$/);
      const uri = new URL(await readQr(qr));
      assert.equal(uri.protocol, 'otpauth:');
      assert.equal(uri.host, 'totp');
      assert.equal(uri.searchParams.get('secret'), secret.replace(/=+$/, ''));
      assert.equal(uri.searchParams.get('issuer'), 'Keystile');
      assert.ok(decodeURIComponent(uri.pathname).includes(email), uri.pathname);
      await t.shot('people-totp-enrol');
      const code = page.getByLabel('Code from the app');
      await code.fill(totp(secret, timeStep() - 10)); // a code of five minutes ago
      await button(page, 'Confirm').click();
      await page.getByRole('alert').filter({ hasText: /not accepted/ }).waitFor();
      const confirmStep = timeStep();
      await code.fill(totp(secret, confirmStep));
      await button(page, 'Confirm').click();
      await page.getByRole('status').getByText(/Authenticator app on/).waitFor();
      await page.locator('#totp-status').getByText('On', { exact: true }).waitFor();
      assert.ok(!(await page.content()).includes(secret), 'the secret left the page');
      const me = await call(t.base, 'GET', '/api/v1/me', { headers: { Cookie: await sessionCookie(t) } });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.data.totp, true);
      assert.equal(me.data.email, email);

      // Sign out from the menu; signing in now asks for a code.
      await avatarMenu(t, email, 'Sign out');
      await page.getByRole('status').getByText('Signed out.').waitFor();
      await page.getByLabel('Email', { exact: true }).fill(email);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await button(page, 'Sign in').click();
      await page.getByRole('alert').filter({ hasText: /6-digit code/ }).waitFor();
      const field = page.getByLabel('Authentication code');
      await field.waitFor();
      await t.shot('people-signin-totp');
      await field.fill(totp(secret, timeStep() - 10));
      await button(page, 'Sign in').click();
      await page.getByRole('alert').filter({ hasText: /code is not correct/ }).waitFor();
      // The confirmation used its step's code: the next step's is accepted (one step of drift),
      // else wait for the next step to come.
      let step = Math.max(timeStep(), confirmStep + 1);
      await field.fill(totp(secret, step));
      await button(page, 'Sign in').click();
      const signedIn = page.getByRole('heading', { name: 'API Keys', level: 1 });
      const refused = page.getByRole('alert').filter({ hasText: /code is not correct/ });
      await Promise.race([signedIn.waitFor(), sleep(1500)]);
      if (!(await signedIn.isVisible()) && step > timeStep()) {
        while (timeStep() < step) await sleep(250);
        step = timeStep();
        await refused.waitFor();
        await field.fill(totp(secret, step));
        await button(page, 'Sign in').click();
      }
      await signedIn.waitFor();
      assert.equal((await avatarOf(t, email).textContent()).trim(), 'A');
      await t.shot('people-signed-in-with-code');

      // The spent link: its page has the web admin's strict headers, and says it cannot be used.
      const pageAnswer = await call(t.base, 'GET', new URL(inviteUrl).pathname);
      assert.equal(pageAnswer.status, 200);
      assert.match(pageAnswer.headers.get('content-security-policy') || '', /default-src 'self'/);
      assert.equal(pageAnswer.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(pageAnswer.headers.get('x-frame-options'), 'DENY');
      assert.doesNotMatch(pageAnswer.text, /<script(?![^>]*\ssrc=)[^>]*>|\sstyle\s*=|\son[a-z]+\s*=/i, 'no inline code');
      await page.goto(inviteUrl);
      await page.getByLabel('New password').fill(PASSWORD);
      await page.getByLabel('Repeat the password').fill(PASSWORD);
      await button(page, 'Set password').click();
      await page.getByRole('heading', { name: 'This invitation cannot be used' }).waitFor();
      await page.getByRole('link', { name: 'Go to sign-in' }).waitFor();
    } finally {
      await removeFromAcme(t, email);
    }
  }, { timeout: 90000 });

  test('people: a RESTRICTED person sees what it may not do on the Users tab, and why', async (t) => {
    const { page } = t;
    const viewerRole = `Key viewer ${randomTag()}`;
    const made = await call(t.base, 'POST', acct('acme', 'roles'), { cred: t.acme, body: { name: viewerRole, resources: ['view-api-keys'] } });
    assert.equal(made.status, 201, made.text);
    const rita = await person(t, 'rita', [RESTRICTED]);
    const oscar = `oscar-${randomTag()}@example.com`;
    await invite(t, oscar, ['Owner']);
    const vic = await person(t, 'vic', [viewerRole]);
    const OWNER_HINT = 'This person holds edit-roles, which you do not.';
    try {
      await signInPerson(t, rita);
      assert.equal((await avatarOf(t, rita).textContent()).trim(), 'R');
      await avatarMenu(t, rita, 'Users');
      await row(t, oscar).waitFor();

      // The Owner's row: every action disabled, each saying why, and the menu once.
      const menu = await openRowMenu(t, oscar);
      await menu.getByText(OWNER_HINT, { exact: true }).waitFor();
      for (const item of ['Change Roles', 'Deactivate', 'Remove from Account']) {
        const mi = menu.getByRole('menuitem', { name: item, exact: true });
        assert.equal(await mi.getAttribute('aria-disabled'), 'true', item);
        assert.equal(await mi.getAttribute('title'), OWNER_HINT, item);
      }
      await t.shot('people-users-delegation');
      await menu.getByRole('menuitem', { name: 'Remove from Account', exact: true }).click({ force: true });
      assert.equal(await page.getByRole('dialog').count(), 0, 'a disabled action opens nothing');
      await page.keyboard.press('Escape');

      // Its own row (nothing it lacks) is actionable.
      const own = await openRowMenu(t, rita);
      assert.equal(await own.getByRole('menuitem', { name: 'Change Roles', exact: true }).getAttribute('aria-disabled'), null);
      await page.keyboard.press('Escape');

      // Inviting: Owner is shown, not offered, and says why.
      await button(page, '+ Invite User').click();
      const dialog = page.getByRole('dialog');
      const owner = dialog.getByRole('checkbox', { name: 'Owner', exact: true });
      assert.ok(await owner.isDisabled(), 'Owner cannot be given');
      assert.match(await dialog.locator('label', { has: page.getByRole('checkbox', { name: 'Owner', exact: true }) }).getAttribute('title'),
        /Owner: it gives edit-roles, which you do not hold/);
      assert.ok(await dialog.getByRole('checkbox', { name: RESTRICTED, exact: true }).isEnabled());
      await dialog.getByText('Roles that give management permissions you do not hold cannot be granted by you.').waitFor();
      await page.keyboard.press('Escape');
      await dialogGone(t);

      // The server agrees: the same invitation through the page's session is refused.
      const s = await apiSession(t, rita);
      const refused = await call(t.base, 'POST', acct('acme', 'users'), {
        headers: { Cookie: s.cookie, 'X-CSRF-Token': s.csrf }, body: { email: `eve-${randomTag()}@example.com`, roles: ['Owner'] },
      });
      assert.equal(refused.status, 403, refused.text);

      // Keys are limited the same way for a person: the Owner key's actions are disabled.
      await page.getByRole('tab', { name: 'Generated', exact: true }).click();
      const keyMenu = await openRowMenu(t, t.acme.key);
      await keyMenu.getByText('This key holds edit-roles, which you do not.', { exact: true }).waitFor();
      await page.keyboard.press('Escape');

      // Someone without edit-users sees why the Users tab is empty, and cannot invite.
      await avatarMenu(t, rita, 'Sign out');
      await signInPerson(t, vic);
      await page.getByRole('tab', { name: 'Users', exact: true }).click();
      await page.getByText('Users are managed with edit-users', { exact: true }).waitFor();
      const inviteButton = button(page, '+ Invite User');
      assert.ok(await inviteButton.isDisabled());
      assert.equal(await inviteButton.getAttribute('title'), 'Your roles do not include edit-users.');
      await t.shot('people-users-unavailable');
    } finally {
      for (const email of [rita, oscar, vic]) await removeFromAcme(t, email);
      await call(t.base, 'DELETE', acct('acme', 'roles', viewerRole), { cred: t.acme });
    }
  }, { timeout: 60000 });

  test('people: change roles, deactivate, activate and remove from the Users tab', async (t) => {
    const { page } = t;
    const dora = await person(t, 'dora', [RESTRICTED]);
    try {
      await signIn(t);
      await page.getByRole('tab', { name: 'Users', exact: true }).click();
      await row(t, dora).waitFor();
      let menu = await openRowMenu(t, dora);
      await menu.getByRole('menuitem', { name: 'Change Roles', exact: true }).click();
      let dialog = page.getByRole('dialog');
      await dialog.getByRole('checkbox', { name: RESTRICTED, exact: true }).uncheck();
      await dialog.getByRole('checkbox', { name: 'Owner', exact: true }).check();
      await button(dialog, 'Save').click();
      await dialogGone(t);
      const list = async () => (await call(t.base, 'GET', acct('acme', 'users'), { cred: t.acme })).data.items.find((p) => p.email === dora);
      assert.deepEqual((await list()).roles, ['Owner']);
      await row(t, dora).getByRole('list', { name: 'Roles' }).getByText('Owner', { exact: true }).waitFor();

      // Deactivating ends the person's sessions at once.
      const s = await apiSession(t, dora);
      menu = await openRowMenu(t, dora);
      await menu.getByRole('menuitem', { name: 'Deactivate', exact: true }).click();
      dialog = page.getByRole('dialog');
      await button(dialog, 'Deactivate').click();
      await dialogGone(t);
      await row(t, dora).getByText('Inactive', { exact: true }).waitFor();
      assert.equal((await list()).status, 'inactive');
      const ended = await call(t.base, 'GET', '/api/v1/me', { headers: { Cookie: s.cookie } });
      assert.equal(ended.status, 401, ended.text);

      menu = await openRowMenu(t, dora);
      await menu.getByRole('menuitem', { name: 'Activate', exact: true }).click();
      await row(t, dora).getByText('Active', { exact: true }).waitFor();
      assert.equal((await list()).status, 'active');

      menu = await openRowMenu(t, dora);
      await menu.getByRole('menuitem', { name: 'Remove from Account', exact: true }).click();
      dialog = page.getByRole('dialog');
      await button(dialog, 'Remove').click();
      await dialogGone(t);
      await row(t, dora).waitFor({ state: 'detached' });
      assert.equal(await list(), undefined);
      await page.getByRole('status').getByText(/removed from account acme/).waitFor();
    } finally {
      await removeFromAcme(t, dora);
    }
  }, { timeout: 45000 });

  test('people: one message for a wrong email or password; a password change ends the other sessions', async (t) => {
    const { page } = t;
    const pat = await person(t, 'pat', [RESTRICTED]);
    const NEW = 'a brand new passphrase 42';
    try {
      await page.goto(`${t.base}/`);
      const alert = page.getByRole('alert').filter({ hasText: /sign-in failed/i });
      await page.getByLabel('Email', { exact: true }).fill(pat);
      await page.getByLabel('Password', { exact: true }).fill('not the password at all');
      await button(page, 'Sign in').click();
      await alert.waitFor();
      const wrongPassword = (await alert.textContent()).trim();
      await page.getByLabel('Email', { exact: true }).fill(`nobody-${randomTag()}@example.com`);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await button(page, 'Sign in').click();
      await eventually(async () => button(page, 'Sign in').isEnabled());
      await alert.waitFor();
      assert.equal((await alert.textContent()).trim(), wrongPassword);
      assert.ok(await page.locator('#signin-totp-field').isHidden(), 'no code is asked for before the password is right');

      const other = await apiSession(t, pat);
      await signInPerson(t, pat);
      await avatarMenu(t, pat, 'Security');
      await page.getByLabel('Current password').fill('not the password at all');
      await page.getByLabel('New password', { exact: true }).fill(NEW);
      await page.getByLabel('Repeat the new password').fill(NEW);
      await button(page, 'Change password').click();
      await page.getByRole('alert').filter({ hasText: /current password is not correct/ }).waitFor();
      await page.getByLabel('Current password').fill(PASSWORD);
      await button(page, 'Change password').click();
      await page.getByRole('status').getByText(/Password changed/).waitFor();
      await t.shot('people-password-changed');
      const ended = await call(t.base, 'GET', '/api/v1/me', { headers: { Cookie: other.cookie } });
      assert.equal(ended.status, 401, 'the other session ended');
      const mine = await call(t.base, 'GET', '/api/v1/me', { headers: { Cookie: await sessionCookie(t) } });
      assert.equal(mine.status, 200, 'this session goes on');
      await apiSession(t, pat, NEW);
    } finally {
      await removeFromAcme(t, pat);
    }
  }, { timeout: 45000 });

  test('people: a person in two accounts switches between them from the avatar menu', async (t) => {
    const { page } = t;
    const mia = await person(t, 'mia', [RESTRICTED]);
    try {
      // Already has a password: joining `other` gives no invitation link.
      const joined = await call(t.base, 'POST', acct('other', 'users'), { cred: t.other, body: { email: mia, roles: ['Owner'] } });
      assert.equal(joined.status, 201, joined.text);
      assert.equal(joined.data.invite_url ?? null, null, joined.text);
      await signInPerson(t, mia);
      assert.equal((await page.locator('#who-account').textContent()).trim(), 'acme');
      await avatarOf(t, mia).click();
      const menu = page.getByRole('menu');
      await menu.getByText('Switch account', { exact: true }).waitFor();
      await menu.getByRole('menuitem', { name: 'other', exact: true }).click();
      await page.getByRole('status').getByText('Switched to account other.').waitFor();
      assert.equal((await page.locator('#who-account').textContent()).trim(), 'other');
      await row(t, t.other.key).waitFor();
      assert.equal(await row(t, t.acme.key).count(), 0, 'the list is the other account\'s');
      // Owner there: nothing of other's Owner key is refused to it.
      const keyMenu = await openRowMenu(t, t.other.key);
      assert.equal(await keyMenu.getByRole('menuitem', { name: 'Edit', exact: true }).getAttribute('aria-disabled'), null);
      await page.keyboard.press('Escape');
    } finally {
      await removeFromAcme(t, mia);
      await call(t.base, 'DELETE', acct('other', 'users', mia), { cred: t.other });
    }
  }, { timeout: 45000 });

  test('people: "Sign in with SSO" only when the server has single sign-on', async (t) => {
    const { page } = t;
    // The test server runs without --oidc-issuer: GET /auth/oidc/config says
    // so, or is not there at all in a build without the SSO routes.
    const config = await call(t.base, 'GET', '/auth/oidc/config');
    if (config.status === 200) assert.equal(config.data.enabled, false, config.text);
    else assert.equal(config.status, 404, config.text);
    await page.goto(`${t.base}/`);
    await page.getByLabel('Email', { exact: true }).waitFor();
    await page.waitForLoadState('networkidle');
    assert.equal(await page.getByRole('link', { name: 'Sign in with SSO' }).count(), 0);
    // The page follows what the server says: with SSO configured, the link is offered.
    await page.route('**/auth/oidc/config', (route) => route.fulfill({
      status: 200, contentType: 'application/json',
      body: JSON.stringify({ enabled: true, issuer: 'https://id.example.com', login_url: '/auth/oidc/login' }),
    }));
    await page.reload();
    const link = page.getByRole('link', { name: 'Sign in with SSO' });
    await link.waitFor();
    assert.equal(await link.getAttribute('href'), '/auth/oidc/login');
    await t.shot('people-signin-sso');
    // The key form is one click away, for automation and first use.
    await gotoKeySignin(t);
    await page.getByLabel('API key', { exact: true }).waitFor();
  });
}
