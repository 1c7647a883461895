// The viewer's session, as a pure state machine: pairing, the picture, reconnecting after
// a drop, and the end. No DOM, no sockets, no clocks: `step(state, event)` returns the
// next state and the effects main.js performs, in order. Timers are effects too (start
// `hello` for 15 s); their expiry comes back as an event, so Node's test runner plays a
// whole session, including the 60 s resumption window, in no time
// (tests/unit/session-state.test.mjs).
//
// Resumption: once the resident said yes, the relay gives this page a resumption token
// (kept in this attempt's memory only: a reload ends the session anyway, since leaving
// the page says bye, and a bearer secret has no business in storage). If the socket
// drops, the page shows "reconnecting" over the still-running picture, reconnects with
// back-off and presents the token; after 60 s without success the session is over.
//
// Events ({ type, ... }):
//   open                          the signaling socket opened
//   message { msg }               a signaling message from the relay
//   closed                        the socket ended without us asking
//   timer { name }                a timer started by a `timer` effect expired
//   local-candidate { candidate } our peer connection found a candidate
//   answer { sdp } | offer-failed the peer connection answered the offer, or could not
//   first-frame                   the first picture was decoded
//   peer-failed                   the path to the resident is gone (ICE failed)
//   end                           the caseworker ended the session (button, tab closed)
//
// Effects ({ type, ... }):
//   show { state, key, params }   the state the caseworker sees (ui.setState)
//   connect                       open a new signaling socket (the old one is done)
//   close-socket                  close the current socket (frames sent still leave)
//   send { msg }                  send on the current socket
//   timer { name, ms } / cancel { name }   start (replacing) or stop a named timer
//   site { name } / resident-lang { lang } header details from the relay
//   file-limit { bytes }          the largest file either way (0: file transfer is off)
//   create-peer { iceServers, relayOnly }  the peer connection (relay's raw list)
//   configure-peer { iceServers, relayOnly } fresh TURN credentials for a later restart
//   add-candidate { candidate }   a remote candidate for the peer connection
//   accept-offer { sdp }          answer the offer; comes back as `answer` or `offer-failed`
//   start-stats                   measure the link once the picture is there
//   low-data                      say the data-saving choice again (after a resume)
//   end { state, key, params }    tear everything down, then show the outcome
//   signed-out                    the sign-in expired: forget the account shown

export const HELLO_TIMEOUT_MS = 15000;
// How long a dropped session may take to come back (the relay's window, DESIGN §3).
export const RESUME_WINDOW_MS = 60000;
export const RETRY_MS = [500, 1000, 2000, 4000, 8000];
const BYE_STATES = { refused: 'refused', no_answer: 'no-answer', ended: 'ended', peer_gone: 'connection-lost' };

// The largest file either side may send, from the relay's hello: 0 (off) when absent or
// not a byte count.
export function fileLimit(bytes) {
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : 0;
}

// "482913" or "482 913" → "482913"; null when it is not exactly 6 digits.
export function normaliseCode(raw) {
  const code = String(raw).replace(/\s+/g, '');
  return /^[0-9]{6}$/.test(code) ? code : null;
}

// The relay's retry_after_s (seconds) when it is a sensible number; 60 when it does not say.
export function retrySecs(msg) {
  const secs = msg?.retry_after_s;
  return Number.isInteger(secs) && secs > 0 && secs <= 7 * 24 * 3600 ? secs : 60;
}

// A new attempt for a typed code. relayOnly: the caseworker's "always through the relay".
export function start(code, procedure, relayOnly) {
  const state = {
    code, procedure, relayOnly: relayOnly === true,
    iceServers: [], // as the relay sent them; rtc.js makes them RTCPeerConnection's shape
    shown: 'connecting',
    token: null, resuming: false, retries: 0,
    hasPeer: false, early: [], picture: false, over: false,
  };
  return { state, effects: [show('connecting'), ...connect()] };
}

