// The video bench (issue "Measured: latency, bandwidth and CPU"): Xvfb + relay + agent + the
// real viewer in headless Chromium, with a real browser on the resident's screen showing a
// form, a long page or a video, over emulated networks, beside x11vnc + TigerVNC's viewer and
// beside Chromium's own screen sharing (getDisplayMedia to a page of the caseworker's
// Chromium) on the same screen, scenario and link. Writes one JSON file and a readable
// summary.
//
//   node tests/bench/video.mjs [--set default|full|quick] [--seconds N] [--json FILE]
//                              [--resolutions 1920x1080,...] [--profiles loopback,...]
//                              [--scenarios static,typing,...,file] [--no-vnc] [--no-chromium]
//
// Run through `bash scripts/bench.sh`, which installs what is missing and builds first.
// Needs root (network namespaces, TUN devices). Figures, never pass/fail.
//
// How each figure is taken (one clock: the machine's wall clock, read by every process):
// - glass-to-glass: `acote-bench marker paint` changes a coded sequence number in the
//   resident screen's top-left corner and prints when the X server drew it; the viewer page
//   decodes the corner of every decoded frame (requestVideoFrameCallback, the frame's
//   presentation time), and for VNC `acote-bench marker watch` polls the VNC viewer's screen.
// - bytes on the wire: `acote-bench link` forwards every packet between the agent's network
//   namespace and the caseworker's side and counts them (both tools, same counter), also
//   per kind of packet (STUN, DTLS, RTP, RTCP, TCP: `wire.by_kind_kbit_s`).
// - CPU and memory: /proc of the agent (or x11vnc) process over the measured window.
// - sharpness: PSNR between the resident's screen and the picture the viewer shows, after
//   the scenario stops (ImageMagick `compare`).
// - a file (scenario `file`, Acote only: VNC has no file transfer): on the still form with
//   the marker changing every 250 ms, the caseworker picks a 10 MB file of random bytes
//   with the Files panel's "Send a file…" and the resident (the console agent) answers
//   `save` as soon as it is offered. Seconds from the pick to the agent's `file saved:
//   PATH`, the effective rate, the link's bytes over that time ÷ the file's size (base64 in
//   JSON, SCTP, DTLS, UDP/IP and the picture's own few kbit/s), the SHA-256 of the saved
//   file against the sent one, and glass-to-glass during the transfer beside a window of
//   the same screen just before it.

import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile, readFile, readdir, mkdir, rm } from 'node:fs/promises';
import { tmpdir, cpus, totalmem } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  Harness, startXvfb, startRelay, startAgent, openSignedInViewer, addCaseworker, startResidentBrowser,
  QUESTION_LINE, BIN_DIR, REPO, log, sleep, startResidentSound, audioStats, pulsedTone, CHROMIUM, CHROMIUM_ARGS,
} from '../e2e/harness.mjs';

const execFileP = promisify(execFile);

const CASEWORKER = { login: 'bench', name: 'Bench', site: 'Bench site', password: 'bench password 1234' };
const NETNS = 'acote-bench';
const SUBNET = '10.77.0';
const AGENT_IP = `${SUBNET}.2`;
const ROOT_IP = `${SUBNET}.1`;
/** The picture scenarios: what runs when no --scenarios is given. */
const VIDEO_SCENARIOS = ['static', 'typing', 'scrolling', 'video'];
/** Every scenario; `file` and `voice` are asked for by name (or by the default and full
 * sets). */
const SCENARIOS = [...VIDEO_SCENARIOS, 'file', 'voice'];
/** The file the caseworker sends in the `file` scenario: 10 MB of random bytes. */
const FILE_BYTES = 10_000_000;
/** The relay's per-file limit for the bench (MB): above FILE_BYTES whatever the default. */
const MAX_FILE_MB = 25;
/** What the x11vnc side records for the `file` scenario. */
const VNC_NO_FILE = 'VNC has no file transfer: not measured, not compared';
/** What the Chromium anchor records for the `file` and `voice` scenarios. */
const CHROMIUM_NO_FILE = 'Chromium\'s screen sharing has no file transfer: not measured, not compared';
const CHROMIUM_NO_VOICE = 'compared without a call: not measured';
/** What the x11vnc side records for the `voice` scenario. */
const VNC_NO_VOICE = 'VNC has no voice: not measured, not compared';
const PROFILES = {
  loopback: { rate_kbit: 0, rtt_ms: 0, loss_pct: 0 },
  'shelter-wifi': { rate_kbit: 10_000, rtt_ms: 30, loss_pct: 1 },
  'weak-4g': { rate_kbit: 1_000, rtt_ms: 100, loss_pct: 3 },
  'very-poor': { rate_kbit: 256, rtt_ms: 300, loss_pct: 5 },
};
/** Marker pace per scenario: a static desktop changes only every few seconds. */
const MARKER_EVERY_MS = { static: 2000, typing: 250, scrolling: 250, video: 250, file: 250, voice: 2000 };
const FREEZE_MS = 500;

// ---------------------------------------------------------------------------------------
// Plan

function parseArgs(argv) {
  const opts = { set: 'default', seconds: null, json: 'bench-results/video.json', vnc: true, chromium: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--set') opts.set = value();
    else if (a === '--seconds') opts.seconds = Number(value());
    else if (a === '--json') opts.json = value();
    else if (a === '--resolutions') opts.resolutions = value().split(',');
    else if (a === '--profiles') opts.profiles = value().split(',');
    else if (a === '--scenarios') opts.scenarios = value().split(',');
    else if (a === '--no-vnc') opts.vnc = false;
    else if (a === '--no-chromium') opts.chromium = false;
    else if (a === '--summary-of') opts.summaryOf = value();
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`usage: node tests/bench/video.mjs [--set default|full|quick] [--seconds N] [--json FILE]
       [--resolutions WxH,...] [--profiles ${Object.keys(PROFILES).join(',')}]
       [--scenarios ${SCENARIOS.join(',')}] [--no-vnc] [--no-chromium]
       node tests/bench/video.mjs --summary-of FILE.json   (the summary of an earlier run)\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  return opts;
}

/** The runs to make: [{ width, height, profile, scenarios }], each one agent session (and
 * one VNC session when compared). */
function plan(opts) {
  const res = (s) => {
    const m = /^(\d+)x(\d+)$/.exec(s);
    if (!m) throw new Error(`bad resolution ${s} (want WIDTHxHEIGHT)`);
    return { width: Number(m[1]), height: Number(m[2]) };
  };
  for (const p of opts.profiles || []) if (!PROFILES[p]) throw new Error(`unknown profile ${p}`);
  for (const s of opts.scenarios || []) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}`);
  let runs;
  if (opts.resolutions || opts.profiles || opts.scenarios) {
    runs = [];
    for (const r of opts.resolutions || ['1920x1080']) {
      for (const p of opts.profiles || ['loopback']) runs.push({ ...res(r), profile: p, scenarios: opts.scenarios || VIDEO_SCENARIOS });
    }
  } else if (opts.set === 'quick') {
    runs = [{ ...res('1366x768'), profile: 'loopback', scenarios: ['typing'] }];
  } else if (opts.set === 'full') {
    runs = [];
    // Every picture scenario everywhere; the 10 MB file on shelter wifi (issue 17).
    for (const r of ['1920x1080', '1366x768']) {
      for (const p of Object.keys(PROFILES)) {
        runs.push({ ...res(r), profile: p, scenarios: p === 'shelter-wifi' ? SCENARIOS : VIDEO_SCENARIOS });
      }
    }
  } else if (opts.set === 'default') {
    // Every picture scenario at both sizes on loopback; the form (still, then typed into)
    // on each poor network at 1920x1080, and a 10 MB file sent and a voice call on shelter
    // wifi (issue 17);
    // x11vnc beside each at 1920x1080 (not for the file). About 6.5 minutes.
    runs = [
      { ...res('1920x1080'), profile: 'loopback', scenarios: VIDEO_SCENARIOS },
      { ...res('1366x768'), profile: 'loopback', scenarios: VIDEO_SCENARIOS, vnc: false },
      ...['shelter-wifi', 'weak-4g', 'very-poor'].map((p) => ({ ...res('1920x1080'), profile: p,
        scenarios: p === 'shelter-wifi' ? ['static', 'typing', 'file', 'voice'] : ['static', 'typing'] })),
      // The caseworker's "low data" box on the poorest link (Acote only: VNC has none).
      { ...res('1920x1080'), profile: 'very-poor', scenarios: ['typing'], lowData: true, vnc: false },
    ];
  } else throw new Error(`unknown set ${opts.set} (default, full, quick)`);
  const seconds = opts.seconds ?? (opts.set === 'quick' ? 5 : 8);
  return { runs, seconds, vnc: opts.vnc };
}

