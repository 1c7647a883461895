// The control toolbar: ask for control, give it back, point at a spot, send a line of
// text; and the mode the caseworker is in, in plain words. The agent is the only
// authority: this page shows the state the agent reports and never assumes a grant.
import { t } from '/src/i18n.js';
import { createChannel } from '/src/channel.js';
import { captureInput } from '/src/input.js';

const $ = (id) => document.getElementById(id);

// Agent state → the mode shown here.
const MODES = {
  viewing: 'watching',
  asking: 'asking',
  controlling: 'controlling',
  refused: 'refused',
  no_answer: 'no-answer',
  taken_back: 'taken-back',
};

let channel = null;
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
}

function setMode(next) {
  if (next !== 'controlling' && mode === 'controlling') input?.releaseAll();
  mode = next;
  if (next === 'controlling') {
    notice = null;
    $('keyboard').focus({ preventScroll: true });
  }
  render();
}

// A new data channel (a new session): start from "watching".
export function attach(dc) {
  channel = createChannel(dc, {
    onControl: (state) => setMode(MODES[state] ?? 'watching'),
    onRefused: (reason, count) => {
      notice = { key: reason === 'not_in_control' ? 'notInControl' : 'inputRefused', params: { count } };
      render();
    },
  });
  dc.addEventListener('open', render);
  dc.addEventListener('close', () => detach());
  mode = 'watching';
  pointing = false;
  notice = null;
  render();
}

export function detach() {
  input?.releaseAll();
  channel = null;
  mode = 'watching';
  pointing = false;
  notice = null;
  render();
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
