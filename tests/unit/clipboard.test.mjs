// The clipboard's rule, cleaning and request bookkeeping (viewer/src/clipboard.js), without
// a browser. The rule is proto/src/channel.rs's check_clipboard: these cases mirror its
// unit test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_CLIPBOARD_BYTES, ANSWER_TIMEOUT_MS, isValidClipboard, cleanClipboard, checkClipboardText, utf8Bytes,
  createRequests, outcomeKey, isProblem,
} from '../../viewer/src/clipboard.js';

test('valid clipboard text: tabs and line ends (Windows too), accents, Arabic, emoji, spaces only', () => {
  for (const ok of ['FR76 3000\r\n\t12', 'a\nb', 'impôts', 'مرحبا', 'ok 👍', ' ', 'x\u202Ey', '\uFEFF']) {
    assert.ok(isValidClipboard(ok), JSON.stringify(ok));
  }
});

test('refused as the agent refuses it: empty, control characters, too long, lone surrogates, not text', () => {
  for (const bad of ['', 'a\u0000', 'a\u0007b', 'a\u001b[2J', 'a\u000Bb', 'a\u000Cb', 'a\u007Fb', 'a\u0085b', 'a\u009Fb',
    'a'.repeat(MAX_CLIPBOARD_BYTES + 1), 'é'.repeat(MAX_CLIPBOARD_BYTES / 2 + 1), 'a\uD800b', '\uDC00']) {
    assert.ok(!isValidClipboard(bad), JSON.stringify(bad).slice(0, 40));
  }
  for (const notText of [null, undefined, 42, ['a'], { text: 'a' }]) assert.ok(!isValidClipboard(notText));
});

test('the limit is 6144 bytes of UTF-8, included', () => {
  assert.equal(MAX_CLIPBOARD_BYTES, 6144);
  assert.ok(isValidClipboard('a'.repeat(6144)));
  assert.ok(isValidClipboard('é'.repeat(3072)));
  assert.ok(!isValidClipboard('é'.repeat(3072) + 'a'));
  assert.ok(isValidClipboard('ሰ'.repeat(2048))); // Tigrinya: 3 bytes a character
  assert.equal(utf8Bytes('👍'), 4);
});

test('cleaning keeps the text as copied, only control characters out, lone surrogates replaced', () => {
  assert.equal(cleanClipboard('  FR76\r\n\t12  '), '  FR76\r\n\t12  ', 'no trimming, tabs and line ends kept');
  assert.equal(cleanClipboard('a\u0000b\u0007c\u001bd\u007Fe\u0085f'), 'abcdef');
  assert.equal(cleanClipboard('a\uD800b'), 'a\uFFFDb');
  assert.equal(cleanClipboard('ok 👍'), 'ok 👍', 'a whole surrogate pair stays');
  assert.equal(cleanClipboard(null), '');
  assert.ok(isValidClipboard(cleanClipboard('x\u0001\uDC00y')));
});

test('checking what is about to be sent: empty, too long (counted in characters), fine', () => {
  assert.deepEqual(checkClipboardText('\u0000\u0001'), { text: '', bytes: 0, empty: true, tooLong: false, over: 0 });
  const fine = checkClipboardText('a'.repeat(6144));
  assert.equal(fine.tooLong, false);
  assert.equal(fine.empty, false);
  const long = checkClipboardText('a'.repeat(6150));
  assert.equal(long.tooLong, true);
  assert.equal(long.over, 6);
  const arabic = checkClipboardText('م'.repeat(3100)); // 2 bytes a character
  assert.equal(arabic.tooLong, true);
  assert.equal(arabic.over, 28);
});

