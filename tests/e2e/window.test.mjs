// End-to-end: the resident's real window (no --console) on Xvfb. The test reads the code
// from the agent's `code NNN NNN` line, waits until the window's buttons are drawn where
// the layout puts them (checking the pixels), and clicks them with the X server's own
// pointer (xdotool): Allow lets frames reach the viewer, Refuse captures nothing, Stop and
// the Ctrl+Alt+S hotkey end control and sharing. It also checks the coloured border
// around the shared screen, the receipt (written only when asked), and that the agent
// leaves no other file behind.
//
// Positions come from agent/ui/window.slint: the main window is 640×520, centred on the
// screen, with its two answer buttons (72 px high) at the bottom, 28 px from each edge;
// the sharing bar is 1040×112, centred, 12 px from the top, Stop on the right.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  Harness, startXvfb, startRelay, startAgent, openViewer, addCaseworker, log, sleep, BIN_DIR,
  startResidentSound, pulsedTone,
} from './harness.mjs';

const execFileP = promisify(execFile);

const CASEWORKER = {
  login: 'marie.dupont',
  name: 'Marie Dupont',
  site: 'CHRS Les Lilas',
  password: 'cheval agrafe batterie 42',
};

const WIDTH = 1366;
const HEIGHT = 768;

// Main window (centred) and its answer buttons.
const MAIN = { w: 640, h: 520, x: Math.floor((WIDTH - 640) / 2), y: Math.floor((HEIGHT - 520) / 2) };
const PAIR_Y = MAIN.y + 520 - 28 - 36; // centre of the bottom buttons
const ALLOW = { x: MAIN.x + 28 + 140, y: PAIR_Y }; // first in reading order: left in English
const REFUSE = { x: MAIN.x + 28 + 280 + 24 + 140, y: PAIR_Y };
const ALLOW_EDGE = { x: MAIN.x + 28 + 12, y: PAIR_Y }; // inside the button, clear of its label
const REFUSE_EDGE = { x: MAIN.x + 28 + 280 + 24 + 12, y: PAIR_Y };
// The sharing bar and its buttons.
const BAR_W = 1040;
const BAR = { x: Math.floor((WIDTH - BAR_W) / 2), y: 12 };
const BAR_EDGE = { x: BAR.x + 6, y: BAR.y + 6 };
const STOP = { x: BAR.x + BAR_W - 14 - 85, y: BAR.y + 56 };
const TAKE_BACK = { x: BAR.x + BAR_W - 14 - 170 - 14 - 120, y: BAR.y + 56 };
// The chat window (520×560), at the right end of the screen under the bar, and the bar's
// Messages button (150 px wide, left of Stop while the caseworker only views).
const CHAT = { x: WIDTH - 520 - 12, y: 12 + 112 + 8 };
const CHAT_HEADER = { x: CHAT.x + 8, y: CHAT.y + 8 };
const MESSAGES = { x: BAR.x + BAR_W - 14 - 170 - 14 - 14 - 75, y: BAR.y + 56 };
// The files window (560×600), at the screen's left end under the bar.
const FILES_HEADER = { x: 8 + 4 + 8, y: 8 + 4 + 112 + 8 + 8 };
// The call panel (560×168), at the screen's left end under the bar: blue while the
// resident's microphone is on, slate grey while it is off.
const CALL = { x: 8 + 4, y: 8 + 4 + 112 + 8 };
const CALL_EDGE = { x: CALL.x + 6, y: CALL.y + 6 };
const SLATE = [0x45, 0x5a, 0x64];
// A point on the screen's left edge, inside the 8 px border.
const BORDER = { x: 3, y: Math.floor(HEIGHT / 2) };

const GREEN = [0x2e, 0x7d, 0x32];
const BLUE = [0x15, 0x65, 0xc0]; // the Close button of the problem screen
const GREY = [0x54, 0x6e, 0x7a]; // "Keep a receipt", second button of the end screen
const RED = [0xc6, 0x28, 0x28];
const VIOLET = [0x6a, 0x1b, 0x9a];

async function xdotool(xvfb, args) {
  const { stdout } = await execFileP('xdotool', args, {
    timeout: 10_000, env: { ...process.env, DISPLAY: xvfb.display } });
  return stdout;
}

