// feedback.js - toasts: a short success message after every action, and error
// messages that stay until dismissed. Success toasts live in a polite status
// region, errors in an alert region, so screen readers announce both.

import { h, icon, ICONS } from './dom.js';

const SUCCESS_MS = 5000;

function region(kind) {
  return document.getElementById(kind === 'error' ? 'toast-errors' : 'toasts');
}

export function notify(message, kind = 'success') {
  const host = region(kind);
  if (!host) return;
  const toast = h('div', { class: ['toast', `toast-${kind}`] },
    icon(kind === 'error' ? ICONS.warn : ICONS.check, 'icon toast-icon'),
    h('span', { class: 'toast-text', text: message }));
  const dismiss = () => toast.remove();
  if (kind === 'error') {
    toast.append(h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss message', onclick: dismiss },
      icon(ICONS.close)));
  } else {
    // Keep at most three success messages on screen.
    while (host.children.length >= 3) host.firstElementChild.remove();
    setTimeout(dismiss, SUCCESS_MS);
  }
  host.append(toast);
  return toast;
}

export const success = (message) => notify(message, 'success');
/** An error toast; nothing when err says the session was lost (the sign-in form says so). */
export const failure = (message, err = null) => (err && err.sessionLost ? null : notify(message, 'error'));

export function clearErrors() {
  region('error')?.replaceChildren();
}
