// Chat with the resident: a panel beside the picture, opened from the narrow "Messages"
// rail at the stage's right edge. It needs no control (words only, shown in the
// resident's window) and works as soon as the data channel is open. The rail and the
// panel have fixed widths, stay out of the toolbar (whose wrapping would move the
// picture), and a message never opens the panel by itself, so the picture neither moves
// nor shrinks under the caseworker's pointer: a message that arrives while it is closed
// shows as a count on the rail and in the page's title. Every text is put in with textContent: a link is
// shown as text, never opened. Messages live in this page's memory for the session only.
import { t, getLang } from '/src/i18n.js';
import { createChannel } from '/src/channel.js';
import * as ui from '/src/ui.js';
import {
  checkDraft, createConversation, formatTime, isValidChat, titleWith,
} from '/src/chat.js';
import { $ } from '/src/dom.js';

const conversation = createConversation();
const nodes = new Map(); // message id → its element in the log
let channel = null; // from channel.js, for the current data channel
let current = null; // that data channel
let hadChannel = false; // this session's channel opened once (so a closed one is a cut)
let expanded = false; // the caseworker opened the panel (kept across sessions of this page)
let state = 'sign-in';
let error = null; // { key, params } refusal shown under the box
let notice = null; // { n } last arrival announced to screen readers
let baseTitle = 'Acote';

function over() {
  return ui.isEndState(state) || ui.isFormState(state) || state === 'sign-in';
}

function canSend() {
  return Boolean(channel?.open) && !over();
}

function panelShown() {
  return !$('chat').hidden && !$('chat-panel').hidden;
}

// Why the box cannot be used now; null when it can.
function blockedKey() {
  if (ui.isEndState(state)) return 'chatEnded';
  if (canSend()) return null;
  return hadChannel ? 'chatClosed' : 'chatWaiting';
}

function render() {
  const video = ui.isVideoState(state);
  const ended = ui.isEndState(state);
  // During the session: the rail always (its width never changes), the panel when the
  // caseworker opened it. After: the panel alone, to read again if it has anything to
  // read, until the next session.
  const afterwards = ended && conversation.messages.length > 0;
  $('chat').hidden = !(video || afterwards);
  $('chat').classList.toggle('is-ended', ended);
  $('chat-panel').hidden = !((video && expanded) || afterwards);

  const unread = conversation.unread;
  const toggle = $('chat-toggle');
  toggle.hidden = !video;
  toggle.setAttribute('aria-expanded', String(video && expanded));
  toggle.setAttribute('aria-label', t('chatToggleAria', { n: unread }));
  const badge = $('chat-badge');
  // Its place is kept when empty: a count that appears must not reflow the toolbar.
  badge.textContent = unread > 9 ? '9+' : String(unread);
  badge.classList.toggle('is-empty', unread === 0);
  document.title = titleWith(unread, baseTitle);
  const announce = $('chat-notice');
  const said = notice && unread > 0 ? t('chatNew', { n: notice.n }) : '';
  if (announce.textContent !== said) announce.textContent = said; // once, not on each render

  $('chat-empty').hidden = conversation.messages.length > 0;

  const field = $('chat-text');
  const blocked = blockedKey();
  field.disabled = Boolean(blocked);
  $('chat-send').disabled = Boolean(blocked);
  $('chat-hint').textContent = t(blocked ?? 'chatKeys');
  $('chat-hint').classList.toggle('is-blocked', Boolean(blocked));

  const draft = !blocked && field.value ? checkDraft(field.value) : null;
  const count = $('chat-count');
  const showCount = Boolean(draft && (draft.near || draft.tooLong));
  count.classList.toggle('is-empty', !showCount);
  count.classList.toggle('is-over', Boolean(draft?.tooLong));
  count.textContent = showCount ? t(draft.tooLong ? 'chatOver' : 'chatLeft', { n: draft.chars }) : '';
  if (draft?.tooLong) field.setAttribute('aria-invalid', 'true');
  else field.removeAttribute('aria-invalid');

  const err = $('chat-error');
  err.hidden = !error;
  const refusal = error ? t(error.key, error.params) : '';
  if (err.textContent !== refusal) err.textContent = refusal; // an alert is said when it changes
}

function messageNode(m) {
  const item = document.createElement('div');
  item.className = `chat-msg ${m.from === 'me' ? 'is-mine' : 'is-theirs'}`;
  item.dataset.from = m.from;
  const meta = document.createElement('p');
  meta.className = 'chat-meta';
  const who = document.createElement('span');
  who.className = 'chat-who';
  const time = document.createElement('time');
  time.dateTime = m.at.toISOString();
  const dot = document.createElement('span');
  dot.setAttribute('aria-hidden', 'true');
  dot.textContent = ' · ';
  meta.append(who, dot, time);
  const text = document.createElement('p');
  text.className = 'chat-text';
  // Each message finds its own direction: Arabic or Pashto reads right to left.
  text.dir = 'auto';
  text.textContent = m.text; // text, never markup: a link stays words
  item.append(meta, text);
  renderMeta(item, m);
  return item;
}

