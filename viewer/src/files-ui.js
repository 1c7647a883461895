// Files both ways: a panel beside the picture, opened from the "Files" rail next to the
// chat's. The caseworker sends a file with "Send a file…" or by dropping it onto the page;
// the resident's computer asks them before saving it in their Downloads folder. A file the
// resident sends is accepted here when the site's limit allows it, kept in this page's
// memory, checked against its SHA-256 and listed with a "Save" link (a download, never
// opened by the page). Like the chat it needs no control, and nothing that arrives opens
// the panel by itself: the picture never moves under the caseworker's pointer; a file
// offered while the panel is closed shows as a count on the rail and is announced.
// Names are put in with textContent only, and no file name or byte is ever logged. The
// protocol and all decisions are files.js's; this file shows them.
import { t, getLang } from '/src/i18n.js';
import { createChannel } from '/src/channel.js';
import * as ui from '/src/ui.js';
import { createTransfers, describe, formatSize, isOpen } from '/src/files.js';
import { $ } from '/src/dom.js';

const transfers = createTransfers();
const nodes = new Map(); // transfer id → its <li>
const urls = new Map(); // transfer id → the Blob URL of a received file
let current = null; // this session's data channel
let hadChannel = false; // it opened once (so a closed one is a cut)
let expanded = false; // the caseworker opened the panel (kept across sessions of this page)
let state = 'sign-in';
let error = null; // { key, params }: a file refused here, before anything left
let pending = false; // a render is scheduled
let lastRender = 0;
let dropTimer = null;

const REFUSALS = {
  off: 'fileOff', too_large: 'fileTooLargeHere', bad_name: 'fileBadName', busy: 'fileBusyHere', closed: 'fileNotSent',
};

const size = (bytes) => formatSize(bytes, getLang());

function over() {
  return ui.isEndState(state) || ui.isFormState(state) || state === 'sign-in';
}

function canSend() {
  return transfers.canSend && !over() && ui.isVideoState(state);
}

function panelShown() {
  return !$('files').hidden && !$('files-panel').hidden;
}

// Why nothing can be sent now; null when a file can be.
function blockedKey() {
  if (ui.isEndState(state)) return 'filesEnded';
  if (!(transfers.limit > 0)) return 'fileOff';
  if (canSend()) return null;
  return hadChannel ? 'filesClosed' : 'filesWaiting';
}

// The sentence for a transfer, in the page's language.
function sentence(item) {
  const { key } = describe(item);
  return t(key, { name: item.name, size: size(item.size), limit: size(transfers.limit) });
}

// Changes come with every acknowledgement: the list is drawn at once, then at most every
// 50 ms while only the counts move. A new phase (accepted, checking, ended) is drawn at
// once, so a transfer shorter than 50 ms still shows its bar.
function scheduleRender() {
  if (transfers.list.some((i) => nodes.get(i.id)?.dataset.phase !== i.phase)) {
    render();
    return;
  }
  if (pending) return;
  const wait = lastRender + 50 - Date.now();
  if (wait <= 0) {
    render();
    return;
  }
  pending = true;
  setTimeout(() => {
    pending = false;
    render();
  }, wait);
}

function render() {
  lastRender = Date.now();
  const video = ui.isVideoState(state);
  const ended = ui.isEndState(state);
  const list = transfers.list;
  // During the session: the rail when files are on (or something was listed); after it,
  // the list alone, for the received files still to save, until the next session.
  const afterwards = ended && list.length > 0;
  $('files').hidden = !((video && (transfers.limit > 0 || list.length > 0)) || afterwards);
  $('files').classList.toggle('is-ended', ended);
  $('files-panel').hidden = !((video && expanded) || afterwards);
  if (panelShown() && document.visibilityState === 'visible') transfers.markSeen();

  const unseen = transfers.unseen;
  const toggle = $('files-toggle');
  toggle.hidden = !video;
  toggle.setAttribute('aria-expanded', String(video && expanded));
  toggle.setAttribute('aria-label', t('filesToggleAria', { n: unseen }));
  const badge = $('files-badge');
  badge.textContent = unseen > 9 ? '9+' : String(unseen);
  badge.classList.toggle('is-empty', unseen === 0);

  $('files-empty').hidden = list.length > 0;
  const blocked = blockedKey();
  $('files-pick').disabled = Boolean(blocked);
  $('files-pick').hidden = ended; // after the session the list is only there to save from
  $('files-hint').textContent = blocked ? t(blocked) : t('filesHint', { limit: size(transfers.limit) });
  const err = $('files-error');
  err.hidden = !error;
  const refusal = error ? t(error.key, error.params) : '';
  if (err.textContent !== refusal) err.textContent = refusal; // an alert is said when it changes

  renderList(list);
}

