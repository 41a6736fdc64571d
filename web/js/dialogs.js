// dialogs.js - modal dialogs built on <dialog>.showModal(): the browser traps
// focus, makes the page behind inert and closes on Escape. Every dialog is
// created when opened and removed from the document when closed; before that,
// every element marked data-secret (a token) has its text and value wiped, so
// a token never outlives its dialog in the DOM.

import { h, icon, ICONS, newId } from './dom.js';

/** Ends every open dialog (used at sign-out). */
export function closeAllDialogs() {
  for (const d of document.querySelectorAll('dialog.dialog')) {
    d.dataset.busy = '';
    d.close();
  }
}

/** Empties every element marked data-secret under root (a token, an invitation link, a TOTP secret). */
export function wipeSecrets(root) {
  for (const el of root.querySelectorAll('[data-secret]')) {
    if ('value' in el && el.tagName !== 'BUTTON') el.value = '';
    el.textContent = '';
  }
}

/**
 * openDialog({title, intro, content, actions, onClose, returnFocus, wide})
 * actions: [{label, kind: 'primary'|'secondary'|'danger', submit, onClick(ctl), disabled, id}]
 *   The action with submit: true runs on Enter in a field too. onClick of a
 *   non-submit action defaults to closing the dialog.
 * Returns a controller: {dialog, body, setError, clearError, run, close, setActions, setBody}.
 */
export function openDialog(options) {
  const titleId = newId('dialog-title');
  const errorId = newId('dialog-error');
  const dialog = h('dialog', {
    class: ['dialog', options.wide && 'dialog-wide'],
    'aria-labelledby': titleId,
  });
  const heading = h('h2', { id: titleId, class: 'dialog-title', text: options.title });
  const body = h('div', { class: 'dialog-body' });
  const error = h('p', { id: errorId, class: 'dialog-error', role: 'alert', hidden: true });
  const footer = h('div', { class: 'dialog-actions' });
  const form = h('form', { class: 'dialog-form', method: 'post', novalidate: true }, heading, body, error, footer);
  dialog.append(form);

  let submitAction = null;
  let busyCount = 0;
  const returnFocus = options.returnFocus || document.activeElement;

  const ctl = {
    dialog,
    body,
    form,
    setError(message) {
      error.textContent = message;
      error.hidden = false;
    },
    clearError() {
      error.textContent = '';
      error.hidden = true;
    },
    get busy() {
      return busyCount > 0;
    },
    /** Runs fn with the actions disabled; an error is shown in the dialog and returned as undefined. */
    async run(fn) {
      if (busyCount > 0) return undefined;
      busyCount += 1;
      dialog.setAttribute('aria-busy', 'true');
      const disabled = [...footer.querySelectorAll('button')].filter((b) => !b.disabled);
      disabled.forEach((b) => { b.disabled = true; });
      ctl.clearError();
      try {
        return await fn();
      } catch (err) {
        ctl.setError(err && err.message ? err.message : String(err));
        return undefined;
      } finally {
        busyCount -= 1;
        dialog.removeAttribute('aria-busy');
        disabled.forEach((b) => { if (b.isConnected) b.disabled = false; });
        ctl.refreshDisabled?.();
      }
    },
    close() {
      busyCount = 0;
      wipeSecrets(dialog); // before it disappears, not a task later
      if (dialog.open) dialog.close();
    },
    setBody(...nodes) {
      body.replaceChildren(...nodes.flat().filter(Boolean));
    },
    setTitle(text) {
      heading.textContent = text;
    },
    setActions(actions) {
      footer.replaceChildren();
      submitAction = null;
      const buttons = {};
      for (const action of actions) {
        const btn = h('button', {
          type: action.submit ? 'submit' : 'button',
          class: ['btn', `btn-${action.kind || 'secondary'}`],
          text: action.label,
          disabled: !!action.disabled,
          id: action.id || null,
        });
        if (action.submit) submitAction = action;
        else btn.addEventListener('click', () => (action.onClick ? action.onClick(ctl) : ctl.close()));
        footer.append(btn);
        buttons[action.label] = btn;
      }
      ctl.buttons = buttons;
      // Focus the first field, else the primary action, once the dialog shows.
      return buttons;
    },
    buttons: {},
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (busyCount > 0 || !submitAction) return;
    const btn = ctl.buttons[submitAction.label];
    if (btn && btn.disabled) return;
    submitAction.onClick(ctl);
  });

  // Escape closes, except while a request is running (its answer may carry a
  // token that must be shown).
  dialog.addEventListener('cancel', (ev) => {
    if (busyCount > 0) ev.preventDefault();
    else wipeSecrets(dialog);
  });
  dialog.addEventListener('close', () => {
    try {
      if (options.onClose) options.onClose(ctl);
    } finally {
      wipeSecrets(dialog);
      // The browser may already have put focus back (on the element focused
      // before showModal); only act when focus was lost, never take it from
      // wherever the user has moved on to.
      const active = document.activeElement;
      const lost = !active || active === document.body || dialog.contains(active);
      dialog.remove();
      if (lost) {
        if (returnFocus && returnFocus.isConnected && typeof returnFocus.focus === 'function') returnFocus.focus();
        else document.getElementById('main')?.focus();
      }
    }
  });

  if (options.intro) body.append(h('p', { class: 'dialog-intro', text: options.intro }));
  if (options.content) body.append(...[options.content].flat());
  ctl.setActions(options.actions || [{ label: 'Close' }]);
  document.body.append(dialog);
  dialog.showModal();
  const first = body.querySelector('input:not([type=hidden]):not([disabled]), select, textarea');
  if (first) first.focus();
  return ctl;
}

