// settings.js - the Settings tab: token duration (3 or 6 months) and whether
// it is enforced. A tab of the registry in app.js (see list_tab.js for the
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
  };
}

function fill(settings) {
  for (const r of el.radios) r.checked = Number(r.value) === settings.token_duration_months;
  el.enforce.checked = !!settings.enforce_duration;
  updateDirty();
}

function updateDirty() {
  if (!state.settings) return;
  const c = current();
  const dirty = c.token_duration_months !== state.settings.token_duration_months
    || c.enforce_duration !== state.settings.enforce_duration;
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
  for (const input of [...el.radios, el.enforce, el.apply]) input.disabled = !editable;
  el.note.hidden = editable;
  el.note.textContent = editable ? '' : `You can see these settings but not change them. ${missingHint(RES.editSettings)}`;
}

/** Loads the settings into the form (what the person had chosen and not applied is replaced). */
async function refresh() {
  const seq = ++loadSeq;
  applyPermissions();
  try {
    const settings = await api.getSettings();
    if (seq !== loadSeq) return;
    state.settings = settings;
    fill(settings);
    showError('');
  } catch (err) {
    if (seq !== loadSeq) return;
    showError(`The settings could not be loaded: ${err.message}`);
  }
}

async function apply() {
  if (el.apply.disabled) return;
  const wanted = current();
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
