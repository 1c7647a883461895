// The clipboard, only while the caseworker has control: "Send my clipboard" puts the text
// of the caseworker's clipboard in the resident's (read with the browser's permission, or
// pasted into a box when the browser will not let the page read it), "Get the resident's
// clipboard" shows the text of the resident's clipboard in a read-only box with Copy. The
// resident's window says each time that their clipboard was read or written. The agent
// decides (its consent gate): this page only asks, and says how each request ended.
//
// The two buttons sit in the toolbar and keep their place while hidden (watching), so
// control coming or going never rewraps the toolbar and moves the picture; what they
// show opens in a panel laid over the top of the picture, closed with Escape or Close.
// The text is never logged nor stored: it stays in this page's memory and boxes until the
// panel is closed or the session ends.
import { t } from '/src/i18n.js';
import { createChannel } from '/src/channel.js';
import { onModeChange } from '/src/control.js';
import {
  ANSWER_TIMEOUT_MS, checkClipboardText, createRequests, isProblem, outcomeKey,
} from '/src/clipboard.js';
import { $ } from '/src/dom.js';

const requests = createRequests();
let channel = null; // from channel.js, for the current data channel
let current = null; // that data channel
let mode = 'watching'; // the control mode shown (control.js)
let panelOpen = false;
let formShown = false; // the box to paste into, when the browser would not read the clipboard
let received = null; // the resident's clipboard text, while the panel shows it
let status = null; // { key, params, problem }
let opener = 'clip-send'; // the button that opened the panel (the focus goes back there)
let timer = null;

function inControl() {
  return mode === 'controlling' && Boolean(channel?.open);
}

function render() {
  const on = inControl();
  // Hidden but in place (see above): invisible, out of the tab order, out of reach.
  $('clipboard').classList.toggle('is-off', !on);
  $('clip-send').disabled = !on;
  $('clip-get').disabled = !on;
  $('clip-send').setAttribute('aria-expanded', String(panelOpen && formShown));
  $('clip-panel').hidden = !panelOpen;
  $('clip-form').hidden = !(formShown && on);
  $('clip-result').hidden = received == null;
  const box = $('clip-text');
  if (box.value !== (received ?? '')) box.value = received ?? '';
  const line = $('clip-status');
  const said = status ? t(status.key, status.params) : '';
  line.classList.toggle('is-problem', Boolean(status?.problem));
  if (line.textContent !== said) line.textContent = said;
}

// A new sentence: said again by screen readers even when it is the same as the last.
function say(key, params = {}, problem = false) {
  status = { key, params, problem };
  panelOpen = true;
  $('clip-status').textContent = '';
  render();
}

function stopTimer() {
  clearTimeout(timer);
  timer = null;
}

function start(kind, msg) {
  if (!inControl() || !requests.start(kind, Date.now())) return false;
  if (!channel.send(msg)) {
    requests.clear();
    return false;
  }
  stopTimer();
  timer = setTimeout(() => finish(requests.poll(Date.now())), ANSWER_TIMEOUT_MS + 50);
  return true;
}

function focusIsIn(...ids) {
  const active = document.activeElement;
  return ids.some((id) => $(id)?.contains(active));
}

// How a request ended (clipboard.js): the sentence, the text received, the focus.
function finish(done) {
  if (!done) return;
  stopTimer();
  const text = done.outcome === 'text' ? done.text : null;
  if (text != null) received = text;
  const focusBack = focusIsIn('clip-panel', 'clip-get');
  const inForm = focusIsIn('clip-form');
  if (done.kind === 'put' && done.outcome === 'written') {
    formShown = false;
    $('clip-input').value = '';
    $('clip-input').removeAttribute('aria-invalid');
  }
  say(outcomeKey(done), { n: text == null ? 0 : [...text].length }, isProblem(done));
  // The box is gone with its text sent: the focus goes back to the button, not lost.
  if (inForm && $('clip-form').hidden && inControl()) $('clip-send').focus();
  if (text != null && focusBack) {
    // The caseworker still waits on it (the focus was not taken elsewhere meanwhile):
    // the text, selected, ready for Ctrl+C.
    $('clip-text').focus();
    $('clip-text').select();
  }
}

function showForm(key) {
  formShown = true;
  say(key, {}, true);
  $('clip-input').focus();
}