/**
 * A confirmation: a message (and an optional warning) and one action that
 * runs `action()`; on success the dialog closes and `done(result)` runs.
 * confirmCheck: a checkbox label that must be ticked before the action is enabled.
 */
export function confirmDialog({ title, message, warning, confirmLabel, danger, action, done, returnFocus, confirmCheck }) {
  const content = [];
  if (message) content.push(h('p', { class: 'dialog-intro', text: message }));
  if (warning) {
    content.push(h('div', { class: 'callout callout-warning' },
      icon(ICONS.warn, 'icon callout-icon'), h('p', { text: warning })));
  }
  let check = null;
  if (confirmCheck) {
    check = h('input', { type: 'checkbox', id: newId('confirm') });
    content.push(h('label', { class: 'choice confirm-check', for: check.id }, check, h('span', { text: confirmCheck })));
  }
  const ctl = openDialog({
    title,
    content,
    returnFocus,
    actions: [
      { label: 'Cancel' },
      {
        label: confirmLabel,
        kind: danger ? 'danger' : 'primary',
        submit: true,
        disabled: !!check,
        onClick: async (c) => {
          if (check && !check.checked) return;
          let ok = false;
          const result = await c.run(async () => {
            const r = await action();
            ok = true;
            return r;
          });
          if (ok) {
            c.close();
            if (done) done(result);
          }
        },
      },
    ],
  });
  if (check) {
    const btn = ctl.buttons[confirmLabel];
    ctl.refreshDisabled = () => { btn.disabled = !check.checked; };
    check.addEventListener('change', ctl.refreshDisabled);
    check.focus();
  } else {
    // Nothing to type: start on Cancel for destructive actions, else on the action.
    (danger ? ctl.buttons.Cancel : ctl.buttons[confirmLabel]).focus();
  }
  return ctl;
}

/** Copies text to the clipboard; falls back to a selection copy where the API is missing. */
async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = h('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true' });
  area.value = text;
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.value = '';
  area.remove();
  if (!ok) throw new Error('copy failed');
}

/**
 * The one-time display of a token: its text (marked data-secret, wiped when
 * the dialog closes) and a Copy button.
 */
export function tokenBox(token, label = 'API token') {
  return secretBox(token, { label, copyLabel: 'Copy' });
}

/**
 * The one-time share link of a token (GET /share/{id} reveals it once, for 24 h),
 * for handing the token over without pasting it into a chat. Wiped like the token.
 */
export function shareLinkBox(url) {
  if (!url) return null;
  return secretBox(url, {
    label: 'One-time link',
    copyLabel: 'Copy link',
    hint: 'Send this link instead of the token: it reveals the token once, within 24 hours, then stops working.',
    className: 'token-box token-box-link',
  });
}

/**
 * A one-time secret shown with a Copy button (marked data-secret: wiped when
 * its dialog closes, or by wipeSecrets(root) where it lives elsewhere).
 */
export function secretBox(value, { label, copyLabel = 'Copy', hint = null, className = 'token-box' }) {
  const labelId = newId('secret-label');
  const code = h('code', { class: 'token-value', 'data-secret': '', 'aria-labelledby': labelId, text: value });
  const status = h('span', { class: 'copy-status', role: 'status' });
  const copy = h('button', { type: 'button', class: 'btn btn-secondary btn-copy' }, icon(ICONS.copy), copyLabel);
  let timer = null;
  copy.addEventListener('click', async () => {
    try {
      await copyText(code.textContent);
      status.textContent = 'Copied to the clipboard';
      status.classList.remove('copy-status-error');
    } catch {
      status.textContent = 'Could not copy: select the text and copy it by hand.';
      status.classList.add('copy-status-error');
    }
    clearTimeout(timer);
    timer = setTimeout(() => { status.textContent = ''; }, 4000);
  });
  // Clicking the token selects all of it, for copying by hand.
  code.addEventListener('click', () => {
    const range = document.createRange();
    range.selectNodeContents(code);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  });
  return h('div', { class: className },
    h('div', { class: 'token-head' }, h('div', { class: 'token-label', id: labelId, text: label }), status),
    h('div', { class: 'token-row' }, code, copy),
    hint ? h('p', { class: 'field-hint', text: hint }) : null);
}

