// Wiring: code form → signaling → peer connection → video. What happens at each step
// (pairing, the picture, reconnecting after a drop, the end) is decided by the pure
// session-state.js; this file performs its effects: sockets, timers, the peer
// connection, the screen. One attempt object per submitted code; anything arriving for
// an attempt that is over, or from a socket it replaced, is ignored.
import { applyStatic, onLangChange, toggleLang } from '/src/i18n.js';
import { openSignal, signalUrl } from '/src/signal.js';
import { createPeer, toIceServers } from '/src/rtc.js';
import { createScreen, startStats } from '/src/video.js';
import * as ui from '/src/ui.js';
import * as control from '/src/control.js';
import * as view from '/src/view.js';
import * as chat from '/src/chat-ui.js';
import * as files from '/src/files-ui.js';
import * as clipboard from '/src/clipboard-ui.js';
import * as screens from '/src/screens-ui.js';
import * as voice from '/src/voice-ui.js';
import { signIn, signOut, whoAmI } from '/src/account.js';
import * as passkeys from '/src/passkeys-ui.js';
import * as session from '/src/session-state.js';
import { $ } from '/src/dom.js';

// Shared with tests and later features (pointer, chat, control over the data channel).
// voice: the call as this page shows it (voice-ui.js keeps it up to date).
window.acote = {
  pc: null,
  channel: null,
  state: 'enter-code',
  stats: null,
  voice: { state: 'idle', residentMuted: false, micAttached: false, muted: false },
};

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

function start(code, procedure) {
  chat.reset(); // a new session: the last one's messages are gone
  files.reset(); // and its files
  clipboard.reset();
  screens.reset();
  voice.reset(); // and its call: the microphone closed
  const first = session.start(code, procedure, relayBox.checked);
  const a = { sm: first.state, sig: null, peer: null, timers: new Map(), stopStats: null };
  attempt = a;
  perform(a, first.effects);
}

// Feeds one event to the attempt's state machine and performs what it decides.
function dispatch(a, event) {
  const { state, effects } = session.step(a.sm, event);
  a.sm = state;
  perform(a, effects);
}

function perform(a, effects) {
  for (const e of effects) EFFECTS[e.type](a, e);
}

function stopTimer(a, name) {
  clearTimeout(a.timers.get(name));
  a.timers.delete(name);
}

const EFFECTS = {
  show: (a, e) => ui.setState(e.state, e.key, e.params),
  send: (a, e) => a.sig?.send(e.msg),
  timer: (a, e) => {
    stopTimer(a, e.name);
    a.timers.set(e.name, setTimeout(() => {
      a.timers.delete(e.name);
      dispatch(a, { type: 'timer', name: e.name });
    }, e.ms));
  },
  cancel: (a, e) => stopTimer(a, e.name),
  connect: (a) => {
    const sig = openSignal(signalUrl(), {
      onOpen: () => {
        if (a.sig === sig) dispatch(a, { type: 'open' });
      },
      onMessage: (msg) => {
        if (a.sig === sig) dispatch(a, { type: 'message', msg });
      },
      onClose: () => {
        if (a.sig === sig) dispatch(a, { type: 'closed' });
      },
    });
    a.sig = sig;
  },
  'close-socket': (a) => a.sig?.close(),
  site: (a, e) => ui.setSite(e.name),
  'file-limit': (a, e) => files.setLimit(e.bytes),
  'resident-lang': (a, e) => ui.setResidentLang(e.lang),
  'create-peer': createPeerFor,
  'configure-peer': (a, e) => {
    try {
      a.peer?.pc.setConfiguration({
        iceServers: toIceServers(e.iceServers), iceTransportPolicy: e.relayOnly ? 'relay' : 'all',
      });
    } catch {
      // Kept as it was; the current path is unaffected.
    }
  },
  'add-candidate': (a, e) => a.peer?.addCandidate(e.candidate),
  'accept-offer': (a, e) => {
    a.peer.acceptOffer(e.sdp).then(
      (sdp) => dispatch(a, { type: 'answer', sdp }),
      () => dispatch(a, { type: 'offer-failed' }),
    );
  },
  'start-stats': (a) => {
    a.stopStats = startStats(a.peer.pc, (stats) => {
      if (a.sm.over) return;
      window.acote.stats = stats;
      ui.setLink(stats.path, stats.rttMs);
    });
  },
  'low-data': () => control.sendLowData(),
  end: endAttempt,
  'signed-out': () => ui.setAccount(null),
};

function createPeerFor(a, e) {
  const iceServers = toIceServers(e.iceServers);
  a.peer = createPeer(iceServers, e.relayOnly, {
    onCandidate: (candidate) => dispatch(a, { type: 'local-candidate', candidate }),
    onTrack: (stream) => screen.show(stream, () => dispatch(a, { type: 'first-frame' })),
    onAudio: (track, transceiver) => {
      if (attempt === a && !a.sm.over) voice.setAudio(track, transceiver);
    },
    onChannel: (channel) => {
      if (a.sm.over) return;
      window.acote.channel = channel;
      control.attach(channel, a.peer.pc);
      chat.attach(channel);
      files.attach(channel);
      clipboard.attach(channel);
      screens.attach(channel);
      voice.attach(channel);
      window.dispatchEvent(new CustomEvent('acote:channel', { detail: channel }));
    },
    onFailed: () => dispatch(a, { type: 'peer-failed' }),
  });
  window.acote.pc = a.peer.pc;
  voice.setPeer(a.peer.pc); // a new connection: voice off on both sides
  // What the connection was set up with, for support (no credentials).
  window.acote.ice = {
    relayOnly: e.relayOnly,
    urls: iceServers.flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls])),
  };
}

// The attempt is over (the state machine stopped its timers): free the peer and the
// socket, then show the outcome.
function endAttempt(a, e) {
  a.stopStats?.();
  a.peer?.close();
  a.sig?.close();
  screen.clear();
  if (attempt === a) {
    control.detach();
    chat.detach();
    files.detach();
    clipboard.detach();
    screens.detach();
    voice.detach();
    Object.assign(window.acote, { pc: null, channel: null, stats: null });
    ui.setState(e.state, e.key, e.params);
  }
}

function endByUser() {
  if (attempt) dispatch(attempt, { type: 'end' });
}

$('code-form').addEventListener('submit', (event) => {
  event.preventDefault();
  if (!ui.isFormState()) return; // a second click while connecting
  const code = session.normaliseCode($('code').value);
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
  chat.refresh();
  files.refresh();
  clipboard.refresh();
  screens.refresh();
  voice.refresh();
});

// Closing the tab mid-session: tell the resident's side right away.
window.addEventListener('pagehide', endByUser);

applyStatic();
control.setup();
view.setup(screen);
chat.setup();
files.setup();
clipboard.setup();
screens.setup();
voice.setup({ changed: (state) => { window.acote.voice = state; } });
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
