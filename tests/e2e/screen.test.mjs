// End-to-end: Xvfb + acote-relay + acote-agent (console mode) + the real viewer in headless
// Chromium. Proves what people see (DESIGN §3, §8): the caseworker sees the resident's screen
// only after the resident says yes, the picture follows the screen, and a no shares nothing.
//
// Run: cd tests && npm ci && node --test e2e/
// Binaries come from target/debug (or $ACOTE_BIN_DIR); Chromium from /usr/bin/chromium.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Harness, startXvfb, startRelay, startAgent, openViewer, fillScreen, log, QUESTION_LINE,
  addCaseworker,
} from './harness.mjs';

// The caseworker every test signs in as; the name has HTML in it, which must stay text.
const CASEWORKER = {
  login: 'marie.dupont',
  name: 'Marie <b>Dupont</b>',
  site: 'CHRS Les Lilas',
  password: 'cheval agrafe batterie 42',
};

const WIDTH = 1366;
const HEIGHT = 768;

/** Runs `body({ h, xvfb, relay, agent })` with a fresh Xvfb + relay + agent, all torn down after
 * the test (pass or fail); on failure the error carries the tails of every process's output. */
async function withSession(t, body) {
  const h = await Harness.create(t);
  await h.run(async () => {
    const xvfb = await startXvfb(h, { width: WIDTH, height: HEIGHT });
    const relay = await startRelay(h, { logLevel: 'debug' });
    await addCaseworker(h, relay, CASEWORKER);
    const agent = await startAgent(h, relay, xvfb);
    await body({ h, xvfb, relay, agent });
  });
}

async function openEnglishViewer(h, relay) {
  const viewer = await openViewer(h, relay.url);
  await viewer.waitForState('sign-in');
  await viewer.switchToEnglish();
  await viewer.signIn(CASEWORKER.login, CASEWORKER.password);
  await viewer.waitForState('enter-code');
  const who = await viewer.page.locator('#who').innerText();
  assert.equal(who, `${CASEWORKER.name} (${CASEWORKER.site})`, 'the header names the signed-in caseworker, as text');
  return viewer;
}

/** Every log line the relay and the agent wrote (not the agent's console dialogue, whose
 * job is to show the code), and the browser console. */
function allLogs(h, relay, agent) {
  return [relay.proc.stdout, relay.proc.stderr, agent.stderr, h.viewer?.console.join('\n') ?? ''].join('\n')
    // Timestamps' microseconds are six digits that could equal the code by chance.
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z/g, '<time>');
}

test("the caseworker sees the resident's screen after yes", { timeout: 120_000 }, async (t) => {
  await withSession(t, async ({ h, xvfb, relay, agent }) => {
    const code = await agent.nextCode();
    const viewer = await openEnglishViewer(h, relay);

    await viewer.connect(code.spaced);
    await viewer.waitForState('waiting-resident');
    const question = await agent.nextLine(QUESTION_LINE, 15_000);
    log(`agent asks: ${question.input}`);
    // The resident is told who asks: the name and site of the account, from the relay.
    assert.ok(question.input.startsWith(`${CASEWORKER.name} (${CASEWORKER.site}) asks to see your screen`),
      `the agent's question must name the caseworker, it says "${question.input}"`);
    agent.write('y\n');

    await viewer.waitForState('watching', 30_000);
    const stats = await viewer.waitForVideo(
      (s) => s.framesDecoded > 0 && s.frameWidth === WIDTH && s.frameHeight === HEIGHT,
      15_000, `decoded video frames of exactly ${WIDTH}x${HEIGHT}`);
    log(`viewer decodes ${stats.frameWidth}x${stats.frameHeight} (${stats.codec}), ${stats.framesDecoded} frames so far`);
    assert.equal(stats.frameWidth, WIDTH);
    assert.equal(stats.frameHeight, HEIGHT);
    // The caseworker sees how the picture travels: on one machine, directly.
    await viewer.page.waitForFunction(
      () => /^Direct connection · \d+ ms$/.test(document.getElementById('link').textContent),
      null, { timeout: 10_000 });

    // The picture follows the screen: two colours in turn.
    await fillScreen(xvfb, '#1e90ff');
    await viewer.waitForCentreColour([30, 144, 255], { tolerance: 24, timeoutMs: 15_000 });
    await fillScreen(xvfb, '#ff8c00');
    await viewer.waitForCentreColour([255, 140, 0], { tolerance: 24, timeoutMs: 15_000 });

    await viewer.endSession();
    await viewer.waitForState('ended');
    const ended = await agent.nextEnded();
    assert.equal(ended.reason, 'ended');
    assert.ok(ended.frames > 0, `the agent should have captured frames, it says ${ended.frames}`);
    // Codes are single use: the agent offers a fresh one for the next session.
    const next = await agent.nextCode();
    assert.notEqual(next.digits, code.digits, 'the next session must get a new code');

    // No log of the whole session holds the code or the password.
    const logs = allLogs(h, relay, agent);
    for (const secret of [code.digits, code.spaced, CASEWORKER.password]) {
      assert.ok(!logs.includes(secret), `a log contains a secret (${secret.length} chars)`);
    }
    assert.ok(relay.proc.stderr.includes('code redeemed'), 'the relay log was captured at debug level');
  });
});

test('a resident who says no shares nothing', { timeout: 90_000 }, async (t) => {
  await withSession(t, async ({ h, relay, agent }) => {
    const code = await agent.nextCode();
    const viewer = await openEnglishViewer(h, relay);

    await viewer.connect(code.digits); // without the space this time
    await viewer.waitForState('waiting-resident');
    await agent.nextLine(QUESTION_LINE, 15_000);
    agent.write('n\n');

    await viewer.waitForState('refused');
    const status = await viewer.statusText();
    assert.match(status, /said no/i, `the status should say the resident said no, it says "${status}"`);
    const ended = await agent.nextEnded();
    assert.equal(ended.reason, 'refused');
    assert.equal(ended.frames, 0, 'nothing may be captured after a no');
    const captureLines = agent.stderr.split('\n').filter((l) => l.includes('capture started'));
    assert.deepEqual(captureLines, [], 'the agent must not start capturing after a no');
    const stats = await viewer.videoStats();
    assert.ok(!stats?.framesDecoded, `the viewer must have decoded no frame, stats: ${JSON.stringify(stats)}`);
  });
});

test('a wrong code is refused clearly', { timeout: 60_000 }, async (t) => {
  await withSession(t, async ({ h, relay, agent }) => {
    const code = await agent.nextCode();
    const viewer = await openEnglishViewer(h, relay);

    const wrong = code.digits === '000000' ? '000001' : '000000';
    await viewer.connect(wrong);
    await viewer.waitForState('invalid-code');
    const question = await agent.lineWithin(QUESTION_LINE, 2_000);
    assert.equal(question, null, `the agent must not be asked anything for a wrong code, it printed "${question?.input}"`);
  });
});
