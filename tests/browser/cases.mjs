// cases.mjs - the browser test cases. Elements are found by role and
// accessible name, as issue #4 names them; effects are checked through the
// HTTP API (verify, GET key, settings, external keys).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  ROOT, Server, acct, call, createAccount, randomTag, verify,
} from './harness.mjs';

const CSV_HEADER = 'key,name,type,roles,status,created_at,outdated,current_token_created_at,old_token_created_at,last_used_at';
const RESTRICTED = 'User Administrator - RESTRICTED';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value (or throws the last assertion error). */
async function eventually(fn, timeout = 5000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v !== false) return v;
      last = new Error('condition stayed false');
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw last;
    await sleep(50);
  }
}

// ---- page helpers ----------------------------------------------------------------

function button(scope, name) {
  return scope.getByRole('button', { name, exact: true });
}

/** Opens the sign-in page on its API key form (people sign in on the Email form). */
async function gotoKeySignin(t) {
  await t.page.goto(`${t.base}/`);
  await t.page.getByRole('tab', { name: 'API key', exact: true }).click();
}

async function signIn(t, cred = t.acme) {
  const { page } = t;
  await gotoKeySignin(t);
  await page.getByLabel('API key', { exact: true }).fill(cred.key);
  await page.getByLabel('API token', { exact: true }).fill(cred.token);
  await button(page, 'Sign in').click();
  await page.getByRole('heading', { name: 'API Keys', level: 1 }).waitFor();
  await waitForList(t);
}

/** Waits until the Generated table has loaded (its count line is filled in). */
async function waitForList(t) {
  await eventually(async () => (await t.page.locator('#generated-count').textContent()).trim() !== '');
}

function row(t, key) {
  return t.page.getByRole('row').filter({ hasText: key });
}

async function openRowMenu(t, key) {
  // A list still loading re-renders its rows when the answer comes, which
  // closes a menu opened meanwhile: wait until no table is busy.
  await eventually(async () => (await t.page.locator('table[aria-busy="true"]').count()) === 0);
  await button(t.page, `Actions for ${key}`).click();
  const menu = t.page.getByRole('menu');
  await menu.waitFor();
  return menu;
}

async function menuAction(t, key, item) {
  const menu = await openRowMenu(t, key);
  await menu.getByRole('menuitem', { name: item, exact: true }).click();
  const dialog = t.page.getByRole('dialog');
  return dialog;
}

async function menuItems(t, key) {
  const menu = await openRowMenu(t, key);
  const names = (await menu.getByRole('menuitem').allTextContents()).map((s) => s.trim());
  await t.page.keyboard.press('Escape');
  await menu.waitFor({ state: 'detached' });
  return names;
}

/** Opens the Settings tab and waits until the form shows what the server has (no load pending). */
async function openSettings(t) {
  await t.page.getByRole('tab', { name: 'Settings', exact: true }).click();
  await eventually(async () => (await t.page.locator('#settings-form[aria-busy]').count()) === 0);
}

async function dialogGone(t) {
  await t.page.getByRole('dialog').waitFor({ state: 'detached' });
}

/** The token shown in an open dialog. */
async function shownToken(dialog) {
  const el = dialog.getByText(/^kstt_[0-9A-Za-z]{49}$/);
  await el.waitFor();
  return (await el.textContent()).trim();
}

// ---- API helpers ---------------------------------------------------------------------

async function createKey(t, name, roles = []) {
  const r = await call(t.base, 'POST', acct('acme', 'keys'), { cred: t.acme, body: { name, roles } });
  assert.equal(r.status, 201, r.text);
  return { key: r.data.key, token: r.data.token };
}

async function getKey(t, key) {
  return call(t.base, 'GET', acct('acme', 'keys', key), { cred: t.acme });
}

async function sessionCookie(t) {
  const cookies = await t.context.cookies(t.base);
  const c = cookies.find((x) => x.name === 'keystile_session');
  assert.ok(c, 'a session cookie is set');
  assert.ok(c.httpOnly, 'the session cookie is HttpOnly');
  return `${c.name}=${c.value}`;
}

async function assertVerifies(t, key, token, slot) {
  const r = await verify(t.base, key, token);
  assert.equal(r.status, 200, `verify ${slot}: ${r.text}`);
  assert.equal(r.data.token, slot);
}

async function assertRefused(t, key, token, reason) {
  const r = await verify(t.base, key, token);
  assert.equal(r.status, 401, r.text);
  assert.equal(r.data.reason, reason);
}

/** The DOM no longer holds the token anywhere (text, attributes, input values). */
async function assertTokenGone(t, token) {
  const html = await t.page.content();
  assert.ok(!html.includes(token), 'the token is still in the page');
  const inValues = await t.page.evaluate((tok) => [...document.querySelectorAll('input, textarea')].some((i) => i.value.includes(tok)), token);
  assert.ok(!inValues, 'the token is still in a field');
}

/**
 * A webhook receiver on loopback, started by the case: records every POST
 * (headers, raw body) and answers 204. close() stops it.
 */
