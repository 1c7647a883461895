// The viewer's session state machine (viewer/src/session-state.js), without a browser:
// pairing, the picture, reconnection with its 60 s window, and every way a session ends,
// driven in virtual time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  start, step, normaliseCode, retrySecs, fileLimit, HELLO_TIMEOUT_MS, RESUME_WINDOW_MS, RETRY_MS,
} from '../../viewer/src/session-state.js';

// A session driven like main.js does, with virtual timers: `now` only moves by advance().
class Drive {
  constructor(code = '482913', procedure = '', relayOnly = false) {
    this.now = 0;
    this.timers = new Map(); // name → due time
    this.log = [];
    const first = start(code, procedure, relayOnly);
    this.state = first.state;
    this.apply(first.effects);
  }

  apply(effects) {
    for (const e of effects) {
      this.log.push(e);
      if (e.type === 'timer') this.timers.set(e.name, this.now + e.ms);
      if (e.type === 'cancel') this.timers.delete(e.name);
    }
    return effects;
  }

  event(ev) {
    const { state, effects } = step(this.state, ev);
    this.state = state;
    return this.apply(effects);
  }

  msg(msg) {
    return this.event({ type: 'message', msg });
  }

  // Moves the clock, firing due timers in order, like setTimeout would.
  advance(ms) {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.timers].filter(([, at]) => at <= until).sort((x, y) => x[1] - y[1])[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = due[1];
      this.event({ type: 'timer', name: due[0] });
    }
    this.now = until;
  }

  take() {
    const log = this.log;
    this.log = [];
    return log;
  }

  shown() {
    const shows = this.log.filter((e) => e.type === 'show' || e.type === 'end');
    return shows.length ? shows[shows.length - 1].state : null;
  }

  sent() {
    return this.log.filter((e) => e.type === 'send').map((e) => e.msg);
  }

  // Up to the picture: hello, redeem, paired, the resident's yes, the offer, a frame.
  toPicture() {
    this.event({ type: 'open' });
    this.msg({ type: 'hello', v: 1, site: 'CHRS', ice_servers: [{ urls: 'stun:x' }] });
    this.msg({ type: 'paired' });
    this.msg({ type: 'resume_token', token: 't0k' });
    this.msg({ type: 'offer', sdp: 'v=0' });
    this.event({ type: 'answer', sdp: 'v=0 answer' });
    this.event({ type: 'first-frame' });
    return this;
  }
}

const types = (effects) => effects.map((e) => e.type);

test('session: a code becomes connecting, a socket and a hello deadline', () => {
  const d = new Drive();
  assert.deepEqual(d.take(), [
    { type: 'show', state: 'connecting', key: 'connecting', params: {} },
    { type: 'timer', name: 'hello', ms: HELLO_TIMEOUT_MS },
    { type: 'connect' },
  ]);
  assert.deepEqual(d.event({ type: 'open' }), [{ type: 'send', msg: { type: 'hello', v: 1, role: 'viewer' } }]);
});

test('session: hello, redeem with the procedure, paired, offer, answer, picture', () => {
  const d = new Drive('482913', 'CAF');
  d.event({ type: 'open' });
  d.take();
  const hello = d.msg({ type: 'hello', v: 1, site: 'CHRS Les Lilas', ice_servers: [{ urls: 'stun:a' }] });
  assert.deepEqual(hello, [
    { type: 'cancel', name: 'hello' },
    { type: 'site', name: 'CHRS Les Lilas' },
    { type: 'file-limit', bytes: 0 },
    { type: 'send', msg: { type: 'redeem', code: '482913', procedure: 'CAF' } },
  ]);
  assert.equal(d.timers.size, 0);
  d.msg({ type: 'paired' });
  assert.equal(d.shown(), 'waiting-resident');
  d.msg({ type: 'ice_servers', ice_servers: [{ urls: 'turn:b', username: 'u', credential: 'c' }] });
  const offer = d.msg({ type: 'offer', sdp: 'v=0' });
  assert.deepEqual(types(offer), ['show', 'create-peer', 'accept-offer']);
  assert.equal(offer[0].state, 'starting-video');
  assert.deepEqual(offer[1].iceServers, [{ urls: 'turn:b', username: 'u', credential: 'c' }]);
  assert.deepEqual(d.event({ type: 'answer', sdp: 'ans' }), [{ type: 'send', msg: { type: 'answer', sdp: 'ans' } }]);
  assert.deepEqual(types(d.event({ type: 'first-frame' })), ['start-stats', 'show']);
  assert.equal(d.shown(), 'watching');
  assert.deepEqual(d.event({ type: 'first-frame' }), [], 'stats start once');
});

