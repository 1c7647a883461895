// The control toolbar: ask for control, give it back, point at a spot, send a line of
// text, low data; and the mode the caseworker is in, in plain words. The agent is the only
// authority: this page shows the state the agent reports and never assumes a grant.
import { t } from '/src/i18n.js';
import { createChannel } from '/src/channel.js';
import { captureInput } from '/src/input.js';
import { attachSas, detachSas, onSasMessage, render as renderSas } from '/src/security.js';
import { $ } from '/src/dom.js';

// Agent state → the mode shown here.
const MODES = {
  viewing: 'watching',
  asking: 'asking',
  controlling: 'controlling',
  refused: 'refused',
  no_answer: 'no-answer',
  taken_back: 'taken-back',
};

// Low data (a rate and frame-rate cap on the agent, for poor links), kept on this
// computer like the relay-only choice. It needs no control: it only lowers what is sent.
const LOW_DATA_KEY = 'acote.lowData';
function lowDataWanted() {
  try {
    return localStorage.getItem(LOW_DATA_KEY) === '1';
  } catch {
    return false; // storage disabled: the box holds for this page only
  }
}

let channel = null;
let dataSent = null;
let mode = 'watching';
let pointing = false;
let notice = null;
let input = null;

export function inputMode() {
  if (pointing) return 'point';
  return mode === 'controlling' ? 'control' : 'watch';
}

function send(msg) {
  return channel?.send(msg) ?? false;
}

function render() {
  document.body.dataset.control = mode;
  $('control-mode').textContent = t(`mode-${mode}`);
  const request = $('request-control');
  const inControl = mode === 'controlling';
  request.textContent = t(inControl ? 'giveBack' : 'requestControl');
  request.disabled = mode === 'asking' || !channel;
  $('point').setAttribute('aria-pressed', String(pointing));
  $('point').disabled = !channel;
  $('type-text').disabled = !inControl;
  $('type-send').disabled = !inControl;
  $('keyboard').classList.toggle('is-control', inControl);
  $('keyboard').classList.toggle('is-point', pointing);
  $('control-notice').hidden = !notice;
  $('control-notice').textContent = notice ? t(notice.key, notice.params) : '';
  $('data-sent').hidden = dataSent == null;
  $('data-sent').textContent = dataSent == null ? '' : t('dataSent', { amount: amount(dataSent) });
  renderSas();
}

// Bytes → "740 KB" / "2.4 MB", in decimal units, as the resident's window says it.
function amount(bytes) {
  if (bytes < 999500) return t('kb', { n: Math.ceil(bytes / 1000) });
  const x = (Math.round(bytes / 100000) / 10).toFixed(1);
  return t('mb', { x: document.documentElement.lang === 'fr' ? x.replace('.', ',') : x });
}

// Tells the agent the box's state; called when it changes, when the channel opens and
// after a resume, so the agent follows the box even across reconnections.
export function sendLowData(always = false) {
  const on = $('low-data').checked;
  if (on || always) send({ type: 'low_data', on });
}

// Other parts of the page that follow control (the clipboard buttons): called with the
// mode shown ('watching', 'asking', 'controlling'…) whenever it changes.
const modeListeners = [];
export function onModeChange(fn) {
  modeListeners.push(fn);
}

function tellMode() {
  for (const fn of modeListeners) fn(mode);
}

function setMode(next) {
  if (next !== 'controlling' && mode === 'controlling') input?.releaseAll();
  mode = next;
  if (next === 'controlling') {
    notice = null;
    $('keyboard').focus({ preventScroll: true });
  }
  render();
  tellMode();
}

// A new data channel (a new session): start from "watching". `pc` is its peer
// connection, whose descriptions give the security code's fingerprints.
export function attach(dc, pc) {
  channel = createChannel(dc, {
    onControl: (state) => {
      const next = MODES[state] ?? 'watching';
      // Control is only entered after this page asked for it: an agent (or anything posing
      // as one) saying "controlling" unprompted is not believed (issue 16).
      if (next === 'controlling' && mode !== 'asking' && mode !== 'controlling') return;
      setMode(next);
    },
    onRefused: (reason, count) => {
      notice = { key: reason === 'not_in_control' ? 'notInControl' : 'inputRefused', params: { count } };
      render();
    },
    onDataSent: (bytes) => {
      dataSent = bytes;
      render();
    },
    onSas: onSasMessage,
  });
  attachSas(pc, send);
  dc.addEventListener('open', () => {
    sendLowData();
    render();
  });
  if (dc.readyState === 'open') sendLowData();
  dc.addEventListener('close', () => detach());
  mode = 'watching';
  pointing = false;
  notice = null;
  render();
  tellMode();
}

export function detach() {
  input?.releaseAll();
  detachSas();
  channel = null;
  dataSent = null;
  mode = 'watching';
  pointing = false;
  notice = null;
  render();
  tellMode();
}

export function setup() {
  input = captureInput({ video: $('screen'), keyboard: $('keyboard'), mode: inputMode, send });
  $('request-control').addEventListener('click', () => {
    if (mode === 'controlling') {
      input.releaseAll();
      send({ type: 'control', action: 'release' });
    } else if (send({ type: 'control', action: 'request' })) {
      setMode('asking');
    }
  });
  $('point').addEventListener('click', () => {
    pointing = !pointing;
    render();
    $('keyboard').focus({ preventScroll: true });
  });
  const lowData = $('low-data');
  lowData.checked = lowDataWanted();
  lowData.addEventListener('change', () => {
    try {
      if (lowData.checked) localStorage.setItem(LOW_DATA_KEY, '1');
      else localStorage.removeItem(LOW_DATA_KEY);
    } catch {
      // Not kept across pages; this session still follows the box.
    }
    sendLowData(true);
  });
  $('type-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const field = $('type-text');
    const text = field.value;
    if (!text || mode !== 'controlling') return;
    if (send({ type: 'text', text: text.slice(0, 4000) })) field.value = '';
  });
  render();
}

export function refresh() {
  render();
}