test('one request at a time; each answer ends the request it belongs to', () => {
  const r = createRequests();
  assert.equal(r.pending, null);
  assert.ok(r.start('get', 0));
  assert.equal(r.start('put', 1), false, 'one at a time');
  assert.equal(r.status('written'), null, 'written does not answer a read');
  assert.deepEqual(r.text('FR76'), { kind: 'get', outcome: 'text', text: 'FR76' });
  assert.equal(r.pending, null);

  assert.ok(r.start('put', 2));
  assert.equal(r.text('sneaky'), null, 'text does not answer a write');
  assert.equal(r.status('empty'), null);
  assert.equal(r.status('too_long'), null);
  assert.deepEqual(r.status('written'), { kind: 'put', outcome: 'written' });

  for (const [kind, status] of [['get', 'empty'], ['get', 'too_long'], ['get', 'unavailable'], ['put', 'unavailable']]) {
    r.start(kind, 3);
    assert.deepEqual(r.status(status), { kind, outcome: status });
  }
  r.start('get', 4);
  assert.deepEqual(r.status('frozen'), { kind: 'get', outcome: 'other' }, "a newer agent's status ends the request");
});

test('nothing asked, nothing shown: unsolicited text and statuses are ignored', () => {
  const r = createRequests();
  assert.equal(r.text('unasked'), null);
  assert.equal(r.status('written'), null);
  assert.equal(r.refused('not_in_control'), null);
  assert.equal(r.controlEnded(), null);
  assert.equal(r.poll(1e9), null);
});

test('refused for want of control, control ended, no answer in time', () => {
  const r = createRequests({ timeoutMs: 1000 });
  r.start('put', 0);
  assert.equal(r.refused('too_many'), null, 'another refusal does not end it');
  assert.deepEqual(r.refused('not_in_control'), { kind: 'put', outcome: 'not_in_control' });
  r.start('get', 0);
  assert.deepEqual(r.controlEnded(), { kind: 'get', outcome: 'control_ended' });
  r.start('get', 100);
  assert.equal(r.poll(1099), null);
  assert.deepEqual(r.poll(1100), { kind: 'get', outcome: 'no_answer' });
  assert.equal(r.text('late'), null, 'a late answer is dropped');
  r.start('put', 0);
  r.clear();
  assert.equal(r.pending, null);
  assert.ok(ANSWER_TIMEOUT_MS >= 5000);
});

test('each outcome has its sentence; only text and written are not problems', () => {
  const cases = {
    text: 'clipReceived', written: 'clipWritten', empty: 'clipEmpty', too_long: 'clipTooLongThere',
    not_in_control: 'clipNotInControl', control_ended: 'clipControlEnded', no_answer: 'clipNoAnswer', other: 'clipOther',
  };
  for (const [outcome, key] of Object.entries(cases)) assert.equal(outcomeKey({ kind: 'get', outcome }), key);
  assert.equal(outcomeKey({ kind: 'put', outcome: 'unavailable' }), 'clipUnavailablePut');
  assert.equal(outcomeKey({ kind: 'get', outcome: 'unavailable' }), 'clipUnavailableGet');
  assert.equal(isProblem({ outcome: 'text' }), false);
  assert.equal(isProblem({ outcome: 'written' }), false);
  for (const o of ['empty', 'too_long', 'unavailable', 'not_in_control', 'control_ended', 'no_answer', 'other']) {
    assert.equal(isProblem({ outcome: o }), true, o);
  }
});

test('every sentence key exists in French and English', async () => {
  const src = await import('node:fs/promises').then((fs) => fs.readFile(new URL('../../viewer/src/i18n.js', import.meta.url), 'utf8'));
  const keys = ['clipAria', 'clipSend', 'clipGet', 'clipTitle', 'clipClose', 'clipInputLabel', 'clipInputHint', 'clipInputSend',
    'clipTextLabel', 'clipCopy', 'clipReading', 'clipReadRefused', 'clipMineEmpty', 'clipBoxEmpty', 'clipTooLongHere',
    'clipWaiting', 'clipSending', 'clipAsking', 'clipNotSent', 'clipWritten', 'clipReceived', 'clipEmpty', 'clipTooLongThere',
    'clipUnavailablePut', 'clipUnavailableGet', 'clipNotInControl', 'clipControlEnded', 'clipNoAnswer', 'clipOther',
    'clipCopied', 'clipCopySelect', 'screensAria', 'screenMain', 'screenN', 'screensAll', 'screensAllHint'];
  for (const key of keys) {
    const n = src.split(`    ${key}: `).length - 1;
    assert.equal(n, 2, `${key} in fr and en (found ${n})`);
  }
});