export function step(state, event) {
  if (state.over) return { state, effects: [] };
  const s = { ...state };
  const fx = [];
  switch (event.type) {
    case 'open':
      fx.push(send(s.resuming
        ? { type: 'hello', v: 1, role: 'viewer', resume: s.token }
        : { type: 'hello', v: 1, role: 'viewer' }));
      break;
    case 'message':
      onMessage(s, event.msg, fx);
      break;
    case 'closed':
      dropped(s, fx);
      break;
    case 'timer':
      onTimer(s, event.name, fx);
      break;
    case 'local-candidate':
      fx.push(send({ type: 'candidate', ...event.candidate }));
      break;
    case 'answer':
      fx.push(send({ type: 'answer', sdp: event.sdp }));
      break;
    case 'offer-failed':
      fx.push(send({ type: 'bye', reason: 'error' }));
      finish(s, fx, 'error', 'videoFailed');
      break;
    case 'first-frame':
      onFirstFrame(s, fx);
      break;
    case 'peer-failed':
      // While a side is reconnecting, the agent restarts ICE once both are back.
      // Otherwise the path to the resident is gone: say so to both sides at once.
      if (s.shown === 'reconnecting') break;
      fx.push(send({ type: 'bye', reason: 'error' }));
      finish(s, fx, 'connection-lost', 'peerLost');
      break;
    case 'end':
      fx.push(send({ type: 'bye', reason: 'ended' }));
      finish(s, fx, 'ended');
      break;
    default:
      break;
  }
  for (const e of fx) if (e.type === 'show' || e.type === 'end') s.shown = e.state;
  return { state: s, effects: fx };
}

function show(state, key = state, params = {}) {
  return { type: 'show', state, key, params };
}

function send(msg) {
  return { type: 'send', msg };
}

// One signaling socket: the first, or a reconnection with the token. A relay that
// accepts the socket but never says hello must not leave us waiting.
function connect() {
  return [{ type: 'timer', name: 'hello', ms: HELLO_TIMEOUT_MS }, { type: 'connect' }];
}

function onTimer(s, name, fx) {
  if (name === 'hello') dropped(s, fx);
  else if (name === 'retry') fx.push(...connect());
  else if (name === 'lost') finish(s, fx, 'connection-lost', 'connectionLostFor');
}

// The socket ended without us asking (or never said hello). A session the resident
// agreed to waits for the link to come back; anything earlier ends as before.
function dropped(s, fx) {
  fx.push({ type: 'cancel', name: 'hello' });
  if (!s.token) {
    finish(s, fx, 'connection-lost');
    return;
  }
  fx.push({ type: 'close-socket' });
  if (!s.resuming) {
    s.resuming = true;
    s.retries = 0;
    fx.push(show('reconnecting', 'reconnecting'));
    fx.push({ type: 'timer', name: 'lost', ms: RESUME_WINDOW_MS });
  }
  const delay = RETRY_MS[Math.min(s.retries, RETRY_MS.length - 1)];
  s.retries += 1;
  fx.push({ type: 'timer', name: 'retry', ms: delay });
}

function backToPicture(s, fx) {
  fx.push(show(s.picture ? 'watching' : 'starting-video'));
}

