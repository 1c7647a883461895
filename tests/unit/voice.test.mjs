// The call's rules (viewer/src/voice.js), without a browser: the agent's `voice` message
// checked, the call's states, what leaves for the agent, when the caseworker's microphone
// is on, and the sentence shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ASK_TIMEOUT_MS, MIC_CONSTRAINTS, REQUEST, STALE_MS, STOP, createCall, micProblem, micWanted, parseVoice,
  readVoice, sentences,
} from '../../viewer/src/voice.js';

const msg = (state, muted) => parseVoice({ type: 'voice', state, ...(muted === undefined ? {} : { muted }) });

// A call that was asked for and is on.
function onCall(now = 0) {
  const call = createCall();
  call.requested(now);
  call.agent(msg('asking'), now + 10);
  call.agent(msg('on'), now + 20);
  return call;
}

test('the messages to the agent are the protocol\'s', () => {
  assert.deepEqual(REQUEST, { type: 'voice', action: 'request' });
  assert.deepEqual(STOP, { type: 'voice', action: 'stop' });
  assert.ok(Object.isFrozen(REQUEST) && Object.isFrozen(STOP));
  assert.deepEqual(MIC_CONSTRAINTS.audio, { echoCancellation: true, noiseSuppression: true, autoGainControl: true });
});

test('the agent\'s message: known states, muted only while on, a newer state is off', () => {
  assert.deepEqual(msg('on', true), { state: 'on', muted: true });
  assert.deepEqual(msg('on', false), { state: 'on', muted: false });
  assert.deepEqual(msg('on'), { state: 'on', muted: false }, 'muted absent: false');
  assert.deepEqual(msg('asking', true), { state: 'asking', muted: false }, 'muted means nothing but on');
  for (const s of ['asking', 'refused', 'no_answer', 'off', 'unavailable']) assert.equal(msg(s).state, s);
  assert.deepEqual(msg('ringing'), { state: 'off', muted: false }, 'a newer agent\'s state: off');
  assert.deepEqual(msg('ON'), { state: 'off', muted: false });
  assert.deepEqual(msg(''), { state: 'off', muted: false });
});

test('broken messages are ignored', () => {
  for (const bad of [null, undefined, 42, 'on', [], {}, { type: 'voice' }, { type: 'voice', state: 1 },
    { type: 'voice', state: null }, { type: 'voice', state: ['on'] }, { type: 'chat', state: 'on' },
    { type: 'voice', state: 'on', muted: 'yes' }, { type: 'voice', state: 'on', muted: 1 },
    { type: 'voice', state: 'on', muted: null }]) {
    assert.equal(parseVoice(bad), null, JSON.stringify(bad));
  }
  assert.deepEqual(readVoice('{"type":"voice","state":"on","muted":true}'), { state: 'on', muted: true });
  assert.deepEqual(readVoice('{"type":"voice","state":"on","extra":1}'), { state: 'on', muted: false }, 'unknown fields');
  for (const bad of ['', '{', 'null', '"voice"', '{"type":"control","state":"on"}', new ArrayBuffer(4), null]) {
    assert.equal(readVoice(bad), null, String(bad));
  }
});

test('a whole call: asked, on, muted on each side, hung up by the caseworker', () => {
  const call = createCall();
  assert.equal(call.state, 'idle');
  assert.ok(call.canRequest);
  assert.equal(call.hangUp(0), null, 'nothing to hang up');
  call.requested(0);
  assert.equal(call.state, 'asking', 'asking as soon as the request left');
  assert.ok(!call.canRequest);
  assert.equal(micWanted(call.view), false, 'no microphone while the resident is asked');
  assert.equal(call.agent(msg('asking'), 10), false, 'the agent confirms: nothing changes');
  assert.equal(call.agent(msg('on'), 20), true);
  assert.equal(call.state, 'on');
  assert.equal(micWanted(call.view), true, 'the microphone once the call is on');
  assert.equal(call.agent(msg('on', true), 30), true);
  assert.equal(call.view.residentMuted, true);
  assert.equal(micWanted(call.view), true, 'the resident muting does not close the caseworker\'s');
  assert.equal(call.agent(msg('on', true), 31), false, 'the same again: no change');
  call.setMuted(true);
  assert.equal(call.view.muted, true);
  assert.equal(micWanted(call.view), false, 'Mute closes the microphone');
  call.setMuted(false);
  assert.equal(micWanted(call.view), true, 'Unmute opens it again');
  call.agent(msg('on', false), 40);
  assert.equal(call.view.residentMuted, false);
  assert.equal(call.hangUp(50), STOP);
  assert.equal(call.state, 'off');
  assert.equal(call.view.reason, 'me');
  assert.equal(micWanted(call.view), false, 'hanging up closes the microphone at once');
  assert.equal(call.view.muted, false);
  assert.equal(call.view.residentMuted, false);
  assert.ok(call.canRequest, 'the caseworker can call again');
});

