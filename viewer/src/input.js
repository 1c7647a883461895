// Caseworker input over the video → messages for the agent.
// Pointer positions are normalised to the picture itself (letterboxing removed), so a
// click lands where it was aimed whatever the window's shape. Keyboard input is read from
// a transparent text field laid over the video: printable text comes from its `input`
// events (so on-screen keyboards, input methods, dead keys and paste all work), shortcuts
// and named keys (Enter, arrows, Ctrl+A…) are sent as keys and kept from the browser.

import { pixelAt } from '/src/fit.js';

const BUTTONS = ['left', 'middle', 'right'];

// Where (x, y) in client pixels falls on the picture, 0..1 each (see fit.js); null
// outside it. video.js sizes the box to the picture, to the whole CSS pixel: that box is
// the picture. Only a real letterbox (a box of other proportions) is taken off.
export function toPicture(video, clientX, clientY) {
  const r = video.getBoundingClientRect();
  const vw = video.videoWidth;
  const vh = video.videoHeight;
  if (!vw || !vh || !r.width || !r.height) return null;
  const scale = Math.min(r.width / vw, r.height / vh);
  const fitted = (w, h) => (Math.abs(r.width - w) < 1 && Math.abs(r.height - h) < 1 ? [r.width, r.height] : [w, h]);
  const [boxW, boxH] = fitted(vw * scale, vh * scale);
  const left = r.left + (r.width - boxW) / 2;
  const top = r.top + (r.height - boxH) / 2;
  return pixelAt({
    offsetX: clientX - left, offsetY: clientY - top, boxW, boxH, videoW: vw, videoH: vh,
    dpr: window.devicePixelRatio || 1,
  });
}

function modifiers(e) {
  return { ctrl: e.ctrlKey, alt: e.altKey, shift: e.shiftKey, meta: e.metaKey };
}

// AltGr (Ctrl+Alt on Windows, AltGraph elsewhere) produces characters, not shortcuts.
function isShortcut(e) {
  const altGr = e.getModifierState?.('AltGraph') || (e.ctrlKey && e.altKey);
  return !altGr && (e.ctrlKey || e.metaKey || e.altKey);
}

// keyboard: the transparent field over the video; video: the <video>.
// mode(): 'control' | 'point' | 'watch'; send(msg) → the data channel.
export function captureInput({ video, keyboard, mode, send }) {
  const held = new Set();
  let pendingMove = null;
  let moveScheduled = false;

  function flushMove() {
    moveScheduled = false;
    if (pendingMove && mode() === 'control') send({ type: 'pointer', ...pendingMove });
    pendingMove = null;
  }

  function onPointerMove(e) {
    if (mode() !== 'control') return;
    const p = toPicture(video, e.clientX, e.clientY);
    if (!p) return;
    pendingMove = p;
    // At most one move per displayed frame: the agent gets the latest position only.
    if (!moveScheduled) {
      moveScheduled = true;
      requestAnimationFrame(flushMove);
    }
  }

  function onPointerDown(e) {
    const p = toPicture(video, e.clientX, e.clientY);
    if (!p) return;
    e.preventDefault();
    keyboard.focus({ preventScroll: true });
    if (mode() === 'point') {
      send({ type: 'highlight', ...p });
      return;
    }
    if (mode() !== 'control') return;
    const button = BUTTONS[e.button];
    if (!button) return;
    pendingMove = null;
    send({ type: 'pointer', ...p });
    send({ type: 'button', button, action: 'press' });
    held.add(button);
    keyboard.setPointerCapture?.(e.pointerId);
  }

  function onPointerUp(e) {
    const button = BUTTONS[e.button];
    if (!button || !held.has(button)) return;
    e.preventDefault();
    const p = toPicture(video, e.clientX, e.clientY);
    if (p && mode() === 'control') send({ type: 'pointer', ...p });
    send({ type: 'button', button, action: 'release' });
    held.delete(button);
  }

  function onWheel(e) {
    if (mode() !== 'control') return;
    e.preventDefault();
    // Pixels or lines → notches, at least one per event, at most the protocol's 20.
    const steps = (d) => {
      if (!d) return 0;
      const n = e.deltaMode === 1 ? d / 3 : e.deltaMode === 2 ? d * 10 : d / 100;
      return Math.max(-20, Math.min(20, Math.sign(n) * Math.max(1, Math.round(Math.abs(n)))));
    };
    const dx = steps(e.deltaX);
    const dy = steps(e.deltaY);
    if (dx || dy) send({ type: 'wheel', dx, dy });
  }

  function onKeyDown(e) {
    if (mode() !== 'control' || e.isComposing) return;
    const printable = e.key.length === 1 && !isShortcut(e);
    if (printable || e.key === 'Dead' || e.key === 'Process') return; // arrives as input
    e.preventDefault(); // keep Ctrl+A, Tab, Backspace… from acting on this page
    send({ type: 'key', code: e.code, key: e.key, down: true, mods: modifiers(e) });
  }

  function onKeyUp(e) {
    if (mode() !== 'control' || e.isComposing) return;
    if (e.key.length === 1 && !isShortcut(e)) return;
    send({ type: 'key', code: e.code, key: e.key, down: false, mods: modifiers(e) });
  }

  function onInput() {
    const text = keyboard.value;
    keyboard.value = '';
    if (text && mode() === 'control') send({ type: 'text', text: text.replace(/\r\n?/g, '\n') });
  }

  function onPaste(e) {
    e.preventDefault();
    const text = e.clipboardData?.getData('text/plain');
    if (text && mode() === 'control') send({ type: 'text', text: text.replace(/\r\n?/g, '\n').slice(0, 4000) });
  }

  // Buttons still down on the resident's side are let go.
  function releaseAll() {
    for (const button of held) send({ type: 'button', button, action: 'release' });
    held.clear();
    pendingMove = null;
  }

  const target = keyboard; // the field covers the video, so it gets the pointer too
  target.addEventListener('pointermove', onPointerMove);
  target.addEventListener('pointerdown', onPointerDown);
  target.addEventListener('pointerup', onPointerUp);
  target.addEventListener('wheel', onWheel, { passive: false });
  target.addEventListener('contextmenu', (e) => e.preventDefault());
  keyboard.addEventListener('keydown', onKeyDown);
  keyboard.addEventListener('keyup', onKeyUp);
  keyboard.addEventListener('input', onInput);
  keyboard.addEventListener('paste', onPaste);
  keyboard.addEventListener('blur', releaseAll);
  window.addEventListener('blur', releaseAll);

  return { releaseAll };
}
