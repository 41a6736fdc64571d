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
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export function setSession(info) {
  csrf = info ? info.csrf : null;
  account = info ? info.account : null;
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
  if (status === 403) return 'Your key is not allowed to do this.';
  if (status === 404) return 'Not found. It may have been deleted; the list has been refreshed.';
  return `The server answered with an unexpected error (HTTP ${status}).`;
}

/**
 * request(method, path, {body, headers, blob, session}) → parsed JSON (or null for 204,
 * or a Blob with blob: true). Throws ApiError with a readable message.
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
    const err = new ApiError(res.status, (error && error.code) || `http_${res.status}`, messageFor(res.status, error));
    if (res.status === 401 && !options.session && onSessionLost) {
      err.sessionLost = true; // the page is back at sign-in; callers need not report it again
      onSessionLost(err);
    }
    if (res.status === 403 && method !== 'GET' && !options.session && onForbidden) onForbidden(err);
    throw err;
  }
  return data;
}

// ---- session -------------------------------------------------------------

export async function signIn(key, token) {
  // Credentials go in headers, never in the URL or a body that could be logged.
  const info = await request('POST', '/api/v1/session', {
    session: true,
    headers: { 'X-API-Key': key, 'X-API-Token': token },
  });
  setSession(info);
  return info;
}

export async function loadSession() {
  const info = await request('GET', '/api/v1/session', { session: true });
  setSession(info);
  return info;
}

export async function signOut() {
  try {
    await request('DELETE', '/api/v1/session', { session: true });
  } finally {
    setSession(null);
  }
}

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

export const createKey = (name, roles) => request('POST', accountPath('keys'), { body: { name, roles } });
export const updateKey = (key, fields) => request('PATCH', accountPath('keys', key), { body: fields });
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

export const listExternal = () => listAll('external-keys');

export const addExternal = (key, roles) => request('POST', accountPath('external-keys'), { body: { key, roles } });
export const updateExternal = (key, fields) => request('PATCH', accountPath('external-keys', key), { body: fields });
export const removeExternal = (key) => request('DELETE', accountPath('external-keys', key));

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
