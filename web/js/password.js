// password.js - the password rules of the contract, checked before a
// password is sent (the server checks them again): 12 to 1024 bytes.

const PASSWORD_MIN = 12;
const PASSWORD_MAX_BYTES = 1024;

/** Why `password` cannot be used, or null. */
export function passwordProblem(password) {
  const bytes = new TextEncoder().encode(password).length;
  if (bytes < PASSWORD_MIN) return `A password needs at least ${PASSWORD_MIN} characters.`;
  if (bytes > PASSWORD_MAX_BYTES) return `A password may hold at most ${PASSWORD_MAX_BYTES} bytes.`;
  return null;
}
