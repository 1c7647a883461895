// How the caseworker looks at the picture: the whole screen (default) or actual size, and
// full screen. Both choices are kept on this computer, like the relay-only box. Full screen
// is the whole page (toolbar included, so Stop and control stay at hand), through the
// browser's Fullscreen API: Escape leaves it, and the button follows what the browser does.
import { t } from '/src/i18n.js';
import { $ } from '/src/dom.js';

const SIZE_KEY = 'acote.viewSize';
const FULL_KEY = 'acote.fullScreen';

function load(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage disabled: the choice holds for this page only
  }
}

function store(key, value) {
  try {
    if (value) localStorage.setItem(key, value);
    else localStorage.removeItem(key);
  } catch {
    // Not kept across pages; this page still follows the choice.
  }
}

let screen = null;
let actual = false;

function render() {
  const size = $('view-size');
  size.setAttribute('aria-pressed', String(actual));
  size.textContent = t('actualSize');
  const full = $('full-screen');
  full.hidden = !document.fullscreenEnabled;
  full.setAttribute('aria-pressed', String(Boolean(document.fullscreenElement)));
  full.textContent = t('fullScreen');
}

function setActual(on) {
  actual = on;
  store(SIZE_KEY, on ? 'actual' : null);
  screen.setMode(on ? 'actual' : 'fit');
  render();
}

async function enterFullScreen() {
  try {
    await document.documentElement.requestFullscreen({ navigationUI: 'hide' });
  } catch {
    // Refused (no user gesture, or a policy): the page stays as it is, the button says so.
  }
}

/** Wires the two toolbar buttons to `screen` (from video.js). */
export function setup(screenApi) {
  screen = screenApi;
  actual = load(SIZE_KEY) === 'actual';
  screen.setMode(actual ? 'actual' : 'fit');
  $('view-size').addEventListener('click', () => setActual(!actual));
  $('full-screen').addEventListener('click', () => {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else enterFullScreen();
  });
  // Escape, F11 or the button: what the browser did is what is remembered.
  document.addEventListener('fullscreenchange', () => {
    store(FULL_KEY, document.fullscreenElement ? '1' : null);
    render();
  });
  render();
}

/** Called from the Connect click (a user gesture, which full screen needs): goes back to
 * full screen when that was the caseworker's last choice. */
export function resumeFullScreen() {
  if (load(FULL_KEY) === '1' && document.fullscreenEnabled && !document.fullscreenElement) {
    enterFullScreen();
  }
}

/** Re-renders the buttons' words after a language change. */
export function refresh() {
  render();
}
