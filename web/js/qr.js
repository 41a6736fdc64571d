// qr.js - a QR code as an SVG element, for the authenticator app enrolment.
// The code itself is made by qrcode-generator (npm, vendored into web/vendor/
// by `make web-vendor`); this only draws its modules as one SVG path, built
// with the DOM (no markup parsed, no data: URL: the CSP allows neither).

import qrcode from '../vendor/qrcode-generator/qrcode.mjs';

const SVG_NS = 'http://www.w3.org/2000/svg';
const QUIET = 4; // modules of white border, as the QR specification asks

/** The text as one character per UTF-8 byte: the library's byte mode takes char codes 0-255. */
function utf8(text) {
  return String.fromCharCode(...new TextEncoder().encode(text));
}

/**
 * An <svg> showing `text` as a QR code (error correction M, the smallest
 * version that fits), labelled `label` for assistive technology. Throws when
 * the text is too long for any QR code.
 */
export function qrCode(text, label) {
  const qr = qrcode(0, 'M');
  qr.addData(utf8(text), 'Byte');
  qr.make();
  const n = qr.getModuleCount();
  const size = n + 2 * QUIET;
  const parts = [];
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      if (qr.isDark(row, col)) parts.push(`M${col + QUIET} ${row + QUIET}h1v1h-1z`);
    }
  }
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('class', 'qr-code');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('shape-rendering', 'crispEdges');
  const background = document.createElementNS(SVG_NS, 'rect');
  background.setAttribute('width', String(size));
  background.setAttribute('height', String(size));
  background.setAttribute('class', 'qr-light');
  const modules = document.createElementNS(SVG_NS, 'path');
  modules.setAttribute('d', parts.join(''));
  modules.setAttribute('class', 'qr-dark');
  svg.append(background, modules);
  return svg;
}
