// The security code (short authentication string), the viewer's side: the steps of
// proto/src/sas.rs (the reference, with the same known-answer vector in
// tests/unit/sas.test.mjs), in plain JS with WebCrypto. Pure: no DOM, no channel.
//
// The agent commits to its nonce (sas_commit {c: SHA-256(nA)}), we answer with ours
// (sas_nonce {n: nV}), it reveals (sas_reveal {n: nA}); we check SHA-256(nA) = c, then
// code = SHA-256("acote-sas-v1" ‖ fp_agent ‖ fp_viewer ‖ nA ‖ nV), first 8 bytes
// big-endian, modulo 10,000, 4 digits. Any refusal is final: a failed exchange never
// gives a code.

const LABEL = new TextEncoder().encode('acote-sas-v1');
const WIRE_HEX = /^[0-9a-f]{64}$/;
const FP_VALUE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){31}$/;

/** Why an exchange failed (thrown as `SasError`, kept by the exchange). */
export class SasError extends Error {
  constructor(reason) {
    super(`security code: ${reason}`);
    this.reason = reason; // 'no-fingerprint' | 'ambiguous-fingerprint' | 'bad-fingerprint' | 'bad-hex' | 'unexpected' | 'mismatch'
  }
}

/** The 32 bytes of a description's `a=fingerprint:sha-256` (every such line must agree,
 * and be SHA-256, or none is trusted: a peer's DTLS might enforce another line). */
export function fingerprintFromSdp(sdp) {
  let found = null;
  for (const raw of String(sdp).split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!line.startsWith('a=fingerprint:')) continue;
    const parts = line.slice('a=fingerprint:'.length).trim().split(/\s+/);
    if (parts.length !== 2) throw new SasError('bad-fingerprint');
    if (parts[0].toLowerCase() !== 'sha-256') throw new SasError('ambiguous-fingerprint');
    if (!FP_VALUE.test(parts[1])) throw new SasError('bad-fingerprint');
    const value = parts[1].toLowerCase();
    if (found !== null && found !== value) throw new SasError('ambiguous-fingerprint');
    found = value;
  }
  if (found === null) throw new SasError('no-fingerprint');
  return Uint8Array.from(found.split(':'), (h) => parseInt(h, 16));
}

/** 64 lowercase hex digits → 32 bytes; anything else is refused. */
export function parseWireHex(text) {
  if (typeof text !== 'string' || !WIRE_HEX.test(text)) throw new SasError('bad-hex');
  return Uint8Array.from(text.match(/../g), (h) => parseInt(h, 16));
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

export function randomNonce() {
  return crypto.getRandomValues(new Uint8Array(32));
}

/** The 4-digit code (a string, leading zeros kept). */
export async function deriveCode(fpAgent, fpViewer, nAgent, nViewer) {
  const input = new Uint8Array(LABEL.length + 4 * 32);
  input.set(LABEL, 0);
  [fpAgent, fpViewer, nAgent, nViewer].forEach((part, i) => input.set(part, LABEL.length + 32 * i));
  const digest = await sha256(input);
  let value = 0n;
  for (const b of digest.slice(0, 8)) value = (value << 8n) | BigInt(b);
  return String(value % 10000n).padStart(4, '0');
}

/** One exchange, from the fingerprints of the descriptions this page used (the agent's:
 * the remote one) and a fresh nonce. */
export function createViewerSas({ fpAgent, fpViewer, nonce = randomNonce() }) {
  let state = 'awaiting-commit';
  let commitment = null;
  const fail = (reason) => {
    state = 'failed';
    return new SasError(reason);
  };
  return {
    get state() {
      return state;
    },

    /** The agent's `c`: returns the sas_nonce message to send. */
    onCommit(c) {
      if (state !== 'awaiting-commit') throw fail('unexpected');
      try {
        commitment = parseWireHex(c);
      } catch {
        throw fail('bad-hex');
      }
      state = 'awaiting-reveal';
      return { type: 'sas_nonce', n: toHex(nonce) };
    },

    /** The agent's revealed `n`: resolves with the code, if it matches the commitment. */
    async onReveal(n) {
      if (state !== 'awaiting-reveal') throw fail('unexpected');
      state = 'checking'; // a second reveal while hashing is refused too
      let nAgent;
      try {
        nAgent = parseWireHex(n);
      } catch {
        throw fail('bad-hex');
      }
      if (toHex(await sha256(nAgent)) !== toHex(commitment)) throw fail('mismatch');
      if (state !== 'checking') throw fail('unexpected');
      const code = await deriveCode(fpAgent, fpViewer, nAgent, nonce);
      if (state !== 'checking') throw fail('unexpected');
      state = 'done';
      return code;
    },
  };
}