test('the ends the agent says, with the call\'s flags cleared', () => {
  for (const [end, key] of [['refused', 'voiceRefused'], ['no_answer', 'voiceNoAnswer'],
    ['unavailable', 'voiceUnavailable'], ['off', 'voiceEnded'], ['newer', 'voiceEnded']]) {
    const asked = createCall();
    asked.requested(0);
    assert.equal(asked.agent(msg(end), 10), true, end);
    assert.equal(asked.state, end === 'newer' ? 'off' : end);
    assert.deepEqual(sentences(asked.view).keys, [key]);
    const on = onCall();
    on.agent(msg('on', true), 30);
    on.setMuted(true);
    on.agent(msg(end), 40);
    assert.equal(on.state, end === 'newer' ? 'off' : end);
    assert.deepEqual([on.view.muted, on.view.residentMuted, micWanted(on.view)], [false, false, false]);
  }
  const off = onCall();
  off.agent(msg('off'), 30);
  assert.equal(off.view.reason, 'resident');
});

test('a call is only believed after this page asked for it', () => {
  const call = createCall();
  assert.equal(call.agent(msg('on'), 0), false, 'an unprompted "on" does not open the microphone');
  assert.equal(call.agent(msg('asking'), 0), false);
  assert.equal(call.state, 'idle');
  for (const end of ['off', 'refused', 'no_answer', 'unavailable']) {
    assert.equal(call.agent(msg(end), 0), false, `${end} with no call`);
    assert.equal(call.state, 'idle');
  }
  // After an end, the same: a later "on" is not a new call.
  call.requested(0);
  call.agent(msg('refused'), 10);
  assert.equal(call.agent(msg('on'), 20_000), false);
  assert.equal(call.state, 'refused');
  assert.equal(call.agent(msg('off'), 20_000), false, 'the end stays as said');
  assert.equal(call.state, 'refused');
  assert.equal(call.agent(null, 0), false);
});

test('back to a question while on: the microphone closes', () => {
  const call = onCall();
  call.agent(msg('asking'), 30);
  assert.equal(call.state, 'asking');
  assert.equal(micWanted(call.view), false);
  call.agent(msg('on'), 40);
  assert.equal(micWanted(call.view), true);
});

test('cancelling while asking; a "yes" crossing the cancel is stale', () => {
  const call = createCall();
  call.requested(0);
  assert.equal(call.hangUp(100), STOP);
  assert.equal(call.state, 'off');
  assert.equal(call.view.reason, 'cancelled');
  // The resident said yes just before the agent read the stop.
  assert.equal(call.agent(msg('on'), 150), false);
  assert.equal(call.state, 'off');
  assert.equal(micWanted(call.view), false, 'never opened');
  assert.equal(call.agent(msg('off'), 200), false, 'the answer to the stop');
  assert.equal(call.view.reason, 'cancelled', 'still said as the caseworker\'s cancel');
});

