// invite.js - the invitation page (web/invite.html, served for GET
// /invite/{id}): the invited person chooses a password, POST
// /api/v1/invites/{id}/accept sets it, and the page sends them on to sign-in
// (/#welcome=<email>, so the Email form starts filled in). The invitation id
// is the last segment of the address; it is sent only in that one call, and
// the page replaces its own history entry on success, so Back does not lead
// to a spent link. A used or expired invitation is 410 gone: the page says
// so and offers sign-in.

import * as api from './js/api.js';
import { passwordProblem } from './js/password.js';

const $ = (id) => document.getElementById(id);
const form = $('invite-form');
const password = $('invite-password');
const repeat = $('invite-repeat');
const error = $('invite-error');
const submit = $('invite-submit');

/** The invitation id: /invite/{id}, percent-decoded; null when the address holds none. */
function invitationId() {
  const m = /^\/invite\/([^/]+)\/?$/.exec(location.pathname);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return null;
  }
}

function showError(message, field = null) {
  error.textContent = message || '';
  error.hidden = !message;
  for (const input of [password, repeat]) input.removeAttribute('aria-invalid');
  if (field) {
    field.setAttribute('aria-invalid', 'true');
    field.focus();
  }
}

function showGone(message) {
  form.hidden = true;
  $('invite-intro').hidden = true;
  $('invite-title').textContent = 'This invitation cannot be used';
  $('invite-gone-text').textContent = message;
  $('invite-gone').hidden = false;
  password.value = '';
  repeat.value = '';
}

const id = invitationId();
if (!id) showGone('This address holds no invitation. Use the whole link you were sent.');
else password.focus();

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const problem = passwordProblem(password.value);
  if (problem) return showError(problem, password);
  if (password.value !== repeat.value) return showError('The two passwords differ.', repeat);
  showError('');
  submit.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    const answer = await api.acceptInvite(id, password.value);
    password.value = '';
    repeat.value = '';
    const email = answer && typeof answer.email === 'string' ? answer.email : '';
    location.replace(`/#welcome=${encodeURIComponent(email)}`);
  } catch (err) {
    if (err.status === 410 || err.status === 404) {
      showGone('This invitation was already used or has expired (invitations last 72 hours). Ask the person who invited you for a new one, or sign in if you already set your password.');
    } else {
      showError(err.message, err.status === 400 ? password : null);
    }
  } finally {
    submit.disabled = false;
    form.removeAttribute('aria-busy');
  }
});
