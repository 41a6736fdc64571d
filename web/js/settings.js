// settings.js - the Settings tab: token duration (3 or 6 months), whether
// it is enforced, the old tokens' auto-delete (hours without use), the
// renewal notice's lead time (days), after how many days unused keys are
// deactivated, and what a leaked token does (alert or revoke). A tab of the
// registry in app.js (see list_tab.js for the
// shape) that is a form, not a list.

import * as api from './api.js';
import { success } from './feedback.js';
import generatedTab from './generated.js';
import { can, missingHint, RES, state } from './state.js';

const el = {};
let loadSeq = 0;

function init() {
  el.form = document.getElementById('settings-form');
  el.radios = [...el.form.querySelectorAll('input[name=duration]')];
  el.enforce = document.getElementById('enforce-duration');
  el.autoDelete = document.getElementById('auto-delete-enabled');
  el.hours = document.getElementById('auto-delete-hours');
  el.notice = document.getElementById('renewal-notice-days');
  el.unused = document.getElementById('deactivate-unused-days');
  el.leaked = document.getElementById('leaked-token-action');
  el.autoDelete.addEventListener('change', () => {
    el.hours.disabled = !el.autoDelete.checked || !can(RES.editSettings);
    if (el.autoDelete.checked && !el.hours.value) el.hours.value = '24';
  });
  el.form.addEventListener('input', updateDirty);
  el.apply = document.getElementById('settings-apply');
  el.error = document.getElementById('settings-error');
  el.note = document.getElementById('settings-note');
  el.form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    apply();
  });
  el.form.addEventListener('change', updateDirty);
}

function showError(message) {
  el.error.textContent = message || '';
  el.error.hidden = !message;
}

function current() {
  const checked = el.radios.find((r) => r.checked);
  return {
    token_duration_months: checked ? Number(checked.value) : 3,
    enforce_duration: el.enforce.checked,
    auto_delete_old_token_hours: el.autoDelete.checked ? Number(el.hours.value) : null,
    renewal_notice_days: Number(el.notice.value),
    deactivate_unused_days: el.unused.value.trim() === '' ? null : Number(el.unused.value),
    leaked_token_action: el.leaked.value,
  };
}

/** What is wrong with the numbers typed, or null. */
function invalid(c) {
  const h = c.auto_delete_old_token_hours;
  if (h !== null && !(Number.isInteger(h) && h >= 1 && h <= 720)) {
    return { input: el.hours, message: 'Hours without use must be a whole number from 1 to 720.' };
  }
  const d = c.renewal_notice_days;
  if (el.notice.value === '' || !(Number.isInteger(d) && d >= 0 && d <= 60)) {
    return { input: el.notice, message: 'The renewal notice must be a whole number of days from 0 to 60.' };
  }
  const u = c.deactivate_unused_days;
  if (u !== null && !(Number.isInteger(u) && u >= 30 && u <= 730)) {
    return { input: el.unused, message: 'Deactivating unused keys takes a whole number of days from 30 to 730, or empty for never.' };
  }
  return null;
}

function fill(settings) {
  for (const r of el.radios) r.checked = Number(r.value) === settings.token_duration_months;
  el.enforce.checked = !!settings.enforce_duration;
  const hours = settings.auto_delete_old_token_hours;
  el.autoDelete.checked = hours !== null && hours !== undefined;
  el.hours.value = el.autoDelete.checked ? String(hours) : '';
  el.hours.disabled = !el.autoDelete.checked || !can(RES.editSettings);
  el.notice.value = String(settings.renewal_notice_days ?? 14);
  el.unused.value = settings.deactivate_unused_days ? String(settings.deactivate_unused_days) : '';
  el.leaked.value = settings.leaked_token_action === 'revoke' ? 'revoke' : 'alert';
  updateDirty();
}

function updateDirty() {
  if (!state.settings) return;
  const c = current();
  const dirty = c.token_duration_months !== state.settings.token_duration_months
    || c.enforce_duration !== state.settings.enforce_duration
    || c.auto_delete_old_token_hours !== state.settings.auto_delete_old_token_hours
    || c.renewal_notice_days !== state.settings.renewal_notice_days
    || c.deactivate_unused_days !== (state.settings.deactivate_unused_days ?? null)
    || c.leaked_token_action !== state.settings.leaked_token_action;
  el.form.classList.toggle('is-dirty', dirty);
}

function reset() {
  loadSeq += 1;
  state.settings = null;
  showError('');
}

/** Enables the form when the signed-in key may change the settings, else says why not. */
function applyPermissions() {
  const editable = can(RES.editSettings);
  for (const input of [...el.radios, el.enforce, el.autoDelete, el.notice, el.unused, el.leaked, el.apply]) input.disabled = !editable;
  el.hours.disabled = !editable || !el.autoDelete.checked;
  el.note.hidden = editable;
  el.note.textContent = editable ? '' : `You can see these settings but not change them. ${missingHint(RES.editSettings)}`;
}

/** Loads the settings into the form (what the person had chosen and not applied is replaced). */
async function refresh() {
  const seq = ++loadSeq;
  applyPermissions();
  el.form.setAttribute('aria-busy', 'true'); // until the last load asked for is shown
  try {
    const settings = await api.getSettings();
    if (seq !== loadSeq) return;
    state.settings = settings;
    fill(settings);
    showError('');
  } catch (err) {
    if (seq !== loadSeq) return;
    showError(`The settings could not be loaded: ${err.message}`);
  } finally {
    if (seq === loadSeq) el.form.removeAttribute('aria-busy');
  }
}

async function apply() {
  if (el.apply.disabled) return;
  const wanted = current();
  const bad = invalid(wanted);
  if (bad) {
    showError(bad.message);
    bad.input.setAttribute('aria-invalid', 'true');
    bad.input.focus();
    return;
  }
  el.hours.removeAttribute('aria-invalid');
  el.notice.removeAttribute('aria-invalid');
  el.unused.removeAttribute('aria-invalid');
  el.apply.disabled = true;
  el.form.setAttribute('aria-busy', 'true');
  showError('');
  try {
    const saved = await api.putSettings(wanted);
    state.settings = saved;
    fill(saved);
    const months = `${saved.token_duration_months} months`;
    success(`Settings applied: tokens last ${months}${saved.enforce_duration ? ', enforced' : ', not enforced'}.`);
    generatedTab.refresh(); // the renewal alerts follow the duration
  } catch (err) {
    showError(err.message);
  } finally {
    el.apply.disabled = !can(RES.editSettings);
    el.form.removeAttribute('aria-busy');
  }
}

export default { name: 'settings', init, reset, applyPermissions, refresh, search() {} };
