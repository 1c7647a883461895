// The resident's monitors: when the agent lists two or more, a small group of buttons in
// the toolbar ("Screen 1 (main)", "Screen 2", "All screens"), the one shown pressed. A
// press asks the agent to show that monitor; the agent crops the picture to it (its size
// comes with the video, which video.js fits like any other) and maps the pointer and
// "look here" onto it. Needs no control: it only narrows what is seen. With one monitor
// nothing is shown. The agent is the authority on what is shown: its next `screens`
// message says so, and the buttons follow it.
import { t } from '/src/i18n.js';
import { createChannel } from '/src/channel.js';
import * as ui from '/src/ui.js';
import { choices, hasChoice, sameList } from '/src/screens.js';
import { $ } from '/src/dom.js';

let channel = null;
let current = null;
let list = null; // { screens, shown } from the agent (screens.js)
let drawn = null; // the list the buttons were made for

function label(c) {
  if (c.id === null) return t('screensAll');
  return t(c.primary ? 'screenMain' : 'screenN', { n: c.n });
}

// The system's name and size, as a hint on hover ("HDMI-1 · 1920 × 1080").
function hint(c) {
  if (c.id === null) return t('screensAllHint');
  return [c.name, `${c.width} × ${c.height}`].filter(Boolean).join(' · ');
}

function render() {
  const group = $('screens');
  const show = hasChoice(list) && Boolean(channel) && ui.isVideoState();
  group.hidden = !show;
  if (!show) {
    if (drawn) group.replaceChildren();
    drawn = null;
    return;
  }
  const items = choices(list);
  const shape = items.map(({ id, n, primary, name, width, height }) => ({ id, n, primary, name, width, height }));
  if (!sameList(shape, drawn)) {
    // Made again only when the monitors changed, keeping the focus on the same choice.
    const focused = group.contains(document.activeElement) ? document.activeElement.dataset.screen : undefined;
    group.replaceChildren(...items.map((c) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.screen = c.id === null ? 'all' : String(c.id);
      b.addEventListener('click', () => choose(c.id));
      return b;
    }));
    drawn = shape;
    if (focused !== undefined) group.querySelector(`[data-screen="${focused}"]`)?.focus();
  }
  const buttons = group.querySelectorAll('button');
  items.forEach((c, i) => {
    const b = buttons[i];
    b.textContent = label(c);
    b.title = hint(c);
    b.setAttribute('aria-pressed', String(c.pressed));
  });
}

function choose(id) {
  if (!list || !channel?.send({ type: 'show_screen', id })) return;
  // Shown pressed at once; the agent's answer (the list again) confirms or corrects it.
  list = { ...list, shown: id };
  render();
}

/** A new session: nothing of the last one is kept. */
export function reset() {
  channel = null;
  current = null;
  list = null;
  render();
}

/** This session's data channel (the agent's "acote"): the agent sends the list when it
 * opens, and again whenever the monitors or the one shown change. */
export function attach(dc) {
  current = dc;
  list = null;
  channel = createChannel(dc, {
    onScreens: (next) => {
      if (current !== dc) return;
      list = next;
      render();
    },
  });
  dc.addEventListener('close', () => {
    if (current === dc) render();
  });
  render();
}

/** The channel is gone (the session ended). */
export function detach() {
  reset();
}

export function setup() {
  ui.onStateChange(() => render());
  render();
}

/** New words after a language change. */
export function refresh() {
  render();
}
