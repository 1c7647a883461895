// Talking to the relay about the caseworker's account: who is signed in, sign in, sign
// out. The session cookie is HttpOnly (this code never sees it); the CSRF token from
// /api/me or /api/login goes in the x-csrf-token header of state-changing requests.

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
  if (status === 200) {
    const account = accountOf(data);
    return account ? { account } : { error: 'error' };
  }
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
