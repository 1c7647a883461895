// End-to-end: a voice call between the caseworker and the resident, through the PC.
// The resident's PC has a real sound system: a PulseAudio server with two null sinks
// (the test's own, in its temporary folder), reached by the agent through ALSA's pulse
// plugin, the path a Linux desktop takes. Its microphone plays a pulsed 440 Hz tone; its
// speakers are recorded. The caseworker's Chromium has a fake microphone playing a pulsed
// 660 Hz tone (with echo cancellation, noise suppression and gain control on, as the page
// asks). The caseworker only views (no control asked).
//
// Asserted: nothing is heard either way before the resident's own yes to the microphone
// (the caseworker's Talk is only a question); after it, each side receives sound that is
// not silence; the resident's Mute stops their sound (the caseworker's page says so) and
// Unmute brings it back; the caseworker's Hang up closes the resident's devices; the audit
// log says once that voice was used and nothing else about it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  Harness, startXvfb, startRelay, startAgent, openSignedInViewer, addCaseworker, relayAdmin, log, sleep,
  QUESTION_LINE, startResidentSound, pulsedTone, audioStats, SOUND_RATE as RATE,
} from './harness.mjs';

const CASEWORKER = { login: 'ines', name: 'Inès Moreau', site: 'Accueil de jour', password: 'violon marée 2031' };
/** Waits until `check()` is true, polling; fails with `what` and the last value. */
async function eventually(check, what, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await check();
    if (last.ok) return last;
    if (Date.now() > end) throw new Error(`${what}: ${JSON.stringify(last)}`);
    await sleep(200);
  }
}

test('voice: nothing heard before the resident says yes; then both hear the other; mute, hang up, audited once', { timeout: 240_000 }, async (t) => {
  const h = await Harness.create(t);
  await h.run(async () => {
    const sound = await startResidentSound(h);
    const xvfb = await startXvfb(h, { width: 1280, height: 720 });
    const relay = await startRelay(h);
    await addCaseworker(h, relay, CASEWORKER);
    const agent = await startAgent(h, relay, xvfb, { env: sound.agentEnv });
    const code = await agent.nextCode();
    const wav = path.join(h.dir, 'caseworker.wav');
    await writeFile(wav, pulsedTone(660, 30));
    const viewer = await openSignedInViewer(h, relay, CASEWORKER, {
      extraArgs: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-audio-capture=${wav}`],
    });
    const { page } = viewer;
    await viewer.connect(code.digits);
    await agent.nextLine(QUESTION_LINE, 20_000);
    agent.write('y\n');
    await viewer.waitForState('watching', 30_000);
    const voiceState = () => page.evaluate(() => window.acote.voice);

    // Sharing, no call: nothing either way.
    await eventually(async () => ({ ok: sound.recorded() > RATE }), 'the speakers are recorded');
    assert.ok(sound.speakers(500) < 50, `the resident's speakers are silent: ${sound.speakers(500)}`);
    assert.equal((await audioStats(viewer)).received, 0, 'no sound from the resident');

    // The caseworker asks; until the resident answers, still nothing.
    const talk = page.getByRole('button', { name: 'Talk to the resident', exact: true });
    await talk.waitFor({ state: 'visible', timeout: 10_000 });
    await talk.click();
    const asked = await agent.nextLine(QUESTION_LINE, 10_000);
    assert.match(asked.input, /talk with you through the computer/);
    await eventually(async () => { const v = await voiceState(); return { ok: v.state === 'asking', v }; },
      'the page says the resident is asked');
    await sleep(1_500);
    assert.ok(sound.speakers(1_000) < 50, `nothing played before the yes: ${sound.speakers(1_000)}`);
    const before = await audioStats(viewer);
    assert.equal(before.received, 0, 'no sound from the resident before the yes');
    assert.equal((await voiceState()).micAttached, false, "the caseworker's microphone is not sent yet");
    log('asked: nothing heard either way');

    // Yes: each side hears the other.
    agent.write('y\n');
    await agent.nextLine(/^voice on$/, 10_000);
    await eventually(async () => { const v = await voiceState(); return { ok: v.state === 'on' && v.micAttached, v }; },
      "the call is on and the caseworker's microphone attached");
    const heard = await eventually(async () => {
      const s = await audioStats(viewer);
      return { ok: s.received > 50 && s.energy / Math.max(s.duration, 1e-9) > 1e-4, ...s };
    }, "the caseworker hears the resident's tone");
    log(`the caseworker hears the resident: ${heard.received} packets, energy/s ${(heard.energy / heard.duration).toFixed(5)}`);
    const loud = await eventually(async () => {
      const rms = sound.speakers(600);
      return { ok: rms > 500, rms };
    }, "the resident's speakers play the caseworker's tone");
    log(`the resident hears the caseworker: speakers RMS ${loud.rms.toFixed(0)}`);

    // The resident mutes: their sound stops, the page says so; unmute brings it back.
    agent.write('mute\n');
    await agent.nextLine(/^voice on, muted$/, 10_000);
    await eventually(async () => { const v = await voiceState(); return { ok: v.residentMuted === true, v }; },
      'the page shows the resident muted');
    await sleep(500);
    const m1 = await audioStats(viewer);
    await sleep(1_500);
    const m2 = await audioStats(viewer);
    assert.ok(m2.received - m1.received <= 2, `no sound while muted: ${m1.received} → ${m2.received}`);
    agent.write('unmute\n');
    await agent.nextLine(/^voice on$/, 10_000);
    await eventually(async () => {
      const s = await audioStats(viewer);
      return { ok: s.received > m2.received + 25, ...s };
    }, 'sound again after unmute');
    log('mute stops the resident\'s sound, unmute brings it back');

    // The caseworker hangs up: the resident's devices close, the speakers fall silent.
    await page.getByRole('button', { name: 'Hang up', exact: true }).click();
    await agent.nextLine(/^voice off$/, 10_000);
    await eventually(async () => { const v = await voiceState(); return { ok: v.state !== 'on' && !v.micAttached, v }; },
      "the caseworker's microphone is released");
    await eventually(async () => ({ ok: sound.speakers(500) < 50, rms: sound.speakers(500) }),
      "the resident's speakers fall silent");
    const h1 = await audioStats(viewer);
    await sleep(1_000);
    const h2 = await audioStats(viewer);
    assert.ok(h2.received - h1.received <= 2, `no sound after the hang-up: ${h1.received} → ${h2.received}`);
    log('hung up: silence both ways');

    // The session ends; the audit says voice was used, once, and nothing of it.
    agent.write('q\n');
    await agent.nextEnded(15_000);
    const today = new Date().toISOString().slice(0, 10);
    const csv = (await relayAdmin(h, relay, ['audit', 'export', '--from', today, '--to', today])).stdout;
    const used = csv.split('\n').filter((row) => row.split(',')[2] === 'feature_used');
    assert.deepEqual(used.map((row) => row.split(',')[5]), ['feature=voice'], csv);
    assert.equal((await relayAdmin(h, relay, ['audit', 'verify'])).code, 0);
  });
});
