// File transfer's pure part (viewer/src/files.js), without a browser: the halves of a
// transfer ported from proto/src/files.rs (these cases mirror its unit tests), names,
// base64, sizes, the messages' checks, and one session's transfers played both ways
// between two copies of the page's logic over a channel the test can cut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  FILE_CHUNK_BYTES, FILE_WINDOW_BYTES, FILE_ACK_EVERY, MAX_FILE_NAME_CHARS, MAX_OPEN_TRANSFERS,
  MAX_CHUNK_DATA_CHARS, Outgoing, Incoming, cleanFileName, toBase64, fromBase64, chunkBytes,
  formatSize, sha256Hex, newTransferId, isTransferId, isFileMessage, checkOffer, normaliseStatus,
  createTransfers, describe,
} from '../../viewer/src/files.js';

const ID = '0123456789abcdef0123456789abcdef';
const sha = (bytes) => createHash('sha256').update(bytes).digest('hex');

function offerOf(data, extra = {}) {
  return { type: 'file_offer', id: ID, name: 'attestation.pdf', size: data.length, sha256: sha(data), ...extra };
}

function chunkMsg(id, offset, bytes) {
  return { type: 'file_chunk', id, offset, data: toBase64(bytes) };
}

function pattern(n, f = (i) => (i * 7) % 251) {
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i += 1) data[i] = f(i);
  return data;
}

/** Runs a transfer through both halves (stopping after `stopAfter` chunks if given);
 * returns the bytes written and both halves. */
function transfer(data, stopAfter = null) {
  const offer = offerOf(data);
  const out = new Outgoing(offer.id, offer.size);
  const { incoming: inc } = Incoming.open(offer, 25_000_000);
  assert.equal(out.accept(inc.accept().offset), null);
  const written = [];
  let chunks = 0;
  let c;
  while ((c = out.nextChunk())) {
    const [at, len] = c;
    const r = inc.chunk(chunkMsg(out.id, at, data.subarray(at, at + len)));
    assert.ok(!r.error, r.error);
    if (!r.duplicate) {
      written.push(...r.bytes);
      if (r.ack) assert.equal(out.ack(r.ack.offset), null);
    }
    chunks += 1;
    if (chunks === stopAfter) break;
  }
  return { written: Uint8Array.from(written), out, inc };
}

test('the protocol numbers are the agent\'s', () => {
  assert.equal(FILE_CHUNK_BYTES, 8192);
  assert.equal(FILE_WINDOW_BYTES, 65536);
  assert.equal(FILE_ACK_EVERY, 16384);
  assert.equal(MAX_OPEN_TRANSFERS, 4);
  assert.equal(MAX_FILE_NAME_CHARS, 100);
  assert.equal(MAX_CHUNK_DATA_CHARS, 10924);
});

test('a file goes whole and its checksum is right', async () => {
  const data = pattern(100_000);
  const { written, out, inc } = transfer(data);
  assert.deepEqual(written, data);
  assert.deepEqual(inc.bytes(), data);
  assert.equal(await inc.verify(), 'saved');
  assert.deepEqual(out.progress(), [100_000, 100_000]);
});

test('an empty file needs no chunk', async () => {
  const { written, inc } = transfer(new Uint8Array(0));
  assert.equal(written.length, 0);
  assert.ok(inc.complete());
  assert.equal(await inc.verify(), 'saved');
});

test('the sender stops at the window until acknowledged', () => {
  const out = new Outgoing(ID, 200_000);
  assert.equal(out.nextChunk(), null, 'nothing before the receiver accepts');
  assert.equal(out.ack(0), 'not_open');
  out.accept(0);
  let sent = 0;
  while (out.nextChunk()) sent += 1;
  assert.equal(sent * FILE_CHUNK_BYTES, FILE_WINDOW_BYTES);
  assert.equal(out.ack(16 * 1024), null);
  assert.ok(out.nextChunk(), 'an ack opens the window again');
  assert.equal(out.ack(1_000_000), 'bad_offset');
  assert.equal(out.ack(0), 'bad_offset', 'acks never go back');
  assert.equal(new Outgoing(ID, 10).accept(11), 'bad_offset');
  assert.equal(new Outgoing(ID, 10).accept(-1), 'bad_offset');
  // The last chunk is what is left.
  const small = new Outgoing(ID, 10_000);
  small.accept(0);
  assert.deepEqual(small.nextChunk(), [0, 8192]);
  assert.deepEqual(small.nextChunk(), [8192, 1808]);
  assert.equal(small.nextChunk(), null);
});