function renderList(list) {
  const ul = $('files-list');
  const ids = new Set(list.map((i) => i.id));
  for (const [id, node] of nodes) {
    if (!ids.has(id)) {
      node.remove();
      nodes.delete(id);
    }
  }
  for (const item of list) {
    let node = nodes.get(item.id);
    if (!node) {
      node = itemNode(item);
      nodes.set(item.id, node);
      const atEnd = ul.scrollHeight - ul.scrollTop - ul.clientHeight < 16;
      ul.append(node);
      if (atEnd) ul.scrollTop = ul.scrollHeight;
    }
    renderItem(node, item);
  }
}

function itemNode(item) {
  const li = document.createElement('li');
  li.className = `file-item ${item.dir === 'out' ? 'is-out' : 'is-in'}`;
  li.dataset.id = item.id;
  li.dataset.dir = item.dir;
  const head = document.createElement('p');
  head.className = 'file-head';
  const name = document.createElement('span');
  name.className = 'file-name';
  name.dir = 'auto'; // an Arabic name reads right to left, inside its own span
  name.textContent = item.name; // text, never markup
  const bytes = document.createElement('span');
  bytes.className = 'file-size';
  head.append(name, bytes);
  const dir = document.createElement('p');
  dir.className = 'file-dir';
  const bar = document.createElement('div');
  bar.className = 'file-bar';
  bar.setAttribute('role', 'progressbar');
  bar.setAttribute('aria-valuemin', '0');
  bar.setAttribute('aria-valuemax', '100');
  const fill = document.createElement('span');
  fill.className = 'file-bar-fill';
  bar.append(fill);
  const status = document.createElement('p');
  status.className = 'file-status';
  const actions = document.createElement('div');
  actions.className = 'file-actions';
  li.append(head, dir, bar, status, actions);
  return li;
}

function renderItem(li, item) {
  const out = item.dir === 'out';
  li.dataset.phase = item.phase;
  li.dataset.status = item.status ?? '';
  li.querySelector('.file-size').textContent = size(item.size);
  li.querySelector('.file-dir').textContent = t(out ? 'fileToResident' : 'fileFromResident');
  const moving = ['sending', 'receiving', 'checking'].includes(item.phase);
  const bar = li.querySelector('.file-bar');
  bar.hidden = !moving;
  if (moving) {
    const pct = item.size > 0 ? Math.floor((item.done / item.size) * 100) : 100;
    bar.setAttribute('aria-valuenow', String(pct));
    bar.setAttribute('aria-valuetext', t('fileProgress', { done: size(item.done), size: size(item.size) }));
    bar.setAttribute('aria-label', t('fileProgressAria', { out, name: item.name }));
    bar.firstChild.style.width = `${pct}%`;
  }
  const text = moving && !item.paused && item.phase !== 'checking'
    ? `${sentence(item)} ${t('fileProgress', { done: size(item.done), size: size(item.size) })}`
    : sentence(item);
  const status = li.querySelector('.file-status');
  if (status.textContent !== text) status.textContent = text;
  const problem = item.phase === 'ended' && item.status !== 'saved' && !(item.status === 'cancelled' && item.by !== 'resident');
  li.classList.toggle('is-problem', problem);
  renderActions(li, item);
}

// Cancel while a transfer goes; Save once a received file is whole and checked.
function renderActions(li, item) {
  const actions = li.querySelector('.file-actions');
  const want = isOpen(item) ? 'cancel' : item.blob ? 'save' : '';
  if (actions.dataset.kind !== want) {
    const hadFocus = actions.contains(document.activeElement);
    actions.replaceChildren();
    actions.dataset.kind = want;
    if (want === 'cancel') {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'file-cancel';
      button.addEventListener('click', () => transfers.cancel(item.id));
      actions.append(button);
    } else if (want === 'save') {
      const link = document.createElement('a');
      link.className = 'file-save';
      link.href = urlFor(item);
      link.download = item.name; // a download: the page never opens the file
      link.rel = 'noopener';
      actions.append(link);
    }
    // The button pressed went away: the focus stays in the list, not lost on the page.
    if (hadFocus) (actions.firstChild ?? $('files-list')).focus();
  }
  const control = actions.firstChild;
  if (want === 'cancel') {
    control.textContent = t('fileCancel');
    control.setAttribute('aria-label', t('fileCancelAria', { name: item.name }));
  } else if (want === 'save') {
    control.textContent = t('fileSave');
    control.setAttribute('aria-label', t('fileSaveAria', { name: item.name, size: size(item.size) }));
  }
}

function urlFor(item) {
  let url = urls.get(item.id);
  if (!url) {
    url = URL.createObjectURL(item.blob);
    urls.set(item.id, url);
  }
  return url;
}

function announce(text) {
  const el = $('files-notice');
  if (el.textContent === text) el.textContent = ''; // the same words again are said again
  el.textContent = text;
}