// Checks and sends text of the caseworker's ('mine': their clipboard; 'box': the box).
function put(raw, source) {
  const field = $('clip-input');
  const c = checkClipboardText(raw);
  if (c.empty) {
    if (source === 'box') {
      say('clipBoxEmpty', {}, true);
      field.focus();
    } else {
      showForm('clipMineEmpty');
    }
    return;
  }
  if (c.tooLong) {
    // Refused here, whole: nothing is sent, nothing cut.
    if (source === 'box') field.setAttribute('aria-invalid', 'true');
    say('clipTooLongHere', { n: c.over }, true);
    if (source === 'box') field.focus();
    return;
  }
  field.removeAttribute('aria-invalid');
  if (requests.pending) {
    say('clipWaiting');
  } else if (start('put', { type: 'clipboard_put', text: c.text })) {
    say('clipSending');
  } else {
    say('clipNotSent', {}, true);
  }
}

async function sendMine() {
  opener = 'clip-send';
  if (!inControl()) return;
  if (requests.pending) {
    say('clipWaiting');
    return;
  }
  let text;
  try {
    if (!navigator.clipboard?.readText) throw new Error('no clipboard API');
    say('clipReading');
    text = await navigator.clipboard.readText();
  } catch {
    // Refused (the browser's permission, or a browser without the API): the box.
    if (inControl()) showForm('clipReadRefused');
    return;
  }
  if (inControl()) put(text, 'mine');
}

function getTheirs() {
  opener = 'clip-get';
  if (!inControl()) return;
  if (requests.pending) say('clipWaiting');
  else if (start('get', { type: 'clipboard_get' })) say('clipAsking');
  else say('clipNotSent', {}, true);
}

async function copy() {
  if (received == null) return;
  try {
    await navigator.clipboard.writeText(received);
    say('clipCopied');
    return;
  } catch {
    // Not allowed: the text selected in its box, copied the old way, or by Ctrl+C.
  }
  const box = $('clip-text');
  box.focus();
  box.select();
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  say(copied ? 'clipCopied' : 'clipCopySelect');
}

function close() {
  panelOpen = false;
  formShown = false;
  received = null; // what was read is let go with the panel
  status = null;
  $('clip-input').value = '';
  $('clip-input').removeAttribute('aria-invalid');
  render();
  $(inControl() ? opener : 'request-control').focus();
}

function forget() {
  stopTimer();
  requests.clear();
  panelOpen = false;
  formShown = false;
  received = null;
  status = null;
  $('clip-input').value = '';
  $('clip-text').value = '';
}

/** A new session: nothing of the last one is kept. */
export function reset() {
  forget();
  channel = null;
  current = null;
  render();
}

/** This session's data channel (the agent's "acote"). */
export function attach(dc) {
  forget();
  current = dc;
  channel = createChannel(dc, {
    onClipboard: (text) => {
      if (current === dc) finish(requests.text(text));
    },
    onClipboardStatus: (s) => {
      if (current === dc) finish(requests.status(s));
    },
    onRefused: (reason) => {
      if (current === dc) finish(requests.refused(reason));
    },
  });
  dc.addEventListener('open', () => {
    if (current === dc) render();
  });
  dc.addEventListener('close', () => {
    if (current === dc) render();
  });
  render();
}

/** The channel is gone (the session ended). */
export function detach() {
  forget();
  channel = null;
  current = null;
  render();
}

export function setup() {
  onModeChange((next) => {
    const wasIn = focusIsIn('clipboard', 'clip-form');
    mode = next;
    if (next !== 'controlling') {
      // The agent drops a request still waiting when control ends: say so.
      finish(requests.controlEnded());
      formShown = false;
    }
    render();
    if (wasIn && !inControl()) $('request-control').focus();
  });
  $('clip-send').addEventListener('click', sendMine);
  $('clip-get').addEventListener('click', getTheirs);
  $('clip-copy').addEventListener('click', copy);
  $('clip-close').addEventListener('click', close);
  $('clip-form').addEventListener('submit', (event) => {
    event.preventDefault();
    put($('clip-input').value, 'box');
  });
  $('clip-input').addEventListener('input', () => {
    if ($('clip-input').getAttribute('aria-invalid') && !checkClipboardText($('clip-input').value).tooLong) {
      $('clip-input').removeAttribute('aria-invalid');
    }
  });
  // Escape in the panel closes it and gives the focus back.
  $('clip-panel').addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || event.isComposing) return;
    event.preventDefault();
    close();
  });
  render();
}

/** New words after a language change. */
export function refresh() {
  const line = $('clip-status');
  line.textContent = status ? t(status.key, status.params) : '';
  render();
}