test('after a drop only the rest is sent', async () => {
  const data = pattern(60_000, (i) => i % 253);
  const { written: first, out, inc } = transfer(data, 3);
  const written = [...first];
  assert.equal(inc.written, 3 * FILE_CHUNK_BYTES);
  out.interrupted();
  assert.equal(out.nextChunk(), null, 'nothing until accepted again');
  const accept = inc.accept();
  assert.equal(accept.offset, inc.written);
  out.accept(accept.offset);
  // The sender may repeat a chunk already written before the drop: skipped.
  assert.deepEqual(inc.chunk(chunkMsg(ID, 0, data.subarray(0, FILE_CHUNK_BYTES))), { duplicate: true });
  let c;
  while ((c = out.nextChunk())) {
    const [at, len] = c;
    const r = inc.chunk(chunkMsg(ID, at, data.subarray(at, at + len)));
    written.push(...r.bytes);
    if (r.ack) out.ack(r.ack.offset);
  }
  assert.deepEqual(Uint8Array.from(written), data);
  assert.equal(await inc.verify(), 'saved');
});

test('acknowledgements come every 16 KiB and at the end', () => {
  const data = pattern(40_000);
  const { incoming: inc } = Incoming.open(offerOf(data), 25_000_000);
  inc.accept();
  const acks = [];
  for (let at = 0; at < data.length; at += FILE_CHUNK_BYTES) {
    const r = inc.chunk(chunkMsg(ID, at, data.subarray(at, at + FILE_CHUNK_BYTES)));
    if (r.ack) acks.push(r.ack.offset);
  }
  assert.deepEqual(acks, [16384, 32768, 40000]);
});

test('wrong bytes fail the checksum', async () => {
  const data = new Uint8Array(20_000).fill(1);
  const { incoming: inc } = Incoming.open(offerOf(data, { sha256: sha(Buffer.from('something else')) }), 25_000_000);
  inc.accept();
  for (let at = 0; at < data.length; at += FILE_CHUNK_BYTES) {
    assert.ok(!inc.chunk(chunkMsg(ID, at, data.subarray(at, at + FILE_CHUNK_BYTES))).error);
  }
  assert.equal(await inc.verify(), 'checksum');
});

test('gaps, overruns and bad data are refused', async () => {
  const data = new Uint8Array(20_000).fill(9);
  const { incoming: inc } = Incoming.open(offerOf(data), 25_000_000);
  assert.deepEqual(inc.chunk(chunkMsg(ID, 8192, data.subarray(0, 100))), { error: 'bad_offset' });
  assert.deepEqual(inc.chunk(chunkMsg(ID, 19_990, data.subarray(0, 100))), { error: 'bad_offset' });
  assert.deepEqual(inc.chunk({ id: ID, offset: 0, data: 'not base64!' }), { error: 'bad_data' });
  assert.deepEqual(inc.chunk(chunkMsg(ID, 0, new Uint8Array(FILE_CHUNK_BYTES + 1))), { error: 'bad_data' });
  assert.deepEqual(inc.chunk({ id: ID, offset: 0, data: '' }), { error: 'bad_data' }, 'an empty chunk');
  assert.deepEqual(inc.chunk({ id: ID, offset: -5, data: 'AAAA' }), { error: 'bad_offset' });
  assert.deepEqual(inc.chunk({ id: ID, offset: 0, data: 'A'.repeat(1_000_000) }), { error: 'bad_data' });
  assert.equal(inc.written, 0, 'nothing was taken');
  assert.equal(await inc.verify(), 'failed', 'not complete');
});

