// list_tab.js - the one list loader of the web admin, and the shape of a tab.
//
// A tab is an entry of the registry in app.js:
//   {name, init(), reset(), applyPermissions(), refresh(), search()}
//   name               its tab is #tab-NAME, its panel #panel-NAME
//   init()             once, at start: find the elements, wire the buttons
//   reset()            at sign-out: forget everything shown; answers still on
//                      the way are dropped
//   applyPermissions() after sign-in and whenever what the signed-in key may
//                      do changed (a refusal, a change to its own key or role):
//                      offer only what it may do now
//   refresh()          load again from the server and show it
//   search()           the search box changed (state.query)
//
// listTab(spec) makes such a tab for a table of items. It owns what every
// list does alike: the request (through spec.load, paging included: see
// api.listAll), answers that arrive late dropped, aria-busy while loading, the
// error shown as an empty state with "Try again", the empty state, the count
// line, the search (on the server, or over the loaded items), keyboard focus
// kept on the same row across a re-render, and the panel's add button enabled
// only when the key holds its resource. The tab module gives only what is its
// own: how a row looks, its menu, its dialogs. Nothing here uses innerHTML:
// rows and empty states are built with dom.js's h().

import { closeMenuWithin } from './menu.js';
import { plural } from './format.js';
import { can, emptyState, getRoles, missingHint, state } from './state.js';

/**
 * spec:
 *   name          'generated': the elements are #NAME-body, #NAME-table,
 *                 #NAME-empty and #NAME-count
 *   add           {id, resource, onClick(button)}: the panel's add button
 *   load(query)   a Promise of every item (query: the search, for serverSearch)
 *   serverSearch  true: the server searches, so the list reloads as one types;
 *                 false: the loaded items are filtered with matches()
 *   matches(item, needle)  whether an item matches the lower-cased search
 *   withRoles     true: the role list is reloaded alongside (state.roles), as
 *                 what a row offers depends on what its roles give
 *   rowId(item)   the string naming a row (its data-row)
 *   renderRow(item)  the row, a <tr>
 *   noun          ['key', 'keys']: for the count line
 *   errorTitle    'The keys could not be loaded'
 *   empty(query, total)  {title, text, action} when no row is shown; total:
 *                 how many were loaded before the search filtered them
 *   unavailable() optional: {title, text} when the signed-in principal may
 *                 not read this list at all (then nothing is asked for and
 *                 that is shown instead), else null
 *
 * Returns the tab, with also:
 *   render()      shows the loaded items again (after a change of state only)
 *   reloadIfStale(fn, statuses)  runs fn(); when it throws an error whose HTTP
 *                 status is in `statuses` (default 404 and 409: the list was
 *                 stale), reloads the list, then throws it on
 *   el            the elements, once init() ran
 */
export function listTab(spec) {
  const el = {};
  let items = [];
  let loaded = false;
  let unavailableShown = false; // the unavailable() state is on screen
  let loadSeq = 0;

  function init() {
    for (const part of ['body', 'table', 'empty', 'count']) el[part] = document.getElementById(`${spec.name}-${part}`);
    el.add = document.getElementById(spec.add.id);
    el.add.addEventListener('click', () => spec.add.onClick(el.add));
  }

  function reset() {
    items = [];
    loaded = false;
    unavailableShown = false;
    loadSeq += 1;
    el.body.replaceChildren();
    el.count.textContent = '';
    el.empty.hidden = true;
  }

  /** The add button follows the key's resources; a list on screen reloads, as its rows' actions do too. */
  function applyPermissions() {
    const allowed = can(spec.add.resource);
    el.add.disabled = !allowed;
    el.add.title = allowed ? '' : missingHint(spec.add.resource);
    if (loaded || unavailableShown) refresh();
  }

  /** Reloads the list (for the current search); answers that arrive late are dropped. */
  async function refresh() {
    const seq = ++loadSeq;
    const query = state.query;
    const why = spec.unavailable ? spec.unavailable() : null;
    unavailableShown = !!why;
    if (why) {
      items = [];
      loaded = false;
      el.body.replaceChildren();
      el.table.hidden = true;
      el.count.textContent = '';
      el.table.removeAttribute('aria-busy');
      emptyState(el.empty, why);
      return;
    }
    el.table.setAttribute('aria-busy', 'true');
    try {
      const [list] = await Promise.all([
        spec.load(query),
        spec.withRoles ? getRoles(true).catch(() => null) : null,
      ]);
      if (seq !== loadSeq) return;
      items = list;
      loaded = true;
      render();
    } catch (err) {
      if (seq !== loadSeq) return;
      items = [];
      el.body.replaceChildren();
      el.table.hidden = true;
      el.count.textContent = '';
      emptyState(el.empty, { title: spec.errorTitle, text: err.message, action: { label: 'Try again', onClick: refresh } });
    } finally {
      if (seq === loadSeq) el.table.removeAttribute('aria-busy');
    }
  }

  function search() {
    if (spec.serverSearch) refresh();
    else if (loaded) render();
  }

  function shownItems(query) {
    if (spec.serverSearch || !query) return items;
    const needle = query.toLowerCase();
    return items.filter((item) => spec.matches(item, needle));
  }

  function render() {
    if (!loaded) return;
    const query = state.query;
    const shown = shownItems(query);
    // Keep keyboard focus on the same row across the re-render.
    const active = document.activeElement;
    const focusedRow = active && el.body.contains(active) ? active.closest('tr') : null;
    const focusedId = focusedRow ? focusedRow.dataset.row : null;
    closeMenuWithin(el.body);
    el.body.replaceChildren(...shown.map((item) => {
      const tr = spec.renderRow(item);
      tr.dataset.row = spec.rowId(item);
      return tr;
    }));
    if (focusedId !== null) focusRow(focusedId);
    el.table.hidden = shown.length === 0;
    if (shown.length === 0) emptyState(el.empty, spec.empty(query, items.length));
    else el.empty.hidden = true;
    const [one, many] = spec.noun;
    const n = shown.length;
    el.count.textContent = query ? `${plural(n, one, many)} matching “${query}”` : plural(n, one, many);
  }

  /** Focus on a row's menu button, else on the add button, else on the search box. */
  function focusRow(id) {
    const row = [...el.body.rows].find((r) => r.dataset.row === id);
    const button = row && row.querySelector('.kebab');
    const fallback = el.add.disabled ? document.getElementById('search') : el.add;
    if (button) button.focus();
    else if (fallback && fallback.isConnected) fallback.focus();
  }

  async function reloadIfStale(fn, statuses = [404, 409]) {
    try {
      return await fn();
    } catch (err) {
      if (statuses.includes(err.status)) refresh();
      throw err;
    }
  }

  return { name: spec.name, init, reset, applyPermissions, refresh, search, render, reloadIfStale, el };
}