function onMessage(s, msg, fx) {
  switch (msg.type) {
    case 'hello':
      fx.push({ type: 'cancel', name: 'hello' });
      if (msg.v !== 1) {
        finish(s, fx, 'error', 'versionMismatch');
        return;
      }
      fx.push({ type: 'site', name: msg.site });
      fx.push({ type: 'file-limit', bytes: fileLimit(msg.max_file_bytes) });
      s.iceServers = msg.ice_servers;
      if (s.resuming) break; // the token went with the hello; no code to redeem
      fx.push(send(s.procedure ? { type: 'redeem', code: s.code, procedure: s.procedure }
        : { type: 'redeem', code: s.code }));
      break;
    case 'paired':
      fx.push(show('waiting-resident'));
      break;
    case 'ice_servers':
      // This session's STUN/TURN with its own credentials, replacing hello's list.
      s.iceServers = msg.ice_servers;
      if (msg.relay_only === true) s.relayOnly = true;
      // Back after a drop: a later ICE restart must use the fresh credentials.
      if (s.hasPeer) fx.push({ type: 'configure-peer', iceServers: s.iceServers, relayOnly: s.relayOnly });
      break;
    case 'resident':
      fx.push({ type: 'resident-lang', lang: msg.lang });
      break;
    case 'offer':
      onOffer(s, msg.sdp, fx);
      break;
    case 'candidate':
      // Relay-only: pairs with the resident's own addresses are not wanted, and the
      // relay's refusals of them could end the attempt before the relayed pair exists.
      if (s.relayOnly && !/ typ relay( |$)/.test(String(msg.candidate))) break;
      if (s.hasPeer) fx.push({ type: 'add-candidate', candidate: msg });
      else s.early = [...s.early, msg]; // before the offer: kept until the peer exists
      break;
    case 'resume_token':
      if (typeof msg.token === 'string') s.token = msg.token;
      break;
    case 'resumed':
      s.resuming = false;
      fx.push({ type: 'cancel', name: 'lost' });
      // The agent may have lost the setting with the path: say it again.
      fx.push({ type: 'low-data' });
      if (msg.peer_present === true) backToPicture(s, fx);
      else fx.push(show('reconnecting', 'residentReconnecting'));
      break;
    case 'peer_away':
      fx.push(show('reconnecting', 'residentReconnecting'));
      break;
    case 'peer_back':
      backToPicture(s, fx);
      break;
    case 'bye':
      if (msg.reason === 'peer_gone') finish(s, fx, 'connection-lost', 'peerLost');
      else if (msg.reason === 'connection_lost') finish(s, fx, 'connection-lost', 'connectionLostFor');
      else finish(s, fx, BYE_STATES[msg.reason] ?? 'ended');
      break;
    case 'error':
      onError(s, msg, fx);
      break;
    default:
      break; // types from newer relays: ignored, like unknown fields
  }
}

function onError(s, msg, fx) {
  const retry = Number.isInteger(msg.retry_after_s);
  if (msg.code === 'invalid_code') finish(s, fx, 'invalid-code');
  else if (msg.code === 'rate_limited') finish(s, fx, 'rate-limited', 'rateLimitedFor', { secs: retrySecs(msg) });
  else if (msg.code === 'sign_in_required') {
    finish(s, fx, 'sign-in', 'sessionExpired');
    fx.push({ type: 'signed-out' });
  } else if (msg.code === 'audit_down') finish(s, fx, 'error', 'auditDown');
  else if (msg.code === 'unavailable' && retry) finish(s, fx, 'error', 'relayFull', { secs: retrySecs(msg) });
  else finish(s, fx, 'error', 'error', { message: typeof msg.message === 'string' ? msg.message : '' });
}

function onOffer(s, sdp, fx) {
  if (typeof sdp !== 'string') return;
  // A second offer is an ICE restart after a resume: the picture is already there.
  if (!s.hasPeer) {
    fx.push(show('starting-video'));
    fx.push({ type: 'create-peer', iceServers: s.iceServers, relayOnly: s.relayOnly });
    for (const c of s.early) fx.push({ type: 'add-candidate', candidate: c });
    s.hasPeer = true;
    s.early = [];
  }
  fx.push({ type: 'accept-offer', sdp });
}

function onFirstFrame(s, fx) {
  if (s.picture) return;
  s.picture = true;
  fx.push({ type: 'start-stats' });
  // During a reconnection the state stays: the first frame changes nothing the
  // caseworker must act on.
  if (s.shown === 'starting-video') fx.push(show('watching'));
}

// Ends an attempt exactly once: every timer stopped, then the wiring frees the peer and
// the socket and shows the outcome.
function finish(s, fx, state, key = state, params = {}) {
  s.over = true;
  for (const name of ['hello', 'lost', 'retry']) fx.push({ type: 'cancel', name });
  fx.push({ type: 'end', state, key, params });
}
