// End-to-end: the caseworker sees the whole resident screen on a laptop (issue "The
// caseworker sees the whole screen on a laptop"). A 1920×1080 resident screen, later
// switched to 1366×768 with xrandr mid-session, watched in viewer pages of laptop and
// desktop sizes (a 1366×768 or 1920×1080 window less ~111 px of browser bars, and the bare
// sizes). In every case: the picture's box lies inside the window under the toolbar, with
// the screen's aspect ratio, nothing of the page scrolls, and clicks on the corners and
// the centre of the resident's screen move the resident's X pointer exactly there. Then
// actual size (1:1, the stage scrolls, the page does not) and full screen (the browser's
// Fullscreen API), both by keyboard, and both remembered by the browser.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  Harness, startXvfb, startRelay, startAgent, openSignedInViewer, addCaseworker, pointerLocation,
  grantControl, fillScreen, log, sleep, QUESTION_LINE,
} from './harness.mjs';

const execFileP = promisify(execFile);
const CASEWORKER = { login: 'lea', name: 'Léa Martin', site: 'CHRS Les Lilas', password: 'fenêtre portable 2027' };
// Viewer page sizes: laptop and desktop windows less Chromium's bars, then the bare sizes.
const VIEWPORTS = [
  { width: 1366, height: 657 }, { width: 1920, height: 969 },
  { width: 1366, height: 768 }, { width: 1920, height: 1080 },
];

/** Where the picture, the toolbar and the page are, in the viewer's client pixels. */
function geometry(viewer) {
  return viewer.page.evaluate(() => {
    const rect = (el) => { const r = el.getBoundingClientRect(); return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height }; };
    const video = document.getElementById('screen');
    const stage = document.getElementById('stage');
    const page = document.scrollingElement;
    return {
      frame: rect(document.getElementById('frame')),
      toolbar: rect(document.getElementById('controls')),
      stage: { ...rect(stage), scrollW: stage.scrollWidth, scrollH: stage.scrollHeight, clientW: stage.clientWidth, clientH: stage.clientHeight },
      window: { width: window.innerWidth, height: window.innerHeight },
      page: { scrollW: page.scrollWidth, scrollH: page.scrollHeight, scrollX: window.scrollX, scrollY: window.scrollY },
      main: { scrollH: document.getElementById('main').scrollHeight, clientH: document.getElementById('main').clientHeight },
      video: { width: video.videoWidth, height: video.videoHeight },
      fullscreen: Boolean(document.fullscreenElement),
    };
  });
}

/** The whole picture is in the window, under the toolbar, in the screen's proportions, and
 * the page itself cannot scroll. */
function assertWholePicture(g, what) {
  const { frame, toolbar, window: win, page, video } = g;
  assert.ok(frame.left >= 0 && frame.top >= 0 && frame.right <= win.width + 0.5 && frame.bottom <= win.height + 0.5,
    `${what}: the picture ${JSON.stringify(frame)} lies inside the ${win.width}×${win.height} window`);
  assert.ok(frame.top >= toolbar.bottom - 0.5, `${what}: the picture starts under the toolbar (${frame.top} ≥ ${toolbar.bottom})`);
  assert.ok(page.scrollW <= win.width && page.scrollH <= win.height && g.main.scrollH <= g.main.clientH,
    `${what}: nothing of the page scrolls (page ${page.scrollW}×${page.scrollH}, main ${g.main.scrollH}/${g.main.clientH})`);
  const ratio = (frame.width / frame.height) / (video.width / video.height);
  assert.ok(Math.abs(ratio - 1) < 0.01, `${what}: the aspect ratio is kept (${frame.width}×${frame.height} for ${video.width}×${video.height})`);
}

/** Clicks screen pixel (x, y) as seen in the viewer and reads where the X pointer went:
 * exactly there for a corner, within one viewer pixel's worth elsewhere (scaled down, one
 * viewer pixel covers several of the resident's). */
