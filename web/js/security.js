// security.js - the Security page of a signed-in person: change the
// password, and enrol or remove an authenticator app (TOTP, RFC 6238).
//
// Enrolment: POST /api/v1/me/totp answers a new secret and its otpauth://
// URI; the page shows the URI as a QR code (js/qr.js) with the secret in text
// beside it, for apps that cannot scan; the person types the code the app
// shows and POST /api/v1/me/totp/confirm turns it on. Until then nothing
// changes. The secret is on screen only while enrolling: it is wiped (text,
// QR code, fields) when enrolment ends, succeeds, or the person signs out.

import * as api from './api.js';
import { h } from './dom.js';
import { secretBox, wipeSecrets } from './dialogs.js';
import { success } from './feedback.js';
import { passwordProblem } from './password.js';
import { qrCode } from './qr.js';
import { state } from './state.js';

const CODE_RE = /^[0-9]{6}$/;

const el = {};
let enrolSeq = 0; // an enrolment answer arriving after a reset or a newer start is dropped

function init() {
  for (const id of ['password-change-form', 'password-current', 'password-new', 'password-repeat',
    'password-change-error', 'password-change-submit', 'totp-status', 'totp-body', 'totp-error', 'security-email']) {
    el[id.replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = document.getElementById(id);
  }
  el.passwordChangeForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    changePassword();
  });
}

function showError(target, message) {
  target.textContent = message || '';
  target.hidden = !message;
}

/** Forgets everything shown (sign-out, or leaving the page). */
function reset() {
  enrolSeq += 1;
  for (const input of [el.passwordCurrent, el.passwordNew, el.passwordRepeat]) {
    input.value = '';
    input.removeAttribute('aria-invalid');
  }
  showError(el.passwordChangeError, '');
  showError(el.totpError, '');
  wipeSecrets(el.totpBody);
  el.totpBody.replaceChildren();
}

/** Shows the page for the signed-in person. */
function show() {
  reset();
  el.securityEmail.textContent = state.session.email;
  document.getElementById('password-change-username').value = state.session.email;
  renderTotp();
}

// ---- password --------------------------------------------------------------------

async function changePassword() {
  const current = el.passwordCurrent.value;
  const next = el.passwordNew.value;
  const repeat = el.passwordRepeat.value;
  for (const input of [el.passwordCurrent, el.passwordNew, el.passwordRepeat]) input.removeAttribute('aria-invalid');
  let problem = null;
  let field = null;
  if (!current) [problem, field] = ['Enter your current password.', el.passwordCurrent];
  else if ((problem = passwordProblem(next))) field = el.passwordNew;
  else if (next !== repeat) [problem, field] = ['The two new passwords differ.', el.passwordRepeat];
  if (problem) {
    field.setAttribute('aria-invalid', 'true');
    showError(el.passwordChangeError, problem);
    field.focus();
    return;
  }
  showError(el.passwordChangeError, '');
  el.passwordChangeSubmit.disabled = true;
  el.passwordChangeForm.setAttribute('aria-busy', 'true');
  try {
    await api.changePassword(current, next);
    for (const input of [el.passwordCurrent, el.passwordNew, el.passwordRepeat]) input.value = '';
    success('Password changed. Your other sessions were signed out.');
  } catch (err) {
    if (err.sessionLost) return;
    const wrong = err.status === 401;
    showError(el.passwordChangeError, wrong ? 'The current password is not correct.' : err.message);
    (wrong ? el.passwordCurrent : el.passwordNew).focus();
  } finally {
    el.passwordChangeSubmit.disabled = false;
    el.passwordChangeForm.removeAttribute('aria-busy');
  }
}

// ---- authenticator app ----------------------------------------------------------------

/** A labelled 6-digit code field: {field, input}. */
function codeField(label, hint) {
  const input = h('input', {
    type: 'text', id: 'totp-code', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}',
    maxlength: 6, spellcheck: 'false', class: 'mono code-input', 'aria-describedby': 'totp-code-hint', required: true,
  });
  const field = h('div', { class: 'field' },
    h('label', { for: 'totp-code', text: label }), input,
    h('p', { class: 'field-hint', id: 'totp-code-hint', text: hint }));
  return { field, input };
}

/** The code typed, or null after saying what is wrong with it. */
function readCode(input) {
  const code = input.value.replace(/\s+/g, '');
  if (CODE_RE.test(code)) {
    input.removeAttribute('aria-invalid');
    return code;
  }
  input.setAttribute('aria-invalid', 'true');
  showError(el.totpError, 'Enter the 6-digit code your authenticator app shows.');
  input.focus();
  return null;
}

function setBusy(form, busy) {
  for (const b of form.querySelectorAll('button')) b.disabled = busy;
  if (busy) form.setAttribute('aria-busy', 'true');
  else form.removeAttribute('aria-busy');
}