function onEvent(event) {
  if (event.type === 'dropped') {
    for (const item of event.items) {
      const url = urls.get(item.id);
      if (url) URL.revokeObjectURL(url);
      urls.delete(item.id);
    }
  } else if (event.type === 'incoming') {
    const { item } = event;
    announce(isOpen(item)
      ? t('fileIncoming', { name: item.name, size: size(item.size) })
      : t('fileEndedNotice', { name: item.name, text: sentence(item) }));
  } else if (event.type === 'ended') {
    const { item } = event;
    if (item.by === 'session') return; // the end of the session is said already
    const text = sentence(item);
    if (item.dir === 'in' && item.status === 'saved') announce(t('fileArrived', { name: item.name }));
    else announce(text.includes(item.name) ? text : t('fileEndedNotice', { name: item.name, text }));
  }
  scheduleRender();
}

async function offerFile(file) {
  const result = await transfers.offer(file);
  if (result.error) {
    error = {
      key: REFUSALS[result.error] ?? 'fileFailed',
      params: { name: result.name ?? '', size: size(file.size), limit: size(transfers.limit) },
    };
  } else {
    error = null;
  }
  render();
}

function offerFiles(files) {
  error = null;
  for (const file of files) offerFile(file);
}

function setExpanded(on, focus = true) {
  expanded = on;
  render();
  if (!focus) return;
  if (on) {
    const pick = $('files-pick');
    (pick.disabled ? $('files-list') : pick).focus();
  } else {
    $('files-toggle').focus();
  }
}

// Dragging files over the page: said over everything, wherever it is dropped. A file
// dropped on a browser page would otherwise be opened in place of the session.
function isFileDrag(event) {
  return [...(event.dataTransfer?.types ?? [])].includes('Files');
}

function showDrop(on) {
  $('files-drop').hidden = !on;
  clearTimeout(dropTimer);
  // dragover comes every few tens of milliseconds while a file is over the page.
  if (on) dropTimer = setTimeout(() => showDrop(false), 300);
}

function onDragOver(event) {
  if (!isFileDrag(event)) return;
  event.preventDefault();
  const ok = canSend();
  event.dataTransfer.dropEffect = ok ? 'copy' : 'none';
  showDrop(ok);
}

function onDrop(event) {
  if (!isFileDrag(event)) return;
  event.preventDefault();
  event.stopPropagation();
  showDrop(false);
  if (!canSend()) return;
  const files = [...(event.dataTransfer.files ?? [])];
  if (!files.length) return;
  setExpanded(true, false);
  offerFiles(files);
}

function onState(next) {
  state = next;
  if (ui.isFormState(next) || next === 'sign-in') reset();
  if (over()) {
    current = null;
    transfers.sessionOver();
  }
  if (ui.isEndState(next)) error = null; // nothing more will be sent
  render();
}

/** A new session: nothing of the last one is kept (received files included). */
export function reset() {
  transfers.clear();
  nodes.clear();
  $('files-list').replaceChildren();
  current = null;
  hadChannel = false;
  error = null;
  $('files-notice').textContent = '';
  render();
}

/** The largest file either way, from the relay's hello (0: files are off). */
export function setLimit(bytes) {
  transfers.setLimit(bytes);
  render();
}

/** This session's data channel (the agent's "acote"); a new one after a reconnection. */
export function attach(dc) {
  current = dc;
  const channel = createChannel(dc, {
    onFile: (msg) => {
      if (current === dc) transfers.receive(msg);
    },
  });
  const opened = () => {
    if (current !== dc) return;
    hadChannel = true;
    transfers.channelOpened((msg) => channel.send(msg));
    render();
  };
  dc.addEventListener('open', opened);
  dc.addEventListener('close', () => {
    if (current !== dc) return;
    transfers.channelClosed();
    render();
  });
  if (dc.readyState === 'open') opened();
  render();
}

/** The channel is gone: the session ended. */
export function detach() {
  current = null;
  transfers.sessionOver();
  render();
}

export function setup() {
  transfers.on(onEvent);
  $('files-toggle').addEventListener('click', () => setExpanded(!expanded));
  // Escape in the panel closes it and gives the focus back to the rail.
  $('files-panel').addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || event.isComposing || !ui.isVideoState(state)) return;
    event.preventDefault();
    setExpanded(false);
  });
  const input = $('files-input');
  $('files-pick').addEventListener('click', () => {
    if (canSend()) input.click();
  });
  input.addEventListener('change', () => {
    const files = [...(input.files ?? [])];
    input.value = ''; // the same file can be picked again
    if (files.length) offerFiles(files);
  });
  // On the window, before anything under the pointer (the picture's keyboard field).
  window.addEventListener('dragover', onDragOver, true);
  window.addEventListener('drop', onDrop, true);
  window.addEventListener('dragleave', (event) => {
    if (!event.relatedTarget) showDrop(false);
  }, true);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && panelShown() && transfers.unseen) render();
  });
  ui.onStateChange(onState);
  state = ui.getState();
  render();
}

/** New words after a language change. */
export function refresh() {
  render();
}
