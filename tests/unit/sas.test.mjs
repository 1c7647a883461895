// The viewer's security code exchange (viewer/src/sas.js), without a browser, against the
// known-answer vector of proto/src/sas.rs (`known_answer_vector`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createViewerSas, deriveCode, fingerprintFromSdp, parseWireHex, sha256, toHex, SasError,
} from '../../viewer/src/sas.js';

const bytes = (b) => new Uint8Array(32).fill(b);
const sdpLine = (b) => `a=fingerprint:sha-256 ${Array(32).fill(b.toString(16).toUpperCase().padStart(2, '0')).join(':')}`;
const reason = (r) => (err) => err instanceof SasError && err.reason === r;

test('sas: the known-answer vector gives the same code as the Rust reference', async () => {
  assert.equal(toHex(await sha256(bytes(0x33))),
    'deb0e38ced1e41de6f92e70e80c418d2d356afaaa99e26f5939dbc7d3ef4772a');
  assert.equal(await deriveCode(bytes(0x11), bytes(0x22), bytes(0x33), bytes(0x44)), '6301');
});

test('sas: a full exchange from real-looking descriptions', async () => {
  const fpAgent = fingerprintFromSdp(`v=0\r\n${sdpLine(0x11)}\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\n`);
  const fpViewer = fingerprintFromSdp(`v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\n${sdpLine(0x22)}\r\n`);
  const sas = createViewerSas({ fpAgent, fpViewer, nonce: bytes(0x44) });
  const reply = sas.onCommit(toHex(await sha256(bytes(0x33))));
  assert.deepEqual(reply, { type: 'sas_nonce', n: '44'.repeat(32) });
  assert.equal(await sas.onReveal('33'.repeat(32)), '6301');
  assert.equal(sas.state, 'done');
});

test('sas: a reveal that does not match the commitment shows no code, and it is final', async () => {
  const sas = createViewerSas({ fpAgent: bytes(1), fpViewer: bytes(2), nonce: bytes(3) });
  sas.onCommit(toHex(await sha256(bytes(0x33))));
  await assert.rejects(sas.onReveal('34'.repeat(32)), reason('mismatch'));
  assert.equal(sas.state, 'failed');
  await assert.rejects(sas.onReveal('33'.repeat(32)), reason('unexpected'));
});

test('sas: a second commitment, a reveal first, or a second reveal are refused', async () => {
  const early = createViewerSas({ fpAgent: bytes(1), fpViewer: bytes(2) });
  await assert.rejects(early.onReveal('33'.repeat(32)), reason('unexpected'));
  const twice = createViewerSas({ fpAgent: bytes(1), fpViewer: bytes(2) });
  twice.onCommit('00'.repeat(32));
  assert.throws(() => twice.onCommit('00'.repeat(32)), reason('unexpected'));
  assert.equal(twice.state, 'failed');
  const racing = createViewerSas({ fpAgent: bytes(1), fpViewer: bytes(2) });
  racing.onCommit(toHex(await sha256(bytes(0x33))));
  const first = racing.onReveal('33'.repeat(32));
  await assert.rejects(racing.onReveal('33'.repeat(32)), reason('unexpected'));
  await assert.rejects(first, reason('unexpected'));
});

test('sas: only 64 lowercase hex digits pass', () => {
  const good = '0123456789abcdef'.repeat(4);
  assert.equal(parseWireHex(good).length, 32);
  for (const bad of [good.toUpperCase(), good.slice(1), `${good}0`, `${good.slice(2)}zz`, '', 42, null]) {
    assert.throws(() => parseWireHex(bad), reason('bad-hex'), String(bad));
    const sas = createViewerSas({ fpAgent: bytes(1), fpViewer: bytes(2) });
    assert.throws(() => sas.onCommit(bad), reason('bad-hex'));
    assert.equal(sas.state, 'failed');
  }
});

test('sas: fingerprints are taken only when every line agrees and is SHA-256', () => {
  const one = sdpLine(0x11);
  assert.deepEqual(fingerprintFromSdp(`${one}\nm=video 9\n${one.toLowerCase()}\n`), bytes(0x11));
  assert.throws(() => fingerprintFromSdp('v=0\r\nm=video 9\r\n'), reason('no-fingerprint'));
  assert.throws(() => fingerprintFromSdp(`${one}\n${sdpLine(0x12)}\n`), reason('ambiguous-fingerprint'));
  assert.throws(() => fingerprintFromSdp(`${one}\na=fingerprint:sha-512 ${Array(64).fill('AA').join(':')}\n`),
    reason('ambiguous-fingerprint'));
  for (const bad of ['a=fingerprint:sha-256', 'a=fingerprint:sha-256 AA:BB',
    `a=fingerprint:sha-256 ${Array(32).fill('GG').join(':')}`]) {
    assert.throws(() => fingerprintFromSdp(bad), reason('bad-fingerprint'), bad);
  }
});