test('session: no procedure means a redeem without one', () => {
  const d = new Drive('111222', '');
  const fx = d.msg({ type: 'hello', v: 1 });
  assert.deepEqual(fx.at(-1), { type: 'send', msg: { type: 'redeem', code: '111222' } });
});

test('session: candidates before the offer wait for the peer; relay-only keeps relayed ones only', () => {
  const d = new Drive();
  d.msg({ type: 'hello', v: 1 });
  const host = { type: 'candidate', candidate: 'candidate:1 1 udp 1 10.0.0.2 5000 typ host' };
  const relay = { type: 'candidate', candidate: 'candidate:2 1 udp 1 1.2.3.4 5000 typ relay raddr 0.0.0.0' };
  assert.deepEqual(d.msg(host), []);
  const offer = d.msg({ type: 'offer', sdp: 'v=0' });
  assert.deepEqual(types(offer), ['show', 'create-peer', 'add-candidate', 'accept-offer']);
  assert.deepEqual(d.msg(relay), [{ type: 'add-candidate', candidate: relay }]);

  const r = new Drive('482913', '', false);
  r.msg({ type: 'ice_servers', ice_servers: [], relay_only: true }); // the site's policy
  r.msg(host);
  r.msg(relay);
  const fx = r.msg({ type: 'offer', sdp: 'v=0' });
  assert.equal(fx[1].relayOnly, true);
  assert.deepEqual(fx.filter((e) => e.type === 'add-candidate').map((e) => e.candidate), [relay]);
  assert.deepEqual(r.msg(host), []);
});

test('session: a relay that never says hello ends the attempt after 15 s', () => {
  const d = new Drive();
  d.advance(HELLO_TIMEOUT_MS - 1);
  assert.equal(d.state.over, false);
  d.advance(1);
  assert.equal(d.state.over, true);
  assert.equal(d.shown(), 'connection-lost');
});

test('session: a drop before the yes ends it; after the yes it reconnects with back-off and the token', () => {
  const early = new Drive();
  early.msg({ type: 'hello', v: 1 });
  early.event({ type: 'closed' });
  assert.equal(early.shown(), 'connection-lost');

  const d = new Drive().toPicture();
  d.take();
  const fx = d.event({ type: 'closed' });
  assert.deepEqual(types(fx), ['cancel', 'close-socket', 'show', 'timer', 'timer']);
  assert.deepEqual(fx[2], { type: 'show', state: 'reconnecting', key: 'reconnecting', params: {} });
  assert.deepEqual(fx[4], { type: 'timer', name: 'retry', ms: RETRY_MS[0] });
  d.advance(RETRY_MS[0]);
  assert.deepEqual(types(d.take().slice(-2)), ['timer', 'connect']);
  // The relay is still down: each failure waits longer, up to the last step.
  const delays = [];
  for (let i = 1; i < 7; i += 1) {
    const retry = d.event({ type: 'closed' }).find((e) => e.name === 'retry');
    delays.push(retry.ms);
    d.advance(retry.ms);
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000, 8000]);
  assert.equal(d.state.over, false);
  d.take();
  assert.deepEqual(d.event({ type: 'open' }), [
    { type: 'send', msg: { type: 'hello', v: 1, role: 'viewer', resume: 't0k' } },
  ]);
  const hello = d.msg({ type: 'hello', v: 1 });
  assert.ok(!hello.some((e) => e.type === 'send'), 'no code redeemed on a resume');
  const back = d.msg({ type: 'resumed', peer_present: true });
  assert.deepEqual(types(back), ['cancel', 'low-data', 'show']);
  assert.equal(d.shown(), 'watching');
  d.advance(RESUME_WINDOW_MS);
  assert.equal(d.state.over, false, 'the 60 s window was stopped by the resume');
});

