// End-to-end: the Windows agent (acote-agent.exe, cross-built) under Wine on Xvfb, with
// the real relay and the real viewer in headless Chromium — what issue 15 asks of the
// Windows build. Proves what people see: the code is redeemed, the picture follows the
// Windows desktop, nothing the caseworker does reaches a Windows program before the
// resident's yes to control, then the exact text does (through SendInput), and the
// resident's Stop wins.
//
// Wine runs the GDI capture path (it has no DXGI Desktop Duplication); what only a real
// Windows PC can confirm is listed in docs/platforms.md.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  REPO, Harness, startXvfb, startRelay, restartRelay, startAgent, openSignedInViewer, addCaseworker,
  setLayout, fillScreen, grantControl, waitForVideoSize, clickMiddleLands, log, sleep, QUESTION_LINE, CODE_LINE,
  startResidentSound, pulsedTone, audioStats,
} from './harness.mjs';
import {
  WINE, WIN_AGENT, startWine, startForm, startMonitors, setMode, registryKeys, filesWrittenSince,
} from './wine.mjs';

const execFileP = promisify(execFile);

const W = 1024;
const H = 768;
const CASEWORKER = { login: 'ines', name: 'Inès Haddad', site: 'CCAS Saint-Denis', password: 'gravier lampion 2031' };
const TEXT = "Élodie Müller-Ngô, 12 rue de l'Église";

async function waitForText(form, want, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  let got = await form.text();
  while (got !== want && Date.now() < until) {
    await sleep(100);
    got = await form.text();
  }
  assert.equal(got, want, 'the Windows form holds exactly the text typed');
}

