// The video bench (tests/bench/video.mjs) run on its shortest set, so it does not rot. Its
// figures are never judged here (this machine is shared and noisy): the test checks only
// that the run completes and writes every figure, well-formed, for Acote, for x11vnc and for
// Chromium's own screen sharing. A second run scrolls over the emulated weak 4G link and
// checks what the agent does there, not how fast: no overflowing queue, coarser pictures
// while moving, a readable picture once still.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO, log } from './harness.mjs';

const execFileP = promisify(execFile);

const isNumber = (x) => typeof x === 'number' && Number.isFinite(x);

function checkScenario(s, tool) {
  const where = `${tool} ${s.scenario}`;
  assert.ok(isNumber(s.seconds) && s.seconds > 0, `${where}: seconds`);
  for (const k of ['p50', 'p95', 'max']) {
    assert.ok(isNumber(s.latency_ms[k]) && s.latency_ms[k] >= 0, `${where}: latency ${k} is ${s.latency_ms[k]}`);
  }
  assert.ok(s.latency_ms.samples > 0, `${where}: some marker changes were seen`);
  assert.ok(s.latency_ms.p50 <= s.latency_ms.p95 && s.latency_ms.p95 <= s.latency_ms.max, `${where}: percentiles in order`);
  for (const k of ['up_kbit_s', 'down_kbit_s', 'total_kbit_s', 'mb_per_10_min']) {
    assert.ok(isNumber(s.wire[k]) && s.wire[k] > 0, `${where}: wire ${k} is ${s.wire[k]}`);
  }
  assert.ok(isNumber(s.cpu_percent_of_one_core) && s.cpu_percent_of_one_core >= 0, `${where}: CPU`);
  assert.ok(isNumber(s.rss_mib) && s.rss_mib > 0, `${where}: RSS`);
  assert.ok(isNumber(s.psnr_db) || s.psnr_db === 'identical', `${where}: PSNR is ${s.psnr_db}`);
}

test('the video bench runs its quick set and writes every figure', { timeout: 240_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'acote-bench-test-'));
  try {
    const json = path.join(dir, 'video.json');
    const { stdout } = await execFileP('node', [path.join(REPO, 'tests/bench/video.mjs'), '--set', 'quick', '--json', json],
      { timeout: 220_000, maxBuffer: 16 << 20 });
    log(stdout.trim().split('\n').slice(-4).join('\n'));
    const result = JSON.parse(await readFile(json, 'utf8'));
    assert.equal(result.bench, 'video');
    assert.ok(result.machine.cpus > 0 && result.date && result.command.includes('--set quick'));
    assert.equal(result.runs.length, 1);
    const [run] = result.runs;
    assert.equal(`${run.width}x${run.height}/${run.profile}`, '1366x768/loopback');
    assert.ok(isNumber(run.acote.first_frame_ms) && run.acote.first_frame_ms > 0, 'time from yes to the first frame');
    assert.deepEqual(run.acote.scenarios.map((s) => s.scenario), ['typing']);
    for (const s of run.acote.scenarios) {
      checkScenario(s, 'acote');
      assert.ok(isNumber(s.fps) && s.fps > 0, `acote fps is ${s.fps}`);
      assert.ok(Number.isInteger(s.freezes_over_500ms), 'freezes counted');
      assert.ok(s.viewer && s.viewer.framesDecoded > 0, 'the viewer decoded frames');
    }
    assert.deepEqual(run.x11vnc.scenarios.map((s) => s.scenario), ['typing']);
    for (const s of run.x11vnc.scenarios) checkScenario(s, 'x11vnc');
    assert.deepEqual(run.chromium.scenarios.map((s) => s.scenario), ['typing']);
    assert.match(run.chromium.codec, /^video\//, 'the codec Chromium chose');
    for (const s of run.chromium.scenarios) {
      checkScenario(s, 'chromium');
      assert.ok(s.viewer && s.viewer.framesDecoded > 0, 'the watching page decoded Chromium\'s frames');
    }
    // Where the bytes went, per kind of packet: media at least.
    assert.ok(run.acote.scenarios[0].wire.by_kind_kbit_s.rtp.up > 0, 'Acote\'s media counted as RTP');
    const summary = await readFile(path.join(dir, 'video-summary.md'), 'utf8');
    assert.match(summary, /\| 1366×768 \| loopback \| typing \|/);
    assert.match(summary, /Beside Chromium's own screen sharing/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('weak 4G: a scroll overflows no queue, moves coarser and ends on the page where it stopped', { timeout: 240_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'acote-bench-test-'));
  try {
    const json = path.join(dir, 'weak.json');
    await execFileP('node', [path.join(REPO, 'tests/bench/video.mjs'), '--resolutions', '1366x768', '--profiles', 'weak-4g',
      '--scenarios', 'scrolling', '--seconds', '10', '--no-vnc', '--no-chromium', '--json', json],
    { timeout: 220_000, maxBuffer: 16 << 20 });
    const [run] = JSON.parse(await readFile(json, 'utf8')).runs;
    const [s] = run.acote.scenarios;
    const qp = s.viewer.qpSum / s.viewer.framesDecoded;
    log(`weak 4G scroll: ${s.fps} fps, ${s.wire.queue_drops} packets dropped by the link's queue, ` +
      `mean QP ${qp.toFixed(1)}, PSNR once still ${s.psnr_db} dB, ${s.viewer.pliCount} keyframe requests`);
    // Before the agent read what is still on the way, it queued seconds of pictures into
    // the 1 Mbit/s link: at 1920x1080 its 1,000-packet queue threw thousands away.
    assert.equal(s.wire.queue_drops, 0, 'the agent never overflows the link');
    // Sharp (26) pictures of a moving page are a second each on this link: coarser ones
    // go while it moves (the mean over the scroll and the still end). The first seconds
    // may all go sharp, until a report from the viewer shows the queue, so the mean
    // swings from run to run (28.0 to 40.5 in eleven runs on this machine); an agent that
    // never coarsens stays at 26.
    assert.ok(qp > 27, `the pictures coarsen while the page moves (mean QP ${qp})`);
    // Once still, the viewer shows the page where it stopped: most runs 34-39 dB (sharp),
    // one in eleven 25 dB (a keyframe lost twice to the link's 3 % loss); a stale or
    // broken picture, as before the backlog was read, shows 13-15 dB.
    assert.ok(isNumber(s.psnr_db) && s.psnr_db >= 25, `the page where it stopped: PSNR ${s.psnr_db} dB`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