test('session: not back within 60 s is the end', () => {
  const d = new Drive().toPicture();
  d.event({ type: 'closed' });
  let t = 0;
  while (!d.state.over && t < 2 * RESUME_WINDOW_MS) {
    d.advance(100);
    t += 100;
    if (d.log.at(-1)?.type === 'connect') d.event({ type: 'closed' }); // still unreachable
  }
  assert.equal(t, RESUME_WINDOW_MS);
  const end = d.log.at(-1);
  assert.deepEqual(end, { type: 'end', state: 'connection-lost', key: 'connectionLostFor', params: {} });
  assert.equal(d.timers.size, 0, 'no timer outlives the attempt');
  assert.deepEqual(d.event({ type: 'closed' }), [], 'an ended attempt does nothing');
});

test('session: resumed without the resident, then the resident back', () => {
  const d = new Drive().toPicture();
  d.event({ type: 'closed' });
  d.advance(RETRY_MS[0]);
  d.event({ type: 'open' });
  d.msg({ type: 'hello', v: 1 });
  d.take();
  d.msg({ type: 'resumed', peer_present: false });
  assert.deepEqual(d.log.at(-1), { type: 'show', state: 'reconnecting', key: 'residentReconnecting', params: {} });
  d.msg({ type: 'ice_servers', ice_servers: [{ urls: 'turn:fresh' }] });
  assert.deepEqual(d.log.at(-1), { type: 'configure-peer', iceServers: [{ urls: 'turn:fresh' }], relayOnly: false });
  // An ICE restart: answered, with no new peer and no change of screen.
  assert.deepEqual(types(d.msg({ type: 'offer', sdp: 'v=0 restart' })), ['accept-offer']);
  d.msg({ type: 'peer_back' });
  assert.equal(d.shown(), 'watching');
});

test('session: the resident away and back; before a picture, back means starting-video', () => {
  const d = new Drive();
  d.msg({ type: 'hello', v: 1 });
  d.msg({ type: 'offer', sdp: 'v=0' });
  d.msg({ type: 'peer_away' });
  assert.equal(d.shown(), 'reconnecting');
  // The first frame during a reconnection changes nothing shown.
  assert.deepEqual(types(d.event({ type: 'first-frame' })), ['start-stats']);
  d.msg({ type: 'peer_back' });
  assert.equal(d.shown(), 'watching');

  const e = new Drive();
  e.msg({ type: 'offer', sdp: 'v=0' });
  e.msg({ type: 'peer_away' });
  e.msg({ type: 'peer_back' });
  assert.equal(e.shown(), 'starting-video');
});

test('session: ICE failure ends both sides, unless a side is reconnecting', () => {
  const d = new Drive().toPicture();
  d.msg({ type: 'peer_away' });
  assert.deepEqual(d.event({ type: 'peer-failed' }), []);
  d.msg({ type: 'peer_back' });
  d.take();
  d.event({ type: 'peer-failed' });
  assert.deepEqual(d.sent(), [{ type: 'bye', reason: 'error' }]);
  assert.deepEqual(d.log.at(-1), { type: 'end', state: 'connection-lost', key: 'peerLost', params: {} });
});

test('session: an offer that cannot be answered says bye and shows videoFailed', () => {
  const d = new Drive();
  d.msg({ type: 'offer', sdp: 'v=0' });
  d.take();
  d.event({ type: 'offer-failed' });
  assert.deepEqual(d.sent(), [{ type: 'bye', reason: 'error' }]);
  assert.deepEqual(d.log.at(-1), { type: 'end', state: 'error', key: 'videoFailed', params: {} });
  assert.deepEqual(d.event({ type: 'answer', sdp: 'late' }), [], 'a late answer is dropped');
});

test('session: the caseworker ends it once, with a bye', () => {
  const d = new Drive().toPicture();
  d.take();
  d.event({ type: 'end' });
  assert.deepEqual(d.sent(), [{ type: 'bye', reason: 'ended' }]);
  assert.equal(d.shown(), 'ended');
  assert.deepEqual(d.event({ type: 'end' }), []);
  assert.deepEqual(d.msg({ type: 'paired' }), []);
});