test('the Windows agent under Wine: code, picture, control only after yes, exact text, Stop, a relay restart, nothing left outside its temp folder', { timeout: 360_000 }, async (t) => {
  const h = await Harness.create(t);
  await h.run(async () => {
    const xvfb = await startXvfb(h, { width: W, height: H });
    // A French AZERTY keyboard on the resident's side: text must arrive exactly anyway.
    await setLayout(xvfb, 'fr');
    const wine = await startWine(h, xvfb);
    const form = await startForm(h, wine);
    let relay = await startRelay(h);
    await addCaseworker(h, relay, CASEWORKER);
    // What the PC holds before the agent runs: the registry's keys, and a time after
    // which any file written on C: is the agent's (file times have whole-second steps
    // on some file systems, hence the pause).
    const keysBefore = await registryKeys(wine);
    await sleep(1100);
    const agentStarted = Date.now();
    const agent = await startAgent(h, relay, xvfb, { bin: WIN_AGENT, wrap: [WINE], env: wine.env });
    const code = await agent.nextCode(90_000);

    const viewer = await openSignedInViewer(h, relay, CASEWORKER);
    await viewer.connect(code.digits);
    const question = await agent.nextLine(QUESTION_LINE, 20_000);
    assert.ok(question.input.startsWith(`${CASEWORKER.name} (${CASEWORKER.site}) asks to see your screen`),
      `the question names who asks: "${question.input}"`);
    agent.write('y\n');
    await viewer.waitForState('watching', 60_000);
    const stats = await viewer.waitForVideo(
      (s) => s.framesDecoded > 0 && s.frameWidth === W && s.frameHeight === H,
      30_000, `decoded frames of the Windows desktop, ${W}x${H}`);
    log(`viewer decodes the Windows desktop: ${stats.frameWidth}x${stats.frameHeight}, ${stats.framesDecoded} frames`);
    // The security code the resident reads is the one the caseworker sees (issue 16).
    const [, securityCode] = await agent.nextLine(/^security code (\d{4})\s*$/, 20_000);
    await viewer.page.getByRole('status', { name: /^Security code to read/ }).waitFor({ timeout: 20_000 });
    assert.equal(await viewer.page.locator('#security-code').getAttribute('data-code'), securityCode);

    // The picture follows the screen (GDI capture of the desktop, the X root under Wine).
    await fillScreen(xvfb, '#1e90ff');
    await viewer.waitForColourAt(W / 2, H - 100, [30, 144, 255], { tolerance: 24, timeoutMs: 20_000 });
    await fillScreen(xvfb, '#ff8c00');
    await viewer.waitForColourAt(W / 2, H - 100, [255, 140, 0], { tolerance: 24, timeoutMs: 20_000 });
    log('the picture follows the Windows desktop');

    // Files both ways (issue 17): the caseworker's file is saved in the resident's
    // Downloads (Windows' known folder), and the resident sends it back from there.
    const fileName = `attestation-${Date.now().toString(36)}.pdf`;
    const fileBytes = Buffer.alloc(150_000, 0);
    for (let i = 0; i < fileBytes.length; i++) fileBytes[i] = (i * 7919) % 251;
    const sha = (b) => createHash('sha256').update(b).digest('hex');
    const page = viewer.page;
    await page.getByRole('button', { name: 'Files', exact: true }).click();
    const pick = page.getByRole('button', { name: 'Send a file…' });
    await pick.waitFor({ state: 'visible' });
    await page.waitForFunction(() => !document.getElementById('files-pick').disabled, null, { timeout: 20_000 });
    const [chooser] = await Promise.all([page.waitForEvent('filechooser', { timeout: 10_000 }), pick.click()]);
    await chooser.setFiles({ name: fileName, mimeType: 'application/pdf', buffer: fileBytes });
    const [, offeredName, offeredSize] = await agent.nextLine(/^file offered: (.+), (\d+) bytes\s*$/, 30_000);
    assert.deepEqual([offeredName, Number(offeredSize)], [fileName, fileBytes.length]);
    agent.write('save\n');
    const [, savedTo] = await agent.nextLine(/^file saved: (.+?)\s*$/, 60_000);
    assert.match(savedTo, new RegExp(`^[A-Z]:\\\\users\\\\[^\\\\]+\\\\Downloads\\\\${fileName.replace(/\./g, '\\.')}$`, 'i'),
      'saved in the Windows user\'s Downloads');
    log(`the Windows agent saved the caseworker's file at ${savedTo}`);
    agent.write(`send ${savedTo}\n`);
    await agent.nextLine(new RegExp(`^file sent: ${fileName.replace(/\./g, '\\.')}\\s*$`), 60_000);
    const saveLink = page.getByRole('link', { name: new RegExp(`^Save ${fileName.replace(/\./g, '\\.')} `) });
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), saveLink.click()]);
    assert.equal(sha(await readFile(await download.path())), sha(fileBytes), 'the same bytes came back from Windows');
    await page.getByRole('button', { name: 'Files', exact: true }).click();
    log('a file went to the Windows Downloads folder and came back whole');

    // Before the yes to control, a click and typing change nothing in the Windows form.
    await viewer.waitForControl('watching');
    await viewer.clickOnScreen(form.centre.x, form.centre.y, W, H);
    await viewer.sendRaw([
      { type: 'pointer', x: form.centre.x / W, y: form.centre.y / H },
      { type: 'button', button: 'left', action: 'click' },
      { type: 'text', text: 'bonjour' },
    ]);
    await sleep(1500);
    assert.equal(await form.text(), '', 'nothing reached the form before control');

    // The caseworker asks; the resident is asked separately and says yes.
    await viewer.page.getByRole('button', { name: 'Request control' }).click();
    await viewer.waitForControl('asking');
    await agent.nextLine(/mouse and keyboard.*\[y\/n\]/, 20_000);
    agent.write('y\n');
    await viewer.waitForControl('controlling');

    // A click into the field, then the text, exactly, through the "Type text" box…
    await viewer.clickOnScreen(form.centre.x, form.centre.y, W, H);
    await sleep(500);
    await viewer.typeText(TEXT);
    await waitForText(form, TEXT);
    log(`"${TEXT}" reached the Windows form exactly`);
    // …and key by key over the picture, Backspace included.
    await viewer.focusPicture();
    for (let i = 0; i < TEXT.length; i++) await viewer.page.keyboard.press('Backspace');
    await waitForText(form, '');
    await viewer.page.keyboard.type(TEXT);
    await waitForText(form, TEXT);
    log('typed key by key over the picture: exact too');
    for (let i = 0; i < TEXT.length; i++) await viewer.page.keyboard.press('Backspace');
    await waitForText(form, '');

    // The resident's Stop wins in the middle of a long text (the most one message may hold).
    await viewer.typeText('É'.repeat(1800));
    const started = Date.now();
    while ((await form.text()).length < 3 && Date.now() - started < 20_000) await sleep(50);
    agent.write('s\n');
    await viewer.waitForControl('taken-back');
    // What was handed to Windows before the Stop may still be on its way through the
    // form's message queue (Wine delivers injected keys at the program's pace): wait
    // until the field settles, then nothing more may come.
    let cut = (await form.text()).length;
    for (let still = 0; still < 10 && Date.now() - started < 60_000;) {
      await sleep(100);
      const now = (await form.text()).length;
      still = now === cut ? still + 1 : 0;
      cut = now;
    }
    await sleep(1500);
    assert.equal((await form.text()).length, cut, 'typing stopped with Stop');
    assert.ok(cut < 1800, `only part of the text was typed (${cut} of 1800)`);
    await viewer.sendRaw([{ type: 'text', text: 'after stop' }]);
    await sleep(1000);
    assert.equal((await form.text()).length, cut, 'nothing typed after Stop');
    log(`Stop cut a 1800-character text after ${cut} characters`);

    // The relay killed mid-session and started again: the Windows agent tells the
    // resident, the picture keeps coming meanwhile (media does not go through the
    // relay), and the session resumes without a new code or question.
    const mark = agent.lines.length;
    relay = await restartRelay(h, relay, {
      whileDown: async () => {
        await viewer.waitForState('reconnecting', 30_000);
        await agent.nextLine(/^The connection was interrupted\. Inès Haddad \(CCAS Saint-Denis\) can still see your screen\./, 30_000);
        await fillScreen(xvfb, '#2e8b57');
        await viewer.waitForColourAt(W / 2, H - 100, [46, 139, 87], { tolerance: 24, timeoutMs: 20_000 });
        log('with the relay down, the caseworker still sees the Windows desktop change');
      },
    });
    await viewer.waitForState('watching', 60_000);
    await agent.nextLine(/^session resumed$/, 60_000);
    await fillScreen(xvfb, '#ff8c00');
    await viewer.waitForColourAt(W / 2, H - 100, [255, 140, 0], { tolerance: 24, timeoutMs: 20_000 });
    const since = agent.lines.slice(mark);
    assert.ok(!since.some((l) => QUESTION_LINE.test(l)), 'the resident was not asked again');
    assert.ok(!since.some((l) => CODE_LINE.test(l)), 'no new code was shown');
    log('the Windows agent resumed the session after the relay restart');

    // The resident's screen changes resolution mid-session: the picture follows at the
    // new size, still live, neither frozen nor crashed.
    await setMode(xvfb, 800, 600);
    const resized = await viewer.waitForVideo((s) => s.frameWidth === 800 && s.frameHeight === 600,
      30_000, 'frames of the Windows desktop at 800x600');
    await fillScreen(xvfb, '#1e90ff');
    await viewer.waitForColourAt(400, 500, [30, 144, 255], { tolerance: 24, timeoutMs: 20_000 });
    log(`after the resolution change the viewer decodes ${resized.frameWidth}x${resized.frameHeight}, live`);

    await viewer.endSession();
    const ended = await agent.nextEnded(30_000);
    assert.equal(ended.reason, 'ended');
    assert.ok(ended.frames > 0, `the Windows agent captured frames (${ended.frames})`);

    // Nothing written outside the agent's temporary folder but the file the resident
    // saved: no other file on C: (the Windows
    // form writes to the test's own folder, on Z:), no registry key. Stopping the
    // prefix's wineserver writes the registry out to its files.
    await agent.kill();
    await form.proc.kill();
    await wine.server('-k').catch(() => {});
    await wine.server('-w');
    const files = (await filesWrittenSince(wine, agentStarted))
      // %TEMP%: AppData\Local\Temp on Windows, Temp in Wine 8's user folder.
      .filter((f) => !/^users\/[^/]+\/(AppData\/Local\/)?Temp\//.test(f))
      // The file the resident chose to save.
      .filter((f) => !new RegExp(`^users/[^/]+/Downloads/${fileName.replace(/\./g, '\\.')}$`).test(f));
    assert.deepEqual(files, [], 'files the Windows agent wrote outside its temporary folder');
    const keysAfter = await registryKeys(wine);
    const newKeys = [...keysAfter].filter((k) => !keysBefore.has(k));
    assert.deepEqual(newKeys, [], 'registry keys that appeared while the Windows agent ran');
    log('the Windows agent left nothing outside its temporary folder');
  });
});

