// Voice with the resident: "Talk" in the toolbar asks the agent, which asks the resident
// on their screen; while asking, Cancel; while the call is on, one large Mute/Unmute
// button and Hang up. A status line under the toolbar says where the call is, in plain
// words. Needs no control: it works while the caseworker only watches.
//
// The caseworker's microphone is opened only once the agent says the call is on, and put
// on the audio transceiver's sender; Mute really closes it (replaceTrack(null), then the
// track stopped, so the browser's microphone light goes off), Unmute opens a new one.
// When the microphone is refused or missing, nothing more is sent to the agent: the page
// says so and the caseworker keeps listening. The resident's voice plays through an
// <audio> element (Chromium plays remote WebRTC audio only through a media element).
// Nothing is recorded or stored. The pure rules are in voice.js.
import { t } from '/src/i18n.js';
import { createChannel } from '/src/channel.js';
import {
  ASK_TIMEOUT_MS, MIC_CONSTRAINTS, REQUEST, createCall, micProblem, micWanted, readVoice, sentences,
} from '/src/voice.js';
import { $ } from '/src/dom.js';

// A calm end ("The call has ended.") leaves the picture after this long; the problems
// (refused, no answer, no microphone or speaker there) stay until the next call.
const END_SHOWN_MS = 10000;

const call = createCall();
let channel = null; // from channel.js, for the current data channel
let current = null; // that data channel
let pc = null; // the current peer connection
let transceiver = null; // the audio transceiver of the current peer connection
let remote = null; // the resident's audio track
let track = null; // the caseworker's microphone track, once on the sender
let starting = false; // getUserMedia (or replaceTrack) under way
let generation = 0; // bumped to drop a microphone that arrives after it was no longer wanted
let askTimer = null;
let endTimer = null;
let endFaded = false; // the calm end sentence has been shown long enough
let onChange = () => {};

function supported() {
  return Boolean(transceiver && remote);
}

// Which set of buttons is shown: the others keep their place, invisible (see style.css).
function buttonSet(state) {
  if (state === 'asking') return 'voice-asking';
  if (state === 'on') return 'voice-on';
  return 'voice-idle';
}

function publish() {
  const v = call.view;
  onChange({ state: v.state, residentMuted: v.residentMuted, micAttached: Boolean(track), muted: v.muted });
}

function render() {
  const v = call.view;
  const group = $('voice');
  const wasIn = group.contains(document.activeElement);
  group.hidden = !supported();
  const shown = buttonSet(v.state);
  for (const id of ['voice-idle', 'voice-asking', 'voice-on']) {
    const set = $(id);
    const on = id === shown;
    set.classList.toggle('is-off', !on);
    for (const b of set.querySelectorAll('button')) b.disabled = !on;
  }
  $('voice-talk').disabled = shown !== 'voice-idle' || !channel?.open;

  // Its words (both in the page, one shown) follow whether the microphone is wanted.
  $('voice-mute').classList.toggle('is-muted', !micWanted(v));

  const line = $('voice-status');
  const s = sentences(v, { starting });
  const said = endFaded && v.state === 'off' ? '' : s.keys.map((k) => t(k)).join(' ');
  line.classList.toggle('is-problem', s.problem);
  if (line.textContent !== said) line.textContent = said; // said once, not on each render

  // The button that had the focus went with its state: the focus goes to the one shown,
  // never lost to the page.
  const active = document.activeElement;
  if (wasIn && (!group.contains(active) || active.disabled)) {
    const next = $({ 'voice-idle': 'voice-talk', 'voice-asking': 'voice-cancel', 'voice-on': 'voice-mute' }[shown]);
    if (!group.hidden && !next.disabled) next.focus();
  }
  publish();
}

// Everything that follows the call's state: the microphone, the resident's sound, the
// timers, the screen.
function sync() {
  const v = call.view;
  if (micWanted(v) && !track && !starting) startMic();
  else if (!micWanted(v) && (track || starting)) stopMic();
  // The resident is heard only during a call: hanging up silences them at once.
  $('voice-audio').muted = v.state !== 'on';
  if (v.state === 'on') play();

  if (v.state === 'asking' && !askTimer) {
    askTimer = setTimeout(() => {
      askTimer = null;
      const msg = call.poll(Date.now());
      if (msg) channel?.send(msg);
      sync();
    }, ASK_TIMEOUT_MS + 50);
  } else if (v.state !== 'asking' && askTimer) {
    clearTimeout(askTimer);
    askTimer = null;
  }

  if (v.state === 'off' && !endTimer && !endFaded) {
    endTimer = setTimeout(() => {
      endTimer = null;
      endFaded = true;
      render();
    }, END_SHOWN_MS);
  } else if (v.state !== 'off') {
    clearTimeout(endTimer);
    endTimer = null;
    endFaded = false;
  }
  render();
}