test('session: each bye and error from the relay shows its own outcome', () => {
  const cases = [
    [{ type: 'bye', reason: 'refused' }, ['refused', 'refused', {}]],
    [{ type: 'bye', reason: 'no_answer' }, ['no-answer', 'no-answer', {}]],
    [{ type: 'bye', reason: 'ended' }, ['ended', 'ended', {}]],
    [{ type: 'bye', reason: 'peer_gone' }, ['connection-lost', 'peerLost', {}]],
    [{ type: 'bye', reason: 'connection_lost' }, ['connection-lost', 'connectionLostFor', {}]],
    [{ type: 'bye', reason: 'something_new' }, ['ended', 'ended', {}]],
    [{ type: 'error', code: 'invalid_code' }, ['invalid-code', 'invalid-code', {}]],
    [{ type: 'error', code: 'rate_limited', message: 'try again in 10 min', retry_after_s: 600 }, ['rate-limited', 'rateLimitedFor', { secs: 600 }]],
    // The sentence is for people: only the number counts.
    [{ type: 'error', code: 'rate_limited', message: 'try again in 10 min' }, ['rate-limited', 'rateLimitedFor', { secs: 60 }]],
    [{ type: 'error', code: 'unavailable', message: 'full', retry_after_s: 180 }, ['error', 'relayFull', { secs: 180 }]],
    [{ type: 'error', code: 'audit_down', message: 'disk full?' }, ['error', 'auditDown', {}]],
    [{ type: 'error', code: 'sign_in_required' }, ['sign-in', 'sessionExpired', {}]],
    [{ type: 'error', code: 'unavailable', message: 'audit log unavailable' }, ['error', 'error', { message: 'audit log unavailable' }]],
    [{ type: 'error', code: 'bad', message: 'Nope' }, ['error', 'error', { message: 'Nope' }]],
    [{ type: 'error', code: 'bad', message: 7 }, ['error', 'error', { message: '' }]],
    [{ type: 'hello', v: 2 }, ['error', 'versionMismatch', {}]],
  ];
  for (const [msg, [state, key, params]] of cases) {
    const d = new Drive();
    d.msg(msg);
    const end = d.log.find((e) => e.type === 'end');
    assert.deepEqual(end, { type: 'end', state, key, params }, JSON.stringify(msg));
    assert.equal(d.timers.size, 0);
    assert.equal(d.log.some((e) => e.type === 'signed-out'), msg.code === 'sign_in_required');
  }
});

test('session: unknown types and the resident’s language', () => {
  const d = new Drive();
  assert.deepEqual(d.msg({ type: 'from_the_future' }), []);
  assert.deepEqual(d.msg({ type: 'resident', lang: 'uk' }), [{ type: 'resident-lang', lang: 'uk' }]);
  assert.deepEqual(d.msg({ type: 'offer', sdp: 42 }), [], 'an offer without SDP is ignored');
  assert.deepEqual(d.msg({ type: 'resume_token', token: 5 }), []);
  assert.equal(d.state.token, null);
});

test('session: step never changes the state it is given', () => {
  const d = new Drive();
  const before = structuredClone(d.state);
  const frozen = d.state;
  step(frozen, { type: 'message', msg: { type: 'candidate', candidate: 'x typ host' } });
  step(frozen, { type: 'closed' });
  assert.deepEqual(frozen, before);
});

test('codes: spaces allowed, exactly 6 digits; the relay’s wait in seconds, 60 when odd', () => {
  assert.equal(normaliseCode('482 913'), '482913');
  assert.equal(normaliseCode(' 482913 '), '482913');
  assert.equal(normaliseCode('48291'), null);
  assert.equal(normaliseCode('48291a'), null);
  assert.equal(retrySecs({ retry_after_s: 600 }), 600);
  assert.equal(retrySecs({ retry_after_s: '600' }), 60);
  assert.equal(retrySecs({ retry_after_s: -5 }), 60);
  assert.equal(retrySecs({ retry_after_s: 1e12 }), 60);
  assert.equal(retrySecs(undefined), 60);
});

test('session: the relay’s hello says the file limit, on a resume too; anything odd is off', () => {
  const d = new Drive('111222', '');
  const limitIn = (fx) => fx.find((e) => e.type === 'file-limit');
  assert.deepEqual(limitIn(d.msg({ type: 'hello', v: 1, max_file_bytes: 25_000_000 })), { type: 'file-limit', bytes: 25_000_000 });
  for (const odd of [undefined, 0, -1, 1.5, '25000000', null, 2 ** 60]) assert.equal(fileLimit(odd), 0, String(odd));
  assert.equal(fileLimit(1_000_000), 1_000_000);
});
