// Wiring: code form → signaling → peer connection → video, and the state shown to the
// caseworker at each step. One "attempt" object per submitted code, with its own socket;
// anything arriving for an attempt that is over is ignored.
import { applyStatic, onLangChange, toggleLang } from '/src/i18n.js';
import { openSignal, signalUrl } from '/src/signal.js';
import { createPeer, toIceServers } from '/src/rtc.js';
import { createScreen, startStats } from '/src/video.js';
import * as ui from '/src/ui.js';
import * as control from '/src/control.js';
import { signIn, signOut, whoAmI } from '/src/account.js';

// Shared with tests and later features (pointer, chat, control over the data channel).
window.acote = { pc: null, channel: null, state: 'enter-code', stats: null };

const HELLO_TIMEOUT_MS = 15000;
const BYE_STATES = { refused: 'refused', no_answer: 'no-answer', ended: 'ended', peer_gone: 'connection-lost' };

const $ = (id) => document.getElementById(id);
const screen = createScreen($('screen'));
let attempt = null;

// The caseworker's "always through the relay" choice, kept on this computer.
const RELAY_ONLY_KEY = 'acote.relayOnly';
function relayOnlyWanted() {
  try {
    return localStorage.getItem(RELAY_ONLY_KEY) === '1';
  } catch {
    return false; // storage disabled: the choice holds for this page only
  }
}
const relayBox = $('relay-only');
relayBox.checked = relayOnlyWanted();
relayBox.addEventListener('change', () => {
  try {
    if (relayBox.checked) localStorage.setItem(RELAY_ONLY_KEY, '1');
    else localStorage.removeItem(RELAY_ONLY_KEY);
  } catch {
    // Not kept across pages; this session still follows the box below.
  }
});

// "482913" or "482 913" → "482913"; null when it is not exactly 6 digits.
function normaliseCode(raw) {
  const code = raw.replace(/\s+/g, '');
  return /^[0-9]{6}$/.test(code) ? code : null;
}

function start(code, procedure) {
  const a = {
    code, procedure, sig: null, peer: null, early: [], iceServers: [], over: false,
    relayOnly: relayBox.checked,
  };
  attempt = a;
  ui.setState('connecting');
  // A relay that accepts the socket but never says hello must not leave us waiting.
  a.helloTimer = setTimeout(() => finish(a, 'connection-lost'), HELLO_TIMEOUT_MS);
  a.sig = openSignal(signalUrl(), {
    onOpen: () => a.sig.send({ type: 'hello', v: 1, role: 'viewer' }),
    onMessage: (msg) => {
      if (!a.over) handle(a, msg);
    },
    onClose: () => finish(a, 'connection-lost'),
  });
}

function handle(a, msg) {
  switch (msg.type) {
    case 'hello':
      clearTimeout(a.helloTimer);
      if (msg.v !== 1) {
        finish(a, 'error', 'versionMismatch');
        return;
      }
      ui.setSite(msg.site);
      a.iceServers = toIceServers(msg.ice_servers);
      a.sig.send(a.procedure ? { type: 'redeem', code: a.code, procedure: a.procedure }
        : { type: 'redeem', code: a.code });
      break;
    case 'paired':
      ui.setState('waiting-resident');
      break;
    case 'ice_servers':
      // This session's STUN/TURN with its own credentials, replacing hello's list.
      a.iceServers = toIceServers(msg.ice_servers);
      if (msg.relay_only === true) a.relayOnly = true;
      break;
    case 'resident':
      ui.setResidentLang(msg.lang);
      break;
    case 'offer':
      onOffer(a, msg.sdp);
      break;
    case 'candidate':
      // Relay-only: pairs with the resident's own addresses are not wanted, and the
      // relay's refusals of them could end the attempt before the relayed pair exists.
      if (a.relayOnly && !/ typ relay( |$)/.test(String(msg.candidate))) break;
      if (a.peer) a.peer.addCandidate(msg);
      else a.early.push(msg); // before the offer: kept until the peer exists
      break;
    case 'bye':
      if (msg.reason === 'peer_gone') finish(a, 'connection-lost', 'peerLost');
      else finish(a, BYE_STATES[msg.reason] ?? 'ended');
      break;
    case 'error':
      if (msg.code === 'invalid_code') finish(a, 'invalid-code');
      else if (msg.code === 'rate_limited') finish(a, 'rate-limited', 'rateLimitedFor', { secs: limitSecs(msg.message) });
      else if (msg.code === 'sign_in_required') {
        finish(a, 'sign-in', 'sessionExpired');
        ui.setAccount(null);
      } else if (msg.code === 'unavailable' && /audit/.test(String(msg.message))) finish(a, 'error', 'auditDown');
      else finish(a, 'error', 'error', { message: typeof msg.message === 'string' ? msg.message : '' });
      break;
    default:
      break; // types from newer relays: ignored, like unknown fields
  }
}