test('offers over the limit or with bad fields are ended', () => {
  const offer = offerOf(new Uint8Array(10));
  assert.deepEqual(Incoming.open(offer, 9), { status: 'too_large' });
  assert.deepEqual(Incoming.open(offer, 0), { status: 'off' });
  assert.ok(Incoming.open(offer, 10).incoming, 'the limit itself is allowed');
  assert.deepEqual(Incoming.open({ ...offer, id: '../../etc' }, 100), { status: 'failed' });
  assert.equal(checkOffer({ ...offer, name: '../..' }), 'bad_name');
  assert.equal(checkOffer({ ...offer, sha256: 'AB'.repeat(32) }), 'bad_checksum');
  assert.equal(checkOffer({ ...offer, size: -1 }), 'bad_size');
  assert.equal(checkOffer({ ...offer, size: 2 ** 60 }), 'bad_size');
  assert.equal(checkOffer(offer), null);
  assert.equal(Incoming.open({ ...offer, name: 'C:\\x\\CON.txt' }, 100).incoming.name, '_CON.txt');
});

test('names lose folders, hidden dots and disguises', () => {
  assert.equal(cleanFileName('attestation.pdf'), 'attestation.pdf');
  assert.equal(cleanFileName('../../.bashrc'), 'bashrc');
  assert.equal(cleanFileName('C:\\Users\\x\\fiche de paie.pdf'), 'fiche de paie.pdf');
  assert.equal(cleanFileName('invoice\u202Efdp.exe'), 'invoicefdp.exe');
  assert.equal(cleanFileName('a<b>c:d?.txt'), 'abcd.txt');
  assert.equal(cleanFileName('CON.txt'), '_CON.txt');
  assert.equal(cleanFileName('com1'), '_com1');
  assert.equal(cleanFileName('lpt9.tar.gz'), '_lpt9.tar.gz');
  assert.equal(cleanFileName('console.txt'), 'console.txt');
  assert.equal(cleanFileName('   ...  '), null);
  assert.equal(cleanFileName('a/'), null);
  assert.equal(cleanFileName(''), null);
  assert.equal(cleanFileName(42), null);
  const long = `${'x'.repeat(300)}.pdf`;
  const cleaned = cleanFileName(long);
  assert.equal([...cleaned].length, MAX_FILE_NAME_CHARS);
  assert.ok(cleaned.endsWith('.pdf'));
  assert.equal(cleanFileName('وثيقة.pdf'), 'وثيقة.pdf');
  assert.equal(cleanFileName('tab\there\u0085.pdf'), 'tabhere.pdf');
  assert.equal(cleanFileName('a\u200Fb\u061C.txt'), 'ab.txt');
  assert.equal(cleanFileName('  .hidden. '), 'hidden');
  assert.equal(cleanFileName('archive.verylongextension'), 'archive.verylongextension', 'a long "extension" is part of the name');
  // Characters, not UTF-16 units: an emoji counts once, and is never cut in half.
  const emoji = cleanFileName(`${'😀'.repeat(150)}.txt`);
  assert.equal([...emoji].length, MAX_FILE_NAME_CHARS);
  assert.ok(!/[\uD800-\uDBFF]$/.test(emoji.slice(0, -4)));
  assert.equal(cleanFileName('a\uD800b.txt'), 'ab.txt', 'a lone surrogate is no character');
  assert.equal(cleanFileName(`${'y'.repeat(95)} x.txt`), `${'y'.repeat(95)}.txt`, 'no space left where the name was cut');
});

test('base64 as the agent writes and reads it', () => {
  for (const n of [1, 2, 3, 4, 5, 8192]) {
    const bytes = pattern(n, (i) => (i * 37 + 11) % 256);
    const text = toBase64(bytes);
    assert.equal(text, Buffer.from(bytes).toString('base64'));
    assert.deepEqual(fromBase64(text), bytes);
  }
  assert.deepEqual(fromBase64(''), new Uint8Array(0));
  // Padding is required, its bits zero; nothing else in the text.
  for (const bad of ['QQ', 'QR==', 'QUJ=x', 'QUJD\n', ' QUJD', 'QU=D', 'QUJ-', 'Q===', null, 3]) {
    assert.equal(fromBase64(bad), null, JSON.stringify(bad));
  }
  assert.deepEqual(fromBase64('QQ=='), Uint8Array.from([65]));
  assert.deepEqual(fromBase64('QUI='), Uint8Array.from([65, 66]));
  assert.equal(fromBase64('QUJ='), null, 'trailing bits set');
  assert.equal(chunkBytes(toBase64(new Uint8Array(FILE_CHUNK_BYTES))).length, FILE_CHUNK_BYTES);
  assert.equal(chunkBytes(toBase64(new Uint8Array(FILE_CHUNK_BYTES + 1))), null);
  assert.equal(chunkBytes(''), null);
});