test('calling again right after hanging up: the old call\'s messages do not end the new one', () => {
  const call = onCall();
  call.hangUp(100);
  call.requested(110);
  assert.equal(call.state, 'asking');
  call.agent(msg('on', true), 120); // still the old call, sent before the stop was read
  assert.equal(call.state, 'asking');
  call.agent(msg('off'), 130); // the stop's answer
  assert.equal(call.state, 'asking', 'the new request is still waiting');
  call.agent(msg('asking'), 140);
  call.agent(msg('on'), 150);
  assert.equal(call.state, 'on', 'the new call');
  assert.equal(call.view.residentMuted, false);
});

test('a stop the agent never answers stops being awaited', () => {
  const call = createCall();
  call.requested(0);
  call.hangUp(10);
  call.agent(msg('refused'), 20); // crossed the cancel: stale
  assert.equal(call.view.reason, 'cancelled');
  call.requested(30);
  assert.equal(call.agent(msg('on'), 30 + STALE_MS / 2), false, 'still waiting for the stop\'s answer');
  assert.equal(call.agent(msg('on'), 10 + STALE_MS), true, 'then believed again');
  assert.equal(call.state, 'on');
});

test('the page gives up on a request with no answer, and withdraws it', () => {
  const call = createCall();
  call.requested(1000);
  call.agent(msg('asking'), 1100);
  assert.equal(call.poll(1000 + ASK_TIMEOUT_MS - 1), null);
  assert.equal(call.poll(1000 + ASK_TIMEOUT_MS), STOP);
  assert.equal(call.state, 'no_answer');
  assert.deepEqual(sentences(call.view).keys, ['voiceNoAnswer']);
  assert.equal(call.poll(1000 + 2 * ASK_TIMEOUT_MS), null, 'once');
  assert.ok(ASK_TIMEOUT_MS > 60_000, 'longer than the agent\'s own 60 s');
  const on = onCall();
  assert.equal(on.poll(ASK_TIMEOUT_MS * 10), null, 'a call that is on never times out');
});

test('a microphone that fails: the caseworker keeps listening, Unmute tries again', () => {
  const call = onCall();
  call.micFailed('denied');
  assert.equal(call.state, 'on', 'the call goes on');
  assert.equal(call.view.problem, 'denied');
  assert.equal(micWanted(call.view), false);
  assert.deepEqual(sentences(call.view), { keys: ['voiceOn', 'voiceMicDenied'], problem: true });
  call.setMuted(false);
  assert.equal(call.view.problem, null);
  assert.equal(micWanted(call.view), true, 'tried again');
  call.setMuted(true);
  call.micFailed('absent'); // a late failure while muted is still said
  assert.equal(micWanted(call.view), false);
  const idle = createCall();
  idle.micFailed('denied');
  assert.equal(idle.view.problem, null, 'no call, no microphone problem');
  idle.setMuted(true);
  assert.equal(idle.view.muted, false, 'no call, nothing to mute');
});

test('getUserMedia\'s errors, named for the caseworker', () => {
  assert.equal(micProblem('NotAllowedError'), 'denied');
  assert.equal(micProblem('SecurityError'), 'denied');
  assert.equal(micProblem('NotFoundError'), 'absent');
  assert.equal(micProblem('OverconstrainedError'), 'absent');
  assert.equal(micProblem('NotReadableError'), 'busy');
  assert.equal(micProblem('AbortError'), 'busy');
  assert.equal(micProblem('TypeError'), 'failed');
  assert.equal(micProblem(undefined), 'failed');
});

test('the connection gone, or a new one: the call ends', () => {
  const call = onCall();
  call.lost();
  assert.equal(call.state, 'off');
  assert.equal(call.view.reason, 'cut');
  assert.deepEqual(sentences(call.view).keys, ['voiceCut']);
  assert.equal(call.agent(msg('on'), 100), false, 'not believed after');
  const asking = createCall();
  asking.requested(0);
  asking.lost();
  assert.equal(asking.state, 'off');
  const idle = createCall();
  idle.lost();
  assert.equal(idle.state, 'idle', 'no call: nothing said');
  const reset = onCall();
  reset.setMuted(true);
  reset.reset();
  assert.deepEqual(reset.view, {
    state: 'idle', reason: null, residentMuted: false, muted: false, problem: null, unsent: false,
  });
  assert.deepEqual(sentences(reset.view), { keys: [], problem: false });
});

