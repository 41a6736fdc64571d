// api.js - calls to the Keystile HTTP API from the web admin.
//
// Every call is a same-origin fetch that carries the HttpOnly session cookie
// and, once signed in, the X-CSRF-Token header. The CSRF value lives only in
// this module's memory: nothing is written to localStorage, sessionStorage,
// cookies or the URL. Tokens returned by create/renew are handed to the
// caller and never logged.

let csrf = null;
let account = null;
let onSessionLost = null;
let onForbidden = null;

export class ApiError extends Error {
  /** details: the API's error object as sent ({code, message, ...}), or null. */
  constructor(status, code, message, details = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/**
 * Keeps the CSRF value of a session answer (null: signed out). The account
 * the management calls go to is the answer's when it names one and none was
 * chosen yet; app.js chooses it for a person (useAccount).
 */
export function setSession(info) {
  csrf = info ? info.csrf : null;
  if (!info) account = null;
  else if (!account && typeof info.account === 'string') account = info.account;
}

export function currentAccount() {
  return account;
}

/** Called when a management call answers 401: the session ended (expired, signed out elsewhere). */
export function setSessionLostHandler(fn) {
  onSessionLost = fn;
}

/**
 * Called when a change (any method but GET) answers 403: what the page offers was
 * based on a stale picture of the signed-in key's authority. The caller still
 * gets the error, with the API's message, to show where the action was started.
 */
export function setForbiddenHandler(fn) {
  onForbidden = fn;
}

const enc = encodeURIComponent;

/** Path under /api/v1/accounts/{account}/, each segment URL-encoded. */
export function accountPath(...segments) {
  return ['/api/v1/accounts', enc(account), ...segments.map(enc)].join('/');
}

// Messages for codes whose server text is written for API clients rather than
// for a person looking at this page.
const FRIENDLY = {
  old_token_exists: 'This key already has an old token. Delete the old token or undo the renewal before renewing again.',
  no_old_token: 'This key has no old token any more. The list has been refreshed.',
  rate_limited: 'Too many requests. Wait a moment and try again.',
  storage_unavailable: 'The key store cannot save changes right now. Try again in a moment.',
  internal: 'The server ran into an error. Try again; if it keeps happening, check the server log.',
  payload_too_large: 'The request is too large.',
};

function messageFor(status, error) {
  const code = error && error.code;
  if (code && FRIENDLY[code]) return FRIENDLY[code];
  if (error && typeof error.message === 'string' && error.message) return error.message;
  if (status === 401) return 'You are not signed in.';
  if (status === 403) return 'You are not allowed to do this.';
  if (status === 404) return 'Not found. It may have been deleted; the list has been refreshed.';
  return `The server answered with an unexpected error (HTTP ${status}).`;
}

/**
 * request(method, path, {body, headers, blob, session, checked}) → parsed JSON (or null
 * for 204, or a Blob with blob: true). Throws ApiError with a readable message.
 * session: a 401 is the caller's to handle (sign-in calls). checked: the call checks a
 * secret of its own (the current password, a TOTP code) and answers 401 when it is
 * wrong, so a 401 ends the page's session only when GET /api/v1/session agrees.
 */
export async function request(method, path, options = {}) {
  const headers = { Accept: 'application/json', ...(options.headers || {}) };
  if (csrf) headers['X-CSRF-Token'] = csrf;
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error' };
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the Keystile server. Check the connection and try again.');
  }
  if (res.ok && options.blob) return res.blob();
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const error = data && typeof data === 'object' ? data.error : null;
    const err = new ApiError(res.status, (error && error.code) || `http_${res.status}`, messageFor(res.status, error),
      error && typeof error === 'object' ? error : null);
    if (res.status === 401 && !options.session && onSessionLost && !(options.checked && await sessionAlive())) {
      err.sessionLost = true; // the page is back at sign-in; callers need not report it again
      onSessionLost(err);
    }
    if (res.status === 403 && method !== 'GET' && !options.session && onForbidden) onForbidden(err);
    throw err;
  }
  return data;
}