/**
 * A set of role checkboxes (one per role of the account).
 * options.legend: the fieldset's legend.
 * options.lockedHint: the line atop the boxes when some are locked.
 * options.lock(role): null when the role may be chosen, else {reason, note}: the
 *   box is shown disabled (kept as it was, so an edit never drops a role by
 *   itself), `reason` is its tooltip and description, `note` a short visible
 *   text. Locked roles stay listed so people see what exists and why they
 *   cannot hand it on, rather than wondering where it went.
 */
export function roleChecklist(roles, selected = [], {
  legend = 'Roles', lock = () => null,
  lockedHint = 'Roles that give management permissions your key does not hold cannot be granted from it.',
} = {}) {
  const chosen = new Set(selected);
  let anyLocked = false;
  const boxes = roles.map((role) => {
    const id = newId('role');
    const locked = lock(role);
    const noteId = locked ? newId('role-lock') : null;
    if (locked) anyLocked = true;
    const input = h('input', {
      type: 'checkbox', id, value: role.name, checked: chosen.has(role.name),
      disabled: !!locked, 'aria-describedby': noteId,
    });
    const resources = role.resources && role.resources.length ? role.resources.join(', ') : 'No resources';
    return h('label', { class: ['choice', 'role-choice', locked && 'role-choice-locked'], for: id,
      title: locked ? `${locked.reason}\n${resources}` : resources },
    input, h('span', { class: 'role-choice-name', text: role.name }),
    role.builtin ? h('span', { class: 'tag tag-muted', 'aria-hidden': 'true', text: 'built-in' }) : null,
    // Out of the name (aria-hidden), into the description (aria-describedby).
    locked ? h('span', { class: 'role-lock-note', id: noteId, 'aria-hidden': 'true', text: locked.note }) : null);
  });
  // Roles that the key holds but the account no longer lists are kept visible.
  for (const name of selected) {
    if (!roles.some((r) => r.name === name)) {
      const id = newId('role');
      boxes.push(h('label', { class: 'choice role-choice', for: id },
        h('input', { type: 'checkbox', id, value: name, checked: true }), h('span', { text: name })));
    }
  }
  const fieldset = h('fieldset', { class: 'fieldset' }, h('legend', { text: legend }),
    anyLocked ? h('p', { class: 'field-hint', text: lockedHint }) : null,
    boxes.length ? h('div', { class: 'role-grid' }, boxes)
      : h('p', { class: 'muted', text: 'This account has no roles yet.' }));
  fieldset.selectedRoles = () => [...fieldset.querySelectorAll('input[type=checkbox]:checked')].map((i) => i.value);
  return fieldset;
}

/** A labelled text field: returns {field, input}. */
export function textField({ label, value = '', required = false, placeholder = '', hint = '', maxlength, autocomplete = 'off', mono = false }) {
  const id = newId('field');
  const hintId = hint ? newId('hint') : null;
  const input = h('input', {
    type: 'text', id, value, required, placeholder: placeholder || null, autocomplete, spellcheck: 'false',
    maxlength: maxlength || null, 'aria-describedby': hintId, class: mono ? 'mono' : null,
  });
  const field = h('div', { class: 'field' },
    h('label', { for: id }, label, required ? h('span', { class: 'required', 'aria-hidden': 'true', text: ' *' }) : null),
    input,
    hint ? h('p', { class: 'field-hint', id: hintId, text: hint }) : null);
  return { field, input };
}

/**
 * The one name check of every dialog that takes a name: the trimmed value of
 * the text field `field` ({field, input} from textField), or null when it is
 * empty, after marking the input invalid, showing `message` as the dialog's
 * error and putting focus on the input so the person can type it.
 */
export function requiredText(ctl, field, message) {
  const value = field.input.value.trim();
  if (!value) {
    field.input.setAttribute('aria-invalid', 'true');
    ctl.setError(message);
    field.input.focus();
    return null;
  }
  field.input.removeAttribute('aria-invalid');
  return value;
}
