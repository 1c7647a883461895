// Chat with the resident, the pure part: what a message may hold, cleaning what the
// caseworker typed, and the session's conversation (in memory only). No DOM, no channel,
// so Node's test runner checks it (tests/unit/chat.test.mjs).
//
// The rule is proto/src/channel.rs's `check_chat`, the same both ways: not blank, at most
// 2000 bytes of UTF-8, no control character but "\n", and none of the bidirectional
// embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which could reorder
// the words around a message. The agent refuses a message that breaks it; this page cleans
// what the caseworker typed before sending, and drops a received one that breaks it.

/** Longest message either way, in bytes of UTF-8 (`MAX_CHAT_BYTES` in channel.rs). */
export const MAX_CHAT_BYTES = 2000;
/** From this many bytes left, the page says how much room is left. */
export const NEAR_LIMIT_BYTES = 500;
/** Messages kept on the page; older ones are let go (a flood must not fill memory). */
export const MAX_MESSAGES = 500;

// Rust's char::is_control is Unicode's Cc: U+0000–U+001F and U+007F–U+009F.
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/;
const BIDI = /[\u202A-\u202E\u2066-\u2069]/;
// Half of a surrogate pair, alone: not a character, and not valid UTF-8 for the agent.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// Rust's str::trim: Unicode White_Space (unlike JS's trim, U+FEFF is not one).
const BLANK = /^[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$/;

const all = (re) => new RegExp(re.source, 'g');
const CONTROL_ALL = all(CONTROL_BUT_NEWLINE);
const BIDI_ALL = all(BIDI);
const LONE_SURROGATE_ALL = all(LONE_SURROGATE);

const encoder = new TextEncoder();

/** Bytes of `text` in UTF-8. */
export function utf8Bytes(text) {
  return encoder.encode(text).length;
}

/** Whether `text` is a chat message the agent accepts (and this page shows). */
export function isValidChat(text) {
  return typeof text === 'string'
    && !BLANK.test(text)
    && text.length <= MAX_CHAT_BYTES // a quick bound: bytes ≥ UTF-16 units
    && utf8Bytes(text) <= MAX_CHAT_BYTES
    && !CONTROL_BUT_NEWLINE.test(text)
    && !BIDI.test(text)
    && !LONE_SURROGATE.test(text);
}

/** What the caseworker typed, made sendable: line ends as "\n", tabs as spaces, other
 * control characters and bidirectional controls taken out, the ends trimmed. The length
 * is not cut: a message too long is refused whole, never sent in part. */
export function cleanChat(raw) {
  return String(raw ?? '')
    .replace(/\r\n?/g, '\n')
    .replace(/\t/g, ' ')
    .replace(CONTROL_ALL, '')
    .replace(BIDI_ALL, '')
    .replace(LONE_SURROGATE_ALL, '\uFFFD')
    .trim();
}

/** How many characters `bytes` of UTF-8 hold, for text like `text`: exact for one script
 * (1 byte a character in plain Latin, 2 in Arabic or Cyrillic, 3 in Tigrinya), an
 * estimate for a mix. `up` rounds up (characters to take out) rather than down (room). */
export function charsFor(text, bytes, up = false) {
  const chars = [...text].length;
  const perChar = chars ? utf8Bytes(text) / chars : 1;
  const n = bytes / perChar;
  return up ? Math.ceil(n - 1e-9) : Math.floor(n + 1e-9);
}

/** The message being typed, as it would be sent: { text, bytes, left (bytes, negative
 * when over), empty, tooLong, near (time to say how much room is left), chars (characters
 * left, or too many when tooLong) }. */
export function checkDraft(raw) {
  const text = cleanChat(raw);
  const bytes = utf8Bytes(text);
  const left = MAX_CHAT_BYTES - bytes;
  const tooLong = left < 0;
  return {
    text,
    bytes,
    left,
    empty: text === '',
    tooLong,
    near: left <= NEAR_LIMIT_BYTES,
    chars: tooLong ? charsFor(text, -left, true) : charsFor(text, left),
  };
}

/** The page's title with the count of unread messages in front: "(2) Acote". */
export function titleWith(unread, base) {
  return unread > 0 ? `(${unread}) ${base}` : base;
}

/** "14:03" in the page's language. */
export function formatTime(date, lang) {
  try {
    return new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' }).format(date);
  } catch {
    return date.toISOString().slice(11, 16);
  }
}

/** One session's conversation, in memory only: never stored, forgotten when a new session
 * starts. A message is { id, from: 'me' | 'resident', text, at: Date }. */
export function createConversation({ max = MAX_MESSAGES } = {}) {
  let messages = [];
  let unread = 0;
  let nextId = 1;
  return {
    get messages() {
      return messages;
    },
    get unread() {
      return unread;
    },
    /** Adds a message; `seen`: the caseworker has the conversation before their eyes.
     * Returns { message, dropped } (the oldest messages let go to stay within `max`). */
    add(from, text, { at = new Date(), seen = true } = {}) {
      const message = { id: nextId++, from, text, at };
      messages = [...messages, message];
      const dropped = messages.length > max ? messages.slice(0, messages.length - max) : [];
      if (dropped.length) messages = messages.slice(dropped.length);
      if (from === 'resident' && !seen) unread += 1;
      return { message, dropped };
    },
    /** The caseworker looked at the conversation. */
    read() {
      unread = 0;
    },
    clear() {
      messages = [];
      unread = 0;
    },
  };
}