/** Whether the session cookie still signs in (after a 401 that may be about something else). */
async function sessionAlive() {
  try {
    const res = await fetch('/api/v1/session', { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
    return res.ok;
  } catch {
    return false;
  }
}

// ---- session ----------------------------------------------------------------
//
// Two kinds of principal sign in: a person (email, password and, when it
// enrolled an authenticator app, a code) and a key (key and token, for
// automation and first use). Both get the same HttpOnly cookie and a CSRF
// value; GET /api/v1/session and GET /api/v1/me tell which one it is.

/** A key signs in: its credentials go in headers, never in the URL or a body that could be logged. */
export async function signIn(key, token) {
  const info = await request('POST', '/api/v1/session', {
    session: true,
    headers: { 'X-API-Key': key, 'X-API-Token': token },
  });
  setSession(info);
  return info;
}

/**
 * A person signs in: {email, password, totp?} as JSON. A 401 whose error
 * says "totp_required": true means the email and password were right and
 * the person's authenticator code is needed: see totpWanted().
 */
export async function signInWithPassword(email, password, totp) {
  const body = { email, password };
  if (totp) body.totp = totp;
  const info = await request('POST', '/api/v1/session', { session: true, body });
  setSession(info);
  return info;
}

/**
 * Whether a refused sign-in asks for the authenticator code: 401
 * unauthenticated with "totp_required": true in the error (docs/API.md,
 * People). Any other 401 (a wrong password, or a wrong or used code) does not.
 */
export function totpWanted(err) {
  return !!err && err.status === 401 && !!err.details && err.details.totp_required === true;
}

export async function loadSession() {
  const info = await request('GET', '/api/v1/session', { session: true });
  setSession(info);
  return info;
}

/**
 * GET /api/v1/me: {"type":"user","email","accounts":[{account,roles}],"totp"} or
 * {"type":"key","key","account","roles"}; null when the server has no such
 * route (404: a server from before people could sign in).
 */
export async function loadMe() {
  try {
    return await request('GET', '/api/v1/me', { session: true });
  } catch (err) {
    if (err.status === 404 || err.status === 405) return null;
    throw err;
  }
}

/**
 * Whether single sign-on is configured: GET /auth/oidc/config answers
 * {"enabled":bool,"login_url"} (the OIDC routes); without the route (404), or
 * on any error, there is none. Returns {enabled, loginUrl}; loginUrl is a
 * path of this origin.
 */
export async function ssoConfig() {
  try {
    const config = await request('GET', '/auth/oidc/config', { session: true });
    const url = config && typeof config.login_url === 'string' && /^\/(?!\/)/.test(config.login_url)
      ? config.login_url : '/auth/oidc/login';
    return { enabled: !!config && config.enabled === true, loginUrl: url };
  } catch {
    return { enabled: false, loginUrl: null };
  }
}

export async function signOut() {
  try {
    await request('DELETE', '/api/v1/session', { session: true });
  } finally {
    setSession(null);
  }
}

/** Points the management calls at `name` (a person may belong to several accounts). */
export function useAccount(name) {
  account = name;
}

// ---- the signed-in person -----------------------------------------------------

/** {current, new}: 204; the person's other sessions end. */
export const changePassword = (current, next) => request('POST', '/api/v1/me/password', { body: { current, new: next }, checked: true });
/** Starts enrolment: {secret, otpauth_uri}; nothing changes until confirmTotp. */
export const startTotp = () => request('POST', '/api/v1/me/totp');
export const confirmTotp = (code) => request('POST', '/api/v1/me/totp/confirm', { body: { code }, checked: true });
export const disableTotp = (code) => request('DELETE', '/api/v1/me/totp', { body: { code }, checked: true });

/** The invitation page: sets the password of an invited person; 200 {email}, 410 gone. */
export const acceptInvite = (id, password) => request('POST', `/api/v1/invites/${enc(id)}/accept`, {
  session: true, body: { password },
});

// ---- lists ----------------------------------------------------------------

const PAGE_LIMIT = '500';
const MAX_PAGES = 1000;

/**
 * Every item of the account list at `segment` ("keys", "roles"...), the one
 * reader of a list answer ({items, next_cursor}). paged: the list pages, so
 * ask for PAGE_LIMIT items at a time and follow next_cursor (at most
 * MAX_PAGES pages); q: the server-side search, for lists that have one.
 * Throws ApiError like request().
 */
export async function listAll(segment, { paged = false, q = '' } = {}) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const params = new URLSearchParams(paged ? { limit: PAGE_LIMIT } : {});
    if (q) params.set('q', q);
    if (cursor) params.set('cursor', cursor);
    const query = params.toString();
    const data = await request('GET', accountPath(segment) + (query ? `?${query}` : ''));
    items.push(...data.items);
    cursor = paged ? data.next_cursor : null;
    if (!cursor) break;
  }
  return items;
}