/** The colour of one screen pixel, [r, g, b] (ImageMagick reads the X screen). */
async function pixel(xvfb, { x, y }) {
  const { stdout } = await execFileP('import', ['-display', xvfb.display, '-window', 'root',
    '-crop', `1x1+${x}+${y}`, '-depth', '8', 'txt:-'], { timeout: 10_000 });
  const m = stdout.match(/#([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})/);
  if (!m) throw new Error(`cannot read the pixel at ${x},${y}: ${stdout}`);
  return [1, 2, 3].map((i) => parseInt(m[i], 16));
}

const near = (a, b, tol = 30) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

/** Waits until the pixel at `at` is (or, with `not`, stops being) `rgb`. */
async function waitForPixel(xvfb, at, rgb, what, { not = false, timeoutMs = 15_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await pixel(xvfb, at);
    if (near(last, rgb) !== not) return;
    await sleep(150);
  }
  throw new Error(`timed out waiting for ${what}: pixel at ${at.x},${at.y} is ${last}`);
}

async function click(xvfb, { x, y }, what) {
  log(`clicking ${what} at ${x},${y}`);
  // No --sync: it waits for a motion event, and there is none when the pointer is already there.
  await xdotool(xvfb, ['mousemove', String(x), String(y), 'click', '1']);
}

async function withWindowAgent(t, body, { lang = 'en', voice = false } = {}) {
  const h = await Harness.create(t);
  await h.run(async () => {
    const xvfb = await startXvfb(h, { width: WIDTH, height: HEIGHT });
    const relay = await startRelay(h);
    await addCaseworker(h, relay, CASEWORKER);
    const tmp = path.join(h.dir, 'agent-tmp');
    await mkdir(tmp);
    // For a voice call: the resident's sound system, the caseworker's fake microphone.
    const sound = voice ? await startResidentSound(h) : null;
    const wav = path.join(h.dir, 'caseworker.wav');
    if (voice) await writeFile(wav, pulsedTone(660, 20));
    const agent = await startAgent(h, relay, xvfb, { lang, consoleMode: false,
      env: { TMPDIR: tmp, ...(sound?.agentEnv ?? {}) } });
    const viewer = await openViewer(h, relay.url, voice ? { extraArgs: ['--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`] } : {});
    await viewer.waitForState('sign-in');
    await viewer.switchToEnglish();
    await viewer.signIn(CASEWORKER.login, CASEWORKER.password);
    await viewer.waitForState('enter-code');
    await body({ h, xvfb, relay, agent, viewer, tmp });
  });
}

/** The caseworker types the code; the window's question comes up with its two buttons
 * (mirrored in a right-to-left language: Allow, first in reading order, on the right). */
async function ask(xvfb, agent, viewer, { rtl = false } = {}) {
  const code = await agent.nextCode();
  await viewer.connect(code.spaced);
  await viewer.waitForState('waiting-resident');
  await waitForPixel(xvfb, rtl ? REFUSE_EDGE : ALLOW_EDGE, GREEN, 'the green Allow button');
  await waitForPixel(xvfb, rtl ? ALLOW_EDGE : REFUSE_EDGE, RED, 'the red Refuse button');
  return code;
}

test('the window: Allow shares the screen, the border shows, Stop ends it, nothing is left behind', { timeout: 120_000 }, async (t) => {
  await withWindowAgent(t, async ({ h, xvfb, agent, viewer, tmp }) => {
    const [window] = (await xdotool(xvfb, ['search', '--sync', '--onlyvisible', '--name', '^Acote$'])).trim().split('\n');
    assert.ok(window, 'the window is on the screen');
    // While the agent runs, its log lives in one temporary folder.
    const during = await readdir(tmp);
    assert.equal(during.filter((n) => n.startsWith('acote-')).length, 1, `temp folder holds ${during}`);

    await ask(xvfb, agent, viewer);
    await click(xvfb, ALLOW, 'Allow');
    await viewer.waitForState('watching', 30_000);
    const stats = await viewer.waitForVideo((s) => s.framesDecoded > 0, 15_000, 'decoded frames');
    log(`viewer decodes ${stats.frameWidth}x${stats.frameHeight}`);

    await waitForPixel(xvfb, BORDER, RED, 'the red border around the shared screen');
    await waitForPixel(xvfb, BAR_EDGE, RED, 'the red sharing bar');
    // The window agent prints the security code too (issue 16 item 7), and it is the
    // viewer's.
    const [, securityCode] = await agent.nextLine(/^security code (\d{4})\s*$/, 20_000);
    await viewer.page.getByRole('status', { name: /^Security code to read/ }).waitFor({ timeout: 20_000 });
    assert.equal(await viewer.page.locator('#security-code').getAttribute('data-code'), securityCode);
    await click(xvfb, STOP, 'Stop');
    const ended = await agent.nextEnded();
    assert.equal(ended.reason, 'ended');
    assert.ok(ended.frames > 0, `frames were captured (${ended.frames})`);
    await viewer.waitForState('ended');
    await waitForPixel(xvfb, BORDER, RED, 'the border to go', { not: true });

    // The end screen offers a receipt; only pressing it writes one (to Documents, else home).
    const home = path.join(h.dir, 'agent-home');
    await waitForPixel(xvfb, REFUSE_EDGE, GREY, 'the Keep a receipt button');
    assert.deepEqual((await readdir(home)).filter((n) => n.startsWith('acote-receipt')), [], 'no receipt unasked');
    await click(xvfb, REFUSE, 'Keep a receipt');
    let receipt;
    for (let i = 0; i < 50 && !receipt; i++) {
      receipt = (await readdir(home)).find((n) => /^acote-receipt-\d{12}\.txt$/.test(n));
      if (!receipt) await sleep(100);
    }
    assert.ok(receipt, 'the receipt was saved in the home folder');
    const text = await readFile(path.join(home, receipt), 'utf8');
    assert.match(text, /^Acote: receipt/);
    assert.match(text, /Helper: Marie Dupont \(CHRS Les Lilas\)/);

    // Closing the agent removes its temporary folder: no trace on the PC.
    await agent.kill();
    assert.deepEqual(await readdir(tmp), [], 'the agent left files in the temporary folder');
  });
});

test('the window in Arabic: mirrored, Refuse shares nothing, the caseworker sees the language', { timeout: 90_000 }, async (t) => {
  await withWindowAgent(t, async ({ xvfb, agent, viewer }) => {
    await ask(xvfb, agent, viewer, { rtl: true });
    const lang = await viewer.page.locator('#resident-lang').innerText();
    assert.equal(lang, "Resident's language: العربية");
    // Right to left: Refuse («لا») is the left button.
    await click(xvfb, ALLOW, 'Refuse (لا)');
    await viewer.waitForState('refused');
    const ended = await agent.nextEnded();
    assert.equal(ended.reason, 'refused');
    assert.equal(ended.frames, 0, 'nothing was captured');
    assert.ok(!near(await pixel(xvfb, BORDER), RED), 'no border: nothing is shared');
  }, { lang: 'ar' });
});

test('the window: Escape refuses from the keyboard', { timeout: 90_000 }, async (t) => {
  await withWindowAgent(t, async ({ xvfb, agent, viewer }) => {
    await ask(xvfb, agent, viewer);
    const ids = (await xdotool(xvfb, ['search', '--onlyvisible', '--name', '^Acote$'])).trim().split('\n');
    await xdotool(xvfb, ['windowfocus', '--sync', ids[ids.length - 1]]);
    await xdotool(xvfb, ['key', 'Escape']);
    await viewer.waitForState('refused');
    const ended = await agent.nextEnded();
    assert.equal(ended.reason, 'refused');
    assert.equal(ended.frames, 0);
  });
});

test('the window: from the keyboard, Tab reaches Yes and Enter presses it', { timeout: 90_000 }, async (t) => {
  await withWindowAgent(t, async ({ xvfb, agent, viewer }) => {
    await ask(xvfb, agent, viewer);
    const ids = (await xdotool(xvfb, ['search', '--onlyvisible', '--name', '^Acote$'])).trim().split('\n');
    await xdotool(xvfb, ['windowfocus', '--sync', ids[ids.length - 1]]);
    // The focus starts on No (a stray Enter must not say yes); one Tab moves it to Yes.
    await xdotool(xvfb, ['key', 'Tab']);
    await xdotool(xvfb, ['key', 'Return']);
    await viewer.waitForState('watching', 30_000);
    await waitForPixel(xvfb, BAR_EDGE, RED, 'the red sharing bar');
  });
});

test('the window: control is asked apart; Take back, the hotkey and the bar follow it', { timeout: 150_000 }, async (t) => {
  await withWindowAgent(t, async ({ xvfb, agent, viewer }) => {
    await ask(xvfb, agent, viewer);
    await click(xvfb, ALLOW, 'Allow');
    await viewer.waitForState('watching', 30_000);
    await viewer.waitForControl('watching');
    await waitForPixel(xvfb, BAR_EDGE, RED, 'the red sharing bar');

    const grant = async () => {
      await viewer.page.getByRole('button', { name: 'Request control' }).click();
      await viewer.waitForControl('asking');
      await waitForPixel(xvfb, ALLOW_EDGE, GREEN, 'the control question');
      await click(xvfb, ALLOW, 'Allow control');
      await viewer.waitForControl('controlling');
      await waitForPixel(xvfb, BAR_EDGE, VIOLET, 'the bar in the control colour');
      await waitForPixel(xvfb, BORDER, VIOLET, 'the border in the control colour');
    };

    await grant();
    await click(xvfb, TAKE_BACK, 'Take back control');
    await viewer.waitForControl('taken-back');
    await waitForPixel(xvfb, BAR_EDGE, RED, 'the bar back to red');

    await grant();
    // The hotkey works wherever the focus is: first it takes control back…
    await xdotool(xvfb, ['key', 'ctrl+alt+s']);
    await viewer.waitForControl('taken-back');
    await waitForPixel(xvfb, BAR_EDGE, RED, 'the bar back to red');
    // …then it stops the sharing.
    await xdotool(xvfb, ['key', 'ctrl+alt+s']);
    const ended = await agent.nextEnded();
    assert.equal(ended.reason, 'ended');
    assert.ok(ended.frames > 0);
    await viewer.waitForState('ended');
  });
});

test('the window: the microphone is asked apart, answered from the keyboard; the call panel mutes and hangs up', { timeout: 150_000 }, async (t) => {
  await withWindowAgent(t, async ({ xvfb, agent, viewer }) => {
    await ask(xvfb, agent, viewer);
    await click(xvfb, ALLOW, 'Allow');
    await viewer.waitForState('watching', 30_000);
    await waitForPixel(xvfb, BAR_EDGE, RED, 'the red sharing bar');
    const page = viewer.page;
    const voice = () => page.evaluate(() => window.acote.voice);

    // The caseworker asks to talk: the window asks the resident, apart from the screen.
    await page.getByRole('button', { name: 'Talk to the resident', exact: true }).click();
    await waitForPixel(xvfb, ALLOW_EDGE, GREEN, 'the microphone question');
    const [question] = (await xdotool(xvfb, ['search', '--onlyvisible', '--name', '^Acote$'])).trim().split('\n').slice(-1);
    // Keyboard only: the focus starts on No; Tab moves to Yes, Enter answers.
    await xdotool(xvfb, ['windowfocus', '--sync', question]);
    await xdotool(xvfb, ['key', 'Tab']);
    await xdotool(xvfb, ['key', 'Return']);
    await agent.nextLine(/^voice on$/, 15_000);
    await page.waitForFunction(() => window.acote.voice?.state === 'on', null, { timeout: 15_000 });
    await waitForPixel(xvfb, CALL_EDGE, BLUE, 'the call panel');
    // Titled with who the resident talks with (the name between Unicode isolates).
    const [panel] = (await xdotool(xvfb, ['search', '--sync', '--onlyvisible', '--name', '^You are talking with .*Marie Dupont'])).trim().split('\n');
    assert.ok(panel, 'the call panel is titled with who the resident talks with');

    // Its focus starts on the microphone button: Enter turns the microphone off, again on.
    await xdotool(xvfb, ['windowfocus', '--sync', panel]);
    await xdotool(xvfb, ['key', 'Return']);
    await agent.nextLine(/^voice on, muted$/, 15_000);
    await waitForPixel(xvfb, CALL_EDGE, SLATE, 'the call panel, microphone off');
    await page.waitForFunction(() => window.acote.voice?.residentMuted === true, null, { timeout: 15_000 });
    const [mutedPanel] = (await xdotool(xvfb, ['search', '--sync', '--onlyvisible', '--name', '^Your microphone is off'])).trim().split('\n');
    await xdotool(xvfb, ['windowfocus', '--sync', mutedPanel]);
    await xdotool(xvfb, ['key', 'Return']);
    await agent.nextLine(/^voice on$/, 15_000);
    await waitForPixel(xvfb, CALL_EDGE, BLUE, 'the call panel, microphone on again');

    // Tab to End the call, Enter: the call ends on both sides, the panel goes.
    const [again] = (await xdotool(xvfb, ['search', '--sync', '--onlyvisible', '--name', '^You are talking with'])).trim().split('\n');
    await xdotool(xvfb, ['windowfocus', '--sync', again]);
    await xdotool(xvfb, ['key', 'Tab']);
    await xdotool(xvfb, ['key', 'Return']);
    await page.waitForFunction(() => window.acote.voice?.state === 'off', null, { timeout: 15_000 });
    await waitForPixel(xvfb, CALL_EDGE, BLUE, 'the call panel to go', { not: true });
    assert.equal((await voice()).micAttached, false, "the caseworker's microphone is released");
    await click(xvfb, STOP, 'Stop');
    assert.equal((await agent.nextEnded()).reason, 'ended');
  }, { voice: true });
});

test("the window: a relay-less agent says so in the PC's language and exits with 2 when closed", { timeout: 60_000 }, async (t) => {
  const h = await Harness.create(t);
  await h.run(async () => {
    const xvfb = await startXvfb(h, { width: WIDTH, height: HEIGHT });
    // No --relay and no acote-agent.toml beside the binary: not set up.
    const agent = h.spawn('agent', path.join(BIN_DIR, 'acote-agent'), [],
      { env: await h.env('agent', { DISPLAY: xvfb.display, LANG: 'ar_SY.UTF-8' }) });
    await waitForPixel(xvfb, ALLOW_EDGE, BLUE, 'the Close button');
    assert.match(agent.stderr, /no relay given/, 'one clear sentence on stderr too');
    assert.equal(agent.exited, null, 'the window waits for the resident to read it');
    await click(xvfb, ALLOW, 'Close (إغلاق)');
    const exit = await agent.exitPromise;
    assert.equal(exit.code, 2);
  });
});

test('the window: a relay whose certificate does not match is refused, and the window says so', { timeout: 60_000 }, async (t) => {
  const h = await Harness.create(t);
  await h.run(async () => {
    const xvfb = await startXvfb(h, { width: WIDTH, height: HEIGHT });
    const relay = await startRelay(h);
    const wrong = relay.fingerprint.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const agent = h.spawn('agent', path.join(BIN_DIR, 'acote-agent'),
      ['--relay', relay.url, '--fingerprint', wrong, '--lang', 'fr'],
      { env: await h.env('agent', { DISPLAY: xvfb.display }) });
    await waitForPixel(xvfb, ALLOW_EDGE, BLUE, 'the Close button');
    assert.equal(agent.exited, null, 'the window waits for the resident to read it');
    assert.ok(!agent.stdout.includes('code '), 'no code from an untrusted relay');
    await click(xvfb, ALLOW, 'Fermer');
    const exit = await agent.exitPromise;
    assert.equal(exit.code, 1);
    assert.match(agent.stderr, /certificate/i);
  });
});

test('the window: a chat message comes up large, the resident answers from the keyboard', { timeout: 120_000 }, async (t) => {
  await withWindowAgent(t, async ({ xvfb, agent, viewer }) => {
    await ask(xvfb, agent, viewer);
    await click(xvfb, ALLOW, 'Allow');
    await viewer.waitForState('watching', 30_000);
    await waitForPixel(xvfb, BAR_EDGE, RED, 'the red sharing bar');
    assert.ok(!near(await pixel(xvfb, CHAT_HEADER), BLUE), 'no chat window before a message');

    // The caseworker writes while only viewing: the chat window comes up by itself.
    const page = viewer.page;
    await page.getByRole('button', { name: /^Messages/ }).click();
    const box = page.getByLabel('Message to the resident');
    await box.waitFor();
    await page.waitForFunction(() => !document.querySelector('#chat-text').disabled, null, { timeout: 20_000 });
    await box.fill('Hello! Click "Next" at the bottom.');
    await box.press('Enter');
    await agent.nextLine(/^chat received$/, 15_000);
    await waitForPixel(xvfb, CHAT_HEADER, BLUE, 'the chat window');
    const [chat] = (await xdotool(xvfb, ['search', '--sync', '--onlyvisible', '--name', '^Messages with'])).trim().split('\n');
    assert.ok(chat, 'the chat window is titled with who writes');

    // Keyboard only: the window's focus goes to the answer box; Enter sends.
    await xdotool(xvfb, ['windowfocus', '--sync', chat]);
    await xdotool(xvfb, ['type', '--delay', '40', 'Thank you, it works']);
    await xdotool(xvfb, ['key', 'Return']);
    await agent.nextLine(/^chat sent$/, 15_000);
    const log = page.getByRole('log', { name: 'Conversation with the resident' });
    await log.getByText('Thank you, it works').waitFor({ timeout: 15_000 });

    // Closed, it comes back from the bar's Messages button, with the conversation.
    await xdotool(xvfb, ['key', 'Tab', 'Tab', 'Return']);
    await waitForPixel(xvfb, CHAT_HEADER, BLUE, 'the chat window to close', { not: true });
    await click(xvfb, MESSAGES, 'Messages');
    await waitForPixel(xvfb, CHAT_HEADER, BLUE, 'the chat window again');

    // The window agent never prints what was written.
    assert.ok(!agent.lines.some((l) => l.includes('Thank you') || l.includes('Hello')),
      'no message text on the agent\'s stdout');
    await click(xvfb, STOP, 'Stop');
    assert.equal((await agent.nextEnded()).reason, 'ended');
    await waitForPixel(xvfb, CHAT_HEADER, BLUE, 'the chat window to go with the session', { not: true });
  });
});

test('the window: a file comes, the resident saves it from the keyboard and sends one back', { timeout: 120_000 }, async (t) => {
  await withWindowAgent(t, async ({ h, xvfb, agent, viewer }) => {
    const sha = (bytes) => createHash('sha256').update(bytes).digest('hex');
    await ask(xvfb, agent, viewer);
    await click(xvfb, ALLOW, 'Allow');
    await viewer.waitForState('watching', 30_000);
    await waitForPixel(xvfb, BAR_EDGE, RED, 'the red sharing bar');
    const page = viewer.page;
    await page.waitForFunction(() => window.acote.channel?.readyState === 'open', null, { timeout: 20_000 });

    // The caseworker sends a form while only viewing: the files window asks, by name.
    const name = `attestation-${randomBytes(4).toString('hex')}.pdf`;
    const form = randomBytes(120_000);
    await page.getByRole('button', { name: 'Files', exact: true }).click();
    const pick = page.getByRole('button', { name: 'Send a file…' });
    await pick.waitFor({ state: 'visible' });
    const [chooser] = await Promise.all([page.waitForEvent('filechooser', { timeout: 10_000 }), pick.click()]);
    await chooser.setFiles({ name, mimeType: 'application/pdf', buffer: form });
    await agent.nextLine(/^file offered: 120000 bytes$/, 20_000);
    await waitForPixel(xvfb, FILES_HEADER, BLUE, 'the files window');
    const [win] = (await xdotool(xvfb, ['search', '--sync', '--onlyvisible', '--name', '^Files with'])).trim().split('\n');
    assert.ok(win, 'the files window is titled with who sends');

    // Keyboard only: Tab reaches Save first (reading order), Return saves.
    await xdotool(xvfb, ['windowfocus', '--sync', win]);
    await xdotool(xvfb, ['key', 'Tab', 'Return']);
    await agent.nextLine(/^file received: saved$/, 20_000);
    const downloads = path.join(h.dir, 'agent-home', 'Downloads');
    assert.equal(sha(await readFile(path.join(downloads, name))), sha(form), 'the very bytes, in Downloads');
    await page.locator('#files-list .file-item[data-phase="ended"]').first().waitFor({ timeout: 15_000 });

    // Sending back: "Send a file" lists the recent files (the one just saved first); the
    // first one goes to the caseworker.
    await xdotool(xvfb, ['windowfocus', '--sync', win]);
    await xdotool(xvfb, ['key', 'Tab', 'Return']);
    await xdotool(xvfb, ['search', '--sync', '--onlyvisible', '--name', '^Choose the file']).catch(() => {});
    await sleep(500); // the picker's buttons are laid out
    await xdotool(xvfb, ['key', 'Tab', 'Return']);
    await agent.nextLine(/^file sent: saved$/, 30_000);
    const saveLink = page.getByRole('link', { name: new RegExp(`^Save ${name.replace(/\./g, '\\.')} `) });
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), saveLink.click()]);
    assert.equal(sha(await readFile(await download.path())), sha(form), 'the caseworker got the same bytes back');

    // The window agent never prints a file's name.
    assert.ok(!agent.lines.some((l) => l.includes(name)), 'no file name on the agent\'s stdout');
    await click(xvfb, STOP, 'Stop');
    assert.equal((await agent.nextEnded()).reason, 'ended');
    await waitForPixel(xvfb, FILES_HEADER, BLUE, 'the files window to go with the session', { not: true });
  });
});
