// End-to-end: chat between the caseworker and the resident, through the relay's TURN (the
// site's relay-only policy and the viewer's "Always go through the relay" box). The
// caseworker only views (no control asked): their message, with a link and Arabic, reaches
// the console agent exactly as typed (cleaned of a bidi override and of the spaces around
// it); the resident's reply (`m …` on the agent's stdin) shows in the page's log, marked
// who wrote it, read in its own direction, its link plain text. The picture does not move
// when messages arrive; a message arriving while the panel is closed shows as a count and
// in the title; a message over 2000 bytes is refused in the page and never sent; after the
// end the relay's audit log says once that chat was used, and holds none of the words.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Harness, startXvfb, startRelay, startAgent, openSignedInViewer, addCaseworker, relayAdmin, log,
  QUESTION_LINE,
} from './harness.mjs';

const CASEWORKER = { login: 'nadia', name: 'Nadia Haddad', site: 'Maison des solidarités', password: 'boussole nuage 2029' };
const LINK = 'https://www.service-public.fr/particuliers/vosdroits/F1234?lang=fr&x=1';
const LINE1 = `Bonjour, voici le lien : ${LINK}`;
const LINE2 = 'مرحبا، هل ترى الرابط؟';
const REPLY_LINK = 'https://example.org/aide?q=caf';
const REPLY = `شكرا! ${REPLY_LINK} ça marche`;
const SECOND_REPLY = 'Vous êtes toujours là ?';
const CHAT_RECEIVED = /^chat received: (.*)$/;
const CHAT_SENT = /^chat sent: (.*)$/;

/** Where the picture is drawn, in the page's pixels, once the page is laid out (two
 * frames, for the ResizeObserver that fits the picture). */
function pictureRect(viewer) {
  return viewer.page.evaluate(async () => {
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const r = document.getElementById('frame').getBoundingClientRect();
    return { left: r.left, top: r.top, width: r.width, height: r.height };
  });
}

/** The messages in the page's log: [{ from, who, text, dir, time }]. */
function logged(viewer) {
  return viewer.page.evaluate(() => [...document.querySelectorAll('#chat-log .chat-msg')].map((m) => ({
    from: m.dataset.from,
    who: m.querySelector('.chat-who').textContent,
    text: m.querySelector('.chat-text').textContent,
    dir: m.querySelector('.chat-text').getAttribute('dir'),
    time: m.querySelector('time')?.getAttribute('datetime') ?? null,
  })));
}

/** The whole picture is on screen beside the open panel, in its proportions, and the page
 * does not scroll (on the 1280×800 laptop page of openViewer). */
async function assertWholePictureBesidePanel(viewer) {
  const g = await viewer.page.evaluate(async () => {
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const rect = (id) => document.getElementById(id).getBoundingClientRect().toJSON();
    const video = document.getElementById('screen');
    return {
      frame: rect('frame'), toolbar: rect('controls'), chat: rect('chat'),
      win: { width: window.innerWidth, height: window.innerHeight },
      page: { w: document.scrollingElement.scrollWidth, h: document.scrollingElement.scrollHeight },
      video: { width: video.videoWidth, height: video.videoHeight },
    };
  });
  const { frame, toolbar, chat, win, page, video } = g;
  const what = JSON.stringify(g);
  assert.ok(frame.left >= 0 && frame.top >= toolbar.bottom - 0.5 && frame.bottom <= win.height + 0.5, `picture in the window: ${what}`);
  assert.ok(frame.right <= chat.left + 0.5, `picture beside the panel, not under it: ${what}`);
  assert.ok(page.w <= win.width && page.h <= win.height, `the page does not scroll: ${what}`);
  assert.ok(Math.abs((frame.width / frame.height) / (video.width / video.height) - 1) < 0.01, `proportions kept: ${what}`);
}

async function waitForLogged(viewer, n) {
  await viewer.page.waitForFunction((k) => document.querySelectorAll('#chat-log .chat-msg').length === k, n,
    { timeout: 15_000, polling: 50 });
}

