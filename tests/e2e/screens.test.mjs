// End-to-end: a resident with two monitors (issue 17). One 2732×768 X screen, first one
// monitor, then split by RandR into two 1366×768 monitors side by side while the session
// runs. With one monitor the viewer offers no choice; once the agent lists two, a group of
// buttons appears ("Screen 1 (main)", "Screen 2", "All screens"), the one shown pressed.
// By keyboard, "Screen 2" makes the picture that monitor alone (the decoded video is
// 1366×768, fitted like any picture) and a click in its middle lands in the middle of the
// right monitor on the real screen; "All screens" gives the whole desktop back. The audit
// says once that the monitor choice was used. Needs no control to choose.
//
// Run with ACOTE_VIEWER_DIR=viewer to try viewer changes without rebuilding the relay.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  Harness, startXvfb, startRelay, startAgent, openSignedInViewer, addCaseworker, relayAdmin, grantControl,
  waitForVideoSize, clickMiddleLands, log, sleep, QUESTION_LINE,
} from './harness.mjs';

const execFileP = promisify(execFile);
const CASEWORKER = { login: 'ines', name: 'Inès Moreau', site: 'Espace solidarité', password: 'deux écrans 2032' };
const W = 2732;
const H = 768;
const HALF = 1366;

async function xrandr(xvfb, ...args) {
  await execFileP('xrandr', args, { timeout: 10_000, env: { ...process.env, DISPLAY: xvfb.display } });
}

/** The picture's box keeps the picture's proportions, inside the window, under the
 * toolbar, and the page does not scroll: the fit is the usual one (fit.js). */
async function assertFitted(viewer, what) {
  const g = await viewer.page.evaluate(async () => {
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const rect = (id) => document.getElementById(id).getBoundingClientRect().toJSON();
    const v = document.getElementById('screen');
    return {
      frame: rect('frame'), toolbar: rect('controls'), win: { width: window.innerWidth, height: window.innerHeight },
      page: { w: document.scrollingElement.scrollWidth, h: document.scrollingElement.scrollHeight },
      video: { width: v.videoWidth, height: v.videoHeight },
    };
  });
  const s = JSON.stringify(g);
  assert.ok(g.frame.left >= 0 && g.frame.top >= g.toolbar.bottom - 0.5 && g.frame.bottom <= g.win.height + 0.5
    && g.frame.right <= g.win.width + 0.5, `${what}: the picture is in the window under the toolbar: ${s}`);
  assert.ok(g.page.w <= g.win.width && g.page.h <= g.win.height, `${what}: the page does not scroll: ${s}`);
  const ratio = (g.frame.width / g.frame.height) / (g.video.width / g.video.height);
  assert.ok(Math.abs(ratio - 1) < 0.01, `${what}: proportions kept: ${s}`);
}

