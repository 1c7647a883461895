// The security code in the toolbar: runs the exchange of viewer/src/sas.js on the data
// channel and shows its outcome. The caseworker reads the code aloud on the phone; the
// resident's window shows the same one. A failed exchange shows a warning, never a code.
import { t } from '/src/i18n.js';
import { createViewerSas, fingerprintFromSdp } from '/src/sas.js';
import { $ } from '/src/dom.js';

let current = null; // { pc, send, sas, code, failed }

// A new data channel: a new exchange, started by the agent's sas_commit.
export function attachSas(pc, send) {
  current = { pc, send, sas: null, code: null, failed: false };
  render();
}

export function detachSas() {
  current = null;
  render();
}

function fail(c) {
  c.failed = true;
  c.code = null;
  render();
}

// One sas_commit or sas_reveal from the agent.
export function onSasMessage(msg) {
  const c = current;
  if (!c || c.failed) return;
  try {
    if (msg.type === 'sas_commit') {
      if (!c.sas) {
        // The descriptions this page used: the agent's certificate is the remote one.
        c.sas = createViewerSas({
          fpAgent: fingerprintFromSdp(c.pc.remoteDescription?.sdp ?? ''),
          fpViewer: fingerprintFromSdp(c.pc.localDescription?.sdp ?? ''),
        });
      }
      c.send(c.sas.onCommit(msg.c));
    } else if (msg.type === 'sas_reveal') {
      if (!c.sas) throw new Error('reveal before commit');
      c.sas.onReveal(msg.n).then((code) => {
        if (current !== c || c.failed) return;
        c.code = code;
        render();
      }, () => fail(c));
    }
  } catch {
    fail(c);
  }
}

export function render() {
  const el = $('security-code');
  if (!el) return;
  const c = current;
  // Its place in the toolbar is kept, unseen, until the code comes: the toolbar must not
  // reflow then, or the picture under it would move under the caseworker's pointer.
  el.hidden = false;
  el.classList.toggle('is-pending', !c?.code && !c?.failed);
  el.classList.toggle('is-failed', Boolean(c?.failed));
  if (c?.failed) {
    el.textContent = t('securityFailed');
    el.setAttribute('aria-label', t('securityFailed'));
    delete el.dataset.code;
  } else if (c?.code) {
    el.textContent = t('securityCode', { code: c.code });
    // Digit by digit for screen readers, with what to do with it.
    el.setAttribute('aria-label', t('securityCodeAria', { digits: c.code.split('').join(' ') }));
    el.dataset.code = c.code;
  } else {
    // As wide as a code (tabular digits), but not shown nor read out.
    el.textContent = t('securityCode', { code: '0000' });
    el.removeAttribute('aria-label');
    delete el.dataset.code;
  }
}

// The toolbar holds the code's place from the first session on.
render();
