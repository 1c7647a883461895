// Screens and plain-words status. One state at a time; each state decides which parts
// of the page are shown, what the status line says and where the focus goes.
import { t } from '/src/i18n.js';
import { $ } from '/src/dom.js';

const FORM_STATES = new Set(['enter-code', 'invalid-code', 'rate-limited']);
const SESSION_STATES = new Set(['connecting', 'waiting-resident', 'starting-video', 'watching', 'reconnecting']);
// 'reconnecting' keeps the picture: media often still flows while signaling is down.
const VIDEO_STATES = new Set(['starting-video', 'watching', 'reconnecting']);
const END_STATES = new Set(['refused', 'no-answer', 'connection-lost', 'ended', 'error']);
// Sentences of the sign-in state that are not problems.
const CALM_SIGN_IN_KEYS = new Set(['signInPrompt', 'signedOut', 'signingIn']);

const current = { state: 'enter-code', key: 'enter-code', params: {} };
let fieldErrorKey = null;
let siteName = null;
let account = null;
let residentLang = null;
let passkeysShown = false;

// The resident's language, named in its own script (the agent's languages first).
const LANGUAGE_NAMES = {
  fr: 'Français', en: 'English', ar: 'العربية', 'fa-AF': 'دری', fa: 'فارسی', ps: 'پښتو',
  uk: 'Українська', ru: 'Русский', ti: 'ትግርኛ',
};

function languageName(tag) {
  if (LANGUAGE_NAMES[tag]) return LANGUAGE_NAMES[tag];
  try {
    return new Intl.DisplayNames([tag], { type: 'language' }).of(tag) || tag;
  } catch {
    return tag;
  }
}

export function isFormState(state = current.state) {
  return FORM_STATES.has(state);
}

export function isSessionState(state = current.state) {
  return SESSION_STATES.has(state);
}

export function isVideoState(state = current.state) {
  return VIDEO_STATES.has(state);
}

export function isEndState(state = current.state) {
  return END_STATES.has(state);
}

export function getState() {
  return current.state;
}

// Other parts of the page that follow the state (the chat): called on every setState.
const stateListeners = [];
export function onStateChange(fn) {
  stateListeners.push(fn);
}

// key/params pick the sentence when a state has more than one (e.g. connection-lost
// for the relay or for the resident); by default the sentence is named like the state.
export function setState(state, key = state, params = {}) {
  const previous = current.state;
  Object.assign(current, { state, key, params });
  document.body.dataset.state = state;
  if (window.acote) window.acote.state = state;

  const signIn = state === 'sign-in';
  $('sign-in-form').hidden = !signIn;
  $('sign-out').hidden = signIn || !account;
  $('who').hidden = signIn || !account;
  $('code-form').hidden = !FORM_STATES.has(state);
  $('passkeys').hidden = !FORM_STATES.has(state) || !passkeysShown;
  $('stage').hidden = !VIDEO_STATES.has(state);
  $('controls').hidden = state !== 'watching';
  if (state !== 'watching') setLink(null);
  $('end').hidden = !SESSION_STATES.has(state);
  $('again').hidden = !END_STATES.has(state);
  $('status').classList.toggle('is-problem',
    (END_STATES.has(state) && state !== 'ended') || state === 'invalid-code' || state === 'rate-limited'
    || (signIn && !CALM_SIGN_IN_KEYS.has(key)));
  setFieldError(null);
  if (FORM_STATES.has(state) || signIn) residentLang = null; // a new session: not known yet
  renderStatus();
  renderResidentLang();
  for (const fn of stateListeners) fn(state, previous);

  if (signIn) {
    $('password').value = '';
    // The login stays filled after a wrong password: only the password is retyped.
    ($('login').value ? $('password') : $('login')).focus();
    return;
  }
  if (state === previous) return;
  // Move the focus to the one thing to do next, so keyboard users never get lost.
  if (FORM_STATES.has(state)) {
    const input = $('code');
    if (state === 'enter-code') input.value = '';
    input.focus(); // after invalid-code the digits stay, to be corrected in place
  } else if (END_STATES.has(state)) {
    $('new-session').focus();
  }
}

// Whether the passkey panel belongs on the code screen (the relay offers passkeys).
export function setPasskeysShown(shown) {
  passkeysShown = shown;
  $('passkeys').hidden = !FORM_STATES.has(current.state) || !passkeysShown;
}

// Inline message under the code field (format errors found before contacting the relay).
export function setFieldError(key) {
  fieldErrorKey = key;
  const input = $('code');
  const error = $('code-error');
  error.hidden = !key;
  error.textContent = key ? t(key) : '';
  if (key) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

// How the picture travels (direct or through the relay) and the round-trip time.
let link = null;
export function setLink(path, rtt) {
  link = path ? { path, rtt } : null;
  renderLink();
}

function renderLink() {
  const el = $('link');
  el.hidden = !link;
  el.textContent = link ? t(link.path === 'relay' ? 'linkRelay' : 'linkDirect', { rtt: link.rtt }) : '';
}

// The signed-in caseworker ({ name, site }) or null. Shown as text, never as HTML.
export function setAccount(acc) {
  account = acc;
  renderAccount();
}

function renderAccount() {
  const el = $('who');
  el.textContent = account ? t('signedInAs', { name: account.name, site: account.site }) : '';
  const hide = !account || current.state === 'sign-in';
  el.hidden = hide;
  $('sign-out').hidden = hide;
}

export function setSite(name) {
  siteName = typeof name === 'string' && name.trim() ? name.trim() : null;
  renderSite();
}

function renderStatus() {
  $('status').textContent = t(current.key, current.params);
}

// The resident's language as their agent told the relay (a checked BCP 47 tag), or null.
export function setResidentLang(tag) {
  residentLang = typeof tag === 'string' && /^[A-Za-z0-9-]{1,35}$/.test(tag) ? tag : null;
  renderResidentLang();
}

function renderResidentLang() {
  const el = $('resident-lang');
  el.hidden = !residentLang;
  if (!residentLang) {
    el.replaceChildren();
    return;
  }
  // The name is in its own language and script: marked so, for screen readers and bidi.
  const name = document.createElement('span');
  name.lang = residentLang;
  name.dir = 'auto';
  name.textContent = languageName(residentLang);
  el.replaceChildren(document.createTextNode(t('residentLang')), name);
}

function renderSite() {
  const el = $('site');
  el.hidden = !siteName;
  el.textContent = siteName ? t('site', { site: siteName }) : '';
}

// After a language switch: same state, same sentences, new words.
export function refresh() {
  renderStatus();
  renderSite();
  renderLink();
  renderAccount();
  renderResidentLang();
  if (fieldErrorKey) setFieldError(fieldErrorKey);
}
