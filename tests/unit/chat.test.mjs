// The chat's rule, cleaning and conversation (viewer/src/chat.js), without a browser. The
// rule is proto/src/channel.rs's check_chat: these cases mirror its unit test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_CHAT_BYTES, MAX_MESSAGES, isValidChat, cleanChat, checkDraft, charsFor, utf8Bytes,
  createConversation, titleWith, formatTime,
} from '../../viewer/src/chat.js';

test('valid messages: plain text, new lines, Arabic, links, emoji', () => {
  for (const ok of ['Bonjour', 'Bonjour,\nvoici le lien', 'شكرا \u200Fok', 'https://www.caf.fr/?a=1&b=2',
    'Ça marche 👍', ' a ', '\uFEFF']) {
    assert.ok(isValidChat(ok), JSON.stringify(ok));
  }
});

test('refused as the agent refuses them: blank, control characters, bidi controls, too long', () => {
  const long = 'é'.repeat(MAX_CHAT_BYTES / 2 + 1);
  for (const bad of ['', '  \n ', '\u3000', 'a\u001b[2J', 'x\u202Egnp.exe', '\u2067a', 'a\rb', 'a\tb', 'a\u0000',
    'a\u0085b', 'a\u009Fb', 'a\u202Ab', 'a\u2069b', long, 'a\uD800b', '\uDC00', 'x'.repeat(MAX_CHAT_BYTES + 1)]) {
    assert.ok(!isValidChat(bad), JSON.stringify(bad).slice(0, 40));
  }
  for (const notText of [null, undefined, 42, ['a'], { text: 'a' }]) assert.ok(!isValidChat(notText));
});

test('the limit is in bytes of UTF-8, 2000 included', () => {
  assert.ok(isValidChat('é'.repeat(1000)));
  assert.ok(!isValidChat('é'.repeat(1001)));
  assert.ok(isValidChat('a'.repeat(2000)));
  assert.ok(isValidChat('ሰ'.repeat(666))); // Tigrinya: 3 bytes a character
  assert.ok(!isValidChat('ሰ'.repeat(667)));
  assert.ok(isValidChat('😀'.repeat(500)));
  assert.ok(!isValidChat('😀'.repeat(501)));
  assert.equal(utf8Bytes('é😀a'), 2 + 4 + 1);
});

test('cleaning: line ends, controls and bidi controls out, trimmed; the rest kept exactly', () => {
  assert.equal(cleanChat('  Bonjour\r\nça va ?\rOui  '), 'Bonjour\nça va ?\nOui');
  assert.equal(cleanChat('x\u202Egnp.exe'), 'xgnp.exe');
  assert.equal(cleanChat('\u2066a\u2069 \u202Ab\u202C'), 'a b');
  assert.equal(cleanChat('a\u0007b\u001b[2J\u007f\u0085'), 'ab[2J');
  assert.equal(cleanChat('Nom\tPrénom'), 'Nom Prénom');
  assert.equal(cleanChat('a\uD800b'), 'a\uFFFDb');
  assert.equal(cleanChat('😀'), '😀', 'a whole surrogate pair stays');
  // Right-to-left marks are not controls: they stay (they only mark a direction).
  assert.equal(cleanChat('مرحبا\u200F https://example.org'), 'مرحبا\u200F https://example.org');
  assert.equal(cleanChat(null), '');
  assert.equal(cleanChat(' \n\t\u202E '), '');
  // Whatever comes out is either empty or valid, unless too long.
  for (const raw of ['\u202E', ' \u0000 a \u2066', 'a\r\n\r\nb', '\uFEFF\u00A0x\u00A0']) {
    const c = cleanChat(raw);
    assert.ok(c === '' || isValidChat(c), JSON.stringify(raw));
  }
});

test('the draft says how much room is left, and how much is too much', () => {
  const empty = checkDraft('   ');
  assert.equal(empty.empty, true);
  assert.equal(empty.tooLong, false);
  assert.equal(empty.near, false);

  const short = checkDraft('Bonjour');
  assert.deepEqual([short.text, short.bytes, short.left, short.near, short.tooLong], ['Bonjour', 7, 1993, false, false]);

  const near = checkDraft('a'.repeat(1600));
  assert.equal(near.near, true);
  assert.equal(near.chars, 400);

  const arabic = checkDraft('م'.repeat(900)); // 1800 bytes: 200 left, 100 Arabic letters
  assert.equal(arabic.left, 200);
  assert.equal(arabic.chars, 100);

  const full = checkDraft('é'.repeat(1000));
  assert.equal(full.left, 0);
  assert.equal(full.tooLong, false);
  assert.equal(full.chars, 0);

  const over = checkDraft('é'.repeat(1001));
  assert.equal(over.tooLong, true);
  assert.equal(over.left, -2);
  assert.equal(over.chars, 1, 'one character too many');

  const overAscii = checkDraft(` ${'x'.repeat(2345)}\n`);
  assert.equal(overAscii.bytes, 2345, 'counted after cleaning');
  assert.equal(overAscii.chars, 345);
});

test('characters for a number of bytes: exact for one script, estimated for a mix', () => {
  assert.equal(charsFor('abc', 10), 10);
  assert.equal(charsFor('éé', 10), 5);
  assert.equal(charsFor('ሰ', 10), 3);
  assert.equal(charsFor('ሰ', 10, true), 4);
  assert.equal(charsFor('', 7), 7);
});

test('the conversation: in order, unread counted for the resident only when unseen, cleared', () => {
  const c = createConversation();
  const at = new Date('2026-12-04T14:03:00Z');
  c.add('me', 'Bonjour', { at });
  c.add('resident', 'Salut', { at, seen: true });
  assert.equal(c.unread, 0);
  c.add('resident', 'Vous êtes là ?', { seen: false });
  c.add('resident', 'Allô', { seen: false });
  c.add('me', 'Oui', { seen: false });
  assert.equal(c.unread, 2, 'only the resident\'s unseen messages');
  assert.deepEqual(c.messages.map((m) => [m.from, m.text]),
    [['me', 'Bonjour'], ['resident', 'Salut'], ['resident', 'Vous êtes là ?'], ['resident', 'Allô'], ['me', 'Oui']]);
  assert.equal(new Set(c.messages.map((m) => m.id)).size, 5, 'each message has its own id');
  c.read();
  assert.equal(c.unread, 0);
  assert.equal(c.messages.length, 5, 'reading keeps the messages');
  c.add('resident', 'Merci', { seen: false });
  c.clear();
  assert.equal(c.messages.length, 0);
  assert.equal(c.unread, 0);
});

test('the conversation keeps the latest messages only', () => {
  const c = createConversation({ max: 3 });
  for (const text of ['1', '2', '3']) c.add('resident', text);
  const { message, dropped } = c.add('resident', '4');
  assert.equal(message.text, '4');
  assert.deepEqual(dropped.map((m) => m.text), ['1']);
  assert.deepEqual(c.messages.map((m) => m.text), ['2', '3', '4']);
  assert.equal(createConversation().messages.length, 0);
  assert.ok(MAX_MESSAGES >= 100);
});

test('the title and the time', () => {
  assert.equal(titleWith(0, 'Acote'), 'Acote');
  assert.equal(titleWith(3, 'Acote'), '(3) Acote');
  const at = new Date(2026, 11, 4, 9, 5);
  assert.equal(formatTime(at, 'fr'), '09:05');
  assert.match(formatTime(at, 'en'), /^09:05( AM)?$/);
});
