// The clipboard, the pure part: what clipboard text may hold, making the caseworker's
// text sendable, and the one request in flight (which answer belongs to it, how it ended).
// No DOM, no channel, so Node's test runner checks it (tests/unit/clipboard.test.mjs).
//
// The rule is proto/src/channel.rs's `check_clipboard`, the same both ways: not empty, at
// most 6144 bytes of UTF-8, no control character but tab and line ends. The agent refuses
// text that breaks it; this page refuses too long a text itself (nothing is sent) and
// drops a received one that breaks it. The text is never logged, never stored: it lives
// in the page's memory (and the boxes showing it) until the session ends.

/** Longest clipboard text either way, in bytes of UTF-8 (`MAX_CLIPBOARD_BYTES`). */
export const MAX_CLIPBOARD_BYTES = 6 * 1024;
/** How long the page waits for the agent's answer before saying none came. */
export const ANSWER_TIMEOUT_MS = 15_000;

// Rust's char::is_control is Unicode's Cc: U+0000–U+001F and U+007F–U+009F.
const CONTROL_BUT_LINE_ENDS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
// Half of a surrogate pair, alone: not a character, and not valid UTF-8 for the agent.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONTROL_ALL = new RegExp(CONTROL_BUT_LINE_ENDS.source, 'g');
const LONE_SURROGATE_ALL = new RegExp(LONE_SURROGATE.source, 'g');

const encoder = new TextEncoder();

/** Bytes of `text` in UTF-8. */
export function utf8Bytes(text) {
  return encoder.encode(text).length;
}

/** Whether `text` is clipboard text the agent accepts (and this page shows). */
export function isValidClipboard(text) {
  return typeof text === 'string'
    && text.length > 0
    && text.length <= MAX_CLIPBOARD_BYTES // a quick bound: bytes ≥ UTF-16 units
    && utf8Bytes(text) <= MAX_CLIPBOARD_BYTES
    && !CONTROL_BUT_LINE_ENDS.test(text)
    && !LONE_SURROGATE.test(text);
}

/** The caseworker's text made sendable: control characters other than tab and line ends
 * taken out (a copied text often carries a stray one, and the agent drops them the same
 * way when it reads), a lone surrogate made U+FFFD. Nothing else changes: no trimming,
 * the text arrives as it was copied. The length is not cut: a text too long is refused
 * whole, never sent in part. */
export function cleanClipboard(raw) {
  return String(raw ?? '')
    .replace(CONTROL_ALL, '')
    .replace(LONE_SURROGATE_ALL, '\uFFFD');
}

/** How many characters `bytes` of UTF-8 hold, for text like `text`, rounded up: exact for
 * one script, an estimate for a mix (as chat.js's charsFor). */
function charsOver(text, bytes) {
  const chars = [...text].length;
  const perChar = chars ? utf8Bytes(text) / chars : 1;
  return Math.ceil(bytes / perChar - 1e-9);
}

/** Text about to be sent, checked: { text (cleaned), bytes, empty, tooLong, over
 * (characters too many, when tooLong) }. */
export function checkClipboardText(raw) {
  const text = cleanClipboard(raw);
  const bytes = utf8Bytes(text);
  const tooLong = bytes > MAX_CLIPBOARD_BYTES;
  return {
    text,
    bytes,
    empty: text === '',
    tooLong,
    over: tooLong ? charsOver(text, bytes - MAX_CLIPBOARD_BYTES) : 0,
  };
}

/** Statuses the agent sends (`clipboard_status`), and the request each can answer. */
const STATUS_ANSWERS = {
  written: ['put'],
  empty: ['get'],
  too_long: ['get'],
  unavailable: ['put', 'get'],
};

/** The request in flight, at most one: 'put' (the caseworker's text to the resident's
 * clipboard) or 'get' (the resident's clipboard text, please). Every method returns how
 * the request ended, { kind, outcome, text? }, or null when the event does not end one
 * (nothing was asked, or the answer is to another request). An outcome is a status the
 * agent sent (`written`, `empty`, `too_long`, `unavailable`, or `other` for a status of a
 * newer agent), `text` (the resident's clipboard came), `not_in_control` (the agent
 * refused it), `control_ended` (the resident took control back: the agent drops what
 * was still waiting) or `no_answer`. Anything arriving when nothing was asked is
 * ignored: the page never shows clipboard text it did not ask for. */
export function createRequests({ timeoutMs = ANSWER_TIMEOUT_MS } = {}) {
  let pending = null; // { kind, at }
  const end = (outcome, extra = {}) => {
    const done = { kind: pending.kind, outcome, ...extra };
    pending = null;
    return done;
  };
  return {
    get pending() {
      return pending?.kind ?? null;
    },
    /** A request leaves; false when one is still waiting (one at a time). */
    start(kind, now) {
      if (pending) return false;
      pending = { kind, at: now };
      return true;
    },
    /** The resident's clipboard text came (already checked by the channel). */
    text(text) {
      if (pending?.kind !== 'get') return null;
      return end('text', { text });
    },
    /** A `clipboard_status` came. */
    status(status) {
      if (!pending) return null;
      const answers = STATUS_ANSWERS[status];
      if (!answers) return end('other'); // a newer agent's status: the request is over
      return answers.includes(pending.kind) ? end(status) : null;
    },
    /** The agent refused input for want of control: what was waiting went with it. */
    refused(reason) {
      if (!pending || reason !== 'not_in_control') return null;
      return end('not_in_control');
    },
    /** Control ended (taken back, given back, the session over). */
    controlEnded() {
      return pending ? end('control_ended') : null;
    },
    /** Called now and then: the request is given up after `timeoutMs`. */
    poll(now) {
      if (!pending || now - pending.at < timeoutMs) return null;
      return end('no_answer');
    },
    clear() {
      pending = null;
    },
  };
}

/** The page's sentence (an i18n key) for how a request ended. */
export function outcomeKey({ kind, outcome }) {
  switch (outcome) {
    case 'text': return 'clipReceived';
    case 'written': return 'clipWritten';
    case 'empty': return 'clipEmpty';
    case 'too_long': return 'clipTooLongThere';
    case 'unavailable': return kind === 'put' ? 'clipUnavailablePut' : 'clipUnavailableGet';
    case 'not_in_control': return 'clipNotInControl';
    case 'control_ended': return 'clipControlEnded';
    case 'no_answer': return 'clipNoAnswer';
    default: return 'clipOther';
  }
}

/** Whether an outcome is a problem (shown as one) rather than the request done. */
export function isProblem({ outcome }) {
  return outcome !== 'text' && outcome !== 'written';
}
