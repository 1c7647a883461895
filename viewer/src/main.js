// Wiring: code form → signaling → peer connection → video, and the state shown to the
// caseworker at each step. One "attempt" object per submitted code; anything arriving
// for an attempt that is over is ignored.
//
// Resumption: once the resident said yes, the relay gives this page a resumption token
// (kept in this attempt's memory only: a reload ends the session anyway, since leaving
// the page says bye, and a bearer secret has no business in storage). If the socket
// drops, the page shows "reconnecting" over the still-running picture, reconnects with
// back-off and presents the token; after 60 s without success the session is over.
import { applyStatic, onLangChange, toggleLang } from '/src/i18n.js';
import { openSignal, signalUrl } from '/src/signal.js';
import { createPeer, toIceServers } from '/src/rtc.js';
import { createScreen, startStats } from '/src/video.js';
import * as ui from '/src/ui.js';
import * as control from '/src/control.js';
import * as view from '/src/view.js';
import { signIn, signOut, whoAmI } from '/src/account.js';
import * as passkeys from '/src/passkeys-ui.js';

// Shared with tests and later features (pointer, chat, control over the data channel).
window.acote = { pc: null, channel: null, state: 'enter-code', stats: null };

const HELLO_TIMEOUT_MS = 15000;
// How long a dropped session may take to come back (the relay's window, DESIGN §3).
const RESUME_WINDOW_MS = 60000;
const RETRY_MS = [500, 1000, 2000, 4000, 8000];
const BYE_STATES = { refused: 'refused', no_answer: 'no-answer', ended: 'ended', peer_gone: 'connection-lost' };

const $ = (id) => document.getElementById(id);
const screen = createScreen($('screen'), { frame: $('frame'), stage: $('stage') });
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
    token: null, resuming: false, retries: 0, lostTimer: null, retryTimer: null,
  };
  attempt = a;
  ui.setState('connecting');
  connect(a);
}

// One signaling socket for the attempt: the first, or a reconnection with the token.
function connect(a) {
  // A relay that accepts the socket but never says hello must not leave us waiting.
  a.helloTimer = setTimeout(() => dropped(a), HELLO_TIMEOUT_MS);
  const sig = openSignal(signalUrl(), {
    onOpen: () => sig.send(a.resuming
      ? { type: 'hello', v: 1, role: 'viewer', resume: a.token }
      : { type: 'hello', v: 1, role: 'viewer' }),
    onMessage: (msg) => {
      if (!a.over && a.sig === sig) handle(a, msg);
    },
    onClose: () => {
      if (a.sig === sig) dropped(a);
    },
  });
  a.sig = sig;
}

// The socket ended without us asking. A session the resident agreed to waits for the
// link to come back; anything earlier ends as before.
function dropped(a) {
  clearTimeout(a.helloTimer);
  if (a.over) return;
  if (!a.token) {
    finish(a, 'connection-lost');
    return;
  }
  a.sig?.close();
  if (!a.resuming) {
    a.resuming = true;
    a.retries = 0;
    ui.setState('reconnecting', 'reconnecting');
    a.lostTimer = setTimeout(() => finish(a, 'connection-lost', 'connectionLostFor'), RESUME_WINDOW_MS);
  }
  const delay = RETRY_MS[Math.min(a.retries, RETRY_MS.length - 1)];
  a.retries += 1;
  a.retryTimer = setTimeout(() => {
    if (!a.over) connect(a);
  }, delay);
}

function resumed(a, peerPresent) {
  a.resuming = false;
  clearTimeout(a.lostTimer);
  // The agent may have lost the setting with the path: say it again.
  control.sendLowData();
  if (peerPresent) backToPicture(a);
  else ui.setState('reconnecting', 'residentReconnecting');
}

function backToPicture(a) {
  ui.setState(a.stopStats ? 'watching' : 'starting-video');
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
      if (a.resuming) break; // the token went with the hello; no code to redeem
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
      // Back after a drop: a later ICE restart must use the fresh credentials.
      if (a.peer) {
        try {
          a.peer.pc.setConfiguration({
            iceServers: a.iceServers, iceTransportPolicy: a.relayOnly ? 'relay' : 'all',
          });
        } catch {
          // Kept as it was; the current path is unaffected.
        }
      }
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
    case 'resume_token':
      if (typeof msg.token === 'string') a.token = msg.token;
      break;
    case 'resumed':
      resumed(a, msg.peer_present === true);
      break;
    case 'peer_away':
      ui.setState('reconnecting', 'residentReconnecting');
      break;
    case 'peer_back':
      backToPicture(a);
      break;
    case 'bye':
      if (msg.reason === 'peer_gone') finish(a, 'connection-lost', 'peerLost');
      else if (msg.reason === 'connection_lost') finish(a, 'connection-lost', 'connectionLostFor');
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
  // A second offer is an ICE restart after a resume: the picture is already there.
  if (!a.peer) ui.setState('starting-video');
  if (!a.peer) {
    a.peer = createPeer(a.iceServers, a.relayOnly, {
      onCandidate: (c) => a.sig.send({ type: 'candidate', ...c }),
      onTrack: (stream) => screen.show(stream, () => onFirstFrame(a)),
      onChannel: (channel) => {
        if (a.over) return;
        window.acote.channel = channel;
        control.attach(channel, a.peer.pc);
        window.dispatchEvent(new CustomEvent('acote:channel', { detail: channel }));
      },
      // While a side is reconnecting, the agent restarts ICE once both are back.
      // Otherwise the path to the resident is gone: say so to both sides at once.
      onFailed: () => {
        if (ui.getState() === 'reconnecting') return;
        a.sig.send({ type: 'bye', reason: 'error' });
        finish(a, 'connection-lost', 'peerLost');
      },
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
  if (a.over || a.stopStats) return;
  a.stopStats = startStats(a.peer.pc, (stats) => {
    if (a.over) return;
    window.acote.stats = stats;
    ui.setLink(stats.path, stats.rttMs);
  });
  // During a reconnection the state stays: the first frame changes nothing the
  // caseworker must act on.
  if (ui.getState() === 'starting-video') ui.setState('watching');
}

// Ends an attempt exactly once: frees the peer and the socket, then shows the outcome.
function finish(a, state, key = state, params = {}) {
  if (a.over) return;
  a.over = true;
  clearTimeout(a.helloTimer);
  clearTimeout(a.lostTimer);
  clearTimeout(a.retryTimer);
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
  view.resumeFullScreen();
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
    passkeys.load();
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
  passkeys.clear();
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
  view.refresh();
  passkeys.refresh();
});

// Closing the tab mid-session: tell the resident's side right away.
window.addEventListener('pagehide', endByUser);

applyStatic();
control.setup();
view.setup(screen);
passkeys.setup();
// Signed in already (cookie still alive)? Straight to the code; else the sign-in form.
whoAmI().then((account) => {
  ui.setAccount(account);
  if (account) {
    ui.setState('enter-code');
    passkeys.load();
    $('code').focus();
  } else {
    ui.setState('sign-in', 'signInPrompt');
  }
});
