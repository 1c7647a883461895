// Talking to the relay about the caseworker's account: who is signed in, sign in (with
// the passkey step when the account has one), sign out, the caseworker's passkeys. The
// session cookie is HttpOnly (this code never sees it); the CSRF token from
// /api/me or /api/login goes in the x-csrf-token header of state-changing requests.

import * as passkey from '/src/passkey.js';

let csrf = null;

async function postJson(path, body, headers = {}) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  let data = {};
  try {
    data = await response.json();
  } catch { /* 204 and friends have no body */ }
  return { status: response.status, data: data && typeof data === 'object' ? data : {} };
}

function accountOf(data) {
  if (typeof data.name !== 'string' || typeof data.site !== 'string') return null;
  if (typeof data.csrf === 'string') csrf = data.csrf;
  return { login: String(data.login ?? ''), name: data.name, site: data.site };
}

// The signed-in caseworker, or null (signed out, expired, or relay unreachable).
export async function whoAmI() {
  try {
    const response = await fetch('/api/me', { credentials: 'same-origin', cache: 'no-store' });
    if (!response.ok) return null;
    return accountOf(await response.json());
  } catch {
    return null;
  }
}

// Resolves { account } on success, else { error: i18n key, params }.
export async function signIn(login, password) {
  let reply;
  try {
    reply = await postJson('/api/login', { login, password });
  } catch {
    return { error: 'connection-lost' };
  }
  const { status, data } = reply;
  if (status === 200 && typeof data.passkey === 'string') return passkeyStep(data);
  return outcome(status, data);
}

// The password matched; the account's passkey must answer too.
async function passkeyStep(data) {
  if (!passkey.supported()) return { error: 'passkeyUnsupported' };
  let credential;
  try {
    credential = await passkey.get(data.options);
  } catch {
    return { error: 'passkeyCancelled' };
  }
  try {
    const { status, data: reply } = await postJson('/api/passkey/sign-in', {
      token: data.passkey,
      credential,
    });
    return outcome(status, reply);
  } catch {
    return { error: 'connection-lost' };
  }
}

function outcome(status, data) {
  if (status === 200) {
    const account = accountOf(data);
    return account ? { account } : { error: 'error' };
  }
  if (status === 403 && data.error === 'passkey_required') return { error: 'passkeyRequired' };
  if (status === 403 && data.error === 'passkey_unavailable') return { error: 'passkeyUnavailable' };
  if (status === 401 && data.error === 'passkey_failed') return { error: 'passkeyFailed' };
  if (status === 429) return { error: 'locked', params: { secs: data.wait_secs } };
  if (status === 403 && data.error === 'account_disabled') return { error: 'accountDisabled' };
  if (status === 503) return { error: 'auditDown' };
  if (status === 401) return { error: 'badCredentials' };
  return { error: 'error' };
}

export async function signOut() {
  try {
    await postJson('/api/logout', {}, { 'x-csrf-token': csrf ?? '' });
  } catch { /* signed out locally anyway */ }
  csrf = null;
}

// The caseworker's passkeys: { available, required, passkeys: [{ id, created_at,
// last_used_at }] }, or null.
export async function listPasskeys() {
  try {
    const response = await fetch('/api/passkeys', { credentials: 'same-origin', cache: 'no-store' });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

// Enrols a new passkey on this device. Resolves { list } or { error: i18n key }.
export async function addPasskey() {
  if (!passkey.supported()) return { error: 'passkeyUnsupported' };
  const headers = { 'x-csrf-token': csrf ?? '' };
  try {
    const begun = await postJson('/api/passkeys/enrol/begin', {}, headers);
    if (begun.status !== 200) return { error: 'passkeyAddFailed' };
    let credential;
    try {
      credential = await passkey.create(begun.data.options);
    } catch {
      return { error: 'passkeyCancelled' };
    }
    const done = await postJson('/api/passkeys/enrol/finish', { credential }, headers);
    return done.status === 200 ? { list: done.data } : { error: 'passkeyAddFailed' };
  } catch {
    return { error: 'connection-lost' };
  }
}

// Removes one passkey. Resolves { list } or { error: i18n key }.
export async function removePasskey(id) {
  try {
    const done = await postJson('/api/passkeys/remove', { id }, { 'x-csrf-token': csrf ?? '' });
    if (done.status === 200) return { list: done.data };
    return { error: done.data.error === 'last_passkey' ? 'passkeyLast' : 'error' };
  } catch {
    return { error: 'connection-lost' };
  }
}
