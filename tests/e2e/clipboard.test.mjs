// End-to-end: the clipboard, only while the resident has given control (issue 17). The
// console agent on Xvfb (its clipboard is the X server's CLIPBOARD selection, read and
// written here with xclip), the real viewer in headless Chromium. While only watching the
// buttons are not there and the agent refuses a request sent anyway. With control: the
// caseworker's own clipboard (read with the browser's permission) lands in the resident's
// clipboard exactly; when the browser will not let the page read it, a box takes the text
// pasted in; too long a text is refused in the page, nothing sent. "Get" shows the
// resident's clipboard in a read-only box whose Copy puts it in the caseworker's
// clipboard; an empty or too long clipboard is said in words. A request the agent refuses,
// or that control ending drops, is said too. Everything by keyboard. Afterwards the audit
// log says once that the clipboard was used, and no log on any side holds its text.
//
// Run with ACOTE_VIEWER_DIR=viewer to try viewer changes without rebuilding the relay.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  Harness, startXvfb, startRelay, startAgent, openSignedInViewer, addCaseworker, relayAdmin, grantControl,
  log, sleep, QUESTION_LINE,
} from './harness.mjs';

const execFileP = promisify(execFile);
const CASEWORKER = { login: 'samia', name: 'Samia Ferhat', site: "Point d'accès au droit", password: 'presse agrume 2031' };
// With a tab, Windows line ends, accents and Arabic: all of it must arrive exactly.
const MINE = 'Dossier CAF n° 4821-AZ\r\nIBAN\tFR76 3000 6000 0112 3456 7890 189';
const PASTED = 'Réf. 77-ÉTÉ — بطاقة الإقامة\nligne 2';
const THEIRS = 'Numéro fiscal 0123456789\nمرحبا Noël';
const CLIPBOARD_USED = /^clipboard (read|written)$/;

/** The resident's clipboard text (the X CLIPBOARD selection), or null when none is served. */
async function residentClipboard(xvfb) {
  try {
    const { stdout } = await execFileP('xclip', ['-selection', 'clipboard', '-o'],
      { timeout: 5_000, env: { ...process.env, DISPLAY: xvfb.display }, maxBuffer: 1 << 20 });
    return stdout;
  } catch {
    return null;
  }
}

async function waitForResidentClipboard(xvfb, want, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let got = null;
  while (Date.now() < deadline) {
    got = await residentClipboard(xvfb);
    if (got === want) return;
    await sleep(200);
  }
  assert.fail(`the resident's clipboard holds ${JSON.stringify(got)}, not ${JSON.stringify(want)}`);
}

/** Something of the resident's own puts `text` in their clipboard and keeps serving it
 * (xclip in the foreground, killed with the harness, or when another owner takes over). */
async function residentCopies(h, xvfb, text) {
  const proc = h.spawn('xclip', 'xclip', ['-quiet', '-selection', 'clipboard', '-i'],
    { env: { ...process.env, DISPLAY: xvfb.display } });
  proc.child.stdin.end(text);
  await waitForResidentClipboard(xvfb, text);
  log(`the resident's clipboard holds ${[...text].length} characters`);
  return proc;
}

