// Voice with the resident, the pure part: the call's state, checking the agent's `voice`
// messages, what to send, which sentence to show and whether the caseworker's microphone
// should be on. No DOM, no media, no channel, so Node's test runner checks it
// (tests/unit/voice.test.mjs).
//
// The agent is the authority on the call (it asks the resident, opens and closes their
// microphone and speaker); this page only asks, hangs up, and follows what the agent says.
// Like control (issue 16), a call is only believed after this page asked for it: an agent
// saying `on` unprompted does not open the caseworker's microphone.
//
// States: idle (no call yet this session), asking, on, and the ends: refused, no_answer,
// off (with who ended it), unavailable (the resident's PC has no working microphone or
// speaker).

/** The caseworker asks to talk (needs no control). */
export const REQUEST = Object.freeze({ type: 'voice', action: 'request' });
/** The caseworker hangs up, or withdraws the request. */
export const STOP = Object.freeze({ type: 'voice', action: 'stop' });

/** The agent asks the resident for 60 s; past this, with no answer, the page gives up on
 * its own (and withdraws the request), so a silent agent never leaves it asking. */
export const ASK_TIMEOUT_MS = 75000;
/** After a stop, what the agent sent before reading it is stale (a "yes" crossing the
 * caseworker's hang-up must not open the microphone) until the agent's `off` answers it,
 * or this long at most. */
export const STALE_MS = 5000;

const AGENT_STATES = new Set(['asking', 'on', 'refused', 'no_answer', 'off', 'unavailable']);
const ENDS = new Set(['refused', 'no_answer', 'off', 'unavailable']);

/** The microphone constraints: the caseworker's voice goes into a PC's loudspeakers in a
 * room, so the browser's echo cancelling, noise suppression and level control all help. */
export const MIC_CONSTRAINTS = Object.freeze({
  audio: Object.freeze({ echoCancellation: true, noiseSuppression: true, autoGainControl: true }),
  video: false,
});

/** The agent's `voice` message, checked: { state, muted } or null (ignored). A state of a
 * newer agent is taken as `off`; `muted` may be absent (false) and only counts while on. */
export function parseVoice(msg) {
  if (!msg || typeof msg !== 'object' || msg.type !== 'voice') return null;
  if (typeof msg.state !== 'string') return null;
  if (msg.muted !== undefined && typeof msg.muted !== 'boolean') return null;
  const state = AGENT_STATES.has(msg.state) ? msg.state : 'off';
  return { state, muted: state === 'on' && msg.muted === true };
}

/** A data channel message (text), if it is a `voice` one: { state, muted } or null. */
export function readVoice(data) {
  if (typeof data !== 'string') return null;
  try {
    return parseVoice(JSON.parse(data));
  } catch {
    return null; // a broken message from the agent is ignored
  }
}

/** Why the caseworker's microphone could not be opened, from getUserMedia's error name:
 * 'denied' (the browser or the caseworker said no), 'absent' (no microphone), 'busy' (in
 * use elsewhere, or the device failed), or 'failed'. */
export function micProblem(name) {
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
    case 'PermissionDeniedError':
      return 'denied';
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return 'absent';
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return 'busy';
    default:
      return 'failed';
  }
}

/** One session's call. `view` is a snapshot { state, reason, residentMuted, muted,
 * problem, unsent }: reason says who ended an `off` call ('me', 'cancelled', 'resident',
 * 'cut'), muted is the caseworker's own choice, problem why their microphone could not be
 * used ('denied', 'absent', 'busy', 'insecure', 'lost', 'failed'; they still hear the
 * resident), unsent that the last request could not leave. */