test('sizes in words, as the resident reads them, in both languages', () => {
  const nb = (s) => s.replace(/ /g, '\u00A0');
  const cases = [
    [0, '0 B', '0 o'], [812, '812 B', '812 o'], [1500, '1.5 kB', '1,5 ko'], [9960, '10 kB', '10 ko'],
    [240_000, '240 kB', '240 ko'], [999_999, '1 MB', '1 Mo'], [1_200_000, '1.2 MB', '1,2 Mo'],
    [25_000_000, '25 MB', '25 Mo'], [300_000, '300 kB', '300 ko'], [2_500_000_000, '2.5 GB', '2,5 Go'],
  ];
  for (const [n, en, fr] of cases) {
    assert.equal(formatSize(n, 'en'), nb(en), `${n} en`);
    assert.equal(formatSize(n, 'fr'), nb(fr), `${n} fr`);
  }
});

test('ids, checksums and statuses', async () => {
  const a = newTransferId();
  assert.ok(isTransferId(a));
  assert.notEqual(a, newTransferId());
  assert.ok(!isTransferId('ABCDEF0123456789abcdef0123456789'));
  assert.ok(!isTransferId(`${ID}0`));
  assert.equal(await sha256Hex(new TextEncoder().encode('abc')),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(normaliseStatus('disk_full'), 'disk_full');
  assert.equal(normaliseStatus('exploded'), 'other');
});

test('the data channel\'s file messages are checked field by field', () => {
  const good = [
    offerOf(new Uint8Array(3)),
    { type: 'file_accept', id: ID, offset: 0 },
    { type: 'file_ack', id: ID, offset: 16384 },
    { type: 'file_chunk', id: ID, offset: 8192, data: 'AAAA' },
    { type: 'file_end', id: ID, status: 'saved' },
    { type: 'file_end', id: ID, status: 'from_a_newer_version' },
  ];
  for (const m of good) assert.ok(isFileMessage(m), JSON.stringify(m));
  const bad = [
    { ...offerOf(new Uint8Array(3)), id: 'x' },
    { ...offerOf(new Uint8Array(3)), name: '..' },
    { ...offerOf(new Uint8Array(3)), size: '3' },
    { ...offerOf(new Uint8Array(3)), sha256: 'x' },
    { type: 'file_accept', id: ID },
    { type: 'file_accept', id: ID, offset: -1 },
    { type: 'file_ack', id: ID, offset: 1.5 },
    { type: 'file_chunk', id: ID, offset: 0 },
    { type: 'file_chunk', id: ID, offset: 0, data: 7 },
    { type: 'file_end', id: ID },
    { type: 'file_end', id: ID, status: 'x'.repeat(100) },
    { type: 'file_other', id: ID },
    null, 'file_offer', [],
  ];
  for (const m of bad) assert.ok(!isFileMessage(m), JSON.stringify(m));
});

// ---------------------------------------------------------------------------------------
// Two sessions' worth of the page's logic, back to back: A is the caseworker's page, B
// plays the agent (the protocol is the same both ways). Messages go through JSON, as on
// the wire, and wait in a queue until delivered, so the test can cut the channel.

function blobOf(data, name) {
  const b = new Blob([data]);
  return Object.assign(b, { name });
}

function pair({ limit = 25_000_000, digest } = {}) {
  const a = createTransfers(digest ? { digest } : {});
  const b = createTransfers(digest ? { digest } : {});
  a.setLimit(limit);
  b.setLimit(limit);
  const wire = { toA: [], toB: [], log: [], up: true };
  const sender = (queue) => (msg) => {
    if (!wire.up) return false;
    wire.log.push(msg);
    queue.push(JSON.stringify(msg));
    return true;
  };
  const connect = () => {
    wire.up = true;
    a.channelOpened(sender(wire.toB));
    b.channelOpened(sender(wire.toA));
  };
  const cut = () => {
    wire.up = false;
    wire.toA.length = 0;
    wire.toB.length = 0;
    a.channelClosed();
    b.channelClosed();
  };
  // Delivers until nothing moves (the checksum is async).
  const settle = async (maxSteps = Infinity) => {
    let steps = 0;
    for (let idle = 0; idle < 5;) {
      if (wire.toA.length || wire.toB.length) {
        idle = 0;
        if (wire.toB.length) b.receive(JSON.parse(wire.toB.shift()));
        if (wire.toA.length) a.receive(JSON.parse(wire.toA.shift()));
        steps += 1;
        if (steps >= maxSteps) return;
      } else {
        idle += 1;
        await new Promise((r) => setTimeout(r, 2)); // the SHA-256 runs off the thread
      }
    }
  };
  connect();
  return { a, b, wire, connect, cut, settle };
}

async function bytesOf(item) {
  return new Uint8Array(await item.blob.arrayBuffer());
}

test('transfers: a file goes to the agent and back, saved, with every ack inside the window', async () => {
  const { a, b, wire, settle } = pair();
  const data = pattern(300_000, (i) => (i * 13) % 256);
  const events = [];
  a.on((e) => events.push(e.type));
  const offered = await a.offer(blobOf(data, 'attestation.pdf'));
  assert.ok(isTransferId(offered.id));
  assert.equal(a.list[0].phase, 'waiting');
  assert.equal(a.list[0].dir, 'out');
  // The sender never has more than the window in flight.
  let inFlight = 0;
  let worst = 0;
  const origReceive = b.receive;
  b.receive = (msg) => {
    if (msg.type === 'file_chunk') inFlight = msg.offset + fromBase64(msg.data).length - a.list[0].done;
    worst = Math.max(worst, inFlight);
    origReceive(msg);
  };
  await settle();
  const [mine] = a.list;
  const [theirs] = b.list;
  assert.equal(mine.phase, 'ended');
  assert.equal(mine.status, 'saved');
  assert.equal(mine.by, 'resident');
  assert.equal(mine.done, data.length);
  assert.equal(theirs.status, 'saved');
  assert.equal(theirs.dir, 'in');
  assert.equal(theirs.name, 'attestation.pdf');
  assert.deepEqual(await bytesOf(theirs), data);
  assert.ok(worst <= FILE_WINDOW_BYTES, `in flight at most the window (${worst})`);
  assert.ok(events.includes('ended'));
  const offer = wire.log.find((m) => m.type === 'file_offer');
  assert.deepEqual(Object.keys(offer).sort(), ['id', 'name', 'sha256', 'size', 'type']);
  assert.equal(offer.sha256, sha(data));
  assert.equal(b.unseen, 1, 'a file from the other side is new until seen');
  b.markSeen();
  assert.equal(b.unseen, 0);
  assert.equal(describe(mine).key, 'fileOutSaved');
  assert.equal(describe(theirs).key, 'fileInSaved');
});

test('transfers: checked here before anything leaves (limit, off, name, busy, closed)', async () => {
  const { a, wire } = pair({ limit: 1_000_000 });
  assert.deepEqual(await a.offer(blobOf(new Uint8Array(1_000_001), 'big.pdf')), { error: 'too_large', name: 'big.pdf' });
  assert.deepEqual(await a.offer(blobOf(new Uint8Array(3), '...')), { error: 'bad_name' });
  for (let i = 0; i < MAX_OPEN_TRANSFERS; i += 1) assert.ok((await a.offer(blobOf(new Uint8Array(3), `f${i}.txt`))).id);
  assert.deepEqual(await a.offer(blobOf(new Uint8Array(3), 'five.txt')), { error: 'busy' });
  a.setLimit(0);
  assert.deepEqual(await a.offer(blobOf(new Uint8Array(3), 'x.txt')), { error: 'off' });
  assert.equal(wire.log.filter((m) => m.type === 'file_offer').length, 4, 'only the four offers left');
  const c = createTransfers();
  c.setLimit(100);
  assert.deepEqual(await c.offer(blobOf(new Uint8Array(3), 'x.txt')), { error: 'closed' });
  assert.equal(c.list.length, 0);
});

test('transfers: the resident declines, cancels, or their disk is full', async () => {
  const { a, b, settle } = pair();
  const { id } = await a.offer(blobOf(pattern(50_000), 'form.pdf'));
  // B stands for the agent: the resident says no.
  b.receive = () => {};
  await settle();
  a.receive({ type: 'file_end', id, status: 'refused' });
  assert.equal(a.list[0].status, 'refused');
  assert.equal(describe(a.list[0]).key, 'fileOutRefused');
  a.receive({ type: 'file_accept', id, offset: 0 });
  assert.equal(a.list[0].status, 'refused', 'a late message for an ended transfer changes nothing');
  const second = await a.offer(blobOf(pattern(10), 'b.pdf'));
  a.receive({ type: 'file_end', id: second.id, status: 'disk_full' });
  assert.equal(describe(a.list[1]).key, 'fileOutDiskFull');
  const third = await a.offer(blobOf(pattern(10), 'c.pdf'));
  a.receive({ type: 'file_end', id: third.id, status: 'cancelled' });
  assert.equal(describe(a.list[2]).key, 'fileCancelledByResident');
  const fourth = await a.offer(blobOf(pattern(10), 'd.pdf'));
  a.receive({ type: 'file_end', id: fourth.id, status: 'a_new_status' });
  assert.equal(a.list[3].status, 'other');
  assert.equal(describe(a.list[3]).key, 'fileFailed');
});

test('transfers: the caseworker cancels; the other side hears it', async () => {
  const { a, b, wire, settle } = pair();
  const { id } = await a.offer(blobOf(pattern(200_000), 'long.pdf'));
  await settle(6); // offer, accept, some chunks
  a.cancel(id);
  assert.equal(a.list[0].status, 'cancelled');
  assert.equal(a.list[0].by, 'me');
  assert.equal(describe(a.list[0]).key, 'fileCancelledByMe');
  await settle();
  assert.equal(b.list[0].status, 'cancelled');
  assert.equal(b.list[0].by, 'resident');
  assert.equal(b.list[0].blob, null, 'nothing kept of a cancelled file');
  assert.deepEqual(wire.log.filter((m) => m.type === 'file_end').map((m) => m.status), ['cancelled']);
});

test('transfers: a file from the resident over the limit, when off, or a fifth at once', async () => {
  const { a, b, wire, settle } = pair({ limit: 1_000 });
  b.setLimit(10_000);
  await b.offer(blobOf(pattern(5_000), 'scan.jpg'));
  await settle();
  assert.equal(a.list[0].status, 'too_large');
  assert.equal(a.list[0].by, 'me');
  assert.equal(a.list[0].name, 'scan.jpg');
  assert.equal(b.list[0].status, 'too_large');
  assert.equal(describe(a.list[0]).key, 'fileInTooLarge');
  a.setLimit(0);
  await b.offer(blobOf(pattern(5), 'x.txt'));
  await settle();
  assert.equal(a.list[1].status, 'off');
  assert.equal(b.list[1].status, 'off');
  // Four at once are received; a fifth is busy.
  a.setLimit(10_000);
  for (let i = 0; i < 5; i += 1) {
    const data = pattern(100);
    a.receive({ type: 'file_offer', id: newTransferId(), name: `${i}.txt`, size: 100, sha256: sha(data) });
  }
  const open = a.list.filter((i) => i.phase === 'receiving');
  assert.equal(open.length, MAX_OPEN_TRANSFERS);
  assert.equal(a.list.at(-1).status, 'busy');
  assert.deepEqual(wire.toB.map((m) => JSON.parse(m).type), ['file_accept', 'file_accept', 'file_accept', 'file_accept', 'file_end']);
  assert.equal(describe(a.list.at(-1)).key, 'fileInBusy');
});

test('transfers: a checksum that does not match is said, and nothing kept', async () => {
  const { a, b, settle } = pair();
  const data = pattern(30_000);
  const id = newTransferId();
  a.receive({ type: 'file_offer', id, name: 'x.pdf', size: data.length, sha256: sha(new Uint8Array(1)) });
  for (let at = 0; at < data.length; at += FILE_CHUNK_BYTES) a.receive(chunkMsg(id, at, data.subarray(at, at + FILE_CHUNK_BYTES)));
  await settle();
  assert.equal(a.list[0].status, 'checksum');
  assert.equal(a.list[0].blob, null);
  assert.equal(describe(a.list[0]).key, 'fileInChecksum');
  assert.ok(b.list.length === 0, 'B never offered it: the end is ignored there');
});

test('transfers: a gap or a chunk past the end fails the transfer', async () => {
  const { a, wire } = pair();
  const data = pattern(30_000);
  const gap = newTransferId();
  a.receive({ type: 'file_offer', id: gap, name: 'x.pdf', size: data.length, sha256: sha(data) });
  a.receive(chunkMsg(gap, 8192, data.subarray(0, 8192)));
  const past = newTransferId();
  a.receive({ type: 'file_offer', id: past, name: 'y.pdf', size: 10, sha256: sha(data.subarray(0, 10)) });
  a.receive(chunkMsg(past, 0, data.subarray(0, 11)));
  assert.deepEqual(a.list.map((i) => i.status), ['failed', 'failed']);
  assert.deepEqual(wire.log.filter((m) => m.type === 'file_end').map((m) => [m.id, m.status]), [[gap, 'failed'], [past, 'failed']]);
});

test('transfers: what the agent should not send is ignored, never a crash', async () => {
  const { a, wire } = pair();
  const { id } = await a.offer(blobOf(pattern(100), 'a.txt'));
  const before = wire.log.length;
  const other = newTransferId();
  for (const m of [
    { type: 'file_accept', id: other, offset: 0 },
    { type: 'file_ack', id: other, offset: 10 },
    { type: 'file_chunk', id: other, offset: 0, data: 'AAAA' },
    { type: 'file_end', id: other, status: 'saved' },
    { type: 'file_chunk', id, offset: 0, data: 'AAAA' }, // a chunk for a file this page sends
    { type: 'file_offer', id, name: 'a.txt', size: 100, sha256: sha(new Uint8Array(100)) }, // our own id
    { type: 'nonsense' }, null, undefined,
  ]) a.receive(m);
  assert.equal(wire.log.length, before, 'nothing said back');
  assert.equal(a.list.length, 1);
  assert.equal(a.list[0].phase, 'waiting');
  // An ack before the accept, or past what was sent, breaks the transfer.
  a.receive({ type: 'file_ack', id, offset: 50 });
  assert.equal(a.list[0].status, 'failed');
  const next = await a.offer(blobOf(pattern(100), 'b.txt'));
  a.receive({ type: 'file_accept', id: next.id, offset: 101 });
  assert.equal(a.list[1].status, 'failed');
});

test('transfers: after a drop both ways go on from where they were, under the same ids', async () => {
  const { a, b, wire, cut, connect, settle } = pair();
  const toAgent = pattern(250_000, (i) => (i * 31) % 256);
  const toPage = pattern(180_000, (i) => (i * 17 + 3) % 256);
  const out = await a.offer(blobOf(toAgent, 'form.pdf'));
  const back = await b.offer(blobOf(toPage, 'scan.pdf'));
  await settle(20);
  const sentBefore = a.list[0].done;
  const midway = (side, id) => side.list.find((i) => i.id === id).phase;
  assert.deepEqual([midway(a, out.id), midway(b, out.id), midway(b, back.id), midway(a, back.id)],
    ['sending', 'receiving', 'sending', 'receiving'], 'midway');
  cut();
  assert.equal(a.list[0].paused, true);
  assert.equal(describe(a.list[0]).key, 'filePaused');
  wire.log.length = 0;
  connect();
  const offers = wire.log.filter((m) => m.type === 'file_offer').map((m) => m.id).sort();
  assert.deepEqual(offers, [out.id, back.id].sort(), 'each side offers its unfinished file again');
  await settle();
  assert.equal(a.list.find((i) => i.id === out.id).status, 'saved');
  assert.equal(b.list.find((i) => i.id === out.id).status, 'saved');
  assert.deepEqual(await bytesOf(b.list.find((i) => i.id === out.id)), toAgent);
  assert.deepEqual(await bytesOf(a.list.find((i) => i.id === back.id)), toPage);
  const accepts = wire.log.filter((m) => m.type === 'file_accept');
  assert.ok(accepts.every((m) => m.offset > 0), 'accepted from what each side had');
  const resent = wire.log.filter((m) => m.type === 'file_chunk' && m.id === out.id);
  assert.ok(resent[0].offset >= sentBefore, 'only the rest was sent again');
  assert.equal(a.list.length, 2, 'no new entry for the same file');
});

test('transfers: an end said while the channel was down is said when it is back', async () => {
  const { a, b, wire, cut, connect, settle } = pair();
  const { id } = await a.offer(blobOf(pattern(200_000), 'x.pdf'));
  await settle(10);
  cut();
  a.cancel(id);
  wire.log.length = 0;
  connect();
  await settle();
  assert.ok(wire.log.some((m) => m.type === 'file_end' && m.id === id && m.status === 'cancelled'));
  assert.ok(!wire.log.some((m) => m.type === 'file_offer'), 'a cancelled file is not offered again');
  assert.equal(b.list[0].status, 'cancelled');
});

test('transfers: an empty file, a channel closed while preparing, the session ending', async () => {
  const { a, b, cut, connect, settle } = pair();
  await a.offer(blobOf(new Uint8Array(0), 'empty.txt'));
  await settle();
  assert.equal(a.list[0].status, 'saved');
  assert.equal((await bytesOf(b.list[0])).length, 0);
  // Offered while the channel drops under it: offered once it is back.
  const pending = a.offer(blobOf(pattern(20), 'later.txt'));
  cut();
  await pending;
  assert.equal(a.list[1].offerSent, false);
  connect();
  await settle();
  assert.equal(a.list[1].status, 'saved');
  // The session ends: what is still going stops; received files stay to be saved.
  await b.offer(blobOf(pattern(100_000), 'big.bin'));
  await settle(4);
  a.sessionOver();
  const last = a.list.at(-1);
  assert.equal(last.phase, 'ended');
  assert.equal(last.by, 'session');
  assert.equal(describe(last).key, 'fileSessionEnded');
  assert.ok(a.list[0].status === 'saved');
  assert.equal(a.canSend, false);
  const dropped = [];
  a.on((e) => {
    if (e.type === 'dropped') dropped.push(...e.items);
  });
  a.clear();
  assert.equal(a.list.length, 0);
  assert.equal(dropped.length, 3, 'every item let go, for its Blob URL');
  assert.equal(a.limit, 0);
});

test('transfers: a file the caseworker cancels while it is read is never offered', async () => {
  const { a, wire } = pair();
  let release;
  const slow = { name: 'slow.pdf', size: 10, arrayBuffer: () => new Promise((r) => { release = r; }) };
  const pending = a.offer(slow);
  assert.equal(a.list[0].phase, 'hashing');
  assert.equal(describe(a.list[0]).key, 'fileOutPreparing');
  a.cancel(a.list[0].id);
  release(new ArrayBuffer(10));
  await pending;
  assert.ok(!wire.log.some((m) => m.type === 'file_offer'));
  assert.ok(!wire.log.some((m) => m.type === 'file_end'), 'nothing to tell: it was never offered');
  const unreadable = { name: 'gone.pdf', size: 10, arrayBuffer: () => Promise.reject(new Error('NotReadableError')) };
  await a.offer(unreadable);
  assert.equal(a.list[1].status, 'failed');
  assert.equal(describe(a.list[1]).key, 'fileUnreadable');
});

test('transfers: a flood of offers keeps the list bounded, received files kept longest', async () => {
  const a = createTransfers({ maxListed: 5 });
  a.setLimit(100);
  a.channelOpened(() => true);
  const data = new Uint8Array(0);
  a.receive({ type: 'file_offer', id: newTransferId(), name: 'keep.txt', size: 0, sha256: sha(data) });
  for (let i = 0; i < 100 && a.list[0].phase !== 'ended'; i += 1) await new Promise((r) => setTimeout(r, 5));
  assert.equal(a.list[0].status, 'saved');
  for (let i = 0; i < 20; i += 1) {
    a.receive({ type: 'file_offer', id: newTransferId(), name: `${i}.txt`, size: 50, sha256: sha(data) });
  }
  assert.equal(a.list.length, 5);
  assert.equal(a.list.filter((i) => i.phase === 'receiving').length, 4);
  assert.equal(a.list[0].name, 'keep.txt');
});
