// menu.js - the action menus (row kebab menus, Export): a role="menu" popup
// under its button, with the keyboard behaviour of the WAI-ARIA menu button
// pattern: Enter/Space/ArrowDown open it on the first item, ArrowUp on the
// last; arrows, Home and End move; Enter activates; Escape closes and returns
// focus to the button; Tab closes it.

import { h, newId } from './dom.js';

let openState = null; // {button, menu, onDocPointer}

export function closeMenu({ focusButton = false } = {}) {
  if (!openState) return;
  const { button, menu, onDocPointer } = openState;
  openState = null;
  document.removeEventListener('pointerdown', onDocPointer, true);
  menu.remove();
  button.setAttribute('aria-expanded', 'false');
  button.removeAttribute('aria-controls');
  if (focusButton && button.isConnected) button.focus();
}

/** Closes the open menu if its button is inside `container` (before a re-render). */
export function closeMenuWithin(container) {
  if (openState && container.contains(openState.button)) closeMenu();
}

export function isMenuOpen(button) {
  return openState !== null && openState.button === button;
}

/**
 * Wires a menu button. items() returns [{label, onSelect, danger, disabled, hint}] each
 * time the menu opens (so it reflects the current state of the key); {separator: true}
 * draws a line, {note: 'text'} a line of text that describes the menu (say, why its
 * actions are disabled) without being an item, and {heading: 'text'} a small title over
 * the items that follow.
 */
export function menuButton(button, items) {
  if (!button.id) button.id = newId('menu-button');
  button.setAttribute('aria-haspopup', 'menu');
  button.setAttribute('aria-expanded', 'false');
  button.addEventListener('click', () => {
    if (isMenuOpen(button)) closeMenu({ focusButton: true });
    else openMenu(button, items(), 'first');
  });
  button.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      openMenu(button, items(), ev.key === 'ArrowUp' ? 'last' : 'first');
    }
  });
}

function openMenu(button, items, focusWhich) {
  closeMenu();
  const id = newId('menu');
  const menu = h('div', { class: 'menu', role: 'menu', id, 'aria-labelledby': button.id, tabindex: '-1' });
  const entries = [];
  for (const item of items) {
    if (item.separator) {
      menu.append(h('div', { class: 'menu-separator', role: 'separator' }));
      continue;
    }
    if (item.heading) {
      menu.append(h('p', { class: 'menu-heading', role: 'presentation', text: item.heading }));
      continue;
    }
    if (item.note) {
      const noteId = newId('menu-note');
      menu.append(h('p', { class: 'menu-note', id: noteId, role: 'none', text: item.note }));
      menu.setAttribute('aria-describedby', noteId);
      continue;
    }
    const el = h('button', {
      type: 'button',
      role: 'menuitem',
      class: ['menu-item', item.danger && 'menu-item-danger'],
      tabindex: '-1',
      'aria-disabled': item.disabled ? 'true' : null,
      title: item.disabled && item.hint ? item.hint : null,
      text: item.label,
    });
    el.addEventListener('click', (ev) => {
      ev.preventDefault();
      if (item.disabled) return;
      closeMenu();
      item.onSelect(button);
    });
    entries.push(el);
    menu.append(el);
  }
  menu.addEventListener('keydown', (ev) => {
    const index = entries.indexOf(document.activeElement);
    let next = null;
    switch (ev.key) {
      case 'ArrowDown': next = entries[(index + 1) % entries.length]; break;
      case 'ArrowUp': next = entries[(index - 1 + entries.length) % entries.length]; break;
      case 'Home': next = entries[0]; break;
      case 'End': next = entries[entries.length - 1]; break;
      case 'Escape':
        ev.preventDefault();
        ev.stopPropagation();
        closeMenu({ focusButton: true });
        return;
      case 'Tab':
        closeMenu({ focusButton: false });
        button.focus();
        return; // let Tab move on from the button
      default:
        // Type-ahead: the first item starting with the typed letter.
        if (ev.key.length === 1 && /\S/.test(ev.key)) {
          const letter = ev.key.toLowerCase();
          const start = index + 1;
          for (let i = 0; i < entries.length; i++) {
            const e = entries[(start + i) % entries.length];
            if (e.textContent.trim().toLowerCase().startsWith(letter)) { next = e; break; }
          }
        }
    }
    if (next) {
      ev.preventDefault();
      next.focus();
    }
  });

  button.insertAdjacentElement('afterend', menu);
  button.setAttribute('aria-expanded', 'true');
  button.setAttribute('aria-controls', id);
  // Open upwards when there is no room below.
  const rect = menu.getBoundingClientRect();
  if (rect.bottom > window.innerHeight - 8 && button.getBoundingClientRect().top > rect.height + 8) {
    menu.classList.add('menu-up');
  }
  const onDocPointer = (ev) => {
    if (!menu.contains(ev.target) && !button.contains(ev.target)) closeMenu();
  };
  document.addEventListener('pointerdown', onDocPointer, true);
  openState = { button, menu, onDocPointer };
  const target = focusWhich === 'last' ? entries[entries.length - 1] : entries[0];
  if (target) target.focus();
}
