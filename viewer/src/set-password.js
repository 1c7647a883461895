// The page of a one-time set-password link: https://relay/set-password#TOKEN. The token
// sits in the fragment so it never reaches server logs or a Referer header.
import { applyStatic, onLangChange, t, toggleLang } from '/src/i18n.js';
import * as passkey from '/src/passkey.js';
import { $ } from '/src/dom.js';

const token = window.location.hash.replace(/^#/, '');
// Read once, then taken out of the address bar and the history entry: a link left open,
// bookmarked or seen over a shoulder no longer shows it (issue 16).
if (window.location.hash) window.history.replaceState(null, '', window.location.pathname + window.location.search);
let statusKey = null;
let problem = false;

function say(key, isProblem = false) {
  statusKey = key;
  problem = isProblem;
  const el = $('status');
  el.textContent = key ? t(key) : '';
  el.classList.toggle('is-problem', isProblem);
}

function done() {
  $('password-form').hidden = true;
  $('to-sign-in').hidden = false;
}

$('password-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const password = $('new-password').value;
  if (password !== $('confirm-password').value) {
    say('passwordsDiffer', true);
    return;
  }
  let status = 0;
  let data = {};
  try {
    const response = await fetch('/api/password', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, password }),
      cache: 'no-store',
    });
    status = response.status;
    data = await response.json().catch(() => ({}));
  } catch {
    say('connection-lost', true);
    return;
  }
  if (status === 200 && typeof data?.enrol === 'string') {
    // The site requires passkeys: this page, vouched for by the link, enrols the first.
    $('new-password').value = '';
    $('confirm-password').value = '';
    $('password-form').hidden = true;
    enrolTicket = data.enrol;
    say('passkeyNeeded');
    $('enrol').hidden = false;
    $('create-passkey').focus();
    return;
  }
  if (status === 204) {
    $('new-password').value = '';
    $('confirm-password').value = '';
    say('passwordSaved');
    done();
    return;
  }
  const key = typeof data?.error === 'string' ? data.error : 'error';
  say(['password_too_short', 'password_too_long', 'password_too_common', 'link_invalid'].includes(key) ? key : 'error', true);
  if (key === 'link_invalid') done();
});

let enrolTicket = null;

async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-enrol-ticket': enrolTicket ?? '' },
    body: JSON.stringify(body),
    cache: 'no-store',
  });
  return { status: response.status, data: await response.json().catch(() => ({})) };
}

$('create-passkey').addEventListener('click', async () => {
  if (!passkey.supported()) {
    say('passkeyUnsupported', true);
    return;
  }
  $('create-passkey').disabled = true;
  try {
    const begun = await post('/api/passkeys/enrol/begin', {});
    if (begun.status !== 200) throw new Error('begin');
    let credential;
    try {
      credential = await passkey.create(begun.data.options);
    } catch {
      say('passkeyCancelled', true);
      return;
    }
    const finished = await post('/api/passkeys/enrol/finish', { credential });
    if (finished.status !== 200) throw new Error('finish');
    enrolTicket = null;
    $('enrol').hidden = true;
    say('passkeyCreated');
    done();
  } catch {
    say('passkeyAddFailed', true);
  } finally {
    $('create-passkey').disabled = false;
  }
});

$('lang').addEventListener('click', toggleLang);
onLangChange(() => say(statusKey, problem));
applyStatic();
if (!/^[0-9a-f]{64}$/.test(token)) {
  say('link_invalid', true);
  done();
} else {
  $('new-password').focus();
}
