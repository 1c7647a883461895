// The caseworker's passkey panel on the code screen: the list (date added, last used),
// "Add a passkey" and one "Remove" per passkey, each with its own accessible name.

import { addPasskey, listPasskeys, removePasskey } from '/src/account.js';
import { getLang, t } from '/src/i18n.js';
import * as ui from '/src/ui.js';
import { $ } from '/src/dom.js';

let list = null;
let statusKey = null;

function day(unix) {
  if (unix == null) return null;
  return new Date(unix * 1000).toLocaleDateString(getLang() === 'fr' ? 'fr-FR' : 'en-GB');
}

function render() {
  const ul = $('passkey-list');
  ul.replaceChildren();
  const keys = list?.passkeys ?? [];
  if (!keys.length) {
    const li = document.createElement('li');
    li.textContent = t('noPasskey');
    ul.append(li);
  }
  for (const key of keys) {
    const li = document.createElement('li');
    const added = day(key.created_at);
    const text = document.createElement('span');
    text.textContent = t('passkeyItem', { added, used: day(key.last_used_at) });
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'quiet';
    remove.textContent = t('removePasskey');
    remove.setAttribute('aria-label', t('removePasskeyAria', { added }));
    remove.addEventListener('click', () => act(() => removePasskey(key.id), 'passkeyRemoved'));
    li.append(text, ' ', remove);
    ul.append(li);
  }
  $('passkey-status').textContent = statusKey ? t(statusKey) : '';
}

async function act(step, doneKey) {
  $('add-passkey').disabled = true;
  const result = await step();
  $('add-passkey').disabled = false;
  if (result.list) list = result.list;
  statusKey = result.list ? doneKey : result.error;
  render();
}

// After a sign-in (or at load when already signed in): what the relay holds.
export async function load() {
  list = await listPasskeys();
  statusKey = null;
  ui.setPasskeysShown(!!list?.available);
  render();
}

// Signed out: nothing to show.
export function clear() {
  list = null;
  statusKey = null;
  ui.setPasskeysShown(false);
}

export function setup() {
  $('add-passkey').addEventListener('click', () => act(addPasskey, 'passkeyAdded'));
}

export function refresh() {
  if (list) render();
}
