// Files both ways on the data channel, the pure part: the messages' checks, the names a
// file may travel under, base64, sizes in words, and the two halves of a transfer
// (Outgoing, Incoming) as plain state machines ported from proto/src/files.rs, which is
// the reference (the agent runs that code). On top of them, createTransfers() keeps one
// session's transfers both ways and decides what to send for each message; files-ui.js
// shows them. No DOM here, so Node's test runner checks all of it
// (tests/unit/files.test.mjs).
//
// A transfer: the sender offers (`file_offer`: id, name, size, SHA-256 of the whole file);
// the receiver accepts from an offset (`file_accept`) or ends it (`file_end`). Chunks of at
// most FILE_CHUNK_BYTES follow in order, base64 in JSON; the receiver acknowledges what it
// has (`file_ack`) and the sender keeps at most FILE_WINDOW_BYTES unacknowledged. When the
// last byte is in, the receiver checks the SHA-256 and ends with `saved` or `checksum`.
// After a drop the sender offers the same id again and the receiver accepts from what it
// holds. Nothing here ever logs a file's name or bytes.

/** Raw bytes in one `file_chunk`. */
export const FILE_CHUNK_BYTES = 8 * 1024;
/** Bytes a sender may have sent but not yet seen acknowledged. */
export const FILE_WINDOW_BYTES = 64 * 1024;
/** The receiver acknowledges at least this often (and at the end). */
export const FILE_ACK_EVERY = 16 * 1024;
/** Longest file name kept, in characters (the extension is kept whole). */
export const MAX_FILE_NAME_CHARS = 100;
/** Transfers open at once in each direction; more offers are ended with `busy`. */
export const MAX_OPEN_TRANSFERS = 4;
/** The relay's default limit (the page follows what the relay's hello says). */
export const DEFAULT_MAX_FILE_BYTES = 25_000_000;
/** Longest base64 text of a chunk (FILE_CHUNK_BYTES, padded). */
export const MAX_CHUNK_DATA_CHARS = Math.ceil(FILE_CHUNK_BYTES / 3) * 4;
/** Transfers kept in the list of a session; the oldest finished ones go first. */
export const MAX_LISTED = 100;

/** How a transfer may end, as the wire says it. */
export const FILE_STATUSES = [
  'saved', 'refused', 'too_large', 'disk_full', 'checksum', 'cancelled', 'busy', 'off', 'failed',
];

// ---------------------------------------------------------------------------------------
// Checks

const HEX = /^[0-9a-f]*$/;

function isHex(text, len) {
  return typeof text === 'string' && text.length === len && HEX.test(text);
}

/** Whether `id` is a transfer id: 32 lowercase hex digits. */
export function isTransferId(id) {
  return isHex(id, 32);
}

/** Whether `n` is a byte count or offset the wire may carry. */
export function isOffset(n) {
  return Number.isSafeInteger(n) && n >= 0;
}