async function onOffer(a, sdp) {
  if (typeof sdp !== 'string') return;
  if (ui.getState() !== 'watching') ui.setState('starting-video');
  if (!a.peer) {
    a.peer = createPeer(a.iceServers, a.relayOnly, {
      onCandidate: (c) => a.sig.send({ type: 'candidate', ...c }),
      onTrack: (stream) => screen.show(stream, () => onFirstFrame(a)),
      onChannel: (channel) => {
        if (a.over) return;
        window.acote.channel = channel;
        control.attach(channel);
        window.dispatchEvent(new CustomEvent('acote:channel', { detail: channel }));
      },
      onFailed: () => finish(a, 'connection-lost', 'peerLost'),
    });
    window.acote.pc = a.peer.pc;
    // What the connection was set up with, for support (no credentials).
    window.acote.ice = {
      relayOnly: a.relayOnly,
      urls: a.iceServers.flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls])),
    };
    for (const c of a.early) a.peer.addCandidate(c);
    a.early = [];
  }
  try {
    const answer = await a.peer.acceptOffer(sdp);
    if (!a.over) a.sig.send({ type: 'answer', sdp: answer });
  } catch {
    if (!a.over) {
      a.sig.send({ type: 'bye', reason: 'error' });
      finish(a, 'error', 'videoFailed');
    }
  }
}

// "try again in 10 min" from the relay → 600 (seconds); 60 when it does not say.
function limitSecs(message) {
  const m = /(\d+)\s*min/.exec(String(message ?? ''));
  return m ? Number(m[1]) * 60 : 60;
}

function onFirstFrame(a) {
  if (a.over || ui.getState() === 'watching') return;
  ui.setState('watching');
  a.stopStats = startStats(a.peer.pc, (stats) => {
    if (a.over) return;
    window.acote.stats = stats;
    ui.setLink(stats.path, stats.rttMs);
  });
}

// Ends an attempt exactly once: frees the peer and the socket, then shows the outcome.
function finish(a, state, key = state, params = {}) {
  if (a.over) return;
  a.over = true;
  clearTimeout(a.helloTimer);
  a.stopStats?.();
  a.peer?.close();
  a.sig?.close();
  screen.clear();
  if (attempt === a) {
    control.detach();
    Object.assign(window.acote, { pc: null, channel: null, stats: null });
    ui.setState(state, key, params);
  }
}

function endByUser() {
  const a = attempt;
  if (!a || a.over) return;
  a.sig.send({ type: 'bye', reason: 'ended' });
  finish(a, 'ended');
}

$('code-form').addEventListener('submit', (event) => {
  event.preventDefault();
  if (!ui.isFormState()) return; // a second click while connecting
  const code = normaliseCode($('code').value);
  if (!code) {
    ui.setFieldError('codeFormat');
    $('code').focus();
    return;
  }
  ui.setFieldError(null);
  start(code, $('procedure').value.trim().slice(0, 60));
});

let signingIn = false;
$('sign-in-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (signingIn) return;
  const login = $('login').value.trim();
  const password = $('password').value;
  if (!login || !password) {
    ui.setState('sign-in', 'fieldsMissing');
    return;
  }
  signingIn = true;
  ui.setState('sign-in', 'signingIn');
  const result = await signIn(login, password);
  signingIn = false;
  if (result.account) {
    ui.setAccount(result.account);
    ui.setState('enter-code');
  } else {
    ui.setState('sign-in', result.error, result.params ?? {});
  }
});

// A caseworker watching a session is active even without clicking: keep the sign-in
// alive meanwhile (the relay ends it after 30 idle minutes), checking every 5 minutes.
setInterval(() => {
  if (ui.isSessionState()) whoAmI();
}, 5 * 60 * 1000);

$('sign-out').addEventListener('click', async () => {
  endByUser();
  await signOut();
  ui.setAccount(null);
  $('login').value = '';
  ui.setState('sign-in', 'signedOut');
});

$('code').addEventListener('input', () => ui.setFieldError(null));
$('end').addEventListener('click', endByUser);
$('new-session').addEventListener('click', () => ui.setState('enter-code'));
$('lang').addEventListener('click', toggleLang);
onLangChange(() => {
  ui.refresh();
  control.refresh();
});

// Closing the tab mid-session: tell the resident's side right away.
window.addEventListener('pagehide', endByUser);

applyStatic();
control.setup();
// Signed in already (cookie still alive)? Straight to the code; else the sign-in form.
whoAmI().then((account) => {
  ui.setAccount(account);
  if (account) {
    ui.setState('enter-code');
    $('code').focus();
  } else {
    ui.setState('sign-in', 'signInPrompt');
  }
});