/** The card as the person's state says: on (a way to turn it off) or off (a way to set it up). */
function renderTotp() {
  wipeSecrets(el.totpBody);
  showError(el.totpError, '');
  const on = !!state.session.totp;
  el.totpStatus.replaceChildren(
    h('span', { class: ['badge', on ? 'badge-active' : 'badge-inactive'] },
      h('span', { class: 'badge-dot', 'aria-hidden': 'true' }), on ? 'On' : 'Off'),
    ' ',
    on ? 'Signing in needs a code from your authenticator app as well as your password.'
      : 'Add a code from an authenticator app (such as Google Authenticator, 1Password or FreeOTP) to your password.');
  if (on) renderDisable();
  else {
    el.totpBody.replaceChildren(h('div', { class: 'form-actions form-actions-start' },
      h('button', { type: 'button', class: 'btn btn-primary', id: 'totp-start', text: 'Set up authenticator app', onclick: startEnrolment })));
  }
}

async function startEnrolment() {
  const seq = ++enrolSeq;
  const start = document.getElementById('totp-start');
  if (start) start.disabled = true;
  showError(el.totpError, '');
  let answer;
  try {
    answer = await api.startTotp();
  } catch (err) {
    if (seq !== enrolSeq) return;
    if (start) start.disabled = false;
    if (!err.sessionLost) showError(el.totpError, err.message);
    return;
  }
  if (seq !== enrolSeq) return;
  renderEnrolment(answer);
}

/** Step two: the QR code and the secret, and the code that proves the app has it. */
function renderEnrolment(answer) {
  let qr;
  try {
    qr = qrCode(answer.otpauth_uri, 'QR code of your authenticator app secret');
  } catch {
    qr = h('p', { class: 'muted', text: 'The QR code could not be drawn: type the secret into your app instead.' });
  }
  const secret = secretBox(answer.secret, {
    label: 'Secret', copyLabel: 'Copy secret', className: 'token-box token-box-secret',
    hint: 'If you cannot scan, add an account in your app by hand with this key (time-based, 6 digits, 30 seconds).',
  });
  answer.secret = null; // the only copies are now the page's text and the QR code, wiped when enrolment ends
  answer.otpauth_uri = null;
  const code = codeField('Code from the app', 'After adding Keystile to the app, type the 6-digit code it shows.');
  const form = h('form', { class: 'form totp-enrol', method: 'post', novalidate: true, 'aria-label': 'Confirm the authenticator app' },
    h('ol', { class: 'steps' },
      h('li', { text: 'Scan the QR code with your authenticator app, or type the secret into it.' }),
      h('li', { text: 'Type the code the app shows to confirm.' })),
    h('div', { class: 'totp-pair' }, h('div', { class: 'qr-frame', 'data-secret': '' }, qr), secret),
    code.field,
    h('div', { class: 'form-actions' },
      h('button', { type: 'button', class: 'btn btn-secondary', text: 'Cancel', onclick: () => { enrolSeq += 1; renderTotp(); } }),
      h('button', { type: 'submit', class: 'btn btn-primary', text: 'Confirm' })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = readCode(code.input);
    if (!value) return;
    const seq = enrolSeq;
    setBusy(form, true);
    showError(el.totpError, '');
    try {
      await api.confirmTotp(value);
    } catch (err) {
      if (seq !== enrolSeq) return;
      setBusy(form, false);
      if (err.sessionLost) return;
      showError(el.totpError, err.status === 401 || err.status === 410
        ? 'That code was not accepted: it is wrong or was used already. Check the clock of the device and type the code the app shows now.'
        : err.message);
      code.input.select();
      code.input.focus();
      return;
    }
    if (seq !== enrolSeq) return;
    state.session.totp = true;
    renderTotp();
    success('Authenticator app on: signing in now needs a code from it.');
  });
  wipeSecrets(el.totpBody);
  el.totpBody.replaceChildren(form);
  code.input.focus();
}

/** TOTP is on: turning it off needs a current code (so a stolen session alone cannot). */
function renderDisable() {
  const code = codeField('Code from the app', 'To turn it off, type the 6-digit code your app shows now.');
  const form = h('form', { class: 'form', method: 'post', novalidate: true, 'aria-label': 'Turn off the authenticator app' },
    code.field,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-danger', text: 'Turn off' })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = readCode(code.input);
    if (!value) return;
    setBusy(form, true);
    showError(el.totpError, '');
    try {
      await api.disableTotp(value);
    } catch (err) {
      setBusy(form, false);
      if (err.sessionLost) return;
      showError(el.totpError, err.status === 401 || err.status === 410
        ? 'That code was not accepted: it is wrong or was used already. Type the code the app shows now.'
        : err.message);
      code.input.select();
      return;
    }
    state.session.totp = false;
    renderTotp();
    success('Authenticator app turned off: signing in needs only your password.');
  });
  el.totpBody.replaceChildren(form);
}

export default { init, reset, show };