// ---- keys -----------------------------------------------------------------

/** Every generated key matching q. */
export const listKeys = (q) => listAll('keys', { paged: true, q });

export const createKey = (name, roles, extra = {}) => request('POST', accountPath('keys'), { body: { name, roles, ...extra } });
export const updateKey = (key, fields) => request('PATCH', accountPath('keys', key), { body: fields });
export const keyUsage = (key, granularity) => request('GET', `${accountPath('keys', key, 'usage')}?granularity=${granularity}`);
export const accountUsage = (granularity) => request('GET', `${accountPath('usage')}?granularity=${granularity}`);
export const deleteKey = (key) => request('DELETE', accountPath('keys', key));
/**
 * No body: the old token is kept (delete_old "later"); both tokens verify until it is deleted.
 * body: {delete_old: "now"|"later", old_token_expires_at}: the old token ends at once, or at that time.
 */
export const renewKey = (key, body) => request('POST', accountPath('keys', key, 'renew'), body ? { body } : {});
export const deleteOldToken = (key) => request('DELETE', accountPath('keys', key, 'old-token'));
export const undoRenewal = (key) => request('POST', accountPath('keys', key, 'undo-renewal'));

export const listRoles = () => listAll('roles');

export const createRole = (name, resources) => request('POST', accountPath('roles'), { body: { name, resources } });
/** fields: name (a rename) and/or resources. */
export const updateRole = (name, fields) => request('PATCH', accountPath('roles', name), { body: fields });
export const deleteRole = (name) => request('DELETE', accountPath('roles', name));

export const getSettings = () => request('GET', accountPath('settings'));
export const putSettings = (settings) => request('PUT', accountPath('settings'), { body: settings });

/**
 * The audit entries of leaked tokens (GitHub secret scanning), newest first:
 * one page of 500, enough to mark the keys that had a leak.
 */
export const listLeaks = () => request('GET', `${accountPath('audit')}?action=token.leaked&limit=500`);
/** The API URL of the account's audit entries of one action (a link a person can open). */
export const auditUrl = (action) => `${accountPath('audit')}?action=${encodeURIComponent(action)}`;

export const listExternal = () => listAll('external-keys');

export const addExternal = (key, roles) => request('POST', accountPath('external-keys'), { body: { key, roles } });
export const updateExternal = (key, fields) => request('PATCH', accountPath('external-keys', key), { body: fields });
export const removeExternal = (key) => request('DELETE', accountPath('external-keys', key));

// ---- people of the account --------------------------------------------------------

export const listUsers = () => listAll('users');
/** 201 person, with invite_url (one-time, 72 h) when the person has no password yet. */
export const inviteUser = (email, roles) => request('POST', accountPath('users'), { body: { email, roles } });
/** fields: roles and/or status. */
export const updateUser = (email, fields) => request('PATCH', accountPath('users', email), { body: fields });
export const removeUser = (email) => request('DELETE', accountPath('users', email));
export const listWebhooks = () => listAll('webhooks');
export const createWebhook = (url, events) => request('POST', accountPath('webhooks'), { body: { url, events } });
/** fields: url, events and/or enabled. */
export const updateWebhook = (id, fields) => request('PATCH', accountPath('webhooks', id), { body: fields });
export const deleteWebhook = (id) => request('DELETE', accountPath('webhooks', id));
/** The newest deliveries of a webhook (one page: at most 100). */
export const listDeliveries = (id) => request('GET', `${accountPath('webhooks', id, 'deliveries')}?limit=100`);
export const testWebhook = (id) => request('POST', accountPath('webhooks', id, 'test'));

/** The export as a Blob (format "csv" or "xlsx"). */
export function exportKeys(format) {
  const path = accountPath('keys', 'export') + (format === 'xlsx' ? '?format=xlsx' : '');
  return request('GET', path, {
    blob: true,
    headers: { Accept: '*/*' },
  });
}