// The resident's window (Slint on winit's Win32 backend, under Wine). Positions come from
// agent/ui/window.slint as in window.test.mjs: the 640×520 main window centred, its
// answer buttons 72 px high at the bottom; the sharing bar 12 px from the top, 112 px high
// and 1040 px wide, or the screen's width inside the border on a smaller screen.
const MAIN = { x: Math.floor((W - 640) / 2), y: Math.floor((H - 520) / 2) };
const PAIR_Y = MAIN.y + 520 - 28 - 36;
const ALLOW = { x: MAIN.x + 28 + 140, y: PAIR_Y };
const ALLOW_EDGE = { x: MAIN.x + 28 + 12, y: PAIR_Y };
const REFUSE_EDGE = { x: MAIN.x + 28 + 280 + 24 + 12, y: PAIR_Y };
const BAR_W = Math.min(1040, W - 24);
const BAR = { x: Math.floor((W - BAR_W) / 2), y: 12 };
const BAR_EDGE = { x: BAR.x + 6, y: BAR.y + 6 };
const STOP = { x: BAR.x + BAR_W - 14 - 85, y: BAR.y + 56 };
const BORDER = { x: 3, y: Math.floor(H / 2) };
const GREEN = [0x2e, 0x7d, 0x32];
const RED = [0xc6, 0x28, 0x28];