test('a request that could not leave is said, and changes nothing else', () => {
  const call = createCall();
  call.notSent();
  assert.equal(call.state, 'idle');
  assert.deepEqual(sentences(call.view), { keys: ['voiceNotSent'], problem: true });
  call.requested(0);
  assert.deepEqual(sentences(call.view).keys, ['voiceAsking'], 'cleared by the next request');
  call.notSent();
  assert.equal(call.view.unsent, false, 'not while a call is asked');
});

test('the sentence for each moment of the call', () => {
  const asking = createCall();
  asking.requested(0);
  assert.deepEqual(sentences(asking.view), { keys: ['voiceAsking'], problem: false });
  const call = onCall();
  assert.deepEqual(sentences(call.view), { keys: ['voiceOn'], problem: false });
  assert.deepEqual(sentences(call.view, { starting: true }).keys, ['voiceOn', 'voiceMicStarting']);
  call.agent(msg('on', true), 30);
  assert.deepEqual(sentences(call.view).keys, ['voiceOnResidentMuted']);
  call.setMuted(true);
  assert.deepEqual(sentences(call.view, { starting: true }), { keys: ['voiceOnResidentMuted', 'voiceMeMuted'], problem: false });
  for (const [problem, key] of [['denied', 'voiceMicDenied'], ['absent', 'voiceMicAbsent'], ['busy', 'voiceMicBusy'],
    ['insecure', 'voiceMicInsecure'], ['lost', 'voiceMicLost'], ['failed', 'voiceMicFailed'], ['odd', 'voiceMicFailed']]) {
    assert.deepEqual(sentences({ ...call.view, problem }).keys, ['voiceOnResidentMuted', key], problem);
  }
  const hungUp = onCall();
  hungUp.hangUp(30);
  assert.deepEqual(sentences(hungUp.view), { keys: ['voiceHungUp'], problem: false });
  const cancelled = createCall();
  cancelled.requested(0);
  cancelled.hangUp(1);
  assert.deepEqual(sentences(cancelled.view).keys, ['voiceCancelled']);
  for (const end of ['refused', 'no_answer', 'unavailable']) {
    assert.equal(sentences({ ...createCall().view, state: end }).problem, true, end);
  }
});

test('every sentence key exists in French and English', async () => {
  const fs = await import('node:fs/promises');
  const src = await fs.readFile(new URL('../../viewer/src/i18n.js', import.meta.url), 'utf8');
  const html = await fs.readFile(new URL('../../viewer/index.html', import.meta.url), 'utf8');
  const voiceSrc = await fs.readFile(new URL('../../viewer/src/voice.js', import.meta.url), 'utf8');
  const uiSrc = await fs.readFile(new URL('../../viewer/src/voice-ui.js', import.meta.url), 'utf8');
  // Every key the voice files name ('voiceX'), in code or markup.
  const keys = new Set();
  for (const text of [voiceSrc, uiSrc, html]) {
    for (const m of text.matchAll(/['"](voice[A-Z][A-Za-z]*)['"]/g)) keys.add(m[1]);
  }
  assert.ok(keys.size >= 25, `found ${keys.size} keys`);
  for (const key of keys) {
    const n = src.split(`    ${key}: `).length - 1;
    assert.equal(n, 2, `${key} in fr and en (found ${n})`);
  }
});

test('the page has the elements the call needs, named for tests and screen readers', async () => {
  const fs = await import('node:fs/promises');
  const html = await fs.readFile(new URL('../../viewer/index.html', import.meta.url), 'utf8');
  for (const id of ['voice', 'voice-talk', 'voice-cancel', 'voice-mute', 'voice-hangup',
    'voice-status', 'voice-audio', 'voice-idle', 'voice-asking', 'voice-on']) {
    assert.equal(html.split(`id="${id}"`).length - 1, 1, id);
  }
  assert.match(html, /<audio id="voice-audio" autoplay>/);
  assert.match(html, /id="voice-status"[^>]*role="status"/);
});