// ---------------------------------------------------------------------------------------
// Small measurements

const bench = path.join(BIN_DIR, 'acote-bench');
const CLK_TCK = 100;

async function cpuTicks(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

/** CPU ticks of `pid` and every process under it (a browser's renderer, GPU and utility
 * processes with it). */
async function cpuTicksTree(pid) {
  const procs = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.push({ pid: Number(name), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch { /* gone meanwhile */ }
  }
  const inTree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (!inTree.has(p.pid) && inTree.has(p.ppid)) { inTree.add(p.pid); grew = true; }
  }
  return procs.filter((p) => inTree.has(p.pid)).reduce((sum, p) => sum + p.ticks, 0);
}

async function rssMiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : null;
}

function percentile(sorted, q) {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

const round = (x, digits = 1) => (x === null || x === undefined || Number.isNaN(x) ? null : Math.round(x * 10 ** digits) / 10 ** digits);

/** Latency of each painted number: the first time a number at least as new was seen after
 * it was painted (a change overtaken by the next one became visible with it). */
function latencies(paints, seen) {
  const out = [];
  let unseen = 0;
  for (const p of paints) {
    const hit = seen.find((s) => s.seq >= p.seq && s.t >= p.t);
    if (hit) out.push(hit.t - p.t); else unseen++;
  }
  const sorted = [...out].sort((a, b) => a - b);
  return {
    p50: round(percentile(sorted, 0.5)), p95: round(percentile(sorted, 0.95)), max: round(sorted.at(-1) ?? null),
    samples: sorted.length, unseen, overHalfSecond: sorted.filter((x) => x > FREEZE_MS).length,
  };
}

/** PSNR (dB) between two PNG files, from ImageMagick; Infinity when identical. */
async function psnr(a, b) {
  try {
    await execFileP('compare', ['-metric', 'PSNR', a, b, 'null:'], { timeout: 60_000 });
    return Infinity;
  } catch (err) {
    const text = String(err.stderr || '').trim();
    const m = /^([\d.]+|inf)/.exec(text);
    if (!m) throw new Error(`compare failed: ${text || err.message}`);
    return m[1] === 'inf' ? Infinity : Number(m[1]);
  }
}

async function grabScreen(display, file) {
  await execFileP('import', ['-display', display, '-window', 'root', file], { timeout: 60_000 });
}

/** Writes the picture shown by the page's <video id="screen">, at its own size, as a PNG. */
async function grabVideo(page, file) {
  const url = await page.evaluate(() => {
    const v = document.getElementById('screen');
    const c = document.createElement('canvas');
    c.width = v.videoWidth; c.height = v.videoHeight;
    c.getContext('2d').drawImage(v, 0, 0);
    return c.toDataURL('image/png');
  });
  await writeFile(file, Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'));
}

async function sh(...argv) {
  return execFileP(argv[0], argv.slice(1), { timeout: 30_000 });
}

// ---------------------------------------------------------------------------------------
// The probes

/** The emulated link into the agent's namespace; `stats()` reads its counters. */
async function startLink(h, profile) {
  const proc = h.spawn('link', bench, ['link', '--netns', NETNS, '--subnet', SUBNET, '--profile', profile],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  await proc.nextLine(/^link ready/, 15_000);
  const stats = async () => {
    proc.write('stats\n');
    const [line] = await proc.nextLine(/^\{.*\}\s*$/, 5_000);
    return JSON.parse(line);
  };
  const stop = async () => {
    proc.write('quit\n');
    await Promise.race([proc.exitPromise, sleep(3000)]);
    await proc.kill();
    await sh('ip', 'netns', 'del', NETNS).catch(() => {});
  };
  return { proc, stats, stop };
}

let nextSeq = 1;
/** Paint marker numbers on `display` every `everyMs`; `stop()` resolves with [{ seq, t }]. */
function startPainter(h, display, everyMs) {
  const start = nextSeq;
  const proc = h.spawn('marker', bench, ['marker', 'paint', '--display', display, '--every-ms', String(everyMs),
    '--start', String(start)], { stdio: ['ignore', 'pipe', 'pipe'] });
  return {
    async stop() {
      await proc.kill(500);
      const paints = proc.lines.map((l) => /^paint (\d+) (\d+)$/.exec(l)).filter(Boolean)
        .map((m) => ({ seq: Number(m[1]), t: Number(m[2]) / 1000 }));
      if (process.env.ACOTE_BENCH_AGENT_LOG) await writeFile(`/tmp/paints-${start}.log`, proc.lines.join('\n'));
      nextSeq = (paints.at(-1)?.seq ?? start) + 1;
      if (nextSeq > 4000) nextSeq = 1;
      return paints;
    },
  };
}

/** In the viewer page: decode the marker in every decoded frame, and keep frame times. */
async function installProbe(page) {
  await page.evaluate(() => {
    const CELLS = 16; const CELL = 20;
    const video = document.getElementById('screen');
    const canvas = document.createElement('canvas');
    canvas.width = CELLS * CELL; canvas.height = CELL;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const probe = { frames: [], seen: [], first: null, last: null };
    window.__probe = probe;
    const check = (seq) => (seq ^ (seq >> 4) ^ (seq >> 8) ^ 0b1010) & 0xf;
    const onFrame = (now, meta) => {
      const t = performance.timeOrigin + (meta.presentationTime || now);
      if (probe.first === null) probe.first = t;
      probe.frames.push(t);
      if (video.videoWidth >= CELLS * CELL) {
        ctx.drawImage(video, 0, 0, CELLS * CELL, CELL, 0, 0, CELLS * CELL, CELL);
        const row = ctx.getImageData(0, CELL / 2, CELLS * CELL, 1).data;
        let word = 0;
        for (let i = 0; i < CELLS; i++) {
          const p = (i * CELL + CELL / 2) * 4;
          const luma = (row[p] * 77 + row[p + 1] * 150 + row[p + 2] * 29) >> 8;
          word = (word << 1) | (luma < 128 ? 1 : 0);
        }
        const seq = word >> 4;
        if ((word & 0xf) === check(seq) && seq !== probe.last) {
          probe.last = seq;
          probe.seen.push({ seq, t });
        }
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  });
}

const drainProbe = (page) => page.evaluate(() => {
  const p = window.__probe;
  return { frames: p.frames.splice(0), seen: p.seen.splice(0) };
});

/** Inbound video and transport figures of the viewer's peer connection. */
const viewerStats = (page) => page.evaluate(async () => {
  const pc = window.acote?.pc;
  if (!pc) return null;
  const out = {};
  for (const r of (await pc.getStats()).values()) {
    if (r.type === 'inbound-rtp' && r.kind === 'video') {
      Object.assign(out, { framesDecoded: r.framesDecoded, qpSum: r.qpSum, packetsLost: r.packetsLost,
        packetsReceived: r.packetsReceived, freezeCount: r.freezeCount, pliCount: r.pliCount,
        nackCount: r.nackCount, keyFramesDecoded: r.keyFramesDecoded, bytesReceived: r.bytesReceived,
        framesReceived: r.framesReceived, jitterBufferDelay: r.jitterBufferDelay, jitterBufferTargetDelay: r.jitterBufferTargetDelay,
        jitterBufferEmittedCount: r.jitterBufferEmittedCount, totalDecodeTime: r.totalDecodeTime });
    }
    if (r.type === 'transport') Object.assign(out, { transportBytesReceived: r.bytesReceived, transportBytesSent: r.bytesSent });
  }
  return out;
});

// ---------------------------------------------------------------------------------------
// Scenarios: what the resident's browser does

const TYPED = [
  ['#nom', 'Haidari'], ['#prenom', 'Mariam'], ['#naissance', '14/03/1987'], ['#nationalite', 'afghane'],
  ['#adresse', 'Centre d\'hébergement Les Lilas, 12 rue des Écoles'], ['#cp', '69007'], ['#commune', 'Lyon'],
  ['#commentaire', 'Je suis hébergée avec mes deux enfants depuis le mois de mars et je cherche un logement.'],
];

async function prepare(resident, scenario) {
  const page = resident.page;
  const file = { static: 'docs/demo/form.html', typing: 'docs/demo/form.html', scrolling: 'tests/bench/pages/article.html',
    video: 'tests/bench/pages/video.html', file: 'docs/demo/form.html' }[scenario];
  await page.goto(`file://${path.join(REPO, file)}`, { waitUntil: 'load' });
  if (scenario === 'typing') await page.click('#nom');
}

/** Acts for `ms` milliseconds: types at 5 characters a second, scrolls by wheel notches, or
 * lets the page be. */
async function act(resident, scenario, ms) {
  const page = resident.page;
  const end = Date.now() + ms;
  if (scenario === 'typing') {
    for (let f = 0; Date.now() < end; f = (f + 1) % TYPED.length) {
      const [field, text] = TYPED[f];
      await page.click(field);
      for (const ch of text) {
        if (Date.now() >= end) break;
        await page.keyboard.type(ch);
        await sleep(200);
      }
    }
  } else if (scenario === 'scrolling') {
    let down = true;
    while (Date.now() < end) {
      await page.mouse.wheel(0, down ? 120 : -120);
      await sleep(250);
      const atEnd = await page.evaluate((d) => (d ? window.scrollY + window.innerHeight >= document.body.scrollHeight - 2 : window.scrollY <= 0), down);
      if (atEnd) down = !down;
    }
  } else {
    await sleep(Math.max(0, end - Date.now()));
  }
  if (scenario === 'video') await page.evaluate(() => window.benchPause?.());
}

/** Grabs the viewer until two grabs a second apart are the same file (at most 8 s); returns the last. */
async function grabSettled(grabViewer, dir) {
  let previous = null;
  for (let i = 0; ; i++) {
    const file = path.join(dir, `viewer-${i % 2}.png`);
    await grabViewer(file);
    const bytes = await readFile(file);
    if ((previous && bytes.equals(previous)) || i >= 8) return file;
    previous = bytes;
    await sleep(1000);
  }
}

// ---------------------------------------------------------------------------------------
// One measured window of one scenario, for either tool

async function measureWindow({ h, xvfb, resident, link, scenario, seconds, pid, drain, settle, grabViewer,
  ticks = () => cpuTicks(pid) }) {
  await prepare(resident, scenario);
  await sleep(1500); // the page's own load is not what is measured
  await drain(); // forget frames seen so far
  const painter = startPainter(h, xvfb.display, MARKER_EVERY_MS[scenario]);
  const t0 = Date.now();
  const [link0, cpu0] = await Promise.all([link.stats(), ticks()]);
  await act(resident, scenario, seconds * 1000);
  const [link1, cpu1, rss] = await Promise.all([link.stats(), ticks(), rssMiB(pid)]);
  const t1 = Date.now();
  const paints = await painter.stop();
  await sleep(settle); // late frames of the last changes still count for latency
  const { frames, seen } = await drain();
  const dur = (t1 - t0) / 1000;
  const up = link1.up.bytes - link0.up.bytes;
  const down = link1.down.bytes - link0.down.bytes;
  const lat = latencies(paints.filter((p) => p.t <= t1), seen);
  const inWindow = frames.filter((t) => t >= t0 && t <= t1);
  // A freeze: over 500 ms without a new picture while the screen changes. A static desktop
  // changes only with the marker, so there it is a marker change shown over 500 ms late.
  let freezes = 0;
  if (scenario === 'static') {
    freezes = lat.overHalfSecond;
  } else {
    let prev = t0;
    for (const t of [...inWindow, t1]) { if (t - prev > FREEZE_MS) freezes++; prev = t; }
  }
  // Sharpness: the still screen after the scenario, and what the viewer ends up showing of
  // it. A loaded machine or a lost keyframe can delay the last picture by seconds: the
  // viewer is grabbed until two grabs a second apart are the same (at most 8 s), so what
  // is measured is the picture the caseworker is left with, not how late it came.
  await sleep(1000);
  const dir = path.join(h.dir, 'shots');
  await mkdir(dir, { recursive: true });
  const a = path.join(dir, 'screen.png');
  let sharpness = null;
  try {
    await grabScreen(xvfb.display, a);
    const b = await grabSettled(grabViewer, dir);
    sharpness = await psnr(a, b);
  } catch (err) { log(`sharpness not measured: ${err.message.split('\n')[0]}`); }
  return {
    scenario, seconds: round(dur, 2),
    latency_ms: lat,
    fps: round(inWindow.length / dur),
    freezes_over_500ms: freezes,
    wire: {
      up_kbit_s: round(up * 8 / 1000 / dur), down_kbit_s: round(down * 8 / 1000 / dur),
      total_kbit_s: round((up + down) * 8 / 1000 / dur), mb_per_10_min: round((up + down) * 600 / dur / 1e6, 2),
      lost_packets: (link1.up.lost - link0.up.lost) + (link1.down.lost - link0.down.lost),
      queue_drops: (link1.up.queue_full - link0.up.queue_full) + (link1.down.queue_full - link0.down.queue_full),
      by_kind_kbit_s: byKind(link0, link1, dur),
    },
    cpu_percent_of_one_core: round((cpu1 - cpu0) / CLK_TCK / dur * 100),
    rss_mib: rss,
    psnr_db: sharpness === Infinity ? 'identical' : round(sharpness),
  };
}

// ---------------------------------------------------------------------------------------
// A file through the viewer's Files panel (Acote only)

const OFFERED_LINE = /^file offered: (.+), (\d+) bytes\s*$/;
/** The end of a transfer on the console agent: saved (with where), or ended otherwise. */
const FILE_END_LINE = /^file (?:saved: (.+?)|ended: (.+), ([a-z_]+))\s*$/;
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** Where the bytes went between two readings, in kbit/s per kind of packet and direction
 * (the link reads each packet's first bytes: STUN, DTLS with the data channel, RTP media,
 * RTCP, TCP), e.g. { rtp: { up: 6.1, down: 0 }, rtcp: { up: 0.9, down: 1.2 }, ... }. */
function byKind(l0, l1, dur) {
  const out = {};
  for (const kind of Object.keys(l1.up.bytes_by_kind || {})) {
    const d = (side) => (l1[side].bytes_by_kind[kind] - l0[side].bytes_by_kind[kind]) * 8 / 1000 / dur;
    const [up, down] = [round(d('up')), round(d('down'))];
    if (up || down) out[kind] = { up, down };
  }
  return out;
}

/** Link counters between two readings: bytes each way, lost and dropped packets. */
function linkDelta(l0, l1) {
  const up = l1.up.bytes - l0.up.bytes;
  const down = l1.down.bytes - l0.down.bytes;
  return {
    up, down, total: up + down, downPackets: l1.down.packets - l0.down.packets,
    lost: (l1.up.lost - l0.up.lost) + (l1.down.lost - l0.down.lost),
    queueFull: (l1.up.queue_full - l0.up.queue_full) + (l1.down.queue_full - l0.down.queue_full),
  };
}

/** The `file` scenario: the still form with the marker every 250 ms; first `seconds` of it
 * as it is (the picture's own figures, to compare with), then the caseworker sends a
 * FILE_BYTES file with the Files panel and the resident saves it. The measured window is
 * the transfer, from the pick to the agent's `file saved:` line. */
async function measureFile({ h, xvfb, resident, link, viewer, agent, run, seconds, drain, settle }) {
  const page = viewer.page;
  await prepare(resident, 'file');
  // The panel open and "Send a file…" usable (the data channel is up), before anything
  // is measured: opening it is not what is measured.
  await page.waitForFunction(() => window.acote?.channel?.readyState === 'open', null, { timeout: 30_000 });
  if ((await page.locator('#files-toggle').getAttribute('aria-expanded')) !== 'true') await page.locator('#files-toggle').click();
  await page.locator('#files-pick:enabled').waitFor({ state: 'visible', timeout: 10_000 });
  const hint = (await page.locator('#files-hint').textContent()).replace(/\s/g, ' ');
  const bytes = randomBytes(FILE_BYTES);
  const name = `bench-${run.profile}-${randomBytes(3).toString('hex')}.bin`;
  const file = path.join(h.dir, name);
  await writeFile(file, bytes);
  const sentSha = sha256(bytes);
  await sleep(1500); // the page's own load is not what is measured
  await drain();
  const painter = startPainter(h, xvfb.display, MARKER_EVERY_MS.file);
  const tb0 = Date.now();
  const [lb0, cb0, vb0] = await Promise.all([link.stats(), cpuTicks(agent.child.pid), viewerStats(page)]);
  await sleep(seconds * 1000);

  // The pick: the caseworker chooses the file in the chooser "Send a file…" opened. The
  // page reads and hashes it, offers it; the resident says `save` at once.
  const [chooser] = await Promise.all([page.waitForEvent('filechooser', { timeout: 10_000 }), page.locator('#files-pick').click()]);
  const [l0, c0, v0] = await Promise.all([link.stats(), cpuTicks(agent.child.pid), viewerStats(page)]);
  const tb1 = Date.now();
  const t0 = Date.now();
  await chooser.setFiles(file);
  const rate = PROFILES[run.profile].rate_kbit * 1000;
  // Generous: 4 times the file at the link's rate with base64 and headers, 2 minutes at least.
  const limitMs = Math.max(120_000, rate ? Math.round(4 * FILE_BYTES * 8 * 1.5 / rate * 1000) : 0);
  const out = { bytes: FILE_BYTES, name, viewer_hint: hint, sha256_sent: sentSha, status: null };
  let t1 = null; let tOffer = null; let l1 = null; let c1 = null; let rss = null;
  try {
    const offered = await agent.lineWithin(OFFERED_LINE, 60_000);
    if (!offered) {
      const refusal = await page.locator('#files-error').textContent().catch(() => '');
      throw new Error(`the agent was not offered the file within 60 s${refusal ? ` (the viewer says: ${refusal})` : ''}`);
    }
    tOffer = Date.now();
    if (Number(offered[2]) !== FILE_BYTES) throw new Error(`offered ${offered[2]} bytes, not ${FILE_BYTES}`);
    agent.write('save\n');
    const end = await agent.nextLine(FILE_END_LINE, limitMs);
    t1 = Date.now();
    [l1, c1, rss] = await Promise.all([link.stats(), cpuTicks(agent.child.pid), rssMiB(agent.child.pid)]);
    if (end[1]) {
      const saved = await readFile(end[1]);
      out.status = 'saved';
      out.saved_bytes = saved.length;
      out.sha256_saved = sha256(saved);
      out.same_sha256 = out.sha256_saved === sentSha;
      await rm(end[1], { force: true }); // 10 MB less in the agent's Downloads
    } else {
      out.status = `ended: ${end[3]}`;
    }
    // When the caseworker reads that the resident saved it (the viewer's list).
    const seen = await page.waitForFunction((n) => [...document.querySelectorAll('#files-list .file-item')]
      .some((li) => li.querySelector('.file-name')?.textContent === n && li.dataset.phase === 'ended'), name,
    { timeout: 30_000, polling: 20 }).then(() => Date.now(), () => null);
    out.pick_to_viewer_says_ended_s = seen && round((seen - t0) / 1000, 2);
  } catch (err) {
    out.status = `failed: ${err.message.split('\n')[0]}`;
    log(`file not sent: ${err.message.split('\n')[0]}`);
  }
  if (!t1) {
    t1 = Date.now();
    [l1, c1, rss] = await Promise.all([link.stats(), cpuTicks(agent.child.pid), rssMiB(agent.child.pid)]);
  }
  const v1 = await viewerStats(page);
  const paints = await painter.stop();
  await sleep(settle); // late frames of the last changes still count for latency
  const { frames, seen } = await drain();
  // Close the panel again for the scenarios after this one.
  if ((await page.locator('#files-toggle').getAttribute('aria-expanded')) === 'true') await page.locator('#files-toggle').click();
  await rm(file, { force: true });

  const dur = (t1 - t0) / 1000;
  const durB = (tb1 - tb0) / 1000;
  const w = linkDelta(l0, l1);
  const wb = linkDelta(lb0, l0);
  const lat = latencies(paints.filter((p) => p.t >= t0 && p.t <= t1), seen);
  const latB = latencies(paints.filter((p) => p.t >= tb0 && p.t < tb1), seen);
  // Glass-to-glass by 5-second slice, from the pick (negative: before it).
  const timeline = [];
  for (let from = -Math.ceil(durB / 5) * 5; from < dur; from += 5) {
    const a = t0 + from * 1000;
    const l = latencies(paints.filter((p) => p.t >= Math.max(a, tb0) && p.t < Math.min(a + 5000, t1)), seen);
    if (l.samples) timeline.push({ from_s: from, p50: l.p50, p95: l.p95, samples: l.samples });
  }
  const fpsIn = (a, b) => round(frames.filter((t) => t >= a && t <= b).length / ((b - a) / 1000));
  if (out.status === 'saved') {
    Object.assign(out, {
      pick_to_offered_s: round((tOffer - t0) / 1000, 2),
      offered_to_saved_s: round((t1 - tOffer) / 1000, 2),
      pick_to_saved_s: round(dur, 2),
      throughput_mbit_s: round(FILE_BYTES * 8 / dur / 1e6, 2),
    });
  }
  // The wire over the transfer: towards the resident is the file itself (the picture goes
  // the other way); both ways adds the acknowledgements and the picture.
  out.wire = {
    to_resident_mb: round(w.down / 1e6, 2), from_resident_mb: round(w.up / 1e6, 2), total_mb: round(w.total / 1e6, 2),
    to_resident_per_file_byte: round(w.down / FILE_BYTES, 3),
    to_resident_packets: w.downPackets, to_resident_mean_packet_bytes: w.downPackets ? Math.round(w.down / w.downPackets) : null,
    total_per_file_byte: round(w.total / FILE_BYTES, 3),
    // Less what the same screen cost just before (its bytes a second over the transfer).
    total_less_picture_per_file_byte: round((w.total - (wb.total / durB) * dur) / FILE_BYTES, 3),
    lost_packets: w.lost, queue_drops: w.queueFull,
  };
  out.latency_timeline_ms = timeline;
  // Where a late picture waited in the viewer: WebRTC's jitter buffer (average per frame
  // and its target), before the pick and during the transfer.
  const jb = (a, b) => {
    const n = (b?.jitterBufferEmittedCount ?? 0) - (a?.jitterBufferEmittedCount ?? 0);
    return n > 0 ? { frames: n, delay_ms: round((b.jitterBufferDelay - a.jitterBufferDelay) * 1000 / n),
      target_ms: round((b.jitterBufferTargetDelay - a.jitterBufferTargetDelay) * 1000 / n) } : null;
  };
  out.viewer_jitter_buffer = { before: jb(vb0, v0), during: jb(v0, v1) };
  out.before = {
    seconds: round(durB, 2), latency_ms: latB, fps: fpsIn(tb0, tb1),
    total_kbit_s: round(wb.total * 8 / 1000 / durB), cpu_percent_of_one_core: round((c0 - cb0) / CLK_TCK / durB * 100),
  };
  return {
    scenario: 'file', seconds: round(dur, 2),
    latency_ms: lat,
    fps: fpsIn(t0, t1),
    // The screen changes only with the marker: a freeze is a change shown over 500 ms late.
    freezes_over_500ms: lat.overHalfSecond,
    wire: {
      up_kbit_s: round(w.up * 8 / 1000 / dur), down_kbit_s: round(w.down * 8 / 1000 / dur),
      total_kbit_s: round(w.total * 8 / 1000 / dur), mb_per_10_min: round(w.total * 600 / dur / 1e6, 2),
      lost_packets: w.lost, queue_drops: w.queueFull,
    },
    cpu_percent_of_one_core: round((c1 - c0) / CLK_TCK / dur * 100),
    rss_mib: rss,
    psnr_db: null, // the same still form as `static`: not measured again
    file: out,
  };
}

/** The `voice` scenario: the still form, first without a call (what the screen costs),
 * then with a voice call both ways (the resident's microphone plays a pulsed tone, the
 * caseworker's fake microphone another). What the call adds on the wire, each way, and
 * how its sound arrived. */
async function measureVoice(args) {
  const { viewer, agent, sound } = args;
  const page = viewer.page;
  const before = await measureWindow({ ...args, scenario: 'static' });
  await page.waitForFunction(() => window.acote?.channel?.readyState === 'open', null, { timeout: 30_000 });
  await page.locator('#voice-talk:enabled').click({ timeout: 10_000 });
  await agent.nextLine(QUESTION_LINE, 30_000);
  agent.write('y\n');
  await agent.nextLine(/^voice on$/, 30_000);
  await page.waitForFunction(() => window.acote.voice?.micAttached, null, { timeout: 30_000 });
  await sleep(2000); // the call's start is not what is measured
  const a0 = await audioStats(viewer);
  const during = await measureWindow({ ...args, scenario: 'static' });
  const a1 = await audioStats(viewer);
  const speakersRms = Math.round(sound.speakers(2000));
  await page.locator('#voice-hangup').click({ timeout: 10_000 });
  await agent.nextLine(/^voice off$/, 30_000);
  const d = (k) => a1[k] - a0[k];
  const frames = d('emitted');
  const add = (k) => round(during.wire[k] - before.wire[k]);
  return {
    ...during,
    scenario: 'voice',
    voice: {
      opus_kbit_s: 24,
      added_kbit_s: { from_resident: add('up_kbit_s'), to_resident: add('down_kbit_s'), total: add('total_kbit_s') },
      mb_per_10_min_added: round(((during.wire.total_kbit_s - before.wire.total_kbit_s) * 1000 / 8) * 600 / 1e6, 2),
      without_call: { total_kbit_s: before.wire.total_kbit_s, cpu_percent_of_one_core: before.cpu_percent_of_one_core },
      agent_cpu_added_percent: round(during.cpu_percent_of_one_core - before.cpu_percent_of_one_core),
      // The resident's voice as the caseworker's browser received it.
      from_resident: {
        packets: d('received'), lost: d('lost'),
        concealed_percent: d('samples') ? round((d('concealed') / d('samples')) * 100, 2) : null,
        jitter_buffer_ms: frames ? round((d('jitterDelay') / frames) * 1000) : null,
        energy_per_s: round(d('energy') / Math.max(d('duration'), 1e-9), 5),
        payload_kbit_s: round(d('receivedBytes') * 8 / 1000 / during.seconds),
      },
      // The caseworker's voice, as sent and as the resident's speakers played it.
      to_resident: {
        packets_sent: d('sent'), payload_kbit_s: round(d('sentBytes') * 8 / 1000 / during.seconds),
        speakers_rms_16bit: speakersRms,
      },
    },
  };
}

function voiceLine(m) {
  const v = m.voice;
  return `+${v.added_kbit_s.total} kbit/s both ways (${v.added_kbit_s.from_resident} from, ${v.added_kbit_s.to_resident} to the resident; ` +
    `+${v.mb_per_10_min_added} MB/10 min), agent CPU +${v.agent_cpu_added_percent} %; from the resident ` +
    `${v.from_resident.packets} packets, ${v.from_resident.lost} lost, ${v.from_resident.concealed_percent} % concealed, ` +
    `jitter buffer ${v.from_resident.jitter_buffer_ms} ms; to the resident ${v.to_resident.packets_sent} packets, ` +
    `speakers RMS ${v.to_resident.speakers_rms_16bit}`;
}

// ---------------------------------------------------------------------------------------
// Acote and VNC sessions

async function acoteSession(h, ctx, run, seconds) {
  const { xvfb, relay, viewer, resident } = ctx;
  const link = await startLink(h, run.profile);
  const agent = await startAgent(h, { ...relay }, xvfb, { netns: NETNS, url: relay.agentUrl,
    logLevel: process.env.ACOTE_BENCH_AGENT_LOG || 'warn', env: ctx.sound?.agentEnv ?? {} });
  try {
    const code = await agent.nextCode(20_000);
    // The caseworker's "low data" box, kept per browser: set before the page starts.
    await viewer.page.evaluate((on) => {
      if (on) localStorage.setItem('acote.lowData', '1'); else localStorage.removeItem('acote.lowData');
    }, Boolean(run.lowData));
    await viewer.page.goto(relay.url, { waitUntil: 'load' });
    await viewer.waitForState('enter-code');
    await installProbe(viewer.page);
    await viewer.connect(code.spaced);
    await agent.nextLine(QUESTION_LINE, 30_000);
    const yes = Date.now();
    agent.write('y\n');
    await viewer.page.waitForFunction(() => window.__probe.first !== null, null, { timeout: 60_000, polling: 20 });
    const first = await viewer.page.evaluate(() => window.__probe.first);
    const firstFrameMs = round(first - yes);
    log(`${run.profile} ${run.width}x${run.height}: first frame ${firstFrameMs} ms after yes`);
    const grabViewer = (file) => grabVideo(viewer.page, file);
    const scenarios = [];
    for (const scenario of run.scenarios) {
      const windowArgs = { h, xvfb, resident, link, scenario, seconds, pid: agent.child.pid,
        drain: () => drainProbe(viewer.page), settle: 1500, grabViewer };
      let m;
      if (scenario === 'file') {
        m = await measureFile({ h, xvfb, resident, link, viewer, agent, run, seconds, drain: () => drainProbe(viewer.page), settle: 1500 });
      } else if (scenario === 'voice') {
        m = await measureVoice({ ...windowArgs, viewer, agent, sound: ctx.sound });
      } else {
        m = await measureWindow(windowArgs);
      }
      m.viewer = await viewerStats(viewer.page);
      scenarios.push(m);
      log(`acote ${run.profile} ${run.width}x${run.height} ${scenario}: ${summaryLine(m)}`);
      if (m.file) log(`acote ${run.profile} ${run.width}x${run.height} file: ${fileLine(m)}`);
      if (m.voice) log(`acote ${run.profile} ${run.width}x${run.height} voice: ${voiceLine(m)}`);
    }
    await viewer.endSession().catch(() => {});
    return { first_frame_ms: firstFrameMs, scenarios };
  } finally {
    await agent.kill();
    if (process.env.ACOTE_BENCH_AGENT_LOG) await writeFile('/tmp/agent-bench.log', agent.stderr);
    await link.stop();
  }
}

async function vncSession(h, ctx, run, seconds) {
  const { xvfb, resident, vncScreen } = ctx;
  // Nothing to compare the file with: the entry says so, at the file's place in the list.
  const skipped = { file: { scenario: 'file', skipped: VNC_NO_FILE }, voice: { scenario: 'voice', skipped: VNC_NO_VOICE } };
  if (run.scenarios.every((s) => skipped[s])) return { scenarios: run.scenarios.map((s) => skipped[s]) };
  const link = await startLink(h, run.profile);
  const server = h.spawn('x11vnc', 'ip', ['netns', 'exec', NETNS, 'x11vnc', '-display', xvfb.display, '-rfbport', '5900',
    '-forever', '-shared', '-nopw', '-quiet', '-norc'], { env: { ...process.env, DISPLAY: xvfb.display } });
  let client = null; let watcher = null;
  try {
    await waitForPort(5900);
    client = h.spawn('vncviewer', 'xtigervncviewer', ['-FullScreen', '-SecurityTypes', 'None', '-Shared',
      `${AGENT_IP}::5900`], { env: { ...process.env, DISPLAY: vncScreen.display } });
    watcher = h.spawn('watch', bench, ['marker', 'watch', '--display', vncScreen.display, '--every-ms', '2'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    await sleep(3000); // connected and the first full picture drawn
    let cursor = 0;
    const drain = async () => {
      const lines = watcher.lines.slice(cursor);
      cursor = watcher.lines.length;
      const seen = lines.map((l) => /^seen (\d+) (\d+)$/.exec(l)).filter(Boolean).map((m) => ({ seq: Number(m[1]), t: Number(m[2]) / 1000 }));
      return { frames: [], seen };
    };
    const scenarios = [];
    for (const scenario of run.scenarios) {
      if (skipped[scenario]) {
        scenarios.push(skipped[scenario]);
        continue;
      }
      const m = await measureWindow({ h, xvfb, resident, link, scenario, seconds, pid: server.child.pid, drain,
        settle: 1500, grabViewer: (file) => grabScreen(vncScreen.display, file) });
      m.fps = null; // not observable from outside TigerVNC's viewer
      m.freezes_over_500ms = null;
      scenarios.push(m);
      log(`x11vnc ${run.profile} ${run.width}x${run.height} ${scenario}: ${summaryLine(m)}`);
    }
    return { scenarios };
  } finally {
    if (watcher) await watcher.kill(500);
    if (client) await client.kill(1000);
    await server.kill(1000);
    await link.stop();
  }
}

/** The same screen shared by Chromium itself, the issue's second anchor: a second Chromium,
 * headful on the resident's X screen and in the agent's network namespace (its own window
 * off the screen), shares the whole screen with getDisplayMedia (content hint "detail", as
 * screen sharing in Google Meet) over WebRTC to a page of the caseworker's Chromium, across
 * the same emulated link. libwebrtc picks its codec (VP8 first in Chromium's offer) and
 * its own congestion control (transport-cc). Figures as for Acote; CPU is the sharing
 * browser's, every process of it. */
async function chromiumSession(h, ctx, run, seconds) {
  const { xvfb, resident, viewer } = ctx;
  const skipped = { file: { scenario: 'file', skipped: CHROMIUM_NO_FILE }, voice: { scenario: 'voice', skipped: CHROMIUM_NO_VOICE } };
  if (run.scenarios.every((s) => skipped[s])) return { scenarios: run.scenarios.map((s) => skipped[s]) };
  const link = await startLink(h, run.profile);
  const wrapper = path.join(h.dir, 'chromium-in-bench-netns.sh');
  await writeFile(wrapper, `#!/bin/sh\nexec ip netns exec ${NETNS} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  const pages = path.join(h.dir, 'anchor');
  await mkdir(pages, { recursive: true });
  await writeFile(path.join(pages, 'share.html'), '<!doctype html><title>share</title>\n');
  await writeFile(path.join(pages, 'watch.html'), '<!doctype html><title>watch</title><body style="margin:0">' +
    '<video id="screen" autoplay muted playsinline></video>\n');
  const { chromium } = await import('playwright-core');
  const profile = path.join(h.dir, `sharer-${run.profile}-${Date.now()}`);
  const sharer = await chromium.launchPersistentContext(profile, {
    executablePath: wrapper,
    headless: false,
    args: [...CHROMIUM_ARGS, '--test-type', '--window-position=-3000,-3000', '--window-size=320,240',
      '--auto-select-desktop-capture-source=Entire screen',
      '--disable-features=WebRtcHideLocalIpsWithMdns'],
    env: { ...process.env, DISPLAY: xvfb.display },
    timeout: 30_000,
  });
  let watch = null;
  try {
    const share = sharer.pages()[0] ?? await sharer.newPage();
    await share.goto(`file://${path.join(pages, 'share.html')}`);
    const offer = await share.evaluate(async ({ width, height }) => {
      const stream = await navigator.mediaDevices.getDisplayMedia({ video: { width, height, frameRate: 30 }, audio: false });
      const [track] = stream.getVideoTracks();
      track.contentHint = 'detail';
      const pc = new RTCPeerConnection();
      window.anchor = { pc, track };
      pc.addTrack(track, stream);
      await pc.setLocalDescription();
      await new Promise((resolve) => {
        if (pc.iceGatheringState === 'complete') resolve();
        pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
      });
      return pc.localDescription.toJSON();
    }, { width: run.width, height: run.height });
    watch = await viewer.page.context().newPage();
    await watch.goto(`file://${path.join(pages, 'watch.html')}`);
    const answer = await watch.evaluate(async (offer) => {
      const pc = new RTCPeerConnection();
      // Where the bench's viewerStats looks.
      window.acote = { pc };
      pc.addEventListener('track', (e) => {
        const video = document.getElementById('screen');
        video.srcObject = e.streams[0] ?? new MediaStream([e.track]);
        video.play().catch(() => {});
      });
      await pc.setRemoteDescription(offer);
      await pc.setLocalDescription();
      await new Promise((resolve) => {
        if (pc.iceGatheringState === 'complete') resolve();
        pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
      });
      return pc.localDescription.toJSON();
    }, offer);
    await share.evaluate((answer) => window.anchor.pc.setRemoteDescription(answer), answer);
    const t0 = Date.now();
    await watch.waitForFunction(() => document.getElementById('screen').videoWidth > 0, null, { timeout: 60_000 });
    const firstFrameMs = Date.now() - t0;
    const codec = await watch.evaluate(async () => {
      for (const r of (await window.acote.pc.getStats()).values()) if (r.type === 'codec') return r.mimeType;
      return null;
    });
    log(`chromium ${run.profile} ${run.width}x${run.height}: sharing, first picture ${firstFrameMs} ms after the answer, ${codec}`);
    await installProbe(watch);
    const root = sharerPid(profile);
    const grabViewer = (file) => grabVideo(watch, file);
    const scenarios = [];
    for (const scenario of run.scenarios) {
      if (skipped[scenario]) {
        scenarios.push(skipped[scenario]);
        continue;
      }
      const m = await measureWindow({ h, xvfb, resident, link, scenario, seconds, pid: root,
        ticks: () => cpuTicksTree(root), drain: () => drainProbe(watch), settle: 1500, grabViewer });
      m.viewer = await viewerStats(watch);
      scenarios.push(m);
      log(`chromium ${run.profile} ${run.width}x${run.height} ${scenario}: ${summaryLine(m)}`);
    }
    return { codec, first_picture_ms: firstFrameMs, scenarios };
  } finally {
    if (watch) await watch.close().catch(() => {});
    await sharer.close().catch(() => {});
    await link.stop();
  }
}

/** The main process of the browser using `profile` (the wrapper's pid is `ip`'s, which
 * execs it, but Playwright does not tell it for a persistent context). */
function sharerPid(profile) {
  const found = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (cmd.includes(`--user-data-dir=${profile}`) && !cmd.some((a) => a.startsWith('--type='))) found.push(Number(name));
    } catch { /* gone meanwhile */ }
  }
  if (!found.length) throw new Error(`no browser process for ${profile}`);
  return Math.min(...found);
}

async function waitForPort(port) {
  for (let i = 0; i < 100; i++) {
    try {
      await sh('ip', 'netns', 'exec', NETNS, 'bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`);
      return;
    } catch { await sleep(100); }
  }
  throw new Error(`x11vnc did not listen on port ${port} within 10 s`);
}

// ---------------------------------------------------------------------------------------
// Report

function summaryLine(m) {
  const l = m.latency_ms;
  return `g2g p50 ${l.p50} p95 ${l.p95} max ${l.max} ms (${l.samples} samples, ${l.unseen} unseen), ` +
    `${m.fps ?? '–'} fps, ${m.wire.total_kbit_s} kbit/s (${m.wire.mb_per_10_min} MB/10 min), ` +
    `CPU ${m.cpu_percent_of_one_core} %, RSS ${m.rss_mib} MiB, PSNR ${m.psnr_db ?? '–'} dB`;
}

function fileLine(m) {
  const f = m.file;
  if (f.status !== 'saved') return `${f.status}`;
  const b = f.before.latency_ms;
  return `${f.bytes / 1e6} MB saved ${f.pick_to_saved_s} s after the pick (offered after ${f.pick_to_offered_s} s), ` +
    `${f.throughput_mbit_s} Mbit/s, wire ${f.wire.to_resident_mb} MB to the resident (${f.wire.to_resident_per_file_byte}× the file), ` +
    `${f.wire.total_mb} MB both ways (${f.wire.total_per_file_byte}×), same SHA-256: ${f.same_sha256 ? 'yes' : 'NO'}; ` +
    `g2g p50/p95 ${m.latency_ms.p50}/${m.latency_ms.p95} ms during, ${b.p50}/${b.p95} ms before`;
}

/** The `file` scenarios of a run, as a table of their own (Acote only). */
function fileTable(result) {
  const rows = [];
  for (const r of result.runs) {
    for (const a of r.acote.scenarios) {
      if (a.scenario !== 'file' || !a.file) continue;
      const f = a.file;
      const b = f.before;
      const same = f.status === 'saved' ? (f.same_sha256 ? 'yes' : '**no**') : f.status;
      rows.push(`| ${r.width}×${r.height} | ${r.profile}${r.low_data ? ' (low data)' : ''} | ${f.bytes / 1e6} MB | ` +
        `${f.pick_to_offered_s ?? '–'} | ${f.pick_to_saved_s ?? '–'} | ${f.pick_to_viewer_says_ended_s ?? '–'} | ${f.throughput_mbit_s ?? '–'} | ` +
        `${f.wire.to_resident_mb} / ${f.wire.total_mb} | ${f.wire.to_resident_per_file_byte} / ${f.wire.total_per_file_byte} / ${f.wire.total_less_picture_per_file_byte} | ` +
        `${f.wire.lost_packets} | ${same} | ${b.latency_ms.p50}/${b.latency_ms.p95} (${b.latency_ms.samples}) | ` +
        `${a.latency_ms.p50}/${a.latency_ms.p95}/${a.latency_ms.max} (${a.latency_ms.samples}, ${a.latency_ms.unseen} unseen) | ` +
        `${b.fps} / ${a.fps ?? '–'} | ${b.cpu_percent_of_one_core} / ${a.cpu_percent_of_one_core} |`);
    }
  }
  if (!rows.length) return '';
  return `**A file sent through the Files panel** (caseworker → resident, who saves it at once; Acote only: ${VNC_NO_FILE}). ` +
    'Seconds from the pick; wire in MB over the transfer, to the resident / both ways, and ÷ the file\'s size ' +
    '(to the resident / both ways / both ways less what the screen cost just before); glass-to-glass of the marker ' +
    '(every 250 ms) just before the pick and during the transfer.\n\n' +
    '| size | network | file | offered s | saved s | viewer says saved s | Mbit/s | wire MB | wire ÷ file | lost packets | same SHA-256 | g2g p50/p95 before ms | g2g p50/p95/max during ms | fps before / during | agent CPU % before / during |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n' +
    `${rows.join('\n')}\n\n`;
}

function ratio(a, b) {
  if (a === null || b === null || a === undefined || b === undefined || b === 0) return null;
  return round(a / b, 2);
}

function summarise(result) {
  const rows = [
    '| size | network | scenario | first frame ms | g2g p50/p95/max ms | fps | freezes | kbit/s | MB/10 min | agent CPU % | RSS MiB | PSNR dB | x11vnc kbit/s | x11vnc g2g p50/p95 | x11vnc CPU % | x11vnc PSNR | bytes acote/vnc | p50 acote/vnc |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of result.runs) {
    for (const [i, a] of r.acote.scenarios.entries()) {
      const v = r.x11vnc?.scenarios[i]?.skipped ? null : r.x11vnc?.scenarios[i];
      rows.push(`| ${r.width}×${r.height} | ${r.profile}${r.low_data ? ' (low data)' : ''} | ${a.scenario} | ${i === 0 ? r.acote.first_frame_ms : ''} | ` +
        `${a.latency_ms.p50}/${a.latency_ms.p95}/${a.latency_ms.max} | ${a.fps ?? '–'} | ${a.freezes_over_500ms ?? '–'} | ` +
        `${a.wire.total_kbit_s} | ${a.wire.mb_per_10_min} | ${a.cpu_percent_of_one_core} | ${a.rss_mib} | ${a.psnr_db ?? '–'} | ` +
        (v ? `${v.wire.total_kbit_s} | ${v.latency_ms.p50}/${v.latency_ms.p95} | ${v.cpu_percent_of_one_core} | ${v.psnr_db} | ` +
          `${ratio(a.wire.total_kbit_s, v.wire.total_kbit_s)} | ${ratio(a.latency_ms.p50, v.latency_ms.p50)} |`
          : '– | – | – | – | – | – |'));
    }
  }
  return `${rows.join('\n')}\n\n${stillTable(result)}${chromiumTable(result)}${fileTable(result)}${voiceTable(result)}${targets(result)}`;
}

/** Where a still screen's bytes go, per kind of packet, for each tool (issue 20: a still
 * screen's fixed costs). */
function stillTable(result) {
  const KINDS = ['rtp', 'rtcp', 'stun', 'dtls', 'tcp', 'other'];
  const rows = [];
  for (const r of result.runs) {
    for (const [tool, side] of [['Acote', r.acote], ['x11vnc', r.x11vnc], ['Chromium', r.chromium]]) {
      const m = side?.scenarios.find((x) => x.scenario === 'static' && !x.skipped);
      const kinds = m?.wire.by_kind_kbit_s;
      if (!kinds) continue;
      const cell = (k) => (kinds[k] ? `${kinds[k].up} / ${kinds[k].down}` : '–');
      rows.push(`| ${r.width}×${r.height} | ${r.profile} | ${tool} | ${m.wire.total_kbit_s} | ${KINDS.map(cell).join(' | ')} |`);
    }
  }
  if (!rows.length) return '';
  return '**Where a still screen\'s bytes go** (kbit/s from / to the resident, per kind of packet as the link reads ' +
    'them: RTP media, RTCP reports and feedback, STUN (ICE checks), DTLS (the data channel), TCP (signalling, or VNC)).\n\n' +
    `| size | network | tool | kbit/s | ${KINDS.join(' | ')} |\n|---|---|---|---|${KINDS.map(() => '---|').join('')}\n${rows.join('\n')}\n\n`;
}

/** Acote beside Chromium's own screen sharing (the same screen, scenario and link). */
function chromiumTable(result) {
  const rows = [];
  for (const r of result.runs) {
    if (!r.chromium) continue;
    for (const a of r.acote.scenarios) {
      const c = r.chromium.scenarios.find((x) => x.scenario === a.scenario && !x.skipped);
      if (!c) continue;
      rows.push(`| ${r.width}×${r.height} | ${r.profile} | ${a.scenario} | ${c.wire.total_kbit_s} | ${c.latency_ms.p50}/${c.latency_ms.p95}/${c.latency_ms.max} | ` +
        `${c.fps ?? '–'} | ${c.freezes_over_500ms ?? '–'} | ${c.psnr_db ?? '–'} | ${c.cpu_percent_of_one_core} | ` +
        `${ratio(a.wire.total_kbit_s, c.wire.total_kbit_s)} | ${ratio(a.latency_ms.p50, c.latency_ms.p50)} | ${ratio(a.latency_ms.p95, c.latency_ms.p95)} | ` +
        `${a.freezes_over_500ms ?? '–'} / ${c.freezes_over_500ms ?? '–'} | ${a.psnr_db ?? '–'} / ${c.psnr_db ?? '–'} |`);
    }
  }
  if (!rows.length) return '';
  const codec = result.runs.find((r) => r.chromium?.codec)?.chromium.codec ?? 'its default codec';
  return `**Beside Chromium's own screen sharing** (getDisplayMedia of the same screen with content hint "detail", ${codec}, ` +
    'over the same emulated link to a page of the caseworker\'s Chromium; CPU of the whole sharing browser).\n\n' +
    '| size | network | scenario | Chromium kbit/s | Chromium g2g p50/p95/max ms | Chromium fps | Chromium freezes | Chromium PSNR dB | Chromium CPU % | bytes acote/chromium | p50 acote/chromium | p95 acote/chromium | freezes acote / chromium | PSNR acote / chromium |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n' + `${rows.join('\n')}\n\n`;
}

/** What a voice call costs and how its sound arrived, per run that had one. */
function voiceTable(result) {
  const rows = [];
  for (const r of result.runs) {
    for (const a of r.acote.scenarios) {
      if (a.scenario !== 'voice' || !a.voice) continue;
      const v = a.voice;
      rows.push(`| ${r.width}×${r.height} | ${r.profile} | ${v.without_call.total_kbit_s} | ${a.wire.total_kbit_s} | ` +
        `${v.added_kbit_s.from_resident} / ${v.added_kbit_s.to_resident} | ${v.mb_per_10_min_added} | ` +
        `${v.from_resident.packets} / ${v.from_resident.lost} / ${v.from_resident.concealed_percent} | ${v.from_resident.jitter_buffer_ms} | ` +
        `${v.to_resident.packets_sent} / ${v.to_resident.speakers_rms_16bit} | ${v.agent_cpu_added_percent} | ` +
        `${a.latency_ms.p50}/${a.latency_ms.p95} |`);
    }
  }
  if (!rows.length) return '';
  return `**A voice call** (still form; Acote only: ${VNC_NO_VOICE}). kbit/s on the wire without and with the call, ` +
    'what the call adds from / to the resident; the resident\'s voice as the caseworker\'s browser got it (packets, lost, ' +
    '% of samples concealed, jitter buffer); the caseworker\'s voice (packets sent, RMS of the resident\'s speakers, 16-bit).\n\n' +
    '| size | network | kbit/s without | kbit/s with | added from / to kbit/s | MB/10 min added | from resident: packets / lost / concealed % | jitter buffer ms | to resident: packets / speakers RMS | agent CPU % added | g2g p50/p95 ms during |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|\n' + `${rows.join('\n')}\n\n`;
}

/** DESIGN §6's targets beside what this run measured (1920×1080 unless said). */
function targets(result) {
  const find = (w, profile, scenario, lowData = false) => {
    const r = result.runs.find((x) => x.width === w && x.profile === profile && Boolean(x.low_data) === lowData);
    const i = r ? r.acote.scenarios.findIndex((s) => s.scenario === scenario) : -1;
    return i < 0 ? null : { run: r, a: r.acote.scenarios[i], v: r.x11vnc?.scenarios[i] ?? null };
  };
  const lines = ['| target (DESIGN §6) | measured |', '|---|---|'];
  const add = (what, value) => lines.push(`| ${what} | ${value ?? 'not in this run'} |`);
  const loopRun = result.runs.find((x) => x.width === 1920 && x.profile === 'loopback');
  add('first frame < 1.5 s after yes (loopback)', loopRun && `${loopRun.acote.first_frame_ms} ms`);
  const typing = find(1920, 'loopback', 'typing');
  add('glass-to-glass p50 < 50 ms, p95 < 100 ms (typing, loopback)', typing && `p50 ${typing.a.latency_ms.p50} ms, p95 ${typing.a.latency_ms.p95} ms`);
  const still = find(1920, 'loopback', 'static');
  add('static screen < 20 kbit/s', still && `${still.a.wire.total_kbit_s} kbit/s (marker changing every 2 s included)`);
  add('typing: fewer bytes than x11vnc', typing && typing.v && `${typing.a.wire.total_kbit_s} vs ${typing.v.wire.total_kbit_s} kbit/s: ${ratio(typing.a.wire.total_kbit_s, typing.v.wire.total_kbit_s)}×`);
  const typingC = typing?.run.chromium?.scenarios.find((x) => x.scenario === 'typing' && !x.skipped);
  add('typing: no more bytes than Chromium\'s own sharing (issue 20)', typingC && `${typing.a.wire.total_kbit_s} vs ${typingC.wire.total_kbit_s} kbit/s: ${ratio(typing.a.wire.total_kbit_s, typingC.wire.total_kbit_s)}×`);
  add('still screen: no more bytes than x11vnc (issue 20)', still && still.v && `${still.a.wire.total_kbit_s} vs ${still.v.wire.total_kbit_s} kbit/s: ${ratio(still.a.wire.total_kbit_s, still.v.wire.total_kbit_s)}×`);
  add('agent CPU idle < 2 % of a core', still && `${still.a.cpu_percent_of_one_core} %`);
  add('agent CPU typing < 25 % of a core', typing && `${typing.a.cpu_percent_of_one_core} %`);
  const weak = find(1920, 'weak-4g', 'typing');
  add('weak 4G typing: p95 < 400 ms, readable', weak && `p95 ${weak.a.latency_ms.p95} ms, PSNR ${weak.a.psnr_db} dB`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.summaryOf) {
    // The readable summary of an earlier run's JSON, e.g. to compare two runs.
    process.stdout.write(`${summarise(JSON.parse(await readFile(opts.summaryOf, 'utf8')))}\n`);
    return;
  }
  const { runs, seconds, vnc } = plan(opts);
  if (process.getuid && process.getuid() !== 0) throw new Error('the video bench needs root (network namespaces and TUN devices)');
  const started = new Date();
  const result = {
    bench: 'video', version: 1, date: started.toISOString(),
    command: `node tests/bench/video.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? null, memory_gib: round(totalmem() / 2 ** 30), kernel: (await sh('uname', '-r')).stdout.trim() },
    binaries: BIN_DIR, seconds_per_scenario: seconds,
    profiles: PROFILES,
    runs: [],
  };
  // One screen (and resident browser, relay, viewer) per size; one link per network.
  const bySize = new Map();
  for (const r of runs) {
    const key = `${r.width}x${r.height}`;
    if (!bySize.has(key)) bySize.set(key, []);
    bySize.get(key).push(r);
  }
  for (const [, sizeRuns] of bySize) {
    const h = new Harness(await mkdtemp(path.join(tmpdir(), 'acote-bench-')));
    try {
      await h.run(async () => {
        const { width, height } = sizeRuns[0];
        const xvfb = await startXvfb(h, { width, height });
        const vncScreen = vnc ? await startXvfb(h, { width, height }) : null;
        await sh('xdotool', 'mousemove', '--display', xvfb.display, String(width - 1), String(height - 1)).catch(() => {});
        const resident = await startResidentBrowser(h, xvfb, 'docs/demo/form.html');
        // Files up to MAX_FILE_MB, whatever the relay's default: the `file` scenario needs 10.
        const relay = await startRelay(h, { listen: '0.0.0.0:0', logLevel: 'warn',
          configExtra: `\n[limits]\nmax_file_mb = ${MAX_FILE_MB}\n` });
        const port = new URL(relay.url).port;
        relay.url = `https://127.0.0.1:${port}`;
        relay.agentUrl = `https://${ROOT_IP}:${port}`;
        await addCaseworker(h, relay, CASEWORKER);
        // A voice call needs the resident's sound system and the caseworker's microphone.
        const sound = sizeRuns.some((r) => r.scenarios.includes('voice')) ? await startResidentSound(h) : null;
        const wav = path.join(h.dir, 'caseworker.wav');
        if (sound) await writeFile(wav, pulsedTone(660, 30));
        // The agent runs in its own namespace: the browser's loopback is not its own.
        const viewer = await openSignedInViewer(h, relay, CASEWORKER, {
          loopback: false,
          extraArgs: sound ? ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
            `--use-file-for-fake-audio-capture=${wav}`] : [],
        });
        const ctx = { xvfb, vncScreen, resident, relay, viewer, sound };
        for (const run of sizeRuns) {
          const entry = { width: run.width, height: run.height, profile: run.profile, network: PROFILES[run.profile],
            low_data: Boolean(run.lowData) };
          entry.acote = await acoteSession(h, ctx, run, seconds);
          if (vnc && run.vnc !== false) entry.x11vnc = await vncSession(h, ctx, run, seconds);
          if (opts.chromium && run.vnc !== false) entry.chromium = await chromiumSession(h, ctx, run, seconds);
          result.runs.push(entry);
        }
      });
    } finally {
      await h.close();
    }
  }
  result.duration_s = round((Date.now() - started.getTime()) / 1000);
  const summary = summarise(result);
  await mkdir(path.dirname(path.resolve(opts.json)), { recursive: true });
  await writeFile(opts.json, JSON.stringify(result, null, 2) + '\n');
  const mdFile = opts.json.replace(/\.json$/, '') + '-summary.md';
  await writeFile(mdFile, `# Video bench, ${result.date}\n\n\`${result.command}\`\n\n${summary}\n`);
  process.stdout.write(`${summary}\n\nwritten: ${opts.json} and ${mdFile} (${result.duration_s} s)\n`);
}

main().catch((err) => {
  process.stderr.write(`video bench failed: ${err.stack || err.message}\n`);
  process.exit(1);
});