test('two monitors: the caseworker picks one by keyboard, sees it alone and clicks on it', { timeout: 240_000 }, async (t) => {
  const h = await Harness.create(t);
  await h.run(async () => {
    const xvfb = await startXvfb(h, { width: W, height: H });
    const relay = await startRelay(h);
    await addCaseworker(h, relay, CASEWORKER);
    const agent = await startAgent(h, relay, xvfb);
    const code = await agent.nextCode();
    const viewer = await openSignedInViewer(h, relay, CASEWORKER);
    const { page } = viewer;
    await viewer.connect(code.digits);
    await agent.nextLine(QUESTION_LINE, 20_000);
    agent.write('y\n');
    await viewer.waitForState('watching', 30_000);
    await waitForVideoSize(viewer, W, H, 20_000);

    // One monitor: no choice offered (the agent lists the monitors as the channel opens).
    const group = page.getByRole('group', { name: "Resident's screen to show" });
    await sleep(3_000);
    assert.equal(await group.count(), 0, 'no monitor choice with one monitor');

    // The resident's screen becomes two monitors; the agent looks again every 2 s.
    await xrandr(xvfb, '--setmonitor', '*LEFT', `${HALF}/361x${H}/203+0+0`, 'screen');
    await xrandr(xvfb, '--setmonitor', 'RIGHT', `${HALF}/361x${H}/203+${HALF}+0`, 'none');
    log('RandR: two monitors, LEFT (primary) and RIGHT');
    await group.waitFor({ state: 'visible', timeout: 15_000 });
    const buttons = group.getByRole('button');
    assert.deepEqual(await buttons.allTextContents(), ['Screen 1 (main)', 'Screen 2', 'All screens']);
    const screen1 = group.getByRole('button', { name: 'Screen 1 (main)' });
    const screen2 = group.getByRole('button', { name: 'Screen 2', exact: true });
    const all = group.getByRole('button', { name: 'All screens' });
    const pressed = async () => Promise.all([screen1, screen2, all].map((b) => b.getAttribute('aria-pressed')));
    assert.deepEqual(await pressed(), ['false', 'false', 'true'], 'the whole desktop is shown');
    assert.equal(await screen2.getAttribute('title'), 'RIGHT · 1366 × 768');
    assert.equal(await viewer.controlMode(), 'watching', 'no control asked');

    // By keyboard, while only watching: Screen 2.
    await screen1.focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Screen 2');
    await page.keyboard.press('Enter');
    await waitForVideoSize(viewer, HALF, H);
    await page.waitForFunction(() => document.querySelector('#screens [aria-pressed="true"]')?.textContent === 'Screen 2',
      null, { timeout: 10_000 });
    assert.deepEqual(await pressed(), ['false', 'true', 'false']);
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Screen 2', 'the focus stays');
    await assertFitted(viewer, 'screen 2');

    // With control, a click in the middle of the picture lands in the middle of the right
    // monitor: x = 1366 + 683.
    await grantControl(viewer, agent);
    await clickMiddleLands(viewer, xvfb, { width: HALF, height: H }, { x: HALF + HALF / 2, y: H / 2 }, 'screen 2');

    // "All screens" gives the whole desktop back, and a click its middle again.
    await all.focus();
    await page.keyboard.press('Space');
    await waitForVideoSize(viewer, W, H);
    await page.waitForFunction(() => document.querySelector('#screens [aria-pressed="true"]')?.textContent === 'All screens',
      null, { timeout: 10_000 });
    await assertFitted(viewer, 'all screens');
    await clickMiddleLands(viewer, xvfb, { width: W, height: H }, { x: W / 2, y: H / 2 }, 'all screens');

    // Screen 1 shows the left monitor: its middle is (683, 384).
    await screen1.press('Enter');
    await waitForVideoSize(viewer, HALF, H);
    await clickMiddleLands(viewer, xvfb, { width: HALF, height: H }, { x: HALF / 2, y: H / 2 }, 'screen 1');

    // In French, the buttons in French.
    await page.getByRole('button', { name: 'Français', exact: true }).click();
    await page.getByRole('group', { name: 'Écran de la personne à afficher' })
      .getByRole('button', { name: 'Écran 1 (principal)' }).waitFor({ timeout: 5_000 });
    await page.getByRole('button', { name: 'English', exact: true }).click();

    // The monitors go back to one: the choice goes, and the whole desktop is shown.
    await xrandr(xvfb, '--delmonitor', 'RIGHT');
    await xrandr(xvfb, '--delmonitor', 'LEFT');
    await group.waitFor({ state: 'hidden', timeout: 15_000 });
    await waitForVideoSize(viewer, W, H);
    log('back to one monitor: no choice, the whole desktop');

    await viewer.endSession();
    await agent.nextEnded(20_000);
    const today = new Date().toISOString().slice(0, 10);
    const csv = (await relayAdmin(h, relay, ['audit', 'export', '--from', today, '--to', today])).stdout;
    const used = csv.split('\n').filter((row) => row.split(',')[2] === 'feature_used');
    assert.equal(used.length, 1, `one feature_used row:\n${csv}`);
    assert.equal(used[0].split(',')[5], 'feature=screens');
  });
});