function renderMeta(item, m) {
  item.querySelector('.chat-who').textContent = t(m.from === 'me' ? 'chatYou' : 'chatResident');
  item.querySelector('time').textContent = formatTime(m.at, getLang());
}

function add(from, text, seen) {
  const log = $('chat-log');
  const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 16;
  const { message, dropped } = conversation.add(from, text, { seen });
  for (const m of dropped) {
    nodes.get(m.id)?.remove();
    nodes.delete(m.id);
  }
  const node = messageNode(message);
  nodes.set(message.id, node);
  log.append(node);
  // Follow the conversation, unless the caseworker scrolled back to read.
  if (atEnd || from === 'me') log.scrollTop = log.scrollHeight;
}

function receive(text) {
  if (over()) return;
  const seen = panelShown() && document.visibilityState === 'visible';
  add('resident', text, seen);
  if (!seen) notice = { n: conversation.unread };
  render();
}

function showError(key, params = {}) {
  error = { key, params };
  render();
}

function submit() {
  const field = $('chat-text');
  const draft = checkDraft(field.value);
  if (draft.empty) {
    showError('chatEmptyDraft');
  } else if (draft.tooLong) {
    showError('chatTooLong', { n: draft.chars });
  } else if (!canSend() || !isValidChat(draft.text) || !channel.send({ type: 'chat', text: draft.text })) {
    showError('chatNotSent');
  } else {
    field.value = '';
    error = null;
    add('me', draft.text, true);
    render();
    return;
  }
  field.focus();
}

function markRead() {
  conversation.read();
  notice = null;
}

function setExpanded(on) {
  expanded = on;
  if (on) markRead();
  render();
  if (on) {
    const log = $('chat-log');
    log.scrollTop = log.scrollHeight;
    const field = $('chat-text');
    (field.disabled ? log : field).focus();
  } else {
    $('chat-toggle').focus();
  }
}

// The state shown (ui.js): a new code or a sign-in forgets the last conversation; the end
// keeps it on screen, read, with the box closed.
function onState(next) {
  state = next;
  if (ui.isFormState(next) || next === 'sign-in') reset();
  if (over()) {
    channel = null;
    current = null;
  }
  if (ui.isEndState(next)) {
    markRead();
    error = null; // nothing more will be sent: a refusal no longer matters
  }
  render();
}

/** A new session: nothing of the last one is kept. */
export function reset() {
  conversation.clear();
  nodes.clear();
  $('chat-log').replaceChildren();
  channel = null;
  current = null;
  hadChannel = false;
  error = null;
  notice = null;
  $('chat-text').value = '';
  render();
}

/** This session's data channel (the agent's "acote"). */
export function attach(dc) {
  current = dc;
  channel = createChannel(dc, {
    onChat: (text) => {
      if (current === dc) receive(text);
    },
  });
  const opened = () => {
    if (current !== dc) return;
    hadChannel = true;
    render();
  };
  dc.addEventListener('open', opened);
  dc.addEventListener('close', () => {
    if (current === dc) render();
  });
  if (dc.readyState === 'open') opened();
  render();
}

/** The channel is gone (the session ended). */
export function detach() {
  channel = null;
  current = null;
  render();
}

export function setup() {
  baseTitle = document.title || 'Acote';
  $('chat-toggle').addEventListener('click', () => setExpanded(!expanded));
  // Escape in the panel closes it and gives the focus back to the rail.
  $('chat-panel').addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || event.isComposing || !ui.isVideoState(state)) return;
    event.preventDefault();
    setExpanded(false);
  });
  const field = $('chat-text');
  $('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  field.addEventListener('keydown', (event) => {
    // Enter sends, Shift+Enter starts a new line; an input method composing keeps Enter.
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    submit();
  });
  field.addEventListener('input', () => {
    // A refusal stays until what it was about is fixed.
    if (error) {
      const draft = checkDraft(field.value);
      error = error.key === 'chatTooLong' && draft.tooLong ? { key: 'chatTooLong', params: { n: draft.chars } } : null;
    }
    render();
  });
  // Back to this tab with the conversation open: what arrived meanwhile is now seen.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && panelShown() && conversation.unread) {
      markRead();
      render();
    }
  });
  ui.onStateChange(onState);
  state = ui.getState();
  render();
}

/** New words after a language change (the messages keep theirs). */
export function refresh() {
  for (const m of conversation.messages) {
    const node = nodes.get(m.id);
    if (node) renderMeta(node, m);
  }
  render();
}
