// totp.mjs - RFC 6238 codes for the browser tests (SHA-1, 6 digits, 30 s
// steps, as docs/API.md says), computed with node's crypto HMAC, so a test
// can act as a person's authenticator app. Test code only: the server uses
// liboath.

import crypto from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (no padding needed, case-insensitive) → bytes. */
export function base32Decode(text) {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The HOTP value (RFC 4226) of `secret` (base32) at `counter`, as 6 digits. */
export function hotp(secret, counter) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = crypto.createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(bin % 1e6).padStart(6, '0');
}

/** The time step of `ms` (a Date.now() value). */
export const timeStep = (ms = Date.now()) => Math.floor(ms / 1000 / 30);

/** The TOTP code of `secret` for time step `step` (default: now). */
export const totp = (secret, step = timeStep()) => hotp(secret, step);

/** RFC 6238 appendix B's check value: the SHA-1 seed at T = 59 s gives 94287082 (8 digits) / 287082. */
export function selfTest() {
  const seed = Buffer.from('12345678901234567890').toString('latin1');
  let bits = '';
  for (const byte of Buffer.from(seed, 'latin1')) bits += byte.toString(2).padStart(8, '0');
  let b32 = '';
  for (let i = 0; i < bits.length; i += 5) b32 += BASE32[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  if (hotp(b32, 1) !== '287082') throw new Error('the test TOTP does not give RFC 6238 test vector 287082');
}