/** Lowercase hex of bytes. */
export function toHex(bytes) {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** A fresh transfer id (16 random bytes). */
export function newTransferId(random = (a) => crypto.getRandomValues(a)) {
  return toHex(random(new Uint8Array(16)));
}

/** SHA-256 of `bytes`, as the wire carries it (64 lowercase hex digits). */
export async function sha256Hex(bytes) {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
}

/** What `file_end` said, as one of FILE_STATUSES; a status from a newer version is
 * 'other' (shown like a failure), as proto's FileStatus::Other. */
export function normaliseStatus(status) {
  return FILE_STATUSES.includes(status) ? status : 'other';
}

/** Why an offer cannot be received (proto's FileOffer::check): 'bad_id',
 * 'bad_checksum', 'bad_name', 'bad_size', or null when it is fine. */
export function checkOffer(offer) {
  if (!isTransferId(offer?.id)) return 'bad_id';
  if (!isHex(offer.sha256, 64)) return 'bad_checksum';
  if (!isOffset(offer.size)) return 'bad_size';
  if (cleanFileName(offer.name) === null) return 'bad_name';
  return null;
}

/** Whether a data-channel message of a `file_*` type has the fields its type needs, of
 * the right kinds (channel.js drops the others before anything sees them). The bytes of
 * a chunk are checked when they are decoded. */
export function isFileMessage(msg) {
  if (!msg || typeof msg !== 'object' || !isTransferId(msg.id)) return false;
  switch (msg.type) {
    case 'file_offer':
      return checkOffer(msg) === null;
    case 'file_accept':
    case 'file_ack':
      return isOffset(msg.offset);
    case 'file_chunk':
      return isOffset(msg.offset) && typeof msg.data === 'string';
    case 'file_end':
      return typeof msg.status === 'string' && msg.status.length <= 32;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------
// Names

// Rust's char::is_control (Unicode Cc).
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/g;
// Bidirectional embeddings, overrides, isolates and marks: a name must not show "exe" as "pdf".
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;
// What Windows forbids in a name (the folder separators are dealt with first).
const FORBIDDEN = /[<>:"|?*]/g;
// Half of a surrogate pair, alone: not a character (and not valid JSON for the agent).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// Rust's char::is_whitespace (Unicode White_Space), and dots, at either end.
const WS = '\\t\\n\\v\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const ENDS = new RegExp(`^[${WS}.]+|[${WS}.]+$`, 'g');
const TRAILING_SPACE = new RegExp(`[${WS}]+$`);

const chars = (text) => Array.from(text);

/** The name a file travels and is saved under (proto's clean_file_name): the last path
 * component only, without control or bidirectional characters, the characters Windows
 * forbids, or leading and trailing dots and spaces; Windows' device names get a `_` in
 * front; at most MAX_FILE_NAME_CHARS characters, the extension kept. null when nothing is
 * left. */
export function cleanFileName(raw) {
  if (typeof raw !== 'string') return null;
  const last = raw.split(/[/\\]/).pop();
  const trimmed = last
    .replace(LONE_SURROGATE, '')
    .replace(CONTROL, '')
    .replace(BIDI, '')
    .replace(FORBIDDEN, '')
    .replace(ENDS, '');
  if (trimmed === '') return null;
  const dot = trimmed.lastIndexOf('.');
  let stem = trimmed;
  let ext = '';
  if (dot > 0 && chars(trimmed.slice(dot + 1)).length <= 10) {
    stem = trimmed.slice(0, dot);
    ext = trimmed.slice(dot);
  }
  const room = Math.max(0, MAX_FILE_NAME_CHARS - chars(ext).length);
  stem = chars(stem).slice(0, room).join('').replace(TRAILING_SPACE, '');
  const device = stem.split('.')[0].replace(/[a-z]/g, (c) => c.toUpperCase());
  const reserved = /^(CON|PRN|AUX|NUL)$/.test(device) || /^(COM|LPT)[0-9]$/.test(device);
  return `${reserved ? '_' : ''}${stem}${ext}`;
}

// ---------------------------------------------------------------------------------------
// Base64 (standard alphabet, with padding, as the agent's base64 crate writes and reads it)

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 of bytes, with padding. */
export function toBase64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** The bytes of standard base64 with canonical padding (the bits after the last byte
 * zero, as the agent's decoder wants them); null when it is not that. */
export function fromBase64(text) {
  if (typeof text !== 'string' || !BASE64.test(text)) return null;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (pad) {
    const last = ALPHABET.indexOf(text[text.length - pad - 1]);
    if (last & (pad === 2 ? 0b1111 : 0b11)) return null;
  }
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The checked bytes of a `file_chunk` (proto's FileChunk::bytes): base64 of 1 to
 * FILE_CHUNK_BYTES bytes; null otherwise. A huge string is refused before decoding. */
export function chunkBytes(data) {
  if (typeof data !== 'string' || data.length > MAX_CHUNK_DATA_CHARS) return null;
  const bytes = fromBase64(data);
  return bytes && bytes.length > 0 && bytes.length <= FILE_CHUNK_BYTES ? bytes : null;
}

// ---------------------------------------------------------------------------------------
// Sizes in words

/** A size in decimal units, as the resident's window and the relay's limit say it:
 * "812 B", "1.5 kB", "240 kB", "1.2 MB", "25 MB"; in French "240 ko", "1,2 Mo". A
 * no-break space keeps the number with its unit. */
export function formatSize(bytes, lang = 'en') {
  const fr = lang === 'fr';
  const units = fr ? ['o', 'ko', 'Mo', 'Go'] : ['B', 'kB', 'MB', 'GB'];
  let n = Math.max(0, Number(bytes) || 0);
  let u = 0;
  // One decimal under 10 of a unit, none above; rounding up to 1000 moves to the next unit.
  const round = (x) => (x < 9.95 ? Math.round(x * 10) / 10 : Math.round(x));
  while (u < units.length - 1 && (u === 0 ? n >= 1000 : round(n) >= 1000)) {
    n /= 1000;
    u += 1;
  }
  const shown = u === 0 ? String(Math.round(n)) : String(round(n));
  return `${fr ? shown.replace('.', ',') : shown}\u00A0${units[u]}`;
}

// ---------------------------------------------------------------------------------------
// The two halves of a transfer (proto's Outgoing and Incoming)

/** The sending half: which bytes to send next. Methods that can refuse return null when
 * fine, else the reason ('bad_offset', 'not_open'). */
export class Outgoing {
  constructor(id, size) {
    this.id = id;
    this.size = size;
    this.sent = 0; // the next chunk starts here
    this.acked = 0;
    this.accepted = false; // nothing is sent before the receiver accepts
  }

  /** The receiver wants the bytes from `offset` on (at first, or after a drop). */
  accept(offset) {
    if (!isOffset(offset) || offset > this.size) return 'bad_offset';
    this.accepted = true;
    this.sent = offset;
    this.acked = offset;
    return null;
  }

  /** The receiver has everything before `offset`. */
  ack(offset) {
    if (!this.accepted) return 'not_open';
    if (!isOffset(offset) || offset < this.acked || offset > this.sent) return 'bad_offset';
    this.acked = offset;
    return null;
  }

  /** The next chunk to send, as [offset, length], while the window allows; it counts as
   * sent. null when there is nothing to send now. */
  nextChunk() {
    if (!this.accepted || this.sent >= this.size || this.sent - this.acked >= FILE_WINDOW_BYTES) return null;
    const len = Math.min(this.size - this.sent, FILE_CHUNK_BYTES);
    const at = this.sent;
    this.sent += len;
    return [at, len];
  }

  /** The connection dropped: nothing in flight counts; a new accept says where to go on. */
  interrupted() {
    this.accepted = false;
    this.sent = this.acked;
  }

  /** [acknowledged, size], for a progress bar. */
  progress() {
    return [this.acked, this.size];
  }
}

/** The receiving half: checks the order of chunks and keeps them (in memory: the page
 * has no disk). Open one with Incoming.open. */
export class Incoming {
  constructor(offer, name) {
    this.offer = { id: offer.id, name: offer.name, size: offer.size, sha256: offer.sha256 };
    this.name = name; // the cleaned name to save under
    this.written = 0;
    this.lastAck = 0;
    this.parts = [];
  }

  /** An offer, if it may be received: { incoming }, or { status } to end it with: 'off'
   * when the site allows no files, 'failed' for a bad offer, 'too_large' over `maxBytes`. */
  static open(offer, maxBytes) {
    if (!(maxBytes > 0)) return { status: 'off' };
    if (checkOffer(offer) !== null) return { status: 'failed' };
    if (offer.size > maxBytes) return { status: 'too_large' };
    return { incoming: new Incoming(offer, cleanFileName(offer.name)) };
  }

  get id() {
    return this.offer.id;
  }

  get size() {
    return this.offer.size;
  }

  /** The `file_accept` for now: from 0, or from what the page holds after a drop. */
  accept() {
    this.lastAck = this.written;
    return { type: 'file_accept', id: this.offer.id, offset: this.written };
  }

  /** A chunk arrived: { duplicate: true } (already here: the sender went back after a
   * drop), { bytes, ack, complete } (kept; send `ack` if there is one), or { error }
   * ('bad_data', 'bad_offset': a gap, or bytes past the end). */
  chunk(msg) {
    const bytes = chunkBytes(msg?.data);
    if (!bytes) return { error: 'bad_data' };
    if (!isOffset(msg.offset)) return { error: 'bad_offset' };
    const end = msg.offset + bytes.length;
    if (end > this.offer.size) return { error: 'bad_offset' };
    if (end <= this.written) return { duplicate: true };
    if (msg.offset !== this.written) return { error: 'bad_offset' };
    this.parts.push(bytes);
    this.written = end;
    const complete = end === this.offer.size;
    let ack = null;
    if (complete || end - this.lastAck >= FILE_ACK_EVERY) {
      this.lastAck = end;
      ack = { type: 'file_ack', id: this.offer.id, offset: end };
    }
    return { bytes, ack, complete };
  }

  /** Whether every byte came. */
  complete() {
    return this.written === this.offer.size;
  }

  /** The whole file, once complete. */
  bytes() {
    const all = new Uint8Array(this.written);
    let at = 0;
    for (const p of this.parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  }

  /** Once complete: 'saved' if the bytes hash to the offer's SHA-256, else 'checksum'
   * ('failed' before the end). `digest` is sha256Hex, or a stand-in for tests. */
  async verify(digest = sha256Hex) {
    if (!this.complete()) return 'failed';
    return (await digest(this.bytes())) === this.offer.sha256 ? 'saved' : 'checksum';
  }

  /** Lets the bytes go. */
  drop() {
    this.parts = [];
  }
}

// ---------------------------------------------------------------------------------------
// What the caseworker reads about a transfer

/** The sentence for a transfer's state: { key, params } for i18n's t(), `name` and
 * sizes left for the caller to fill (they are words of the page's language). */
export function describe(item) {
  const out = item.dir === 'out';
  if (item.phase !== 'ended') {
    if (item.paused) return { key: 'filePaused' };
    if (item.phase === 'hashing') return { key: 'fileOutPreparing' };
    if (item.phase === 'waiting') return { key: 'fileOutWaiting' };
    if (item.phase === 'checking') return { key: out ? 'fileOutChecking' : 'fileInChecking' };
    return { key: out ? 'fileOutSending' : 'fileInReceiving' };
  }
  const { status, by } = item;
  if (by === 'session') return { key: 'fileSessionEnded' };
  if (status === 'cancelled') return { key: by === 'me' ? 'fileCancelledByMe' : 'fileCancelledByResident' };
  if (item.reason === 'unreadable') return { key: 'fileUnreadable' };
  const known = {
    out: {
      saved: 'fileOutSaved', refused: 'fileOutRefused', too_large: 'fileOutTooLarge', disk_full: 'fileOutDiskFull',
      checksum: 'fileOutChecksum', busy: 'fileOutBusy', off: 'fileOff',
    },
    in: {
      saved: 'fileInSaved', too_large: 'fileInTooLarge', checksum: 'fileInChecksum', busy: 'fileInBusy',
      off: 'fileOff', disk_full: 'fileInNoRoom',
    },
  }[item.dir];
  return { key: known[status] ?? 'fileFailed' };
}

/** Whether a transfer is still going (it counts towards MAX_OPEN_TRANSFERS). */
export function isOpen(item) {
  return item.phase !== 'ended';
}

// ---------------------------------------------------------------------------------------
// One session's transfers

/**
 * The transfers of one session, both ways. The page gives it the data channel's `send`
 * while the channel is open (`channelOpened(send)` / `channelClosed()`), every checked
 * `file_*` message (`receive(msg)`), and the caseworker's choices (`offer(file)`,
 * `cancel(id)`). `list` is what to show: items { id, dir: 'out' | 'in', name, size, phase:
 * 'hashing' | 'waiting' | 'sending' | 'receiving' | 'checking' | 'ended', status, by: 'me'
 * | 'resident' | 'session', done (bytes), paused, seen, blob (a received file, once saved)
 * }. Listeners get (event) on every change: { type: 'change' }, { type: 'incoming', item }
 * (the resident offers a file), { type: 'ended', item }, { type: 'dropped', items } (let
 * go of, for their Blob URLs).
 */
export function createTransfers({ digest = sha256Hex, newId = newTransferId, maxListed = MAX_LISTED } = {}) {
  let limit = 0;
  let send = null; // the open channel's send(msg) → boolean, or null
  let items = []; // oldest first
  const listeners = new Set();

  const emit = (event) => {
    for (const fn of listeners) fn(event);
  };
  const changed = () => emit({ type: 'change' });
  const find = (id) => items.find((i) => i.id === id);
  const openCount = (dir) => items.filter((i) => i.dir === dir && isOpen(i)).length;
  const trySend = (msg) => {
    try {
      return Boolean(send?.(msg));
    } catch {
      return false; // the channel is closing: as if it were closed
    }
  };

  function add(item) {
    items = [...items, item];
    if (items.length <= maxListed) return;
    // Let go of the oldest finished transfers, received files last.
    const over = items.length - maxListed;
    const ended = items.filter((i) => !isOpen(i));
    const order = [...ended.filter((i) => !i.blob), ...ended.filter((i) => i.blob)];
    const gone = new Set(order.slice(0, over));
    if (!gone.size) return;
    items = items.filter((i) => !gone.has(i));
    emit({ type: 'dropped', items: [...gone] });
  }

  function newItem(dir, id, name, size, phase) {
    return {
      id, dir, name, size, phase, status: null, by: null, reason: null, done: 0,
      paused: false, seen: dir === 'out', blob: null,
      out: null, data: null, inc: null, offer: null, offerSent: false, pendingEnd: null,
    };
  }

  // The transfer is over. `tell`: say it to the agent (now, or once the channel is back).
  function end(item, status, by, { tell = true, reason = null } = {}) {
    if (!isOpen(item)) return;
    Object.assign(item, { phase: 'ended', status, by, reason, paused: false });
    if (item.dir === 'out') item.done = status === 'saved' ? item.size : item.out?.acked ?? 0;
    if (tell && !trySend({ type: 'file_end', id: item.id, status })) item.pendingEnd = status;
    item.data = null;
    if (item.inc) {
      item.done = item.inc.written;
      item.inc.drop();
      item.inc = null;
    }
    emit({ type: 'ended', item });
    changed();
  }

  // Sends what the window allows, from the file's bytes in memory.
  function pump(item) {
    if (!item.out || !item.data) return;
    let c;
    while (send && (c = item.out.nextChunk())) {
      const [at, len] = c;
      trySend({ type: 'file_chunk', id: item.id, offset: at, data: toBase64(item.data.subarray(at, at + len)) });
    }
  }

  function sendOffer(item) {
    item.offerSent = trySend(item.offer);
  }

  function onOffer(msg) {
    const known = find(msg.id);
    if (known) {
      // The same id again: the resident's side came back after a drop. Go on from what
      // is here; a transfer already over is said over again (the first word may be lost).
      if (known.dir !== 'in') return;
      if (known.phase === 'receiving') {
        known.paused = false;
        trySend(known.inc.accept());
        changed();
      } else if (!isOpen(known)) {
        trySend({ type: 'file_end', id: known.id, status: known.status });
      }
      return;
    }
    const name = cleanFileName(msg.name);
    const item = newItem('in', msg.id, name ?? '', msg.size, 'receiving');
    // Refused at once: listed already ended (so it never pushes a received file out).
    const refuse = (status) => {
      Object.assign(item, { phase: 'ended', status, by: 'me' });
      if (!trySend({ type: 'file_end', id: item.id, status })) item.pendingEnd = status;
      add(item);
      emit({ type: 'incoming', item });
      changed();
    };
    const opened = Incoming.open(msg, limit);
    if (opened.status) {
      refuse(opened.status);
      return;
    }
    if (openCount('in') >= MAX_OPEN_TRANSFERS) {
      refuse('busy');
      return;
    }
    item.inc = opened.incoming;
    add(item);
    emit({ type: 'incoming', item });
    trySend(item.inc.accept());
    if (item.inc.complete()) finish(item); // an empty file is whole at once
    else changed();
  }

  // Every byte came: checked, then kept for the caseworker to save, or dropped.
  async function finish(item) {
    item.phase = 'checking';
    changed();
    const inc = item.inc;
    let status;
    try {
      status = await inc.verify(digest);
    } catch {
      status = 'failed';
    }
    if (item.inc !== inc || !isOpen(item)) return; // cancelled, or the session ended meanwhile
    if (status === 'saved') item.blob = new Blob([inc.bytes()], { type: 'application/octet-stream' });
    end(item, status, 'me');
  }

  function onChunk(msg) {
    const item = find(msg.id);
    if (!item || item.dir !== 'in' || item.phase !== 'receiving') return;
    const r = item.inc.chunk(msg);
    if (r.error) {
      end(item, 'failed', 'me');
      return;
    }
    if (r.duplicate) return;
    item.done = item.inc.written;
    item.paused = false;
    if (r.ack) trySend(r.ack);
    if (r.complete) finish(item);
    else changed();
  }

  function onAccept(msg) {
    const item = find(msg.id);
    if (!item || item.dir !== 'out' || !isOpen(item) || !item.out) return;
    if (item.out.accept(msg.offset)) {
      end(item, 'failed', 'me');
      return;
    }
    Object.assign(item, { phase: 'sending', paused: false, done: item.out.acked });
    pump(item);
    if (item.out.acked === item.size) item.phase = 'checking';
    changed();
  }

  function onAck(msg) {
    const item = find(msg.id);
    if (!item || item.dir !== 'out' || !isOpen(item) || !item.out) return;
    if (item.out.ack(msg.offset)) {
      end(item, 'failed', 'me');
      return;
    }
    item.done = item.out.acked;
    if (item.done === item.size) item.phase = 'checking';
    pump(item);
    changed();
  }

  function onEnd(msg) {
    const item = find(msg.id);
    if (!item || !isOpen(item)) return;
    end(item, normaliseStatus(msg.status), 'resident', { tell: false });
  }

  return {
    get list() {
      return items;
    },
    get limit() {
      return limit;
    },
    get canSend() {
      return Boolean(send) && limit > 0;
    },
    /** Bytes per file the relay allows (0: files are off). */
    setLimit(bytes) {
      limit = isOffset(bytes) ? bytes : 0;
      changed();
    },
    on(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    /** The caseworker's file (a File or Blob with a name): checked here first, read and
     * measured, then offered. Resolves with { id } once offered (or waiting for the
     * channel), or { error } it was refused with before anything left: 'off', 'too_large',
     * 'bad_name', 'busy', 'closed'. */
    async offer(file) {
      if (!(limit > 0)) return { error: 'off' };
      const name = cleanFileName(file?.name);
      if (file.size > limit) return { error: 'too_large', name: name ?? '' };
      if (name === null) return { error: 'bad_name' };
      if (openCount('out') >= MAX_OPEN_TRANSFERS) return { error: 'busy' };
      if (!send) return { error: 'closed' };
      const item = newItem('out', newId(), name, file.size, 'hashing');
      add(item);
      changed();
      let data;
      let sha256;
      try {
        data = new Uint8Array(await file.arrayBuffer());
        sha256 = await digest(data);
      } catch {
        end(item, 'failed', 'me', { tell: false, reason: 'unreadable' });
        return { id: item.id };
      }
      if (!isOpen(item)) return { id: item.id }; // cancelled meanwhile
      if (data.length > limit) {
        // It grew on disk since it was picked.
        end(item, 'too_large', 'me', { tell: false });
        return { id: item.id };
      }
      Object.assign(item, { data, size: data.length, phase: 'waiting', out: new Outgoing(item.id, data.length) });
      item.offer = { type: 'file_offer', id: item.id, name, size: data.length, sha256 };
      sendOffer(item);
      changed();
      return { id: item.id };
    },
    /** The caseworker stops a transfer. */
    cancel(id) {
      const item = find(id);
      // A file not offered yet has nobody to tell.
      if (item && isOpen(item)) end(item, 'cancelled', 'me', { tell: item.dir === 'in' || item.offerSent });
    },
    /** A checked `file_*` message from the agent (see isFileMessage). */
    receive(msg) {
      switch (msg?.type) {
        case 'file_offer': onOffer(msg); break;
        case 'file_accept': onAccept(msg); break;
        case 'file_ack': onAck(msg); break;
        case 'file_chunk': onChunk(msg); break;
        case 'file_end': onEnd(msg); break;
        default: break;
      }
    },
    /** A (new) data channel is open: ends that could not be said are said; each
     * unfinished file this page sends is offered again under its id (the agent accepts
     * from what it holds); the agent offers its own again. */
    channelOpened(sendFn) {
      send = sendFn;
      for (const item of items) {
        if (item.pendingEnd && trySend({ type: 'file_end', id: item.id, status: item.pendingEnd })) {
          item.pendingEnd = null;
        }
        if (item.dir === 'out' && isOpen(item) && item.offer) {
          item.out.interrupted();
          if (item.phase !== 'waiting') item.paused = true; // until accepted again
          sendOffer(item);
        }
      }
      changed();
    },
    /** The data channel closed: nothing in flight counts any more. */
    channelClosed() {
      send = null;
      for (const item of items) {
        if (!isOpen(item)) continue;
        if (item.dir === 'out') item.out?.interrupted();
        if (item.phase === 'sending' || item.phase === 'receiving' || item.phase === 'checking') item.paused = true;
      }
      changed();
    },
    /** The session is over: every transfer still going stops; received files stay. */
    sessionOver() {
      send = null;
      for (const item of items) if (isOpen(item)) end(item, 'cancelled', 'session', { tell: false });
      for (const item of items) item.pendingEnd = null;
      changed();
    },
    /** The caseworker has seen the list: nothing is new any more. */
    markSeen() {
      let any = false;
      for (const item of items) {
        if (!item.seen) {
          item.seen = true;
          any = true;
        }
      }
      if (any) changed();
    },
    /** Files the resident offered that the caseworker has not seen yet. */
    get unseen() {
      return items.filter((i) => !i.seen).length;
    },
    /** A new session: nothing of the last one is kept. */
    clear() {
      const gone = items;
      items = [];
      send = null;
      limit = 0;
      for (const item of gone) {
        if (item.inc) item.inc.drop();
        item.data = null;
        item.inc = null;
      }
      if (gone.length) emit({ type: 'dropped', items: gone });
      changed();
    },
  };
}