test('clipboard both ways only with control, by keyboard; the text in no log', { timeout: 240_000 }, async (t) => {
  const h = await Harness.create(t);
  await h.run(async () => {
    const xvfb = await startXvfb(h, { width: 1366, height: 768 });
    // Logs at their most verbose: they must still hold none of the clipboard's text.
    const relay = await startRelay(h, { logLevel: 'trace' });
    await addCaseworker(h, relay, CASEWORKER);
    const agent = await startAgent(h, relay, xvfb, { logLevel: 'trace' });
    const code = await agent.nextCode();
    const viewer = await openSignedInViewer(h, relay, CASEWORKER);
    const { page } = viewer;
    // The caseworker's browser lets the page read and write its clipboard (merged with the
    // camera permission openViewer gave, which WebRTC on loopback needs).
    await viewer.context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await viewer.connect(code.digits);
    await agent.nextLine(QUESTION_LINE, 20_000);
    agent.write('y\n');
    await viewer.waitForState('watching', 30_000);
    await viewer.waitForControl('watching');

    const sendMine = page.getByRole('button', { name: 'Send my clipboard' });
    const getTheirs = page.getByRole('button', { name: "Get the resident's clipboard" });
    const status = page.locator('#clip-status');
    const panel = page.getByRole('region', { name: 'Clipboard' });
    const received = page.getByRole('textbox', { name: "Text from the resident's clipboard" });
    const pasteBox = page.getByRole('textbox', { name: "Text to put in the resident's clipboard" });
    const waitForStatus = (re, timeout = 15_000) => page.waitForFunction(
      (src) => new RegExp(src).test(document.getElementById('clip-status').textContent), re.source,
      { timeout, polling: 50 });

    // Only watching: no clipboard buttons, and a request sent anyway is refused by the agent.
    assert.equal(await sendMine.count(), 0, 'no "Send my clipboard" while watching');
    assert.equal(await getTheirs.count(), 0, 'no "Get" while watching');
    await viewer.sendRaw([{ type: 'clipboard_put', text: 'ne doit pas passer' }, { type: 'clipboard_get' }]);
    await page.waitForFunction(
      () => /not in control: 2 action/.test(document.getElementById('control-notice').textContent),
      null, { timeout: 10_000 });
    await sleep(500);
    assert.equal(await residentClipboard(xvfb), null, "nothing reached the resident's clipboard");
    assert.ok(!agent.lines.some((l) => CLIPBOARD_USED.test(l)), 'the agent used no clipboard');
    assert.equal(await panel.count(), 0, 'no clipboard panel');
    log('without control: no buttons, and the agent refused both requests');

    await grantControl(viewer, agent);
    await sendMine.waitFor({ state: 'visible', timeout: 5_000 });
    await getTheirs.waitFor({ state: 'visible', timeout: 5_000 });

    // "Get" on a clipboard that holds nothing: said in words. By keyboard: Tab from "Send"
    // to "Get", Enter.
    await sendMine.focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'clip-get', 'Tab goes from Send to Get');
    await page.keyboard.press('Enter');
    await waitForStatus(/^The resident's clipboard holds no text/);
    assert.equal(await received.count(), 0, 'no text box for no text');

    // The caseworker's own clipboard, read with the browser's permission, lands exactly.
    await page.evaluate((text) => navigator.clipboard.writeText(text), MINE);
    await sendMine.focus();
    await page.keyboard.press('Enter');
    await waitForStatus(/^Text put in the resident's clipboard/);
    await waitForResidentClipboard(xvfb, MINE);
    await agent.nextLine(/^clipboard written$/, 10_000);
    assert.ok(await panel.isVisible());
    log("the caseworker's clipboard reached the resident's exactly");

    // Escape closes the panel and gives the focus back to the button.
    await page.locator('#clip-close').focus();
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden', timeout: 5_000 });
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'clip-send', 'the focus is back on Send');

    // A browser that will not let the page read its clipboard: the box, focused, takes the
    // text pasted in.
    await page.evaluate(() => {
      navigator.clipboard.readText = () => Promise.reject(new DOMException('Read permission denied.', 'NotAllowedError'));
    });
    await page.keyboard.press('Enter');
    await waitForStatus(/^Your browser did not let Acote read your clipboard/);
    await pasteBox.waitFor({ state: 'visible', timeout: 5_000 });
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'clip-input', 'the box has the focus');
    assert.equal(await sendMine.getAttribute('aria-expanded'), 'true');
    await page.keyboard.insertText(PASTED);
    await page.keyboard.press('Tab'); // past the hint to "Send to the resident"
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'clip-input-send');
    await page.keyboard.press('Enter');
    await waitForStatus(/^Text put in the resident's clipboard/);
    await waitForResidentClipboard(xvfb, PASTED);
    await agent.nextLine(/^clipboard written$/, 10_000);
    assert.equal(await pasteBox.count(), 0, 'the box goes once its text is sent');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'clip-send', 'the focus is back on Send');
    log('the pasted text reached the resident exactly');

    // Too long: refused in the page, whole; nothing leaves.
    await sendMine.focus();
    await page.keyboard.press('Enter');
    await pasteBox.waitFor({ state: 'visible', timeout: 5_000 });
    await pasteBox.fill('a'.repeat(6145));
    await page.getByRole('button', { name: 'Send to the resident' }).press('Enter');
    await waitForStatus(/^Text too long for the clipboard: 1 character too many \(6 KB at most\)\. Nothing was sent\.$/, 5_000);
    assert.equal(await pasteBox.getAttribute('aria-invalid'), 'true');
    assert.equal(await agent.lineWithin(CLIPBOARD_USED, 1_500), null, 'nothing was sent');
    assert.equal(await residentClipboard(xvfb), PASTED, "the resident's clipboard is unchanged");
    // Exactly 6144 bytes goes.
    await pasteBox.fill('é'.repeat(3072));
    await page.getByRole('button', { name: 'Send to the resident' }).press('Enter');
    await waitForResidentClipboard(xvfb, 'é'.repeat(3072));
    await agent.nextLine(/^clipboard written$/, 10_000);
    await page.evaluate(() => { delete navigator.clipboard.readText; }); // the browser's own again
    log('a text over 6 KB was refused in the page; 6 KB exactly went through');

    // The resident copies something; "Get" shows it, selected, and Copy puts it in the
    // caseworker's clipboard.
    await residentCopies(h, xvfb, THEIRS);
    await getTheirs.focus();
    await page.keyboard.press('Enter');
    await waitForStatus(/^The resident's clipboard text \(\d+ characters\)\. Their window tells them you read it\.$/);
    assert.equal(await received.inputValue(), THEIRS, 'the text shown is exactly the resident\'s');
    assert.ok(await received.evaluate((el) => el.readOnly), 'read-only');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'clip-text', 'the text has the focus');
    await agent.nextLine(/^clipboard read$/, 10_000);
    await page.evaluate(() => navigator.clipboard.writeText('autre chose'));
    await page.getByRole('button', { name: 'Copy', exact: true }).press('Enter');
    await waitForStatus(/^Copied to your clipboard\.$/, 5_000);
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), THEIRS);
    log("the resident's clipboard was shown and copied on the caseworker's side");

    // A text on the resident's side too long to send: said, nothing shown.
    await residentCopies(h, xvfb, 'b'.repeat(7000));
    await getTheirs.focus();
    await page.keyboard.press('Enter');
    await waitForStatus(/^The resident's clipboard holds more than 6 KB of text/);
    assert.equal(await received.count(), 1, 'the text received before stays until the panel closes');

    // Messages the page did not ask for show nothing.
    await page.locator('#clip-close').press('Enter');
    await panel.waitFor({ state: 'hidden', timeout: 5_000 });
    await page.evaluate(() => window.acote.channel.dispatchEvent(
      new MessageEvent('message', { data: JSON.stringify({ type: 'clipboard', text: 'pas demandé' }) })));
    assert.equal(await panel.isVisible(), false, 'an unasked-for clipboard text is not shown');

    // A request the agent refuses for want of control is said so. (The agent only does
    // that when control ended as the request left: here the request is held back in the
    // page and the agent's refusal played.)
    await page.evaluate(() => {
      const send = RTCDataChannel.prototype.send;
      window.restoreSend = () => { RTCDataChannel.prototype.send = send; };
      RTCDataChannel.prototype.send = function hold(data) {
        if (typeof data === 'string' && data.includes('"clipboard_')) return;
        send.call(this, data);
      };
    });
    await getTheirs.focus();
    await page.keyboard.press('Enter');
    await waitForStatus(/^Reading the resident's clipboard/, 5_000);
    await page.evaluate(() => window.acote.channel.dispatchEvent(new MessageEvent('message',
      { data: JSON.stringify({ type: 'refused', reason: 'not_in_control', count: 1 }) })));
    await waitForStatus(/^You are not in control: the resident's computer refused the clipboard request\.$/, 5_000);

    // The resident takes control back while a request waits: the buttons go, and the page
    // says the request was not served (the agent drops it).
    await getTheirs.press('Enter');
    await waitForStatus(/^Reading the resident's clipboard/, 5_000);
    agent.write('s\n');
    await viewer.waitForControl('taken-back');
    await waitForStatus(/^Control ended: the clipboard request was not served\.$/, 5_000);
    assert.equal(await sendMine.count(), 0, 'no "Send my clipboard" without control');
    assert.equal(await getTheirs.count(), 0, 'no "Get" without control');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'request-control', 'the focus is not lost');
    await page.evaluate(() => window.restoreSend());
    log('refusal and control taken back are said in the panel');

    // In French, the same in French.
    await page.getByRole('button', { name: 'Français', exact: true }).click();
    await waitForStatus(/^Vous n'avez plus la main : la demande de presse-papiers n'a pas été servie\.$/, 5_000);
    await page.getByRole('button', { name: 'English', exact: true }).click();

    await viewer.endSession();
    await agent.nextEnded(20_000);
    await viewer.waitForState('ended');
    assert.equal(await panel.count(), 0, 'the panel goes with the session');
    assert.equal(await page.locator('#clip-text').inputValue(), '', 'the text received is let go');

    // The audit: the clipboard was used, once, by whom; never its text.
    const today = new Date().toISOString().slice(0, 10);
    const csv = (await relayAdmin(h, relay, ['audit', 'export', '--from', today, '--to', today])).stdout;
    const used = csv.split('\n').filter((row) => row.split(',')[2] === 'feature_used');
    assert.equal(used.length, 1, `one feature_used row:\n${csv}`);
    const [, , , actor, , detail] = used[0].split(',');
    assert.equal(detail, 'feature=clipboard');
    assert.equal(actor, CASEWORKER.login);
    assert.equal((await relayAdmin(h, relay, ['audit', 'verify'])).code, 0);
    // No log holds the texts: the audit, the relay's and the agent's logs, the agent's
    // console, the page's console.
    const secrets = ['Dossier CAF', 'FR76 3000', 'Réf. 77', 'بطاقة', 'Numéro fiscal', 'مرحبا', 'ne doit pas passer',
      'éééééééé', 'bbbbbbbbbbbb', 'aaaaaaaaaaaa', 'pas demandé'];
    const sources = { audit: csv, 'relay stdout': relay.proc.stdout, 'relay stderr': relay.proc.stderr,
      'agent stdout': agent.stdout, 'agent stderr': agent.stderr, 'viewer console': viewer.console.join('\n') };
    assert.ok(relay.proc.stderr.length + agent.stderr.length > 10_000, 'trace logging was on');
    for (const [name, text] of Object.entries(sources)) {
      for (const s of secrets) assert.ok(!text.includes(s), `${name} holds clipboard text (${s})`);
    }
  });
});