export function createCall({ askTimeoutMs = ASK_TIMEOUT_MS, staleMs = STALE_MS } = {}) {
  let state = 'idle';
  let reason = null;
  let residentMuted = false;
  let muted = false;
  let problem = null;
  let unsent = false;
  let askedAt = 0;
  let wanted = false; // this page asked, and has not hung up since
  let stops = 0; // stops sent that the agent's `off` has not answered yet
  let stoppedAt = 0;

  const live = () => state === 'asking' || state === 'on';
  const snapshot = () => ({ state, reason, residentMuted, muted, problem, unsent });

  function enter(next, why = null) {
    state = next;
    reason = why;
    unsent = false;
    if (next !== 'on') {
      residentMuted = false;
      muted = false;
      problem = null;
    }
  }

  function stale(now) {
    if (stops > 0 && now - stoppedAt >= staleMs) stops = 0; // the agent never answered
    return stops > 0;
  }

  // A stop leaves: the call is over here at once (the microphone goes off now, not when
  // the agent answers).
  function stop(now, next, why) {
    wanted = false;
    stops += 1;
    stoppedAt = now;
    enter(next, why);
    return STOP;
  }

  return {
    get view() {
      return snapshot();
    },
    get state() {
      return state;
    },
    /** Whether Talk may be pressed (no call asked or on). */
    get canRequest() {
      return !live();
    },
    /** The request left (call only once REQUEST was sent). */
    requested(now) {
      if (live()) return;
      wanted = true;
      askedAt = now;
      enter('asking');
    },
    /** The request could not leave (the channel is not open): said, nothing else. */
    notSent() {
      if (!live()) unsent = true;
    },
    /** The caseworker cancels the request or hangs up: the message to send, or null when
     * there is no call. */
    hangUp(now) {
      if (!live()) return null;
      return stop(now, 'off', state === 'asking' ? 'cancelled' : 'me');
    },
    /** A checked `voice` message from the agent (parseVoice); whether anything changed. */
    agent(update, now) {
      if (!update) return false;
      if (stale(now)) {
        // Sent before the agent read the stop: only its `off` (the answer) counts, and
        // only to close the gap.
        if (update.state === 'off') stops -= 1;
        return false;
      }
      const before = JSON.stringify(snapshot());
      if (update.state === 'asking' || update.state === 'on') {
        if (!wanted || !live()) return false; // not asked for here: not believed
        if (update.state === 'asking') {
          if (state === 'on') enter('asking'); // the call went back to a question: mic off
        } else {
          if (state !== 'on') enter('on');
          residentMuted = update.muted;
        }
      } else {
        if (!live()) return false; // an end with no call: nothing to end
        wanted = false;
        enter(update.state, update.state === 'off' ? 'resident' : null);
      }
      return JSON.stringify(snapshot()) !== before;
    },
    /** Called when the request may have waited too long: the message to send (the
     * request withdrawn) when the page gives up, else null. */
    poll(now) {
      if (state !== 'asking' || now - askedAt < askTimeoutMs) return null;
      return stop(now, 'no_answer', null);
    },
    /** The caseworker's Mute (true) or Unmute (false); Unmute also tries a microphone
     * that failed again. */
    setMuted(on) {
      if (state !== 'on') return;
      muted = Boolean(on);
      if (!muted) problem = null;
    },
    /** The caseworker's microphone could not be opened, or stopped: they still listen. */
    micFailed(why) {
      if (state === 'on') problem = why;
    },
    /** The data channel or the peer connection is gone: a call ends with it. */
    lost() {
      wanted = false;
      stops = 0;
      if (live()) enter('off', 'cut');
    },
    /** A new session or peer connection: voice off on both sides. */
    reset() {
      wanted = false;
      stops = 0;
      askedAt = 0;
      enter('idle');
    },
  };
}

/** Whether the caseworker's microphone should be attached now. */
export function micWanted(view) {
  return view.state === 'on' && !view.muted && !view.problem;
}

const MIC_PROBLEM_KEYS = {
  denied: 'voiceMicDenied',
  absent: 'voiceMicAbsent',
  busy: 'voiceMicBusy',
  insecure: 'voiceMicInsecure',
  lost: 'voiceMicLost',
  failed: 'voiceMicFailed',
};

const END_KEYS = {
  refused: 'voiceRefused',
  no_answer: 'voiceNoAnswer',
  unavailable: 'voiceUnavailable',
};

const OFF_KEYS = {
  me: 'voiceHungUp',
  cancelled: 'voiceCancelled',
  cut: 'voiceCut',
};

/** The status line: { keys (i18n keys, said in order), problem (shown as one) }.
 * `starting`: the microphone is being opened (the browser may be asking). */
export function sentences(view, { starting = false } = {}) {
  if (view.unsent) return { keys: ['voiceNotSent'], problem: true };
  switch (view.state) {
    case 'asking':
      return { keys: ['voiceAsking'], problem: false };
    case 'on': {
      const keys = [view.residentMuted ? 'voiceOnResidentMuted' : 'voiceOn'];
      if (view.problem) keys.push(MIC_PROBLEM_KEYS[view.problem] ?? 'voiceMicFailed');
      else if (view.muted) keys.push('voiceMeMuted');
      else if (starting) keys.push('voiceMicStarting');
      return { keys, problem: Boolean(view.problem) };
    }
    case 'off':
      return { keys: [OFF_KEYS[view.reason] ?? 'voiceEnded'], problem: false };
    default:
      if (ENDS.has(view.state)) return { keys: [END_KEYS[view.state]], problem: true };
      return { keys: [], problem: false };
  }
}