async function startReceiver() {
  const got = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    got,
    url: `http://127.0.0.1:${server.address().port}/hook`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

/** Standard Webhooks: v1,base64(HMAC-SHA256(secret, "id.timestamp.body")). */
function signatureOf(secret, headers, body) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = crypto.createHmac('sha256', key)
    .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

// ---- cases ------------------------------------------------------------------------------

export function registerCases(test) {
  test('sign-in: wrong credentials get one message, right ones show the account', async (t) => {
    const { page } = t;
    await gotoKeySignin(t);
    const key = page.getByLabel('API key', { exact: true });
    const token = page.getByLabel('API token', { exact: true });
    const alert = page.getByRole('alert').filter({ hasText: /sign-in failed/i });

    // Right key, wrong token (a well-formed token of another key).
    await key.fill(t.acme.key);
    await token.fill(t.other.token);
    await button(page, 'Sign in').click();
    await alert.waitFor();
    const wrongToken = (await alert.textContent()).trim();
    await t.shot('signin-wrong-credentials');

    // Unknown key, right token: the very same message.
    await key.fill('kst-acme-aaaaaaaaaa');
    await token.fill(t.acme.token);
    await button(page, 'Sign in').click();
    await eventually(async () => (await button(page, 'Sign in').isEnabled()));
    await alert.waitFor();
    assert.equal((await alert.textContent()).trim(), wrongToken);
    assert.doesNotMatch(wrongToken, /unknown|invalid_token|token is wrong|key is wrong/i);

    await key.fill(t.acme.key);
    await token.fill(t.acme.token);
    await button(page, 'Sign in').click();
    await page.getByRole('heading', { name: 'API Keys', level: 1 }).waitFor();
    await waitForList(t);
    assert.equal((await page.locator('#who-account').textContent()).trim(), 'acme');
    assert.equal((await page.locator('#who-key').textContent()).trim(), t.acme.key);
    assert.ok(await button(page, 'Sign out').isVisible());
    for (const name of ['Generated', 'External', 'Settings']) {
      assert.ok(await page.getByRole('tab', { name, exact: true }).isVisible(), `tab ${name}`);
    }
    assert.ok(await page.getByRole('searchbox', { name: 'Search' }).isVisible());
    assert.ok(await button(page, 'Export').isVisible());

    // The token is in no field, no storage, no script-visible cookie, not in the URL.
    assert.equal(await page.locator('#signin-token').inputValue(), '');
    const stored = await page.evaluate(() => ({
      local: localStorage.length, session: sessionStorage.length, cookie: document.cookie, url: location.href,
    }));
    assert.deepEqual({ local: stored.local, session: stored.session, cookie: stored.cookie }, { local: 0, session: 0, cookie: '' });
    assert.ok(!stored.url.includes(t.acme.token) && !stored.url.includes(t.acme.key), stored.url);
    await assertTokenGone(t, t.acme.token);

    // A reload keeps the session (GET /api/v1/session).
    await page.reload();
    await page.getByRole('heading', { name: 'API Keys', level: 1 }).waitFor();
    await waitForList(t);
    assert.ok(await row(t, t.acme.key).isVisible(), 'the Owner key is listed');
    await t.shot('signed-in');
  });

  test('sign-in: a key without management roles is refused with a clear message', async (t) => {
    const plain = await createKey(t, `No roles ${randomTag()}`);
    const { page } = t;
    await gotoKeySignin(t);
    await page.getByLabel('API key', { exact: true }).fill(plain.key);
    await page.getByLabel('API token', { exact: true }).fill(plain.token);
    await button(page, 'Sign in').click();
    await page.getByRole('alert').filter({ hasText: /no permission to manage keys/i }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'API Keys' }).count(), 0);
  });

  test('a key that can only view keys sees disabled actions', async (t) => {
    const role = `Viewer ${randomTag()}`;
    const made = await call(t.base, 'POST', acct('acme', 'roles'), { cred: t.acme, body: { name: role, resources: ['view-api-keys'] } });
    assert.equal(made.status, 201, made.text);
    const viewer = await createKey(t, `Viewer key ${randomTag()}`, [role]);
    await signIn(t, viewer);
    assert.ok(await button(t.page, '+ Generate Key').isDisabled());
    const menu = await openRowMenu(t, viewer.key);
    for (const item of ['Edit', 'Renew Token', 'Deactivate', 'Delete Key']) {
      assert.equal(await menu.getByRole('menuitem', { name: item, exact: true }).getAttribute('aria-disabled'), 'true', item);
    }
    await t.page.keyboard.press('Escape');
    await t.page.getByRole('tab', { name: 'Settings', exact: true }).click();
    await t.page.getByText(/can see these settings but not change them/).waitFor();
    assert.ok(await button(t.page, 'Apply').isDisabled());
  });

  test('a session whose key is deactivated returns to sign-in with a message', async (t) => {
    const admin = await createKey(t, `Short-lived admin ${randomTag()}`, ['Owner']);
    await signIn(t, admin);
    const off = await call(t.base, 'PATCH', acct('acme', 'keys', admin.key), { cred: t.acme, body: { status: 'inactive' } });
    assert.equal(off.status, 200, off.text);
    // The next call ends the session: the click's, or a load of the page
    // still in flight (the other tables), which may win the race.
    const generate = button(t.page, '+ Generate Key');
    if (await generate.isVisible()) await generate.click({ timeout: 3000 }).catch(() => {});
    await t.page.getByRole('alert').filter({ hasText: /session has ended/i }).waitFor();
    await button(t.page, 'Sign in').waitFor();
    assert.equal(await t.page.getByRole('dialog').count(), 0);
  });

  test('delegation: a RESTRICTED admin is offered only what it may grant and act on', async (t) => {
    const { page } = t;
    const tag = randomTag();
    const apiOnly = `API only ${tag}`;
    const post = (p, body) => call(t.base, 'POST', acct('acme', ...p), { cred: t.acme, body });
    assert.equal((await post(['roles'], { name: apiOnly, resources: ['orders.read'] })).status, 201);
    const admin = await createKey(t, `Restricted admin ${tag}`, [RESTRICTED]);
    const OWNER_HINT = 'This key holds edit-roles, which you do not.';
    // An Owner grant to the other account's key, for the External tab.
    await call(t.base, 'DELETE', acct('acme', 'external-keys', t.other.key), { cred: t.acme });
    assert.equal((await post(['external-keys'], { key: t.other.key, roles: ['Owner'] })).status, 201);
    try {
      await signIn(t, admin);

      // (a) Generate: Owner is shown but not offered, and says why; the API-only role is.
      await button(page, '+ Generate Key').click();
      let dialog = page.getByRole('dialog');
      await dialog.waitFor();
      const owner = dialog.getByRole('checkbox', { name: 'Owner', exact: true });
      assert.ok(await owner.isDisabled(), 'Owner cannot be granted');
      assert.match(await dialog.locator('label', { has: page.getByRole('checkbox', { name: 'Owner', exact: true }) }).getAttribute('title'), /Owner: it gives edit-roles, which you do not hold/);
      assert.match(await owner.evaluate((el) => el.labels[0].querySelector(`#${el.getAttribute('aria-describedby')}`).textContent), /edit-roles/);
      assert.ok(await dialog.getByRole('checkbox', { name: apiOnly, exact: true }).isEnabled(), 'an API-only role can be granted');
      assert.ok(await dialog.getByRole('checkbox', { name: RESTRICTED, exact: true }).isEnabled(), 'its own role can be granted');
      await dialog.getByText(/cannot be granted from it/).waitFor();
      await t.shot('delegation-generate-roles');
      await dialog.getByLabel('Key identification').fill(`Made by restricted ${tag}`);
      await dialog.getByRole('checkbox', { name: apiOnly, exact: true }).check();
      await button(dialog, 'Generate').click();
      await shownToken(dialog);
      await button(dialog, 'Close').click();
      await dialogGone(t);

      // (b) The Owner key's actions are disabled, each with the reason, and the menu says it once.
      let menu = await openRowMenu(t, t.acme.key);
      await menu.getByText(OWNER_HINT, { exact: true }).waitFor();
      for (const item of ['Edit', 'Renew Token', 'Deactivate', 'Delete Key']) {
        const mi = menu.getByRole('menuitem', { name: item, exact: true });
        assert.equal(await mi.getAttribute('aria-disabled'), 'true', item);
        assert.equal(await mi.getAttribute('title'), OWNER_HINT, item);
      }
      await t.shot('delegation-owner-row-menu');
      await menu.getByRole('menuitem', { name: 'Delete Key', exact: true }).click({ force: true });
      assert.equal(await page.getByRole('dialog').count(), 0, 'a disabled action opens nothing');
      await page.keyboard.press('Escape');
      // Its own key (and weaker ones) stay actionable.
      menu = await openRowMenu(t, admin.key);
      assert.equal(await menu.getByRole('menuitem', { name: 'Edit', exact: true }).getAttribute('aria-disabled'), null);
      await page.keyboard.press('Escape');

      // The same on the External tab: an Owner grant cannot be edited or removed.
      await page.getByRole('tab', { name: 'External', exact: true }).click();
      menu = await openRowMenu(t, t.other.key);
      for (const item of ['Edit', 'Remove']) {
        const mi = menu.getByRole('menuitem', { name: item, exact: true });
        assert.equal(await mi.getAttribute('aria-disabled'), 'true', item);
        assert.equal(await mi.getAttribute('title'), OWNER_HINT, item);
      }
      await page.keyboard.press('Escape');
      await button(page, 'Add Key').click();
      dialog = page.getByRole('dialog');
      assert.ok(await dialog.getByRole('checkbox', { name: 'Owner', exact: true }).isDisabled());
      assert.ok(await dialog.getByRole('checkbox', { name: apiOnly, exact: true }).isEnabled());
      await page.keyboard.press('Escape');
      await dialogGone(t);
      await page.getByRole('tab', { name: 'Generated', exact: true }).click();

      // (c) A real refusal: the key loses edit-api-keys while the page still offers
      // Generate; the API's message is shown, and the page then stops offering it.
      const viewer = `Viewer ${tag}`;
      assert.equal((await post(['roles'], { name: viewer, resources: ['view-api-keys'] })).status, 201);
      const demoted = await call(t.base, 'PATCH', acct('acme', 'keys', admin.key), { cred: t.acme, body: { roles: [viewer] } });
      assert.equal(demoted.status, 200, demoted.text);
      await button(page, '+ Generate Key').click();
      dialog = page.getByRole('dialog');
      await dialog.getByLabel('Key identification').fill(`Refused ${tag}`);
      await button(dialog, 'Generate').click();
      const refusal = dialog.getByRole('alert').filter({ hasText: /edit-api-keys/ });
      await refusal.waitFor();
      await t.shot('delegation-refused');
      assert.doesNotMatch(await refusal.textContent(), /HTTP \d+/, 'the API message, not a status code');
      await page.keyboard.press('Escape');
      await dialogGone(t);
      await eventually(async () => button(page, '+ Generate Key').isDisabled());
      const listed = await call(t.base, 'GET', `${acct('acme', 'keys')}?q=${encodeURIComponent(`Refused ${tag}`)}`, { cred: t.acme });
      assert.deepEqual(listed.data.items, [], 'the refused call made nothing');
    } finally {
      await call(t.base, 'DELETE', acct('acme', 'external-keys', t.other.key), { cred: t.acme });
    }
  });

  test('a refused row action shows the API message (activate, deactivate)', async (t) => {
    const { page } = t;
    // A RESTRICTED admin signs in while the target is still within its reach;
    // then the Owner gives the target Owner, so the page's offer is stale and
    // the server refuses for real: its message is shown.
    const admin = await createKey(t, `Toggle admin ${randomTag()}`, ['User Administrator - RESTRICTED']);
    const { key } = await createKey(t, `Refused toggle ${randomTag()}`);
    const off = await call(t.base, 'PATCH', acct('acme', 'keys', key), { cred: t.acme, body: { status: 'inactive' } });
    assert.equal(off.status, 200, off.text);
    try {
      await signIn(t, admin);
      const raised = await call(t.base, 'PATCH', acct('acme', 'keys', key), { cred: t.acme, body: { roles: ['Owner'] } });
      assert.equal(raised.status, 200, raised.text);
      const menu = await openRowMenu(t, key);
      await menu.getByRole('menuitem', { name: 'Activate', exact: true }).click();
      await page.getByRole('alert').getByText(/holds the resource 'edit-roles', which your credential lacks/).waitFor();
      await t.shot('refused-activate');
      assert.equal((await getKey(t, key)).data.status, 'inactive');
    } finally {
      await call(t.base, 'DELETE', acct('acme', 'keys', key), { cred: t.acme });
      await call(t.base, 'DELETE', acct('acme', 'keys', admin.key), { cred: t.acme });
    }
    // A 409 in a confirmation dialog: the only Owner key of account `other`
    // deactivating itself is refused (last_owner), with the API's message.
    await page.context().clearCookies();
    await signIn(t, t.other);
    const dialog = await menuAction(t, t.other.key, 'Deactivate');
    await button(dialog, 'Deactivate').click();
    await dialog.getByRole('alert').filter({ hasText: /last active key holding Owner/ }).waitFor();
    const self = await call(t.base, 'GET', acct('other', 'keys', t.other.key), { cred: t.other });
    assert.equal(self.data.status, 'active', self.text);
  });

  test('generate: token shown once with Copy; Close removes it from the page', async (t) => {
    const { page } = t;
    const name = `Generated ${randomTag()}`;
    await signIn(t);
    await button(page, '+ Generate Key').click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();

    // The name is required: nothing is created without it.
    await button(dialog, 'Generate').click();
    await dialog.getByRole('alert').filter({ hasText: /key identification/i }).waitFor();
    assert.ok(await dialog.isVisible());

    await dialog.getByLabel('Key identification').fill(name);
    await dialog.getByRole('checkbox', { name: RESTRICTED, exact: true }).check();
    await t.shot('generate-form');
    await button(dialog, 'Generate').click();
    const token = await shownToken(dialog);
    const keyId = (await dialog.getByText(/^kst-acme-[a-z2-7]{10}$/).textContent()).trim();

    await button(dialog, 'Copy').click();
    await dialog.getByText('Copied to the clipboard').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
    await t.shot('generate-token-shown');

    // The one-time share link hands over the same token (once).
    const link = (await dialog.getByText(/\/share\/[^/\s]+$/).textContent()).trim();
    await button(dialog, 'Copy link').click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
    const shareId = link.split('/share/')[1];
    const revealed = await call(t.base, 'POST', `/share/${encodeURIComponent(shareId)}/reveal`);
    assert.equal(revealed.status, 200, revealed.text);
    assert.deepEqual({ key: revealed.data.key, token: revealed.data.token }, { key: keyId, token });

    await assertVerifies(t, keyId, token, 'current');
    const k = await getKey(t, keyId);
    assert.equal(k.status, 200);
    assert.equal(k.data.name, name);
    assert.deepEqual(k.data.roles, [RESTRICTED]);

    await button(dialog, 'Close').click();
    await dialogGone(t);
    await assertTokenGone(t, token);
    assert.ok(!(await page.content()).includes(shareId), 'the share link is still in the page');
    await page.evaluate(() => navigator.clipboard.writeText(''));
    const r = row(t, keyId);
    await r.waitFor();
    assert.match(await r.textContent(), new RegExp(name));
    assert.match(await r.textContent(), /Active/);
    await assertTokenGone(t, token);
  });

  test('renew: Later (the default) keeps both tokens; closing keeps them; Delete Old Token ends the old one', async (t) => {
    const { page } = t;
    const { key, token: oldToken } = await createKey(t, `Renew later ${randomTag()}`);
    await signIn(t);
    assert.deepEqual(await menuItems(t, key), ['Usage', 'Edit', 'Renew Token', 'Deactivate', 'Delete Key']);

    const dialog = await menuAction(t, key, 'Renew Token');
    const group = dialog.getByRole('radiogroup', { name: 'Delete Old Token' });
    assert.ok(await group.getByRole('radio', { name: 'Later', exact: true }).isChecked());
    assert.ok(!(await group.getByRole('radio', { name: 'Now', exact: true }).isChecked()));
    assert.ok(!(await group.getByRole('radio', { name: 'At a time', exact: true }).isChecked()));
    await t.shot('renew-dialog');
    await button(dialog, 'Renew').click();
    const newToken = await shownToken(dialog);
    assert.notEqual(newToken, oldToken);
    assert.ok(await button(dialog, 'Copy').isVisible());
    assert.ok(await button(dialog, 'Done').isVisible());
    await dialog.getByText(/keeps working until you delete it/).waitFor();
    await t.shot('renew-dialog-token');

    // Renewed with Later: both tokens verify.
    await assertVerifies(t, key, newToken, 'current');
    await assertVerifies(t, key, oldToken, 'old');

    // Escape: both stay valid; the row says an old token is pending.
    await page.keyboard.press('Escape');
    await dialogGone(t);
    await assertTokenGone(t, newToken);
    await assertVerifies(t, key, newToken, 'current');
    await assertVerifies(t, key, oldToken, 'old');
    await row(t, key).getByText('Pending deletion - Old token').waitFor();
    const ages = await row(t, key).getByRole('cell').nth(3).textContent();
    assert.match(ages, /Current.*Old/s, `both token ages are shown: ${ages}`);
    assert.doesNotMatch(ages, /Ends in/, 'no countdown without a deadline');
    await t.shot('renew-pending-old-token');
    assert.deepEqual(await menuItems(t, key),
      ['Usage', 'Edit', 'Renew Token', 'Delete Old Token', 'Undo Renewal', 'Deactivate', 'Delete Key']);

    // A second renewal while the old token exists: the API's 409, readable.
    const again = await menuAction(t, key, 'Renew Token');
    await button(again, 'Renew').click();
    await again.getByRole('alert').filter({ hasText: /already has an old token/i }).waitFor();
    await t.shot('renew-error-old-token-exists');
    await button(again, 'Cancel').click();
    await dialogGone(t);

    // Delete Old Token: a warning and a Delete button.
    const del = await menuAction(t, key, 'Delete Old Token');
    await del.getByText(/will fail at once/).waitFor();
    await t.shot('delete-old-token-confirm');
    await button(del, 'Delete').click();
    await dialogGone(t);
    await assertRefused(t, key, oldToken, 'invalid_token');
    await assertVerifies(t, key, newToken, 'current');
    await row(t, key).getByText('Pending deletion - Old token').waitFor({ state: 'detached' });
    await page.getByRole('status').getByText(/old token of .* deleted/i).waitFor();
  });

  test('renew: Now renews and ends the old token at once', async (t) => {
    const { page } = t;
    const { key, token: oldToken } = await createKey(t, `Renew now ${randomTag()}`);
    await signIn(t);
    const dialog = await menuAction(t, key, 'Renew Token');
    await dialog.getByRole('radiogroup', { name: 'Delete Old Token' }).getByRole('radio', { name: 'Now', exact: true }).check();
    await button(dialog, 'Renew').click();
    const newToken = await shownToken(dialog);
    await dialog.getByText('The old token no longer works.').waitFor();
    await assertRefused(t, key, oldToken, 'invalid_token');
    await assertVerifies(t, key, newToken, 'current');
    const k = await getKey(t, key);
    assert.deepEqual(k.data.tokens.map((x) => x.slot), ['current']);
    await page.getByRole('status').getByText(/renewed; the old token was deleted/i).waitFor();
    await button(dialog, 'Done').click();
    await dialogGone(t);
    await assertTokenGone(t, newToken);
  });

  test('renew: Cancel before Renew changes nothing; leaving the page after it keeps both tokens', async (t) => {
    const { key, token: oldToken } = await createKey(t, `Renew reload ${randomTag()}`);
    await signIn(t);
    const first = await menuAction(t, key, 'Renew Token');
    await button(first, 'Cancel').click();
    await dialogGone(t);
    await assertVerifies(t, key, oldToken, 'current');
    assert.deepEqual((await getKey(t, key)).data.tokens.map((x) => x.slot), ['current']);

    const dialog = await menuAction(t, key, 'Renew Token');
    await button(dialog, 'Renew').click();
    const newToken = await shownToken(dialog);
    await t.page.reload();
    await waitForList(t);
    await assertVerifies(t, key, newToken, 'current');
    await assertVerifies(t, key, oldToken, 'old');
    await row(t, key).getByText('Pending deletion - Old token').waitFor();
    await assertTokenGone(t, newToken);
  });

  test('renew: At a time (in 24 hours) sets the old token\'s end; the row counts down; the API shows ends_at', async (t) => {
    const { page } = t;
    const { key, token: oldToken } = await createKey(t, `Renew at ${randomTag()}`);
    await signIn(t);
    const dialog = await menuAction(t, key, 'Renew Token');
    const group = dialog.getByRole('radiogroup', { name: 'Delete Old Token' });
    const ends = dialog.getByLabel('Old token ends', { exact: true });
    assert.ok(await ends.isDisabled(), 'the preset waits for At a time');
    await group.getByRole('radio', { name: 'At a time', exact: true }).check();
    assert.ok(await ends.isEnabled());
    assert.deepEqual((await ends.locator('option').allTextContents()).map((s) => s.trim()),
      ['In 1 hour', 'In 24 hours', 'In 7 days', 'At a date and time…']);
    await ends.selectOption({ label: 'In 24 hours' });
    await t.shot('renew-at-a-time');
    const before = Date.now();
    await button(dialog, 'Renew').click();
    const newToken = await shownToken(dialog);
    await dialog.getByText(/keeps working until .* then stops and is deleted/).waitFor();

    const k = await getKey(t, key);
    const old = k.data.tokens.find((x) => x.slot === 'old');
    assert.ok(old && old.ends_at, `the old token has ends_at: ${k.text}`);
    const endsAt = Date.parse(old.ends_at);
    assert.ok(endsAt >= Math.floor(before / 1000) * 1000 + 24 * 3600e3 - 1000 && endsAt <= Date.now() + 24 * 3600e3,
      `ends_at ${old.ends_at} is 24 hours ahead`);
    assert.equal(k.data.tokens.find((x) => x.slot === 'current').ends_at, null);
    await assertVerifies(t, key, oldToken, 'old');
    await assertVerifies(t, key, newToken, 'current');

    await button(dialog, 'Done').click();
    await dialogGone(t);
    await assertTokenGone(t, newToken);
    const countdown = row(t, key).getByText(/^Ends in (23 h [0-9]+ min|24 h 0 min)$/);
    await countdown.waitFor();
    assert.match(await countdown.getAttribute('title'), /^Stops working /);
    await t.shot('renew-countdown');
  });

  test('renew: At a time with a date: refused in the past, then taken', async (t) => {
    const { key } = await createKey(t, `Renew date ${randomTag()}`);
    await signIn(t);
    const dialog = await menuAction(t, key, 'Renew Token');
    await dialog.getByRole('radiogroup', { name: 'Delete Old Token' }).getByRole('radio', { name: 'At a time', exact: true }).check();
    await dialog.getByLabel('Old token ends', { exact: true }).selectOption('date');
    const date = dialog.getByLabel('Date and time (your time zone)');
    await date.waitFor();
    const local = (d) => {
      const p = (n) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    };
    await date.fill(local(new Date(Date.now() - 2 * 3600e3)));
    await button(dialog, 'Renew').click();
    await dialog.getByRole('alert').filter({ hasText: /time in the future/ }).waitFor();
    assert.deepEqual((await getKey(t, key)).data.tokens.map((x) => x.slot), ['current']);
    await date.fill(local(new Date(Date.now() + 40 * 24 * 3600e3)));
    await button(dialog, 'Renew').click();
    await dialog.getByRole('alert').filter({ hasText: /at most 30 days/ }).waitFor();
    const target = new Date(Date.now() + 3 * 24 * 3600e3);
    target.setSeconds(0, 0);
    await date.fill(local(target));
    await button(dialog, 'Renew').click();
    await shownToken(dialog);
    const old = (await getKey(t, key)).data.tokens.find((x) => x.slot === 'old');
    assert.equal(Date.parse(old.ends_at), target.getTime());
    await button(dialog, 'Done').click();
    await dialogGone(t);
    await row(t, key).getByText(/^Ends in (2 d 23 h|3 d 0 h)$/).waitFor();
  });

  test('undo renewal: the newer token stops working, the old one is current again', async (t) => {
    const { key, token: oldToken } = await createKey(t, `Undo ${randomTag()}`);
    const renewed = await call(t.base, 'POST', acct('acme', 'keys', key, 'renew'), { cred: t.acme });
    assert.equal(renewed.status, 200, renewed.text);
    const newToken = renewed.data.token;
    await signIn(t);
    await row(t, key).getByText('Pending deletion - Old token').waitFor();
    const dialog = await menuAction(t, key, 'Undo Renewal');
    await t.shot('undo-renewal-confirm');
    await button(dialog, 'Undo').click();
    await dialogGone(t);
    await assertRefused(t, key, newToken, 'invalid_token');
    await assertVerifies(t, key, oldToken, 'current');
    await row(t, key).getByText('Pending deletion - Old token').waitFor({ state: 'detached' });
    await t.page.getByRole('status').getByText(/renewal of .* undone/i).waitFor();
  });

  test('deactivate and activate', async (t) => {
    const { key, token } = await createKey(t, `Toggle ${randomTag()}`);
    await signIn(t);
    const dialog = await menuAction(t, key, 'Deactivate');
    await t.shot('deactivate-confirm');
    await button(dialog, 'Deactivate').click();
    await dialogGone(t);
    await assertRefused(t, key, token, 'inactive');
    await row(t, key).getByText('Inactive', { exact: true }).waitFor();
    await t.page.getByRole('status').getByText(`Key ${key} deactivated.`).waitFor();
    assert.ok((await menuItems(t, key)).includes('Activate'));

    const menu = await openRowMenu(t, key);
    await menu.getByRole('menuitem', { name: 'Activate', exact: true }).click();
    await row(t, key).getByText('Active', { exact: true }).waitFor();
    await assertVerifies(t, key, token, 'current');
    await t.page.getByRole('status').getByText(`Key ${key} activated.`).waitFor();
  });

  test('delete key: the checkbox enables Delete; the key is gone', async (t) => {
    const { key, token } = await createKey(t, `Doomed ${randomTag()}`);
    await signIn(t);
    const dialog = await menuAction(t, key, 'Delete Key');
    const del = button(dialog, 'Delete');
    assert.ok(await del.isDisabled(), 'Delete starts disabled');
    await dialog.getByRole('checkbox', { name: 'I understand that this action cannot be undone' }).check();
    assert.ok(await del.isEnabled(), 'the checkbox enables Delete');
    await t.shot('delete-key-confirm');
    await del.click();
    await dialogGone(t);
    await row(t, key).waitFor({ state: 'detached' });
    assert.equal((await getKey(t, key)).status, 404);
    await assertRefused(t, key, token, 'unknown_key');
    await t.page.getByRole('status').getByText(/deleted/i).waitFor();
  });

  test('edit: name and roles are saved', async (t) => {
    const { key } = await createKey(t, `Before ${randomTag()}`);
    const newName = `After ${randomTag()}`;
    await signIn(t);
    const dialog = await menuAction(t, key, 'Edit');
    await dialog.getByLabel('Key identification').fill(newName);
    await dialog.getByRole('checkbox', { name: 'Owner', exact: true }).check();
    await t.shot('edit-dialog');
    await button(dialog, 'Save').click();
    await dialogGone(t);
    const k = await getKey(t, key);
    assert.equal(k.data.name, newName);
    assert.deepEqual(k.data.roles, ['Owner']);
    await row(t, key).getByText(newName).waitFor();
    await t.page.getByRole('status').getByText(/saved/i).waitFor();
  });

  test('edit: allowed addresses are checked as you type; limits are saved', async (t) => {
    const { key } = await createKey(t, `Limits ${randomTag()}`);
    await signIn(t);
    const dialog = await menuAction(t, key, 'Edit');
    const ranges = dialog.getByLabel('Allowed addresses');
    await ranges.fill('203.0.113.0/24\n10.0.0.0/33');
    await dialog.getByText(/Not a valid address or range: line 2: 10\.0\.0\.0\/33/).waitFor();
    assert.equal(await ranges.getAttribute('aria-invalid'), 'true');
    await button(dialog, 'Save').click();
    await dialog.getByText(/Fix the allowed addresses first/).waitFor();
    await ranges.fill('203.0.113.0/24\n2001:db8::1');
    await dialog.getByText('One range or address per line; empty: any address.').waitFor();
    assert.equal(await ranges.getAttribute('aria-invalid'), null);
    await dialog.getByLabel('Rate limit (verifies)').fill('100');
    await dialog.getByLabel('per seconds').fill('60');
    await t.shot('edit-limits');
    await button(dialog, 'Save').click();
    await dialogGone(t);
    const k = await getKey(t, key);
    assert.deepEqual(k.data.allowed_cidrs, ['203.0.113.0/24', '2001:db8::1/128']);
    assert.deepEqual(k.data.rate_limit, { limit: 100, period_seconds: 60 });
    // cleared again from the same dialog
    const again = await menuAction(t, key, 'Edit');
    assert.equal(await again.getByLabel('Allowed addresses').inputValue(), '203.0.113.0/24\n2001:db8::1/128');
    await again.getByLabel('Allowed addresses').fill('');
    await again.getByLabel('Rate limit (verifies)').fill('');
    await button(again, 'Save').click();
    await dialogGone(t);
    const cleared = await getKey(t, key);
    assert.deepEqual(cleared.data.allowed_cidrs, []);
    assert.equal(cleared.data.rate_limit, null);
  });

  test('generate: with allowed addresses and a rate limit', async (t) => {
    await signIn(t);
    await button(t.page, '+ Generate Key').click();
    const dialog = t.page.getByRole('dialog');
    await dialog.getByLabel('Key identification').fill(`Limited ${randomTag()}`);
    await dialog.getByLabel('Allowed addresses').fill('198.51.100.7');
    await dialog.getByLabel('Rate limit (verifies)').fill('5');
    await dialog.getByLabel('per seconds').fill('1');
    await button(dialog, 'Generate').click();
    const token = await shownToken(dialog);
    const key = (await dialog.getByText(/^kst-acme-[a-z0-9]{10}$/).first().textContent()).trim();
    const k = await getKey(t, key);
    assert.deepEqual(k.data.allowed_cidrs, ['198.51.100.7/32']);
    assert.deepEqual(k.data.rate_limit, { limit: 5, period_seconds: 1 });
    // this browser's test client is not 198.51.100.7: refused
    const r = await call(t.base, 'GET', '/api/v1/verify', { headers: { 'X-API-Key': key, 'X-API-Token': token } });
    assert.equal(r.status, 403);
    assert.equal(r.data.reason, 'address_not_allowed');
  });

  test('usage panel: uPlot charts of a key, valid against refused, with a tooltip value', async (t) => {
    const { key, token } = await createKey(t, `Usage ${randomTag()}`);
    const verify = (tok) => call(t.base, 'GET', '/api/v1/verify', { headers: { 'X-API-Key': key, 'X-API-Token': tok } });
    for (let i = 0; i < 3; i++) assert.equal((await verify(token)).status, 200);
    const wrong = (await createKey(t, `Other ${randomTag()}`)).token;
    assert.equal((await verify(wrong)).status, 401);
    await signIn(t);
    await row(t, key).getByText('Last used just now from 127.0.0.1').waitFor();
    const dialog = await menuAction(t, key, 'Usage');
    await dialog.getByText('Verifies per hour, last 48 hours').waitFor();
    const charts = dialog.locator('figure.usage-chart');
    assert.equal(await charts.count(), 2);
    assert.equal(await charts.nth(0).locator('canvas').count(), 1, 'the hourly chart draws on a canvas');
    assert.equal(await charts.nth(1).locator('canvas').count(), 1, 'the daily chart draws on a canvas');
    // the legend: the time, then the two series, valid and refused
    const labels = (await charts.nth(0).locator('.u-legend .u-series .u-label').allTextContents()).map((s) => s.trim());
    assert.deepEqual(labels.slice(1), ['Valid', 'Refused']);
    // hovering over the last hour shows its counts in the legend
    const over = charts.nth(0).locator('.u-over');
    const box = await over.boundingBox();
    await t.page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
    await eventually(async () => {
      const values = (await charts.nth(0).locator('.u-legend .u-series .u-value').allTextContents()).map((s) => s.trim());
      return values[1] === '3' && values[2] === '1';
    });
    await t.shot('usage-panel');
    await button(dialog, 'Close').click();
    await dialogGone(t);
  });

  test('account usage panel: charts and the top keys', async (t) => {
    const { key, token } = await createKey(t, `Top ${randomTag()}`);
    for (let i = 0; i < 120; i++) {
      const r = await call(t.base, 'GET', '/api/v1/verify', { headers: { 'X-API-Key': key, 'X-API-Token': token } });
      assert.equal(r.status, 200);
    }
    await signIn(t);
    await button(t.page, 'Usage').click();
    const dialog = t.page.getByRole('dialog', { name: 'Usage of the account' });
    await dialog.getByText('Top keys, last 48 hours').waitFor();
    assert.equal(await dialog.locator('figure.usage-chart canvas').count(), 2);
    const mine = dialog.locator('table.usage-top tbody tr').filter({ hasText: key }); // 120: among the top 10
    await mine.waitFor();
    assert.equal((await mine.locator('td').nth(1).textContent()).trim(), '120');
    assert.equal((await mine.locator('td').nth(2).textContent()).trim(), '0');
    await t.shot('account-usage');
    await button(dialog, 'Close').click();
    await dialogGone(t);
  });

  test('search matches name or key as you type', async (t) => {
    const { page } = t;
    const tag = randomTag();
    const alpha = await createKey(t, `Search alpha ${tag}`);
    const beta = await createKey(t, `Search beta ${tag}`);
    await signIn(t);
    const search = page.getByRole('searchbox', { name: 'Search' });

    await search.pressSequentially(`ALPHA ${tag}`, { delay: 20 });
    await row(t, beta.key).waitFor({ state: 'detached' });
    await row(t, alpha.key).waitFor();
    assert.equal(await page.getByRole('table').getByRole('row').count(), 2, 'header row and one key');
    await t.shot('search-by-name');

    await search.fill('');
    await search.pressSequentially(beta.key.slice(-6), { delay: 20 });
    await row(t, alpha.key).waitFor({ state: 'detached' });
    await row(t, beta.key).waitFor();

    await search.fill(`nothing-like-this-${tag}`);
    await page.getByText(`No keys match “nothing-like-this-${tag}”`).waitFor();
    await t.shot('search-empty');
    await button(page, 'Clear search').click();
    await row(t, alpha.key).waitFor();
    await row(t, beta.key).waitFor();
  });

  test('settings: Apply saves token duration and enforcement', async (t) => {
    const { page } = t;
    // The form is filled by two loads: every tab's at sign-in and the Settings
    // tab's own when it is opened; a choice made before the second one lands
    // is replaced by it. Count the finished loads, so the test chooses after.
    let loads = 0;
    const countLoad = (r) => {
      if (r.method() === 'GET' && /\/api\/v1\/accounts\/[^/]+\/settings$/.test(new URL(r.url()).pathname)) loads += 1;
    };
    page.on('requestfinished', countLoad);
    try {
      await signIn(t);
      await openSettings(t);
      const three = page.getByRole('radio', { name: '3 months (recommended)', exact: true });
      const six = page.getByRole('radio', { name: '6 months', exact: true });
      const enforce = page.getByRole('checkbox', { name: 'Enforce the token duration' });
      await eventually(async () => loads >= 2);
      await eventually(async () => (await three.isChecked()) || (await six.isChecked()));
      await six.check();
      await enforce.check();
      await button(page, 'Apply').click();
      await page.getByRole('status').getByText(/settings applied/i).waitFor();
      let s = await call(t.base, 'GET', acct('acme', 'settings'), { cred: t.acme });
      assert.deepEqual(s.data, {
        token_duration_months: 6, enforce_duration: true, auto_delete_old_token_hours: null, renewal_notice_days: 14,
        deactivate_unused_days: null,
        leaked_token_action: 'alert',
      });
      await t.shot('settings-applied');

      await page.reload();
      await openSettings(t);
      await eventually(async () => six.isChecked());
      assert.ok(await enforce.isChecked());

      await three.check();
      await enforce.uncheck();
      await button(page, 'Apply').click();
      await eventually(async () => {
        s = await call(t.base, 'GET', acct('acme', 'settings'), { cred: t.acme });
        return s.data.token_duration_months === 3 && s.data.enforce_duration === false;
      });
    } finally {
      page.off('requestfinished', countLoad);
      await call(t.base, 'PUT', acct('acme', 'settings'), {
        cred: t.acme, body: { token_duration_months: 3, enforce_duration: false },
      });
    }
  });

  test('external keys: add (with readable errors), edit, remove', async (t) => {
    const { page } = t;
    const otherKey = t.other.key;
    // Independent of order: start without a grant for other's key.
    await call(t.base, 'DELETE', acct('acme', 'external-keys', otherKey), { cred: t.acme });
    await signIn(t);
    await page.getByRole('tab', { name: 'External', exact: true }).click();
    const list = await call(t.base, 'GET', acct('acme', 'external-keys'), { cred: t.acme });
    if (list.data.items.length === 0) {
      await page.getByText('No external keys', { exact: true }).waitFor();
      await t.shot('external-empty');
    }

    await button(page, 'Add Key').click();
    const dialog = page.getByRole('dialog');
    const field = dialog.getByLabel('External key identification');
    await field.fill('kst-other-zzzzzzzzzz');
    await button(dialog, 'Add').click();
    await dialog.getByRole('alert').filter({ hasText: /no key kst-other-zzzzzzzzzz exists/i }).waitFor();
    await t.shot('external-add-unknown');
    const firstError = await dialog.getByRole('alert').textContent();
    await field.fill(t.acme.key);
    await button(dialog, 'Add').click();
    const ownKeyError = await eventually(async () => {
      const text = await dialog.getByRole('alert').textContent();
      return text !== firstError && text.trim() !== '' && text;
    });
    assert.doesNotMatch(ownKeyError, /HTTP \d+/, 'the API message, not a status code');

    await field.fill(otherKey);
    await dialog.getByRole('checkbox', { name: RESTRICTED, exact: true }).check();
    await button(dialog, 'Add').click();
    await dialogGone(t);
    const r = row(t, otherKey);
    await r.waitFor();
    assert.match(await r.getByRole('rowheader').textContent(), /Account\s*other/);
    assert.match(await r.textContent(), /Active/);
    await t.shot('external-added');
    let v = await verify(t.base, otherKey, t.other.token, 'acme');
    assert.equal(v.status, 200, v.text);
    assert.deepEqual(v.data.roles, [RESTRICTED]);

    const edit = await menuAction(t, otherKey, 'Edit');
    await edit.getByRole('checkbox', { name: RESTRICTED, exact: true }).uncheck();
    await edit.getByRole('checkbox', { name: 'Owner', exact: true }).check();
    await button(edit, 'Save').click();
    await dialogGone(t);
    const ext = await call(t.base, 'GET', acct('acme', 'external-keys'), { cred: t.acme });
    assert.deepEqual(ext.data.items.find((i) => i.key === otherKey).roles, ['Owner']);
    await r.getByRole('list', { name: 'Roles' }).getByText('Owner', { exact: true }).waitFor();

    const remove = await menuAction(t, otherKey, 'Remove');
    await button(remove, 'Remove').click();
    await dialogGone(t);
    await r.waitFor({ state: 'detached' });
    v = await verify(t.base, otherKey, t.other.token, 'acme');
    assert.equal(v.status, 403, v.text);
    await page.getByRole('status').getByText(/removed/i).waitFor();
  });

  test('roles: create, edit, delete; a role in use or built-in is refused with the reason', async (t) => {
    const { page } = t;
    const tag = randomTag();
    const name = `Catalog ${tag}`;
    await signIn(t);
    await page.getByRole('tab', { name: 'Roles', exact: true }).click();
    await row(t, 'Owner').first().waitFor();

    // Built-in roles: nothing to do, and the menu says why.
    let menu = await openRowMenu(t, 'Owner');
    await menu.getByText('Built-in roles cannot be edited or deleted.').waitFor();
    assert.equal(await menu.getByRole('menuitem', { name: 'Edit', exact: true }).getAttribute('aria-disabled'), 'true');
    await page.keyboard.press('Escape');

    await button(page, '+ New Role').click();
    let dialog = page.getByRole('dialog');
    await dialog.getByLabel('Role name').fill(name);
    await dialog.getByRole('checkbox', { name: 'view-api-keys', exact: true }).check();
    await dialog.getByLabel('API permissions').fill('catalog.read, catalog.write');
    await t.shot('roles-new');
    await button(dialog, 'Create').click();
    await dialogGone(t);
    await row(t, name).waitFor();
    let roles = (await call(t.base, 'GET', acct('acme', 'roles'), { cred: t.acme })).data.items;
    assert.deepEqual(roles.find((r) => r.name === name).resources.sort(), ['catalog.read', 'catalog.write', 'view-api-keys']);

    dialog = await menuAction(t, name, 'Edit');
    await dialog.getByRole('checkbox', { name: 'view-api-keys', exact: true }).uncheck();
    await dialog.getByLabel('API permissions').fill('catalog.read');
    await button(dialog, 'Save').click();
    await dialogGone(t);
    roles = (await call(t.base, 'GET', acct('acme', 'roles'), { cred: t.acme })).data.items;
    assert.deepEqual(roles.find((r) => r.name === name).resources, ['catalog.read']);
    await t.shot('roles-list');

    // In use by a key: the API's 409 message, in the dialog.
    const holder = await createKey(t, `Holds ${name}`, [name]);
    dialog = await menuAction(t, name, 'Delete Role');
    await button(dialog, 'Delete').click();
    const refusal = dialog.getByRole('alert');
    await refusal.waitFor();
    assert.doesNotMatch(await refusal.textContent(), /HTTP \d+/);
    await page.keyboard.press('Escape');
    await dialogGone(t);
    assert.equal((await call(t.base, 'DELETE', acct('acme', 'keys', holder.key), { cred: t.acme })).status, 204);

    dialog = await menuAction(t, name, 'Delete Role');
    await button(dialog, 'Delete').click();
    await dialogGone(t);
    await row(t, name).waitFor({ state: 'detached' });
    roles = (await call(t.base, 'GET', acct('acme', 'roles'), { cred: t.acme })).data.items;
    assert.ok(!roles.some((r) => r.name === name));
  });

  test('roles: a role admin cannot put in, edit or delete what it does not hold', async (t) => {
    const { page } = t;
    const tag = randomTag();
    const post = (p, body) => call(t.base, 'POST', acct('acme', ...p), { cred: t.acme, body });
    const roleAdmin = `Role admin ${tag}`;
    const hooks = `Hooks ${tag}`;
    const plain = `Plain ${tag}`;
    assert.equal((await post(['roles'], { name: roleAdmin, resources: ['view-api-keys', 'edit-roles'] })).status, 201);
    assert.equal((await post(['roles'], { name: hooks, resources: ['edit-webhooks', 'hooks.read'] })).status, 201);
    assert.equal((await post(['roles'], { name: plain, resources: ['orders.read'] })).status, 201);
    const admin = await createKey(t, `Role admin key ${tag}`, [roleAdmin]);
    await signIn(t, admin);
    await page.getByRole('tab', { name: 'Roles', exact: true }).click();
    await row(t, hooks).waitFor();

    let menu = await openRowMenu(t, hooks);
    const why = 'This role gives edit-webhooks, which you do not hold.';
    await menu.getByText(why, { exact: true }).waitFor();
    for (const item of ['Edit', 'Delete Role']) {
      const mi = menu.getByRole('menuitem', { name: item, exact: true });
      assert.equal(await mi.getAttribute('aria-disabled'), 'true', item);
      assert.equal(await mi.getAttribute('title'), why, item);
    }
    await page.keyboard.press('Escape');
    menu = await openRowMenu(t, plain);
    assert.equal(await menu.getByRole('menuitem', { name: 'Edit', exact: true }).getAttribute('aria-disabled'), null);
    await page.keyboard.press('Escape');

    await button(page, '+ New Role').click();
    const dialog = page.getByRole('dialog');
    assert.ok(await dialog.getByRole('checkbox', { name: 'edit-webhooks', exact: true }).isDisabled());
    assert.ok(await dialog.getByRole('checkbox', { name: 'edit-roles', exact: true }).isEnabled());
    await t.shot('roles-new-restricted');
    await page.keyboard.press('Escape');
    await dialogGone(t);
  });

  test('lists: a failed load offers Try again; the search filters External and Roles too', async (t) => {
    // The three lists share one loader (web/js/list_tab.js): its error state,
    // its retry, its count line and its search, checked on the two lists that
    // the other cases do not search.
    const { page } = t;
    const tag = randomTag();
    const role = `Filter role ${tag}`;
    const made = await call(t.base, 'POST', acct('acme', 'roles'), { cred: t.acme, body: { name: role, resources: ['orders.read'] } });
    assert.equal(made.status, 201, made.text);
    await signIn(t);

    // The External list answers 500 once: the error is shown in the panel, Try again loads it.
    let failOnce = true;
    await page.route(/\/external-keys$/, (route) => {
      if (!failOnce) return route.continue();
      failOnce = false;
      return route.fulfill({ status: 500, contentType: 'application/json', body: '{"error":{"code":"internal","message":"boom"}}' });
    });
    await page.getByRole('tab', { name: 'External', exact: true }).click();
    const panel = page.getByRole('tabpanel', { name: 'External' });
    await panel.getByText('The external keys could not be loaded').waitFor();
    assert.equal((await page.locator('#external-count').textContent()).trim(), '');
    await button(panel, 'Try again').click();
    await panel.getByText('The external keys could not be loaded').waitFor({ state: 'detached' });
    await eventually(async () => /\d+ external keys?$/.test((await page.locator('#external-count').textContent()).trim()));
    await page.unroute(/\/external-keys$/);

    // The Roles list is searched in the page: one row and a count that says so.
    await page.getByRole('tab', { name: 'Roles', exact: true }).click();
    await row(t, 'Owner').first().waitFor();
    await page.getByRole('searchbox', { name: 'Search' }).fill(`filter role ${tag}`);
    await row(t, 'Owner').waitFor({ state: 'detached' });
    await row(t, role).waitFor();
    assert.equal((await page.locator('#roles-count').textContent()).trim(), `1 role matching “filter role ${tag}”`);
    await page.getByRole('searchbox', { name: 'Search' }).fill(`nothing-like-this-${tag}`);
    await page.getByText(`No roles match “nothing-like-this-${tag}”`).waitFor();
    assert.equal(await call(t.base, 'DELETE', acct('acme', 'roles', role), { cred: t.acme }).then((r) => r.status), 204);
  });

  test('export: CSV and XLSX downloads', async (t) => {
    const { page } = t;
    await signIn(t);
    const exportAs = async (format) => {
      await button(page, 'Export').click();
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('menu').getByRole('menuitem', { name: format, exact: true }).click(),
      ]);
      return { name: download.suggestedFilename(), data: fs.readFileSync(await download.path()) };
    };
    const csv = await exportAs('CSV');
    assert.match(csv.name, /\.csv$/);
    const text = csv.data.toString('utf8').replace(/^\uFEFF/, '');
    assert.equal(text.split(/\r?\n/)[0], CSV_HEADER);
    assert.ok(text.includes(t.acme.key), 'the Owner key is in the export');
    await page.getByRole('status').getByText(/export downloaded/i).waitFor();

    const xlsx = await exportAs('XLSX');
    assert.match(xlsx.name, /\.xlsx$/);
    assert.equal(xlsx.data.subarray(0, 2).toString('latin1'), 'PK', 'an XLSX (zip) file');
  });

  test('sign-out ends the session', async (t) => {
    const { page } = t;
    await signIn(t);
    const cookie = await sessionCookie(t);
    await button(page, 'Sign out').click();
    await button(page, 'Sign in').waitFor();
    await page.getByRole('status').getByText('Signed out.').waitFor();
    await t.shot('signed-out');
    const r = await call(t.base, 'GET', '/api/v1/session', { headers: { Cookie: cookie } });
    assert.equal(r.status, 401, r.text);
    await page.reload();
    await button(page, 'Sign in').waitFor();
    assert.equal(await page.getByRole('heading', { name: 'API Keys' }).count(), 0);
  });

  test('CSRF: the session cookie without X-CSRF-Token is refused', async (t) => {
    const { page } = t;
    await signIn(t);
    const cookie = await sessionCookie(t);
    const keysPath = acct('acme', 'keys');
    let r = await call(t.base, 'GET', keysPath, { headers: { Cookie: cookie } });
    assert.equal(r.status, 403, r.text);
    r = await call(t.base, 'POST', keysPath, { headers: { Cookie: cookie }, body: { name: 'csrf attempt' } });
    assert.equal(r.status, 403, r.text);
    r = await call(t.base, 'GET', keysPath, { headers: { Cookie: cookie, 'X-CSRF-Token': 'x'.repeat(43) } });
    assert.equal(r.status, 403, r.text);
    // From the page itself too: a same-origin fetch without the header.
    const inPage = await page.evaluate((p) => fetch(p, { credentials: 'same-origin' }).then((x) => x.status), keysPath);
    assert.equal(inPage, 403);
    // With the session's CSRF value it works.
    const session = await call(t.base, 'GET', '/api/v1/session', { headers: { Cookie: cookie } });
    r = await call(t.base, 'GET', keysPath, { headers: { Cookie: cookie, 'X-CSRF-Token': session.data.csrf } });
    assert.equal(r.status, 200, r.text);
  });

  test('keyboard: Enter opens, arrows move, Escape closes dialogs and menus', async (t) => {
    const { page } = t;
    const { key } = await createKey(t, `Keyboard ${randomTag()}`);
    await signIn(t);
    const focusedName = () => page.evaluate(() => {
      const el = document.activeElement;
      return el ? (el.getAttribute('aria-label') || el.textContent || '').trim() : '';
    });

    // The Generate dialog: Enter opens it, Escape closes it, focus returns.
    await button(page, '+ Generate Key').focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.labels?.[0]?.textContent.replace('*', '').trim()), 'Key identification');
    await page.keyboard.press('Escape');
    await dialogGone(t);
    await eventually(async () => (await focusedName()) === '+ Generate Key');

    // A row menu: Enter opens on the first item, arrows move, Escape closes.
    await button(page, `Actions for ${key}`).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('menu').waitFor();
    assert.equal(await focusedName(), 'Usage');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focusedName(), 'Edit');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focusedName(), 'Renew Token');
    await page.keyboard.press('End');
    assert.equal(await focusedName(), 'Delete Key');
    await page.keyboard.press('Escape');
    await page.getByRole('menu').waitFor({ state: 'detached' });
    assert.equal(await focusedName(), `Actions for ${key}`);

    // Delete Key from the keyboard, then Escape: the dialog closes, the key stays.
    await page.keyboard.press('Enter');
    await page.getByRole('menu').waitFor();
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    assert.equal(await dialog.getByRole('heading').textContent(), 'Delete key?');
    await page.keyboard.press('Escape');
    await dialogGone(t);
    assert.equal((await getKey(t, key)).status, 200);
    await eventually(async () => (await focusedName()) === `Actions for ${key}`);

    // Edit from the keyboard (the second item, after Usage): type, Enter saves.
    await page.keyboard.press('Enter');
    await page.getByRole('menu').waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type('Typed name');
    await page.keyboard.press('Enter');
    await dialogGone(t);
    assert.equal((await getKey(t, key)).data.name, 'Typed name');

    // Tabs: arrow keys move between them.
    await page.getByRole('tab', { name: 'Generated', exact: true }).focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getByRole('tab', { name: 'External', exact: true }).getAttribute('aria-selected'), 'true');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getByRole('tab', { name: 'Roles', exact: true }).getAttribute('aria-selected'), 'true');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getByRole('tab', { name: 'Settings', exact: true }).getAttribute('aria-selected'), 'true');
    assert.ok(await button(page, 'Apply').isVisible());
  });

  test('renewal alerts: orange and red icons beside old keys (screenshot)', async (t) => {
    // A second server on its own database: keys made with the clock moved back
    // 200, 120 and 40 days are that old when the server runs on today's clock.
    const db = path.join(t.dir, 'alerts.db');
    const owner = createAccount('acme', db);
    const server = new Server(db, 'alerts-server');
    const post = (p, body) => call(server.base, 'POST', acct('acme', ...p), { cred: owner, body });
    const made = {};
    try {
      await server.start(['--clock-offset-days', '-200']);
      await t.allowOrigin(server.base);
      for (const [name, resources] of [['Orders read', ['orders.read']], ['Catalog write', ['catalog.write', 'catalog.read']]]) {
        assert.equal((await post(['roles'], { name, resources })).status, 201);
      }
      made.legacy = (await post(['keys'], { name: 'Legacy ERP connector', roles: ['Orders read', 'Catalog write'] })).data;
      await server.stop();
      await server.start(['--clock-offset-days', '-120']);
      made.market = (await post(['keys'], { name: 'Marketplace feed', roles: ['Orders read'] })).data;
      await server.stop();
      await server.start(['--clock-offset-days', '-40']);
      made.warehouse = (await post(['keys'], { name: 'Warehouse sync', roles: ['Orders read', 'Catalog write'] })).data;
      await server.stop();
      await server.start();
      await t.allowOrigin(server.base);
      assert.equal((await post(['keys', made.warehouse.key, 'renew'])).status, 200);
      made.partner = (await post(['keys'], { name: 'Partner portal', roles: ['Catalog write'] })).data;
      made.reports = (await post(['keys'], { name: 'Reporting (read only)', roles: ['Orders read'] })).data;
      const off = await call(server.base, 'PATCH', acct('acme', 'keys', made.reports.key), { cred: owner, body: { status: 'inactive' } });
      assert.equal(off.status, 200, off.text);

      await signIn({ ...t, base: server.base }, owner);
      const alertIn = (key, name) => row(t, key).getByRole('img', { name, exact: true });
      await alertIn(made.legacy.key, 'Renewal highly recommended').waitFor();
      await alertIn(made.market.key, 'Renewal recommended').waitFor();
      assert.equal(await alertIn(made.market.key, 'Renewal highly recommended').count(), 0);
      for (const k of [made.warehouse, made.partner, made.reports]) {
        assert.equal(await row(t, k.key).getByRole('img', { name: /^Renewal/ }).count(), 0, k.name);
      }
      const legacyAges = await row(t, made.legacy.key).getByRole('cell').nth(3).textContent();
      assert.match(legacyAges, /\b(199|200|201) days\b/, legacyAges);
      const warehouseRow = row(t, made.warehouse.key);
      await warehouseRow.getByText('Pending deletion - Old token').waitFor();
      assert.match(await warehouseRow.textContent(), /Old\s*(39|40|41) days/);
      // The colours: orange and red.
      const colour = (key) => row(t, key).locator('.alert-icon').evaluate((el) => getComputedStyle(el).color);
      assert.notEqual(await colour(made.legacy.key), await colour(made.market.key));

      await t.page.mouse.move(0, 0);
      await t.page.evaluate(() => document.getElementById('toasts').replaceChildren()); // the sign-in toast
      if (process.env.KEYSTILE_DOCS_SCREENSHOT !== '0') { // =0 leaves the committed picture alone
        await t.page.screenshot({ path: path.join(ROOT, 'docs', 'screenshot-generated.png') });
      }
      await t.shot('generated-tab-alerts');
    } finally {
      await server.stop();
    }
  });

  test('page headers and markup: strict CSP, nosniff, no framing, no inline code', async (t) => {
    for (const p of ['/', '/index.html', '/app.js', '/style.css']) {
      const r = await call(t.base, 'GET', p);
      assert.equal(r.status, 200, p);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', p);
      if (p.endsWith('/') || p.endsWith('.html')) {
        assert.match(r.headers.get('content-security-policy') || '', /default-src 'self'/);
        assert.equal(r.headers.get('x-frame-options'), 'DENY');
      }
    }
    const html = (await call(t.base, 'GET', '/')).text;
    assert.doesNotMatch(html, /\sstyle\s*=/i, 'no style attributes');
    assert.doesNotMatch(html, /<style/i, 'no <style> elements');
    assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/i, 'no inline scripts');
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i, 'no inline event handlers');
    assert.doesNotMatch(html, /https?:\/\//i, 'no other hosts');
    // The page works under that policy: watchers fail the case on any CSP report.
    await signIn(t);
    await button(t.page, '+ Generate Key').click();
    await t.page.getByRole('dialog').waitFor();
    await t.page.keyboard.press('Escape');
    await dialogGone(t);
  });

  test('a 401 does not ask the browser for HTTP Basic credentials', async (t) => {
    // The page calls GET /api/v1/session on every load and POST /api/v1/session
    // with wrong credentials: a `WWW-Authenticate: Basic` answer makes
    // browsers pop up their own login box over the page.
    const problems = [];
    const r1 = await call(t.base, 'GET', '/api/v1/session');
    assert.equal(r1.status, 401);
    if (/^\s*basic/i.test(r1.headers.get('www-authenticate') || '')) {
      problems.push(`GET /api/v1/session (no cookie) → 401 with "WWW-Authenticate: ${r1.headers.get('www-authenticate')}"`);
    }
    const r2 = await call(t.base, 'POST', '/api/v1/session', { cred: { key: t.acme.key, token: t.other.token } });
    assert.equal(r2.status, 401);
    if (/^\s*basic/i.test(r2.headers.get('www-authenticate') || '')) {
      problems.push(`POST /api/v1/session (wrong token) → 401 with "WWW-Authenticate: ${r2.headers.get('www-authenticate')}"`);
    }
    assert.deepEqual(problems, []);
  });

  test('settings: deactivate unused keys after some days', async (t) => {
    const { page } = t;
    try {
      await signIn(t);
      await openSettings(t);
      const unused = page.getByLabel(/Deactivate keys unused for/);
      await eventually(async () => (await page.getByLabel(/Renewal notice, days/).inputValue()) === '14');
      assert.equal(await unused.inputValue(), '');
      await unused.fill('10');
      await button(page, 'Apply').click();
      await page.getByRole('alert').filter({ hasText: /from 30 to 730/ }).waitFor();
      await unused.fill('90');
      await button(page, 'Apply').click();
      await page.getByRole('status').getByText(/settings applied/i).waitFor();
      let s = await call(t.base, 'GET', acct('acme', 'settings'), { cred: t.acme });
      assert.equal(s.data.deactivate_unused_days, 90);
      await page.reload();
      await openSettings(t);
      await eventually(async () => (await unused.inputValue()) === '90');
      await unused.fill('');
      await button(page, 'Apply').click();
      await eventually(async () => {
        s = await call(t.base, 'GET', acct('acme', 'settings'), { cred: t.acme });
        return s.data.deactivate_unused_days === null;
      });
    } finally {
      await call(t.base, 'PUT', acct('acme', 'settings'), { cred: t.acme, body: { deactivate_unused_days: null } });
    }
  });

  test('settings: auto-delete hours and renewal notice days', async (t) => {
    const { page } = t;
    try {
      await signIn(t);
      await openSettings(t);
      const auto = page.getByRole('checkbox', { name: /Delete an old token by itself/ });
      const hours = page.getByLabel(/Hours without use/);
      const notice = page.getByLabel(/Renewal notice, days/);
      await eventually(async () => (await notice.inputValue()) === '14');
      assert.ok(!(await auto.isChecked()));
      assert.ok(await hours.isDisabled(), 'hours wait for the checkbox');
      await auto.check();
      assert.equal(await hours.inputValue(), '24');
      await hours.fill('721');
      await button(page, 'Apply').click();
      await page.getByRole('alert').filter({ hasText: /from 1 to 720/ }).waitFor();
      await hours.fill('48');
      await notice.fill('30');
      await button(page, 'Apply').click();
      await page.getByRole('status').getByText(/settings applied/i).waitFor();
      let s = await call(t.base, 'GET', acct('acme', 'settings'), { cred: t.acme });
      assert.equal(s.data.auto_delete_old_token_hours, 48);
      assert.equal(s.data.renewal_notice_days, 30);
      await t.shot('settings-rotation');

      await page.reload();
      await openSettings(t);
      await eventually(async () => (await hours.inputValue()) === '48');
      assert.ok(await auto.isChecked());
      assert.equal(await notice.inputValue(), '30');
      await auto.uncheck();
      await button(page, 'Apply').click();
      await eventually(async () => {
        s = await call(t.base, 'GET', acct('acme', 'settings'), { cred: t.acme });
        return s.data.auto_delete_old_token_hours === null && s.data.renewal_notice_days === 30;
      });
    } finally {
      await call(t.base, 'PUT', acct('acme', 'settings'), {
        cred: t.acme, body: { auto_delete_old_token_hours: null, renewal_notice_days: 14 },
      });
    }
  });

  test('webhooks: create (secret shown once), test event delivered and listed, disable, delete', async (t) => {
    const { page } = t;
    const rx = await startReceiver();
    let id = null;
    try {
      await signIn(t);
      await page.getByRole('tab', { name: 'Webhooks', exact: true }).click();
      await button(page, '+ New Webhook').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('URL', { exact: false }).fill(rx.url);
      const events = dialog.getByRole('group', { name: 'Events' });
      // The defaults, then one more.
      for (const e of ['token.renewed', 'token.old_deleted', 'key.renewal_due']) {
        assert.ok(await events.getByRole('checkbox', { name: e, exact: true }).isChecked(), e);
      }
      await events.getByRole('checkbox', { name: 'key.created', exact: true }).check();
      await t.shot('webhook-create');
      await button(dialog, 'Create').click();
      const secretEl = dialog.getByText(/^whsec_[A-Za-z0-9+/=]{40,}$/);
      await secretEl.waitFor();
      const secret = (await secretEl.textContent()).trim();
      assert.ok(await button(dialog, 'Copy').isVisible());
      await dialog.getByText(/shown only this once/).waitFor();
      await button(dialog, 'Copy').click();
      await dialog.getByText('Copied to the clipboard').waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
      await t.shot('webhook-secret');
      await button(dialog, 'Done').click();
      await dialogGone(t);
      assert.ok(!(await page.content()).includes(secret), 'the secret is still in the page');
      await page.evaluate(() => navigator.clipboard.writeText(''));

      const list = await call(t.base, 'GET', acct('acme', 'webhooks'), { cred: t.acme });
      const hook = list.data.items.find((w) => w.url === rx.url);
      assert.ok(hook, list.text);
      id = hook.id;
      assert.deepEqual([...hook.events].sort(), ['key.created', 'key.renewal_due', 'token.old_deleted', 'token.renewed']);
      const r = row(t, rx.url);
      await r.getByText('Enabled').waitFor();

      // Deliveries: empty, then Send Test Event reaches the receiver, signed with the secret shown once.
      const deliveries = await menuAction(t, rx.url, 'Deliveries');
      await deliveries.getByText(/No deliveries yet/).waitFor();
      await button(deliveries, 'Send Test Event').click();
      await eventually(() => rx.got.length === 1, 15000);
      const { headers, body } = rx.got[0];
      assert.equal(headers['webhook-signature'], signatureOf(secret, headers, body));
      assert.equal(JSON.parse(body.toString()).type, 'webhook.test');
      const line = deliveries.getByRole('row').filter({ hasText: headers['webhook-id'] });
      await line.getByText('Delivered').waitFor({ timeout: 15000 });
      const cells = (await line.getByRole('cell').allTextContents()).map((x) => x.trim());
      assert.deepEqual(cells.slice(0, 4), ['webhook.test', 'Delivered', '1', '204']);
      await t.shot('webhook-deliveries');
      await button(deliveries, 'Close').click();
      await dialogGone(t);

      // A subscribed event from another action is delivered and listed too.
      const made = await createKey(t, `Hooked ${randomTag()}`);
      await eventually(() => rx.got.length === 2, 15000);
      const event = JSON.parse(rx.got[1].body.toString());
      assert.equal(event.type, 'key.created');
      assert.equal(event.data.key, made.key);
      assert.ok(!rx.got[1].body.toString().includes(made.token), 'no token in a body');
      const api = await eventually(async () => {
        const d = await call(t.base, 'GET', acct('acme', 'webhooks', id, 'deliveries'), { cred: t.acme });
        return d.data.items.length === 2 && d.data.items.every((x) => x.status === 'delivered') && d.data.items;
      }, 15000);
      assert.deepEqual(api.map((x) => x.event), ['key.created', 'webhook.test']);

      // The row menu's test event (outside the dialog) is delivered as well.
      const menu = await openRowMenu(t, rx.url);
      await menu.getByRole('menuitem', { name: 'Send Test Event', exact: true }).click();
      await page.getByRole('status').getByText(/test event .* queued for http/i).waitFor(); // the menu's toast, not the dialog's
      await eventually(() => rx.got.length === 3, 15000);

      // Disable: no more deliveries; Enable again.
      await (await openRowMenu(t, rx.url)).getByRole('menuitem', { name: 'Disable', exact: true }).click();
      await r.getByText('Disabled').waitFor();
      assert.equal((await call(t.base, 'GET', acct('acme', 'webhooks', id), { cred: t.acme })).data.enabled, false);
      assert.deepEqual(await menuItems(t, rx.url), ['Deliveries', 'Send Test Event', 'Enable', 'Delete Webhook']);
      await createKey(t, `Not hooked ${randomTag()}`);
      await sleep(1500);
      assert.equal(rx.got.length, 3);
      await (await openRowMenu(t, rx.url)).getByRole('menuitem', { name: 'Enable', exact: true }).click();
      await r.getByText('Enabled').waitFor();

      // Delete.
      const del = await menuAction(t, rx.url, 'Delete Webhook');
      await button(del, 'Delete').click();
      await dialogGone(t);
      await r.waitFor({ state: 'detached' });
      const gone = await call(t.base, 'GET', acct('acme', 'webhooks', id), { cred: t.acme });
      assert.equal(gone.status, 404);
      id = null;
    } finally {
      if (id) await call(t.base, 'DELETE', acct('acme', 'webhooks', id), { cred: t.acme });
      await rx.close();
    }
  });

  test('webhooks: the tab is shown only to keys holding edit-webhooks', async (t) => {
    const { page } = t;
    const tag = randomTag();
    const made = await createKey(t, `No hooks ${tag}`, [RESTRICTED]);
    await signIn(t, { key: made.key, token: made.token });
    assert.ok(await page.getByRole('tab', { name: 'Settings', exact: true }).isVisible());
    assert.equal(await page.getByRole('tab', { name: 'Webhooks', exact: true }).count(), 0);
    // Arrow keys skip the hidden tab: End selects the last tab shown, not Webhooks.
    await page.getByRole('tab', { name: 'Generated', exact: true }).click();
    await page.keyboard.press('End');
    const selected = page.locator('[role=tab][id^="tab-"][aria-selected=true]');
    assert.notEqual((await selected.textContent()).trim(), 'Webhooks');
    assert.ok(await selected.isVisible());
    await button(page, 'Sign out').click();
    await signIn(t);
    await page.getByRole('tab', { name: 'Webhooks', exact: true }).waitFor();
  });

  test('leaked tokens: Settings chooses revoke; a leaked key shows a red Leaked badge opening its audit entry', async (t) => {
    const { page } = t;
    // A server of its own with GitHub secret scanning keys made here (node's crypto).
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keysFile = path.join(t.dir, 'github-keys.json');
    fs.writeFileSync(keysFile, JSON.stringify({ public_keys: [{
      key_identifier: 'browser-test', key: publicKey.export({ type: 'spki', format: 'pem' }), is_current: true,
    }] }));
    const db = path.join(t.dir, 'leaks.db');
    const owner = createAccount('acme', db);
    const server = new Server(db, 'leaks-server');
    const report = async (token) => {
      const body = JSON.stringify([{
        token, type: 'keystile_api_token', url: 'https://github.com/octo/shop/blob/main/.env', source: 'content',
      }]);
      const signature = crypto.sign('sha256', Buffer.from(body), privateKey).toString('base64');
      const r = await fetch(`${server.base}/api/v1/secret-scanning/github`, {
        method: 'POST',
        body,
        headers: {
          'Content-Type': 'application/json', 'Github-Public-Key-Identifier': 'browser-test',
          'Github-Public-Key-Signature': signature,
        },
      });
      assert.equal(r.status, 200);
      return (await r.json())[0].label;
    };
    try {
      await server.start(['--github-keys', keysFile]);
      await t.allowOrigin(server.base);
      const post = (p, body) => call(server.base, 'POST', acct('acme', ...p), { cred: owner, body });
      const alerted = (await post(['keys'], { name: 'Shop ERP', roles: [] })).data;
      const revoked = (await post(['keys'], { name: 'Warehouse', roles: [] })).data;
      const clean = (await post(['keys'], { name: 'Reports', roles: [] })).data;
      assert.equal(await report(alerted.token), 'true_positive');
      const tb = { ...t, base: server.base };
      await signIn(tb, owner);

      // Settings: the select, from alert to revoke.
      await openSettings(tb);
      const select = page.getByLabel(/finds a token of this account in public/);
      await eventually(async () => (await select.inputValue()) === 'alert');
      await select.selectOption('revoke');
      await button(page, 'Apply').click();
      await page.getByRole('status').getByText(/settings applied/i).waitFor();
      const s = await call(server.base, 'GET', acct('acme', 'settings'), { cred: owner });
      assert.equal(s.data.leaked_token_action, 'revoke');
      assert.equal(await report(revoked.token), 'true_positive');
      assert.equal((await verify(server.base, revoked.key, revoked.token)).data.reason, 'inactive');

      await page.getByRole('tab', { name: 'Generated', exact: true }).click();
      await page.reload();
      await waitForList(tb);
      const badge = (key) => row(tb, key).getByRole('button', { name: 'Leaked', exact: true });
      await badge(alerted.key).waitFor();
      await badge(revoked.key).waitFor();
      assert.equal(await badge(clean.key).count(), 0);
      const red = await badge(alerted.key).evaluate((el) => getComputedStyle(el).backgroundColor);
      assert.match(red, /^rgb\((1[5-9]\d|2\d\d), \d{1,2}, \d{1,2}\)$/, `the badge is red: ${red}`);
      await t.shot('leaked-badge');

      await badge(revoked.key).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText('The key was deactivated.').waitFor();
      await dialog.getByText('secret-scanning:github').waitFor();
      const where = dialog.getByRole('link', { name: 'Where it was found' });
      assert.equal(await where.getAttribute('href'), 'https://github.com/octo/shop/blob/main/.env');
      const audit = dialog.getByRole('link', { name: 'The audit entries of leaked tokens' });
      assert.match(await audit.getAttribute('href'), /\/api\/v1\/accounts\/acme\/audit\?action=token\.leaked$/);
      assert.doesNotMatch(await dialog.textContent(), /kstt_/);
      await t.shot('leaked-entry');
      await button(page, 'Close').click();
      await dialogGone(tb);
      await badge(alerted.key).click();
      await page.getByRole('dialog').getByText(/Only alerted: the token still works/).waitFor();
    } finally {
      await server.stop();
    }
  });
}

// The page and API helpers, for the people cases (people.mjs).
export {
  button, createKey, dialogGone, eventually, gotoKeySignin, openRowMenu, row, sessionCookie, signIn, waitForList,
};