test('chat through TURN while the caseworker only views; audited once, never its words', { timeout: 240_000 }, async (t) => {
  const h = await Harness.create(t);
  await h.run(async () => {
    const xvfb = await startXvfb(h, { width: 1280, height: 720 });
    const relay = await startRelay(h, { configExtra: 'relay_only = true\n' });
    await addCaseworker(h, relay, CASEWORKER);
    const agent = await startAgent(h, relay, xvfb);
    const code = await agent.nextCode();
    const viewer = await openSignedInViewer(h, relay, CASEWORKER);
    const { page } = viewer;
    await page.getByLabel('Always go through the relay').check();
    await viewer.connect(code.digits);
    await agent.nextLine(QUESTION_LINE, 20_000);
    agent.write('y\n');
    await viewer.waitForState('watching', 60_000);
    await viewer.waitForVideo((s) => s.framesDecoded > 0, 20_000, 'decoded frames');
    const stats = await (await page.waitForFunction(
      () => (window.acote.stats?.path ? window.acote.stats : null), null, { timeout: 20_000, polling: 250 })).jsonValue();
    assert.equal(stats.path, 'relay', 'the selected candidate pair is relayed');
    log(`viewer: media through the relay over ${stats.relayProtocol}`);

    // The panel opens from the rail beside the picture, by keyboard, and gives the box the focus.
    const toggle = page.getByRole('button', { name: 'Messages', exact: true });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    const box = page.getByRole('textbox', { name: 'Message to the resident' });
    const chatLog = page.getByRole('log', { name: 'Conversation with the resident' });
    assert.equal(await chatLog.isVisible(), false, 'the panel starts closed');
    await toggle.focus();
    await page.keyboard.press('Enter');
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    await chatLog.waitFor({ state: 'visible', timeout: 5_000 });
    await page.waitForFunction(() => document.activeElement?.id === 'chat-text', null, { timeout: 5_000 });
    assert.ok(await box.isEnabled(), 'the box is open: the data channel is');
    await assertWholePictureBesidePanel(viewer);

    // Typed with spaces around, a new line (Shift+Enter) and a right-to-left override in
    // it; Enter sends. What leaves is cleaned: trimmed, the override gone.
    await page.keyboard.insertText(`  ${LINE1}`);
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.insertText(`\u202E${LINE2}  `);
    await page.keyboard.press('Enter');
    const [, received] = await agent.nextLine(CHAT_RECEIVED, 15_000);
    assert.equal(received, `${LINE1} / ${LINE2}`, 'the agent got the message exactly');
    assert.equal(await box.inputValue(), '', 'the box is emptied once sent');
    await waitForLogged(viewer, 1);
    let messages = await logged(viewer);
    assert.deepEqual([messages[0].from, messages[0].who, messages[0].text, messages[0].dir],
      ['me', 'You', `${LINE1}\n${LINE2}`, 'auto']);
    assert.ok(messages[0].time && !Number.isNaN(Date.parse(messages[0].time)), 'the message has its time');
    // All of it while only viewing: no control was asked, none given.
    assert.equal(await viewer.controlMode(), 'watching');
    assert.ok(!agent.lines.some((l) => /mouse and keyboard/.test(l)), 'the resident was never asked about control');
    await page.getByRole('button', { name: 'Request control' }).waitFor({ state: 'visible' });

    // The resident answers; the picture stays where it is while the panel fills.
    const before = await pictureRect(viewer);
    agent.write(`m ${REPLY}\n`);
    const [, sent] = await agent.nextLine(CHAT_SENT, 15_000);
    assert.equal(sent, REPLY);
    await waitForLogged(viewer, 2);
    messages = await logged(viewer);
    assert.deepEqual([messages[1].from, messages[1].who, messages[1].text, messages[1].dir],
      ['resident', 'Resident', REPLY, 'auto']);
    assert.equal(await chatLog.locator('a').count(), 0, 'no link element: a link is shown as text');
    assert.ok((await chatLog.innerText()).includes(REPLY_LINK), 'the link reads as text');
    assert.deepEqual(await pictureRect(viewer), before, 'the picture did not move when the message came');

    // Nothing an agent (or anything posing as one) sends against the rule is shown.
    await page.evaluate(() => {
      for (const text of ['x\u202Eexe.pdf', '   \n ', 'é'.repeat(1001), 'bip\u0007', 42]) {
        window.acote.channel.dispatchEvent(new MessageEvent('message', { data: JSON.stringify({ type: 'chat', text }) }));
      }
    });
    assert.equal((await logged(viewer)).length, 2, 'invalid messages are dropped');

    // The panel closed (Escape): a reply shows as a count on the rail and in the title only.
    await box.focus();
    await page.keyboard.press('Escape');
    await chatLog.waitFor({ state: 'hidden', timeout: 5_000 });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'chat-toggle', 'the focus goes back to the button');
    const closed = await pictureRect(viewer);
    agent.write(`msg ${SECOND_REPLY}\n`);
    await agent.nextLine(CHAT_SENT, 15_000);
    await page.getByRole('button', { name: 'Messages, 1 unread' }).waitFor({ timeout: 15_000 });
    assert.equal(await page.title(), '(1) Acote');
    assert.equal(await page.locator('#chat-badge').textContent(), '1');
    assert.match(await page.locator('#chat-notice').textContent(), /^New message from the resident \(1 unread\)\.$/);
    assert.equal(await chatLog.isVisible(), false, 'a message never opens the panel by itself');
    assert.deepEqual(await pictureRect(viewer), closed, 'the picture did not move');
    await page.getByRole('button', { name: 'Messages, 1 unread' }).click();
    await chatLog.waitFor({ state: 'visible', timeout: 5_000 });
    assert.equal(await page.title(), 'Acote', 'read once the panel is open');
    await toggle.waitFor({ timeout: 5_000 });
    assert.equal((await logged(viewer))[2].text, SECOND_REPLY);

    // Over 2000 bytes: said before sending, refused on Enter, nothing sent.
    const tooLong = 'é'.repeat(1001); // 2002 bytes
    await box.fill(tooLong);
    await page.getByText('1 character too many', { exact: true }).waitFor({ timeout: 5_000 });
    await box.press('Enter');
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 5_000 });
    assert.match(await alert.textContent(), /^Message too long: 1 character too many\./);
    assert.equal(await box.getAttribute('aria-invalid'), 'true');
    assert.equal(await box.inputValue(), tooLong, 'the text stays, to be shortened');
    assert.equal(await agent.lineWithin(CHAT_RECEIVED, 2_000), null, 'nothing was sent');
    assert.equal((await logged(viewer)).length, 3);
    // One character less is exactly 2000 bytes: accepted both sides.
    await box.press('End');
    await box.press('Backspace');
    await page.getByText('0 characters left', { exact: true }).waitFor({ timeout: 5_000 });
    assert.equal(await alert.isVisible(), false, 'the refusal goes once fixed');
    await box.press('Enter');
    const [, full] = await agent.nextLine(CHAT_RECEIVED, 15_000);
    assert.equal(full, 'é'.repeat(1000));
    await waitForLogged(viewer, 4);
    await assertWholePictureBesidePanel(viewer); // a long message scrolls in the panel

    // In French, who wrote what is said in French.
    await page.getByRole('button', { name: 'Français', exact: true }).click();
    await page.getByRole('log', { name: 'Conversation avec la personne' }).waitFor();
    assert.deepEqual((await logged(viewer)).map((m) => m.who), ['Vous', 'Personne accompagnée', 'Personne accompagnée', 'Vous']);
    assert.ok(await page.getByRole('textbox', { name: 'Message à la personne' }).isEnabled());
    await page.getByRole('button', { name: 'English', exact: true }).click();

    // The end: the conversation stays to be read, the box closes and says why.
    await viewer.endSession();
    await agent.nextEnded(20_000);
    await viewer.waitForState('ended');
    await chatLog.waitFor({ state: 'visible', timeout: 5_000 });
    assert.equal((await logged(viewer)).length, 4);
    assert.ok(await box.isDisabled(), 'no message after the end');
    assert.match(await page.locator('#chat-hint').textContent(), /The session has ended/);
    // A new session starts from nothing.
    await page.getByRole('button', { name: 'New session' }).click();
    await viewer.waitForState('enter-code');
    assert.equal(await chatLog.isVisible(), false);
    assert.equal((await logged(viewer)).length, 0, 'the messages are gone');
    assert.equal(await page.evaluate(() => JSON.stringify(localStorage).includes('Bonjour')), false, 'never stored');

    // The audit log says chat was used, once, by whom; none of what was said.
    const today = new Date().toISOString().slice(0, 10);
    const csv = (await relayAdmin(h, relay, ['audit', 'export', '--from', today, '--to', today])).stdout;
    const used = csv.split('\n').filter((row) => row.split(',')[2] === 'feature_used');
    const refusals = agent.stderr.split('\n').filter((l) => /refused a message/.test(l)).join('\n');
    assert.equal(used.length, 1, `one feature_used row:\n${csv}\nthe relay's refusals the agent logged:\n${refusals}`);
    const [, , , actor, , detail] = used[0].split(',');
    assert.equal(detail, 'feature=chat');
    assert.equal(actor, CASEWORKER.login);
    const words = [LINK, 'Bonjour', LINE2, 'مرحبا', REPLY_LINK, 'شكرا', SECOND_REPLY, 'éééé'];
    for (const w of words) assert.ok(!csv.includes(w), `the audit holds no message text (${w})`);
    assert.equal((await relayAdmin(h, relay, ['audit', 'verify'])).code, 0);
    // Nor does any log: the relay never sees the words, the agent's log never writes them.
    const logs = [relay.proc.stdout, relay.proc.stderr, agent.stderr].join('\n');
    for (const w of words) assert.ok(!logs.includes(w), `no log holds message text (${w})`);
  });
});
