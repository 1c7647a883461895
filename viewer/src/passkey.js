// Passkeys (WebAuthn) in the browser: the relay's options (webauthn-rs JSON, binary
// fields in base64url) turned into what navigator.credentials wants, and the
// authenticator's answer turned back into JSON. No secret passes through here: the
// private key never leaves the authenticator.

function fromB64url(text) {
  const b64 = String(text).replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer;
}

function toB64url(buffer) {
  let raw = '';
  for (const byte of new Uint8Array(buffer)) raw += String.fromCharCode(byte);
  return btoa(raw).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function withIds(list) {
  return (list ?? []).map((c) => ({ ...c, id: fromB64url(c.id) }));
}

export function supported() {
  return typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;
}

// Creates a passkey for the options of /api/passkeys/enrol/begin; resolves the JSON
// answer for /api/passkeys/enrol/finish.
export async function create(options) {
  const o = options.publicKey;
  const publicKey = {
    ...o,
    challenge: fromB64url(o.challenge),
    user: { ...o.user, id: fromB64url(o.user.id) },
    excludeCredentials: withIds(o.excludeCredentials),
  };
  const credential = await navigator.credentials.create({ publicKey });
  return {
    id: credential.id,
    rawId: toB64url(credential.rawId),
    type: credential.type,
    response: {
      attestationObject: toB64url(credential.response.attestationObject),
      clientDataJSON: toB64url(credential.response.clientDataJSON),
    },
    extensions: {},
  };
}

// Signs the challenge of /api/login's passkey step; resolves the JSON answer for
// /api/passkey/sign-in.
export async function get(options) {
  const o = options.publicKey;
  const publicKey = {
    ...o,
    challenge: fromB64url(o.challenge),
    allowCredentials: withIds(o.allowCredentials),
  };
  const credential = await navigator.credentials.get({ publicKey });
  const r = credential.response;
  return {
    id: credential.id,
    rawId: toB64url(credential.rawId),
    type: credential.type,
    response: {
      authenticatorData: toB64url(r.authenticatorData),
      clientDataJSON: toB64url(r.clientDataJSON),
      signature: toB64url(r.signature),
      userHandle: r.userHandle ? toB64url(r.userHandle) : null,
    },
    extensions: {},
  };
}