function play() {
  const audio = $('voice-audio');
  if (audio.srcObject && audio.paused) audio.play().catch(() => {
    // Autoplay held back: the next click on a voice button plays it.
  });
}

async function startMic() {
  const gen = ++generation;
  const sender = transceiver?.sender;
  starting = true;
  let problem = null;
  let mine = null;
  try {
    // Only in a secure context (the viewer is served over https): elsewhere the browser
    // has no getUserMedia at all.
    if (!navigator.mediaDevices?.getUserMedia) {
      problem = 'insecure';
    } else if (!sender) {
      problem = 'failed';
    } else {
      const stream = await navigator.mediaDevices.getUserMedia(MIC_CONSTRAINTS);
      mine = stream.getAudioTracks()[0] ?? null;
      for (const other of stream.getTracks()) if (other !== mine) other.stop();
      if (!mine) problem = 'absent';
      else if (gen === generation) await sender.replaceTrack(mine);
    }
  } catch (err) {
    problem = mine ? 'failed' : micProblem(err?.name);
  }
  if (gen !== generation) {
    // No longer wanted (muted, hung up, ended) while it opened: closed again at once. A
    // replaceTrack(null) queued since runs after ours, so the sender is left empty.
    mine?.stop();
    return;
  }
  starting = false;
  if (problem) {
    mine?.stop();
    call.micFailed(problem);
    sync();
    return;
  }
  track = mine;
  // Unplugged, or the permission taken back: the caseworker is told, and still listens.
  mine.addEventListener('ended', () => {
    if (track !== mine) return;
    stopMic();
    call.micFailed('lost');
    sync();
  });
  sync();
}

function stopMic() {
  generation += 1;
  starting = false;
  const mine = track;
  track = null;
  // Always, even with no track yet: one still being put on the sender is queued before
  // this, so the sender ends empty.
  try {
    transceiver?.sender.replaceTrack(null).catch(() => {});
  } catch {
    // The peer connection is closed: nothing is sent any more anyway.
  }
  mine?.stop();
}

function talk() {
  if (!call.canRequest) return;
  play();
  if (channel?.send(REQUEST)) call.requested(Date.now());
  else call.notSent();
  sync();
}

function hangUp() {
  const msg = call.hangUp(Date.now());
  if (msg) channel?.send(msg); // not sent when the channel is closed: the agent ends it then
  sync();
}

function toggleMute() {
  play();
  call.setMuted(micWanted(call.view));
  sync();
}

function clearTimers() {
  clearTimeout(askTimer);
  clearTimeout(endTimer);
  askTimer = null;
  endTimer = null;
  endFaded = false;
}

// Voice off: the microphone closed, the resident's sound let go, the call forgotten.
function forget() {
  stopMic();
  clearTimers();
  call.reset();
  transceiver = null;
  remote = null;
  $('voice-audio').srcObject = null;
}

/** A new session: nothing of the last one is kept. */
export function reset() {
  forget();
  channel = null;
  current = null;
  pc = null;
  sync();
}

/** A new peer connection: voice starts off on both sides. */
export function setPeer(next) {
  forget();
  pc = next;
  sync();
}

/** The resident's audio track and its transceiver, whose sender takes the caseworker's
 * microphone. An agent older than voice has none: the voice buttons stay hidden. */
export function setAudio(audioTrack, audioTransceiver) {
  transceiver = audioTransceiver
    ?? pc?.getTransceivers().find((tr) => tr.receiver.track === audioTrack)
    ?? null;
  if (remote === audioTrack) return; // the same track again (a new offer on this connection)
  remote = audioTrack;
  $('voice-audio').srcObject = new MediaStream([audioTrack]);
  sync();
}

/** This session's data channel (the agent's "acote"). */
export function attach(dc) {
  current = dc;
  channel = createChannel(dc, {});
  dc.addEventListener('message', (event) => {
    if (current !== dc) return;
    const update = readVoice(event.data);
    if (update && call.agent(update, Date.now())) sync();
  });
  dc.addEventListener('open', () => {
    if (current === dc) render();
  });
  dc.addEventListener('close', () => {
    if (current !== dc) return;
    call.lost();
    sync();
  });
  sync();
}

/** The channel is gone (the session ended): a call ends with it. */
export function detach() {
  channel = null;
  current = null;
  call.lost();
  sync(); // the microphone closed with the call
  $('voice-audio').srcObject = null;
}

/** `changed(voice)` is told { state, residentMuted, micAttached, muted } whenever it changes. */
export function setup({ changed } = {}) {
  if (changed) onChange = changed;
  $('voice-talk').addEventListener('click', talk);
  $('voice-cancel').addEventListener('click', hangUp);
  $('voice-hangup').addEventListener('click', hangUp);
  $('voice-mute').addEventListener('click', toggleMute);
  sync();
}

/** New words after a language change. */
export function refresh() {
  render();
}