async function clickLands(viewer, xvfb, size, [x, y], what) {
  const frame = await viewer.page.evaluate(() => document.getElementById('frame').getBoundingClientRect().width);
  const corner = (x === 0 || x === size.width - 1) && (y === 0 || y === size.height - 1);
  const slack = corner ? 0 : Math.ceil(size.width / frame);
  await viewer.clickOnScreen(x, y, size.width, size.height);
  const deadline = Date.now() + 10_000;
  let at = null;
  for (;;) {
    at = await pointerLocation(xvfb);
    if (Math.abs(at.x - x) <= slack && Math.abs(at.y - y) <= slack) return;
    if (Date.now() > deadline) break;
    await sleep(100);
  }
  const p = await viewer.clientPoint(x, y, size.width, size.height);
  const hit = await viewer.page.evaluate(({ x, y }) => { const e = document.elementFromPoint(x, y); return e ? `${e.tagName}#${e.id}.${e.className}` : 'nothing'; }, p);
  assert.fail(`${what}: a click on screen pixel (${x}, ${y}) at client (${p.x}, ${p.y}) on ${hit} put the resident's pointer at (${at.x}, ${at.y})`);
}

/** The corners and the centre of a W×H screen. */
const targets = ({ width: w, height: h }) => [[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1], [Math.floor(w / 2), Math.floor(h / 2)]];

/** Waits until a toggle button says `pressed` (the page renders it on the browser's events). */
async function waitPressed(viewer, id, pressed) {
  await viewer.page.waitForFunction(([i, p]) => document.getElementById(i).getAttribute('aria-pressed') === p,
    [id, String(pressed)], { timeout: 10_000, polling: 50 });
}

async function waitForPictureSize(viewer, size) {
  await viewer.page.waitForFunction(({ width, height }) => {
    const v = document.getElementById('screen');
    const f = document.getElementById('frame').getBoundingClientRect();
    // Laid out for the new size, not just decoded at it.
    return v.videoWidth === width && v.videoHeight === height && Math.abs(f.width / f.height - width / height) < 0.01;
  }, size, { timeout: 30_000, polling: 100 });
  log(`viewer shows a ${size.width}×${size.height} picture`);
}

async function fitEverywhere(viewer, xvfb, size) {
  for (const viewport of VIEWPORTS) {
    await viewer.page.setViewportSize(viewport);
    // One frame for the ResizeObserver to lay the picture out again.
    await viewer.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const what = `fit, ${size.width}×${size.height} screen in a ${viewport.width}×${viewport.height} page`;
    const g = await geometry(viewer);
    assertWholePicture(g, what);
    // Never enlarged past the picture's own pixels (sharp text), otherwise as large as fits.
    const scale = g.frame.width / size.width;
    assert.ok(scale <= 1.0001, `${what}: not enlarged (scale ${scale})`);
    assert.ok(scale > 0.999 || g.frame.width >= g.stage.clientW - 1 || g.frame.height >= g.stage.clientH - 1,
      `${what}: as large as the stage allows (${g.frame.width}×${g.frame.height} in ${g.stage.clientW}×${g.stage.clientH})`);
    log(`${what}: picture ${Math.round(g.frame.width)}×${Math.round(g.frame.height)} at (${Math.round(g.frame.left)}, ${Math.round(g.frame.top)})`);
    for (const target of targets(size)) await clickLands(viewer, xvfb, size, target, what);
  }
}