async function xdotool(xvfb, args) {
  const { stdout } = await execFileP('xdotool', args, {
    timeout: 10_000, env: { ...process.env, DISPLAY: xvfb.display } });
  return stdout;
}

async function pixel(xvfb, { x, y }) {
  const { stdout } = await execFileP('import', ['-display', xvfb.display, '-window', 'root',
    '-crop', `1x1+${x}+${y}`, '-depth', '8', 'txt:-'], { timeout: 10_000 });
  const m = stdout.match(/#([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})/);
  if (!m) throw new Error(`cannot read the pixel at ${x},${y}: ${stdout}`);
  return [1, 2, 3].map((i) => parseInt(m[i], 16));
}

const near = (a, b, tol = 30) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

async function waitForPixel(xvfb, at, rgb, what, { not = false, timeoutMs = 30_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await pixel(xvfb, at);
    if (near(last, rgb) !== not) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}: pixel at ${at.x},${at.y} is ${last}`);
}

/** Keeps a picture of the whole screen in target-windows/e2e-screens/ to look at. */
async function shoot(xvfb, name) {
  const dir = path.join(REPO, 'target-windows', 'e2e-screens');
  await mkdir(dir, { recursive: true });
  await execFileP('import', ['-display', xvfb.display, '-window', 'root', path.join(dir, `${name}.png`)],
    { timeout: 10_000 });
}

const VIOLET = [0x6a, 0x1b, 0x9a];

test('the Windows window under Wine: Allow shares, the border and the bar show, Ctrl+Shift+F12 takes control back, Stop stops', { timeout: 300_000 }, async (t) => {
  const h = await Harness.create(t);
  await h.run(async () => {
    const xvfb = await startXvfb(h, { width: W, height: H });
    const wine = await startWine(h, xvfb);
    // A Windows program below the window, where the resident works (their browser).
    const form = await startForm(h, wine, { x: 100, y: 672, w: 600, height: 60 });
    const relay = await startRelay(h);
    await addCaseworker(h, relay, CASEWORKER);
    const agent = await startAgent(h, relay, xvfb,
      { bin: WIN_AGENT, wrap: [WINE], env: wine.env, consoleMode: false });
    const code = await agent.nextCode(90_000);
    await shoot(xvfb, 'code');
    const viewer = await openSignedInViewer(h, relay, CASEWORKER);
    await viewer.connect(code.digits);
    await waitForPixel(xvfb, ALLOW_EDGE, GREEN, 'the green Allow button');
    await shoot(xvfb, 'question');
    await xdotool(xvfb, ['mousemove', String(ALLOW.x), String(ALLOW.y), 'click', '1']);
    await viewer.waitForState('watching', 60_000);
    await viewer.waitForVideo((s) => s.framesDecoded > 0, 30_000, 'decoded frames');
    await waitForPixel(xvfb, BORDER, RED, 'the red border around the shared screen');
    await waitForPixel(xvfb, BAR_EDGE, RED, 'the red sharing bar');
    await shoot(xvfb, 'sharing');
    log('the window asked, Allow shared the screen, the border and the bar show');

    // Control, asked apart and allowed in the window: the bar and border turn violet.
    await viewer.page.getByRole('button', { name: 'Request control' }).click();
    await viewer.waitForControl('asking');
    await waitForPixel(xvfb, ALLOW_EDGE, GREEN, 'the control question');
    await xdotool(xvfb, ['mousemove', String(ALLOW.x), String(ALLOW.y), 'click', '1']);
    await viewer.waitForControl('controlling');
    await waitForPixel(xvfb, BAR_EDGE, VIOLET, 'the bar in the control colour');
    await shoot(xvfb, 'controlling');

    // The resident is in another program (the form has the keyboard), and presses the
    // Stop keys: RegisterHotKey hears them wherever the focus is, and control ends.
    await xdotool(xvfb, ['mousemove', String(form.centre.x), String(form.centre.y), 'click', '1']);
    await sleep(300);
    await xdotool(xvfb, ['key', 'ctrl+shift+F12']);
    await viewer.waitForControl('taken-back');
    await waitForPixel(xvfb, BAR_EDGE, RED, 'the bar back to red');
    log('Ctrl+Shift+F12, pressed in another Windows program, took control back');

    // The bar's Stop ends the sharing.
    await xdotool(xvfb, ['mousemove', String(STOP.x), String(STOP.y), 'click', '1']);
    const ended = await agent.nextEnded(30_000);
    assert.equal(ended.reason, 'ended');
    await waitForPixel(xvfb, BORDER, RED, 'the border to go', { not: true });
    await shoot(xvfb, 'ended');
  });
});

/** A digest of the code screen's words (its header and title, above the code itself,
 * which differs at each start), to tell one language's screen from another's. */
async function wordsPixels(xvfb) {
  const { stdout } = await execFileP('import', ['-display', xvfb.display, '-window', 'root',
    '-crop', `640x105+${MAIN.x}+${MAIN.y + 20}`, '-depth', '8', 'rgb:-'],
  { timeout: 10_000, encoding: 'buffer', maxBuffer: 8 << 20 });
  return createHash('sha256').update(stdout).digest('hex');
}

/** How many colours the code's box holds now. */
async function codeBoxColours(xvfb) {
  const { stdout } = await execFileP('import', ['-display', xvfb.display, '-window', 'root',
    '-crop', `584x129+${MAIN.x + 28}+${MAIN.y + 135}`, '-format', '%k', 'info:-'], { timeout: 10_000 });
  return Number(stdout.trim()) || 0;
}

test('the Windows window in the eight languages, right to left mirrored, and the PC\'s own language by default', { timeout: 420_000 }, async (t) => {
  const h = await Harness.create(t);
  await h.run(async () => {
    const xvfb = await startXvfb(h, { width: W, height: H });
    const wine = await startWine(h, xvfb);
    const relay = await startRelay(h);
    await addCaseworker(h, relay, CASEWORKER);
    const viewer = await openSignedInViewer(h, relay, CASEWORKER);
    const bare = await wordsPixels(xvfb);

    /** Resolves once the started agent's code screen has been drawn still. */
    const codeScreen = async (name, agent) => {
      const code = await agent.nextCode(90_000);
      let seen = bare;
      const until = Date.now() + 30_000;
      for (let still = 0; still < 3 && Date.now() < until;) {
        await sleep(400);
        const now = await wordsPixels(xvfb);
        still = now === seen && now !== bare ? still + 1 : 0;
        seen = now;
      }
      assert.notEqual(seen, bare, `the ${name} window is drawn`);
      // The code itself, drawn in its box (the empty box, its rounded corners smoothed,
      // has a few dozen colours at most; the digits' edges bring hundreds).
      while ((await codeBoxColours(xvfb)) < 100 && Date.now() < until) await sleep(300);
      assert.ok((await codeBoxColours(xvfb)) >= 100, `the ${name} window shows the code`);
      await shoot(xvfb, `code-${name}`);
      return { agent, code, pixels: seen };
    };

    // Each language draws its own code screen (its sentences, its script, its fonts).
    const screens = new Map();
    for (const lang of ['fr', 'en', 'ar', 'fa-AF', 'ps', 'uk', 'ru', 'ti']) {
      const { agent, code, pixels } = await codeScreen(lang, await startAgent(h, relay, xvfb,
        { bin: WIN_AGENT, wrap: [WINE], env: wine.env, consoleMode: false, lang }));
      if (lang === 'ar') {
        // Right to left: the question's buttons are mirrored, Allow (first in reading
        // order) on the right; Refuse («لا», now on the left) shares nothing.
        await viewer.connect(code.digits);
        await waitForPixel(xvfb, REFUSE_EDGE, GREEN, 'the green Allow button, on the right');
        await waitForPixel(xvfb, ALLOW_EDGE, RED, 'the red Refuse button, on the left');
        await shoot(xvfb, 'question-ar');
        assert.equal(await viewer.page.locator('#resident-lang').innerText(), "Resident's language: العربية");
        await xdotool(xvfb, ['mousemove', String(ALLOW.x), String(ALLOW.y), 'click', '1']);
        await viewer.waitForState('refused', 30_000);
        const ended = await agent.nextEnded(30_000);
        assert.equal(ended.reason, 'refused');
        assert.equal(ended.frames, 0, 'nothing was captured');
        await viewer.page.locator('#new-session').click();
        await viewer.waitForState('enter-code');
      }
      await agent.kill();
      screens.set(lang, pixels);
      log(`the Windows window in ${lang}: code screen drawn`);
    }
    assert.equal(new Set(screens.values()).size, screens.size, 'every language draws a screen of its own');

    // As a resident starts it: a double-click, no arguments; the relay comes from
    // acote-agent.toml beside the exe, the language from the PC. A Windows that speaks
    // Ukrainian gets Ukrainian: Wine takes Windows' language from the Unix locale (LANG
    // below); the LANG variable the Windows environment is given in the registry says
    // English, and must not be what decides, since a real Windows has no such variable.
    const folder = path.join(h.dir, 'usb-stick');
    await mkdir(folder);
    await copyFile(WIN_AGENT, path.join(folder, 'acote-agent.exe'));
    await writeFile(path.join(folder, 'acote-agent.toml'),
      `relay = "${relay.url}"\nfingerprint = "${relay.fingerprint}"\n`);
    await wine.setUserEnv('LANG', 'en_US.UTF-8');
    const clicked = h.spawn('agent', WINE, [path.join(folder, 'acote-agent.exe')],
      { env: await h.env('agent', { ...wine.env, LANG: 'uk_UA.UTF-8', LC_ALL: '', RUST_LOG: 'info' }) });
    clicked.nextCode = async (ms) => {
      const m = await clicked.nextLine(CODE_LINE, ms);
      return { spaced: `${m[1]} ${m[2]}`, digits: `${m[1]}${m[2]}` };
    };
    const pc = await codeScreen('pc-uk', clicked);
    await clicked.kill();
    assert.equal(pc.pixels, screens.get('uk'), "the PC's language (Ukrainian) is the window's");
    log('double-clicked with no arguments: the relay from the file beside the exe, Ukrainian from the PC');
  });
});

test('the Windows agent with two monitors under Wine: the caseworker picks one, sees it alone and clicks on it', { timeout: 300_000 }, async (t) => {
  // A 1024×768 primary with an 800×600 monitor on its right: Windows' virtual desktop is
  // 1824×768, and Wine lists DISPLAY1 and DISPLAY2 from the X server's RandR outputs.
  const h = await Harness.create(t);
  await h.run(async () => {
    const x = await startMonitors(h, [[W, H], [800, 600]]);
    const wine = await startWine(h, x);
    const relay = await startRelay(h);
    await addCaseworker(h, relay, CASEWORKER);
    const agent = await startAgent(h, relay, x, { bin: WIN_AGENT, wrap: [WINE], env: wine.env });
    const code = await agent.nextCode(90_000);
    const viewer = await openSignedInViewer(h, relay, CASEWORKER);
    const { page } = viewer;
    await viewer.connect(code.digits);
    await agent.nextLine(QUESTION_LINE, 20_000);
    agent.write('y\n');
    await viewer.waitForState('watching', 60_000);
    // The whole desktop first: both monitors (GDI reads the virtual desktop).
    await waitForVideoSize(viewer, W + 800, H, 30_000);

    const group = page.getByRole('group', { name: "Resident's screen to show" });
    await group.waitFor({ state: 'visible', timeout: 20_000 });
    assert.deepEqual(await group.getByRole('button').allTextContents(), ['Screen 1 (main)', 'Screen 2', 'All screens']);
    const screen2 = group.getByRole('button', { name: 'Screen 2', exact: true });
    assert.equal(await screen2.getAttribute('title'), 'DISPLAY2 · 800 × 600');

    // Screen 2 alone: the picture is that monitor, and the desktop's colour shows in it.
    await screen2.click();
    await waitForVideoSize(viewer, 800, 600, 20_000);
    await fillScreen(x, '#1e90ff');
    await viewer.waitForColourAt(400, 300, [30, 144, 255], { tolerance: 24, timeoutMs: 20_000 });

    // With control, the middle of the picture is the middle of the right monitor on the
    // real screen (SendInput over the virtual desktop), then the middle of the primary.
    await grantControl(viewer, agent);
    await clickMiddleLands(viewer, x, { width: 800, height: 600 }, { x: W + 400, y: 300 }, 'screen 2');
    await group.getByRole('button', { name: 'Screen 1 (main)' }).click();
    await waitForVideoSize(viewer, W, H, 20_000);
    await clickMiddleLands(viewer, x, { width: W, height: H }, { x: W / 2, y: H / 2 }, 'screen 1');

    await viewer.endSession();
    await agent.nextEnded(30_000);
  });
});

test('the Windows agent under Wine: a voice call through WASAPI, heard both ways only after the yes', { timeout: 240_000 }, async (t) => {
  const h = await Harness.create(t);
  await h.run(async () => {
    // Wine's WASAPI (mmdevapi) plays and records through its PulseAudio driver: the
    // test's own server, as for the Linux agent (tests/e2e/voice.test.mjs).
    const sound = await startResidentSound(h);
    const xvfb = await startXvfb(h, { width: W, height: H });
    const wine = await startWine(h, xvfb);
    const relay = await startRelay(h);
    await addCaseworker(h, relay, CASEWORKER);
    const agent = await startAgent(h, relay, xvfb, { bin: WIN_AGENT, wrap: [WINE],
      env: { ...wine.env, PULSE_SERVER: sound.agentEnv.PULSE_SERVER } });
    const code = await agent.nextCode(90_000);
    const wav = path.join(h.dir, 'caseworker.wav');
    await writeFile(wav, pulsedTone(660, 20));
    const viewer = await openSignedInViewer(h, relay, CASEWORKER, { extraArgs: ['--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`] });
    await viewer.connect(code.digits);
    await agent.nextLine(QUESTION_LINE, 20_000);
    agent.write('y\n');
    await viewer.waitForState('watching', 60_000);

    await viewer.page.getByRole('button', { name: 'Talk to the resident', exact: true }).click();
    await agent.nextLine(QUESTION_LINE, 20_000);
    await sleep(1_000);
    assert.equal((await audioStats(viewer)).received, 0, 'nothing from the resident before the yes');
    assert.ok(sound.speakers(800) < 50, `nothing played before the yes: ${sound.speakers(800)}`);
    agent.write('y\n');
    await agent.nextLine(/^voice on$/, 20_000);
    let s = null;
    for (let i = 0; i < 75; i += 1) {
      s = await audioStats(viewer);
      if (s.received > 50 && s.energy / Math.max(s.duration, 1e-9) > 1e-4 && sound.speakers(600) > 500) break;
      await sleep(200);
    }
    assert.ok(s.received > 50 && s.energy / Math.max(s.duration, 1e-9) > 1e-4,
      `the caseworker hears the Windows microphone: ${JSON.stringify(s)}`);
    assert.ok(sound.speakers(600) > 500, `the Windows speakers play the caseworker: ${sound.speakers(600)}`);
    log(`under Wine: ${s.received} packets from the resident, speakers RMS ${sound.speakers(600).toFixed(0)}`);

    await viewer.page.getByRole('button', { name: 'Hang up', exact: true }).click();
    await agent.nextLine(/^voice off$/, 20_000);
    agent.write('q\n');
    assert.equal((await agent.nextEnded(30_000)).reason, 'ended');
  });
});