test('the whole resident screen fits any laptop window; actual size and full screen; clicks land exactly', { timeout: 300_000 }, async (t) => {
  const h = await Harness.create(t);
  await h.run(async () => {
    const big = { width: 1920, height: 1080 };
    const small = { width: 1366, height: 768 };
    const xvfb = await startXvfb(h, big);
    await fillScreen(xvfb, '#3a6ea5');
    const relay = await startRelay(h);
    await addCaseworker(h, relay, CASEWORKER);
    const agent = await startAgent(h, relay, xvfb);
    const code = await agent.nextCode(30_000);
    const viewer = await openSignedInViewer(h, relay, CASEWORKER, { viewport: VIEWPORTS[0] });
    await viewer.connect(code.digits);
    await agent.nextLine(QUESTION_LINE, 30_000);
    agent.write('y\n');
    await viewer.waitForState('watching', 45_000);
    await waitForPictureSize(viewer, big);
    await grantControl(viewer, agent);

    // Fit (the default) at every page size, the toolbar wrapping where it must.
    await fitEverywhere(viewer, xvfb, big);

    // Actual size, by keyboard: one picture pixel per page pixel; the stage scrolls, the page does not.
    await viewer.page.setViewportSize(VIEWPORTS[0]);
    const sizeButton = viewer.page.getByRole('button', { name: /^Actual size/ });
    assert.equal(await sizeButton.getAttribute('aria-pressed'), 'false');
    await sizeButton.focus();
    await viewer.page.keyboard.press('Enter');
    assert.equal(await sizeButton.getAttribute('aria-pressed'), 'true');
    let g = await geometry(viewer);
    assert.equal(Math.round(g.frame.width), 1920, 'actual size: 1920 px wide');
    assert.equal(Math.round(g.frame.height), 1080, 'actual size: 1080 px high');
    assert.ok(g.stage.scrollW > g.stage.clientW && g.stage.scrollH > g.stage.clientH, 'actual size: the stage scrolls');
    assert.ok(g.page.scrollW <= g.window.width && g.page.scrollH <= g.window.height, 'actual size: the page does not scroll');
    for (const [x, y] of targets(big)) {
      // Scroll the stage so the target is in view, as the caseworker would.
      await viewer.page.evaluate(([fx, fy]) => {
        const s = document.getElementById('stage');
        s.scrollTo((s.scrollWidth - s.clientWidth) * fx, (s.scrollHeight - s.clientHeight) * fy);
      }, [x / (big.width - 1), y / (big.height - 1)]);
      await clickLands(viewer, xvfb, big, [x, y], 'actual size, 1366×657 page');
    }
    assert.equal(await viewer.page.evaluate(() => localStorage.getItem('acote.viewSize')), 'actual', 'actual size is remembered');
    await sizeButton.click();
    assert.equal(await sizeButton.getAttribute('aria-pressed'), 'false');

    // Full screen, by keyboard: the whole page, the picture fitted to it; Escape leaves.
    const fullButton = viewer.page.getByRole('button', { name: /^Full screen/ });
    await fullButton.focus();
    await viewer.page.keyboard.press('Enter');
    await viewer.page.waitForFunction(() => Boolean(document.fullscreenElement), null, { timeout: 10_000 });
    await waitPressed(viewer, 'full-screen', true);
    await viewer.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    g = await geometry(viewer);
    assertWholePicture(g, `full screen (${g.window.width}×${g.window.height})`);
    for (const target of targets(big)) await clickLands(viewer, xvfb, big, target, 'full screen');
    assert.equal(await viewer.page.evaluate(() => localStorage.getItem('acote.fullScreen')), '1', 'full screen is remembered');
    await fullButton.focus();
    await viewer.page.keyboard.press('Escape');
    const leftByEscape = await viewer.page.waitForFunction(() => !document.fullscreenElement, null, { timeout: 3_000 })
      .then(() => true, () => false);
    if (!leftByEscape) {
      // Headless Chromium may not route Escape to its fullscreen controller; the button leaves too.
      log('Escape did not leave full screen in headless Chromium; leaving with the button');
      await fullButton.click();
      await viewer.page.waitForFunction(() => !document.fullscreenElement, null, { timeout: 10_000 });
    }
    await waitPressed(viewer, 'full-screen', false);
    await viewer.page.setViewportSize(VIEWPORTS[0]);

    // The resident's screen changes resolution mid-session: the picture is fitted again.
    await execFileP('xrandr', ['--fb', `${small.width}x${small.height}`], { env: { ...process.env, DISPLAY: xvfb.display } })
      .catch(() => {}); // Xvfb resizes the screen but reports its one output's mode as an error
    const { stdout } = await execFileP('xdpyinfo', ['-display', xvfb.display]);
    assert.match(stdout, /dimensions:\s+1366x768 pixels/, 'the resident screen is now 1366×768');
    await fillScreen(xvfb, '#5a8e35');
    await waitForPictureSize(viewer, small);
    await fitEverywhere(viewer, xvfb, small);

    // The choices are kept by this browser: a new page starts at actual size again once chosen.
    await viewer.page.evaluate(() => localStorage.setItem('acote.viewSize', 'actual'));
    const again = await viewer.context.newPage();
    await again.goto(relay.url, { waitUntil: 'load' });
    await again.waitForFunction(() => document.getElementById('view-size').getAttribute('aria-pressed') === 'true',
      null, { timeout: 10_000 });
    await again.close();
  });
});
