// Helpers for Acote's end-to-end tests: start Xvfb, the relay, the agent and the real
// viewer in headless Chromium, wait on what they print, and tear everything down.
//
// Every helper takes a `Harness` (one per test) that owns the temp dir and all processes;
// `harness.close()` kills every process group it started and removes the temp dir, and is
// registered with `t.after` so it also runs when the test fails.

import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';

const execFileP = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
export const BIN_DIR = process.env.ACOTE_BIN_DIR || path.join(REPO, 'target', 'debug');
export const CHROMIUM = process.env.ACOTE_CHROMIUM || '/usr/bin/chromium';

const T0 = Date.now();
export function log(...args) {
  const s = ((Date.now() - T0) / 1000).toFixed(1);
  process.stderr.write(`[e2e +${s}s] ${args.join(' ')}\n`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function tail(text, lines = Number(process.env.ACOTE_E2E_TAIL || 40)) {
  const all = text.split('\n');
  return all.slice(Math.max(0, all.length - lines)).join('\n');
}

// Process groups still alive when node exits (crash, Ctrl-C) are killed synchronously.
const liveGroups = new Set();
process.on('exit', () => {
  for (const pid of liveGroups) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

/** A child process in its own process group, with stdout split into lines. */
class Proc {
  constructor(name, cmd, args, opts = {}) {
    this.name = name;
    this.cmdline = [cmd, ...args].join(' ');
    this.stdout = '';
    this.stderr = '';
    this.lines = []; // complete stdout lines, in order
    this.cursor = 0; // index of the first line nextLine() has not consumed yet
    this.exited = null; // { code, signal } once gone
    this.waiters = new Set();
    this.partial = '';
    this.child = spawn(cmd, args, {
      detached: true, // own process group, so we can kill it and its children
      stdio: opts.stdio || ['pipe', 'pipe', 'pipe'],
      env: opts.env || process.env,
      cwd: opts.cwd,
    });
    liveGroups.add(this.child.pid);
    this.child.stdout?.setEncoding('utf8');
    this.child.stderr?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk) => this.#onStdout(chunk));
    this.child.stderr?.on('data', (chunk) => { this.stderr += chunk; });
    this.child.stdin?.on('error', () => { /* EPIPE if the process died */ });
    this.exitPromise = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.stderr += `\n[harness] could not start ${cmd}: ${err.message}\n`;
        this.exited = { code: null, signal: null, error: err };
        liveGroups.delete(this.child.pid);
        this.#wake();
        resolve(this.exited);
      });
      this.child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        liveGroups.delete(this.child.pid);
        clearTimeout(this.partialTimer);
        if (this.partial) { this.#pushLine(this.partial); this.partial = ''; }
        this.#wake();
        resolve(this.exited);
      });
    });
  }

  #onStdout(chunk) {
    this.stdout += chunk;
    const parts = (this.partial + chunk).split(/\r?\n/);
    this.partial = parts.pop();
    for (const line of parts) this.#pushLine(line);
    if (parts.length) this.#wake();
    // A prompt such as "Allow? [y/n] " may stay without its newline while the program waits
    // for an answer: once the unterminated text has been idle a moment, treat it as a line.
    clearTimeout(this.partialTimer);
    if (this.partial) {
      this.partialTimer = setTimeout(() => {
        if (!this.partial) return;
        this.#pushLine(this.partial);
        this.partial = '';
        this.#wake();
      }, 250);
      this.partialTimer.unref();
    }
  }

  #pushLine(line) {
    this.lines.push(line);
    if (process.env.ACOTE_E2E_VERBOSE) log(`${this.name}>`, line);
  }

  #wake() { for (const w of this.waiters) w(); }

  /** Wait for the next stdout line (after the ones already consumed) matching `re`.
   * Lines skipped over are consumed. Resolves with the RegExp match. */
  nextLine(re, timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        while (this.cursor < this.lines.length) {
          const line = this.lines[this.cursor++];
          const m = line.match(re);
          if (m) { done(); resolve(m); return; }
        }
        if (this.exited) {
          done();
          reject(new Error(`${this.name} exited (${this.#exitText()}) before printing a line matching ${re}` +
            `\n--- ${this.name} stdout ---\n${tail(this.stdout)}\n--- ${this.name} stderr ---\n${tail(this.stderr)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${this.name} to print a line matching ${re}` +
          `\n--- ${this.name} stdout ---\n${tail(this.stdout)}\n--- ${this.name} stderr ---\n${tail(this.stderr)}`));
      }, timeoutMs);
      const done = () => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  /** Resolve with the matching line if one appears within `ms`, else null (never throws). */
  async lineWithin(re, ms) {
    try { return await this.nextLine(re, ms); } catch { return null; }
  }

  write(text) {
    if (!this.child.stdin || this.exited) throw new Error(`cannot write to ${this.name}: it has exited (${this.#exitText()})`);
    this.child.stdin.write(text);
  }

  #exitText() {
    if (!this.exited) return 'running';
    if (this.exited.error) return this.exited.error.message;
    return this.exited.signal ? `signal ${this.exited.signal}` : `exit code ${this.exited.code}`;
  }

  /** SIGTERM the whole process group, SIGKILL it if still there after `graceMs`. */
  async kill(graceMs = 3000) {
    const pid = this.child.pid;
    if (this.exited || pid === undefined) return;
    try { process.kill(-pid, 'SIGTERM'); } catch { /* gone */ }
    const timer = sleep(graceMs).then(() => 'timeout');
    if ((await Promise.race([this.exitPromise, timer])) === 'timeout') {
      try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
      await this.exitPromise;
    }
    // The leader is gone; make sure no child of the group lingers either.
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
    liveGroups.delete(pid);
  }

  diagnostics() {
    return `--- ${this.name} (${this.#exitText()}): ${this.cmdline}\n` +
      `--- ${this.name} stdout (tail) ---\n${tail(this.stdout, 20)}\n` +
      `--- ${this.name} stderr (tail) ---\n${tail(this.stderr)}`;
  }
}

/** One per test: owns a temp dir and everything started, and cleans up in `close()`. */
export class Harness {
  constructor(dir) {
    this.dir = dir;
    this.procs = [];
    this.cleanups = []; // extra async cleanups (browser), run first
  }

  static async create(t) {
    const dir = await mkdtemp(path.join(tmpdir(), 'acote-e2e-'));
    const h = new Harness(dir);
    if (t) t.after(() => h.close());
    return h;
  }

  spawn(name, cmd, args, opts) {
    const p = new Proc(name, cmd, args, opts);
    this.procs.push(p);
    return p;
  }

  /** An environment for our own binaries: isolated HOME/XDG dirs, no stray config. */
  async env(name, extra = {}) {
    const home = path.join(this.dir, `${name}-home`);
    await mkdir(home, { recursive: true });
    const env = { ...process.env };
    delete env.DISPLAY; // only the agent gets a display, and only the test's Xvfb
    Object.assign(env, { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_DATA_HOME: path.join(home, '.local/share'), XDG_CACHE_HOME: path.join(home, '.cache'),
      XDG_STATE_HOME: path.join(home, '.local/state'), RUST_BACKTRACE: '1' }, extra);
    return env;
  }

  /** Everything useful to understand a failure: the tails of every process's output and the
   * browser console. */
  diagnostics() {
    const parts = this.procs.map((p) => p.diagnostics());
    if (this.viewer) parts.push(this.viewer.diagnostics());
    return parts.join('\n');
  }

  /** Run the test body; on failure, append the diagnostics to the error. */
  async run(body) {
    try {
      await body();
    } catch (err) {
      const diag = `\n===== diagnostics (${this.dir}) =====\n${this.diagnostics()}`;
      try { err.message += diag; } catch { process.stderr.write(diag + '\n'); }
      throw err;
    }
  }

  async close() {
    for (const c of this.cleanups.reverse()) {
      try { await c(); } catch (err) { log('cleanup failed:', err.message); }
    }
    // Agent first, then relay, then Xvfb: reverse start order.
    for (const p of [...this.procs].reverse()) await p.kill();
    await rm(this.dir, { recursive: true, force: true }).catch(() => {});
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${typeof what === 'function' ? what() : what}`)), ms); }),
  ]);
}

// ---------------------------------------------------------------------------------------
// Xvfb

/** Start Xvfb on a display it picks itself (-displayfd); resolves once it accepts clients.
 * Returns { display: ':N', proc, width, height }. */
export async function startXvfb(h, { width = 1366, height = 768 } = {}) {
  const proc = h.spawn('xvfb', 'Xvfb', ['-displayfd', '3', '-screen', '0', `${width}x${height}x24`,
    '-noreset', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  const display = await displayFromFd(proc, 'Xvfb');
  // The display number is written once the server listens; check it really answers.
  const { stdout } = await execFileP('xdpyinfo', ['-display', display], { timeout: 10_000 });
  const dims = stdout.match(/dimensions:\s+(\d+)x(\d+) pixels/);
  if (!dims || +dims[1] !== width || +dims[2] !== height) {
    throw new Error(`Xvfb ${display} has unexpected dimensions: ${dims ? dims[0] : stdout.slice(0, 300)}`);
  }
  log(`Xvfb ready on ${display} (${width}x${height})`);
  return { display, proc, width, height };
}

/** The display an X server started with `-displayfd 3` (`proc` from h.spawn with a pipe as
 * fd 3) reports once it listens, e.g. ':5'. */
export async function displayFromFd(proc, what, timeoutMs = 15_000) {
  const fd3 = proc.child.stdio[3];
  let out = '';
  const number = await withTimeout(new Promise((resolve, reject) => {
    fd3.setEncoding('utf8');
    fd3.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/^(\d+)\n/);
      if (m) resolve(m[1]);
    });
    proc.exitPromise.then(() => reject(new Error(`${what} exited before it was ready\n${tail(proc.stderr)}`)));
  }), timeoutMs, () => `${what} to report its display number\n${tail(proc.stderr)}`);
  return `:${number}`;
}

/** Fill the X root window with one colour, e.g. '#1e90ff'. */
export async function fillScreen(xvfb, colour) {
  await execFileP('xsetroot', ['-display', xvfb.display, '-solid', colour], { timeout: 10_000 });
  log(`X screen ${xvfb.display} filled with ${colour}`);
}

// ---------------------------------------------------------------------------------------
// Relay

/** Start the relay on an ephemeral loopback port (or `listen`). Returns { url, fingerprint, proc }. */
export async function startRelay(h, { configExtra = '', logLevel = null, listen = '127.0.0.1:0', turnListen = '127.0.0.1:0' } = {}) {
  const bin = path.join(BIN_DIR, 'acote-relay');
  if (!existsSync(bin)) throw new Error(`relay binary not found at ${bin} (build it, or set ACOTE_BIN_DIR)`);
  const config = path.join(h.dir, 'relay.toml');
  await writeFile(config, `[server]\nsite_name = "Test site"\n\n[turn]\nlisten = "${turnListen}"\n${configExtra}`);
  const dataDir = path.join(h.dir, 'relay-data');
  return serveRelay(h, { bin, config, dataDir, listen, logLevel });
}

/** Kill the relay with SIGKILL (no goodbye to anyone), run `whileDown`, and start it again
 * on the same port with the same config and data dir (so the same certificate and database). */
export async function restartRelay(h, relay, { whileDown = null } = {}) {
  try { process.kill(-relay.proc.child.pid, 'SIGKILL'); } catch { /* already gone */ }
  await relay.proc.exitPromise;
  log('relay killed with SIGKILL');
  if (whileDown) await whileDown();
  const listen = new URL(relay.url).host;
  const again = await serveRelay(h, { ...relay, listen });
  if (again.fingerprint !== relay.fingerprint) throw new Error('the restarted relay has another certificate');
  return again;
}

/** Serve a relay from `bin` with `config` (and `dataDir` unless null: the config's own),
 * prefixed by `wrap` (e.g. `runuser -u acote --`). Returns what startRelay does. */
export async function serveRelay(h, { bin = path.join(BIN_DIR, 'acote-relay'), config, dataDir, listen, logLevel = null, wrap = [] }) {
  const args = ['serve', '--config', config, '--listen', listen, ...(dataDir ? ['--data-dir', dataDir] : [])];
  const [cmd, ...rest] = [...wrap, bin, ...args];
  const proc = h.spawn('relay', cmd, rest,
    { env: await h.env('relay', { RUST_LOG: logLevel || process.env.RUST_LOG || 'info' }), stdio: ['ignore', 'pipe', 'pipe'] });
  const [, url] = await proc.nextLine(/^listening on (https:\/\/\S+?)\/?\s*$/, 30_000);
  // Both lines are printed at start, in this order per DESIGN §9; read from the start
  // again in case a future version swaps them.
  proc.cursor = 0;
  const [, fingerprint] = await proc.nextLine(/^certificate sha256 ([0-9a-fA-F]{64})\s*$/, 30_000);
  log(`relay listening on ${url}, certificate ${fingerprint.slice(0, 16)}…`);
  return { url, fingerprint, proc, config, dataDir, bin, logLevel, wrap };
}

/** Run `acote-relay admin --config … --data-dir … ARGS`, with `stdin` as its input.
 * Resolves with { code, stdout, stderr }. */
export async function relayAdmin(h, relay, args, stdin = '') {
  const bin = relay.bin ?? path.join(BIN_DIR, 'acote-relay');
  const [cmd, ...rest] = [...(relay.wrap ?? []), bin, 'admin', '--config', relay.config,
    ...(relay.dataDir ? ['--data-dir', relay.dataDir] : []), ...args];
  const proc = h.spawn('admin', cmd, rest, { env: await h.env('admin') });
  proc.child.stdin.end(stdin);
  const { code } = await withTimeout(proc.exitPromise, 30_000, `acote-relay admin ${args.join(' ')}`);
  return { code, stdout: proc.stdout, stderr: proc.stderr };
}

/** Create a caseworker with a password given on stdin, as an IT admin would script it. */
export async function addCaseworker(h, relay, { login, name, site, password }) {
  const r = await relayAdmin(h, relay, ['caseworker', 'add', login, '--name', name, '--site', site, '--password-stdin'],
    `${password}\n`);
  if (r.code !== 0) throw new Error(`admin caseworker add failed (${r.code}): ${r.stderr}`);
  log(`caseworker ${login} added (${name}, ${site})`);
}

// ---------------------------------------------------------------------------------------
// Agent

export const CODE_LINE = /^code (\d{3}) ?(\d{3})\s*$/;
export const QUESTION_LINE = /\[y\/n\]/i;
export const ENDED_LINE = /^session ended: ([a-z_]+), frames captured: (\d+)\s*$/;

/** Start the agent (in console mode unless `consoleMode: false`) against `relay`, on the X display of `xvfb`.
 * Returns the Proc (nextLine, lineWithin, write, stdout, stderr) plus `nextCode()`. */
export async function startAgent(h, relay, xvfb, {
  lang = 'en', logLevel = 'info', consoleMode = true, env = {}, url = relay.url, netns = null, wrap = [],
  bin = path.join(BIN_DIR, 'acote-agent'),
} = {}) {
  if (!existsSync(bin)) throw new Error(`agent binary not found at ${bin} (build it, or set ACOTE_BIN_DIR)`);
  // Without --console the agent opens its window on the display (tests/e2e/window.test.mjs);
  // it prints the same `code` and `session ended` lines.
  // lang null: no --lang, the PC's own language decides.
  const args = ['--relay', url, '--fingerprint', relay.fingerprint, ...(lang ? ['--lang', lang] : [])];
  if (consoleMode) args.push('--console');
  // In a network namespace the agent is another machine on another network; `wrap` runs
  // it through any other command (Wine, for the Windows agent: `bin` is then its .exe).
  const outer = netns ? ['ip', 'netns', 'exec', netns] : wrap;
  const [cmd, argv] = outer.length ? [outer[0], [...outer.slice(1), bin, ...args]] : [bin, args];
  const proc = h.spawn('agent', cmd, argv,
    { env: await h.env('agent', { DISPLAY: xvfb.display, RUST_LOG: logLevel, ...env }) });
  /** Wait for the next `code NNN NNN` line; resolves with { spaced: '482 913', digits: '482913' }. */
  proc.nextCode = async (timeoutMs = 15_000) => {
    const m = await proc.nextLine(CODE_LINE, timeoutMs);
    const code = { spaced: `${m[1]} ${m[2]}`, digits: `${m[1]}${m[2]}` };
    log(`agent shows code ${code.spaced}`);
    return code;
  };
  /** Wait for `session ended: REASON, frames captured: N`; resolves with { reason, frames }. */
  proc.nextEnded = async (timeoutMs = 15_000) => {
    const m = await proc.nextLine(ENDED_LINE, timeoutMs);
    log(`agent: session ended: ${m[1]}, frames captured: ${m[2]}`);
    return { reason: m[1], frames: Number(m[2]) };
  };
  return proc;
}

// ---------------------------------------------------------------------------------------
// Viewer (headless Chromium driven by playwright-core)

// Not when the browser and the agent are in different network namespaces (openViewer's
// `loopback: false`): the browser's 127.0.0.1 is not the agent's, and an agent checking
// such a candidate may hit one of its own sockets: its TURN client's, whose webrtc-rs read
// loop ends on any STUN request (the likely cause of one CI failure; docs/architecture.md).
const LOOPBACK_CANDIDATES = '--allow-loopback-in-peer-connection';

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic', '--no-first-run', '--autoplay-policy=no-user-gesture-required',
  // The test network may be loopback only: let WebRTC gather loopback candidates. (This only
  // takes effect together with the camera/microphone permission granted in openViewer.)
  LOOPBACK_CANDIDATES,
];

// Chromium enumerates every network interface for WebRTC (and shows real addresses rather
// than mDNS names the agent would have to resolve) only in pages holding a media permission;
// without it, it offers the default route alone, which a loopback-only machine lacks. The
// viewer never captures anything: the permission is granted, never used.
const VIEWER_PERMISSIONS = ['camera', 'microphone'];

/** Open the viewer at `url` in a fresh headless Chromium profile. Returns a Viewer. */
export async function openViewer(h, url, {
  netns = null, loopback = !netns, extraArgs = [], viewport = { width: 1280, height: 800 },
} = {}) {
  const { chromium } = await import('playwright-core');
  const profile = path.join(h.dir, 'chromium-profile');
  let executablePath = CHROMIUM;
  if (netns) {
    // The browser runs in the caseworker's network namespace; playwright still drives it
    // over a pipe, which crosses namespaces.
    executablePath = path.join(h.dir, 'chromium-in-netns');
    await writeFile(executablePath, `#!/bin/sh\nexec ip netns exec ${netns} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  }
  const env = { ...process.env };
  delete env.DISPLAY; // headless: never touch the X server under test
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    // A page the test fulfilled has no server address, so Chromium would take it for a
    // public page and block its socket to the relay on this machine (ACOTE_VIEWER_DIR only).
    args: [...CHROMIUM_ARGS.filter((a) => loopback || a !== LOOPBACK_CANDIDATES), ...extraArgs,
      ...(process.env.ACOTE_VIEWER_DIR ? ['--disable-features=LocalNetworkAccessChecks'] : [])],
    ignoreHTTPSErrors: true,
    permissions: VIEWER_PERMISSIONS,
    viewport,
    env,
    timeout: 30_000,
  });
  h.cleanups.push(() => context.close());
  if (process.env.ACOTE_VIEWER_DIR) await serveViewerFromDisk(context, url, process.env.ACOTE_VIEWER_DIR);
  const page = context.pages()[0] || await context.newPage();
  const viewer = new Viewer(context, page);
  h.viewer = viewer;
  // A browser started in a network namespace made a moment ago may see its interfaces
  // settle and abort the first load with ERR_NETWORK_CHANGED: as a person would, load again.
  // The page itself may load and its scripts then fail the same way (a page with no
  // script shows the sign-in form but never answers a click): that is loaded again too.
  const changed = [];
  const onFailed = (request) => {
    if (/ERR_NETWORK_CHANGED/.test(request.failure()?.errorText ?? '')) changed.push(request.url());
  };
  page.on('requestfailed', onFailed);
  for (let attempt = 1; ; attempt += 1) {
    changed.length = 0;
    let failure = null;
    try {
      await page.goto(url, { waitUntil: 'load', timeout: 15_000 });
    } catch (err) {
      if (!/ERR_NETWORK_CHANGED/.test(err.message)) throw err;
      failure = err;
    }
    if (!failure && changed.length === 0) break;
    if (attempt >= 4) throw failure ?? new Error(`viewer: ${changed.length} of its files failed to load (network changed)`);
    log(`viewer: ${url} not loaded whole (network changed: ${failure ? 'the page' : changed.length + ' files'}), loading again`);
    await sleep(500);
  }
  page.off('requestfailed', onFailed);
  log(`viewer opened at ${url}`);
  return viewer;
}

/** ACOTE_VIEWER_DIR=viewer: the relay embeds the viewer when it is built, so to try a
 * viewer change without rebuilding it, the browser is given the folder's files instead
 * (with the relay's own headers, CSP included). The relay still answers everything else. */
async function serveViewerFromDisk(context, url, dir) {
  const origin = new URL(url).origin;
  const root = path.resolve(REPO, dir);
  const types = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
  await context.route((u) => u.origin === origin, async (route) => {
    const { pathname } = new URL(route.request().url());
    const file = pathname === '/' ? 'index.html' : pathname === '/set-password' ? 'set-password.html' : pathname.slice(1);
    const type = types[file.split('.').pop()];
    if (route.request().method() !== 'GET' || !type || file.includes('..')
      || !(/^(index|set-password)\.html$|^style\.css$|^src\/[\w.-]+\.js$/.test(file))) {
      await route.continue();
      return;
    }
    const response = await route.fetch();
    const body = await readFile(path.join(root, file)).catch(() => null);
    if (!body) {
      await route.fulfill({ response });
      return;
    }
    const headers = { ...response.headers(), 'content-type': type };
    delete headers['content-length'];
    delete headers['content-encoding'];
    await route.fulfill({ status: 200, headers, body });
  });
  log(`viewer files served from ${root}, not from the relay`);
}

/** Open the viewer at the relay, switch it to English and sign in as `caseworker`
 * ({ login, password }); resolves with the Viewer on its code page. */
export async function openSignedInViewer(h, relay, caseworker, options = {}) {
  const viewer = await openViewer(h, relay.url, options);
  await viewer.waitForState('sign-in');
  await viewer.switchToEnglish();
  await viewer.signIn(caseworker.login, caseworker.password);
  await viewer.waitForState('enter-code');
  return viewer;
}

/** The decoded picture's size, once it is `width`×`height`. */
export async function waitForVideoSize(viewer, width, height, timeoutMs = 15_000) {
  try {
    await viewer.page.waitForFunction(([w, h]) => {
      const v = document.getElementById('screen');
      return v.videoWidth === w && v.videoHeight === h;
    }, [width, height], { timeout: timeoutMs, polling: 100 });
  } catch {
    const got = await viewer.page.evaluate(() => {
      const v = document.getElementById('screen');
      return `${v.videoWidth}×${v.videoHeight}`;
    });
    assert.fail(`the picture is ${got}, not ${width}×${height}`);
  }
  log(`viewer: the picture is ${width}×${height}`);
}

/** Clicks the middle of the picture (a `width`×`height` one) and waits for the resident's
 * X pointer to be within `slack` of (x, y). */
export async function clickMiddleLands(viewer, xvfb, { width, height }, { x, y }, what) {
  const frame = await viewer.page.evaluate(() => document.getElementById('frame').getBoundingClientRect().width);
  const slack = Math.max(2, Math.ceil(width / frame));
  await viewer.clickOnScreen(Math.floor(width / 2), Math.floor(height / 2), width, height);
  const deadline = Date.now() + 10_000;
  let at = null;
  while (Date.now() < deadline) {
    at = await pointerLocation(xvfb);
    if (Math.abs(at.x - x) <= slack && Math.abs(at.y - y) <= slack) {
      log(`${what}: the click landed at (${at.x}, ${at.y})`);
      return;
    }
    await sleep(100);
  }
  assert.fail(`${what}: the click in the picture's middle put the pointer at (${at.x}, ${at.y}), not (${x}±${slack}, ${y})`);
}

/** The caseworker asks for control and the resident says yes to that separate question.
 * Resolves with the question line the agent printed. */
export async function grantControl(viewer, agent) {
  await viewer.page.getByRole('button', { name: 'Request control' }).click({ timeout: 10_000 });
  const question = await agent.nextLine(/mouse and keyboard.*\[y\/n\]/, 30_000);
  log(`agent asks: ${question.input}`);
  agent.write('y\n');
  await viewer.waitForControl('controlling', 30_000);
  return question;
}

class Viewer {
  constructor(context, page) {
    this.context = context;
    this.page = page;
    this.console = [];
    // Resumption tokens the relay handed this page, so tests can check no log holds one.
    this.resumeTokens = [];
    page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => {
      const m = /"type":"resume_token","token":"([0-9a-f]{32})"/.exec(String(payload));
      if (m) this.resumeTokens.push(m[1]);
    }));
    page.on('console', (m) => this.console.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => this.console.push(`[pageerror] ${e.message}`));
    page.on('requestfailed', (r) => this.console.push(`[requestfailed] ${r.url()} ${r.failure()?.errorText}`));
  }

  codeBox() { return this.page.getByRole('textbox', { name: 'Session code' }); }
  loginBox() { return this.page.getByRole('textbox', { name: 'Login' }); }
  passwordBox() { return this.page.getByLabel('Password', { exact: true }); }
  connectButton() { return this.page.getByRole('button', { name: 'Connect', exact: true }); }
  endButton() { return this.page.getByRole('button', { name: 'End session' }); }

  /** The page starts in French; switch it to English with its "English" button. */
  async switchToEnglish() {
    const english = this.page.getByRole('button', { name: 'English', exact: true });
    const french = this.page.getByRole('button', { name: 'Français', exact: true });
    // The switch is immediate once the page's script runs; a click that changed nothing
    // (the button still says English after a while) is made again, a person would too.
    for (let attempt = 1; ; attempt += 1) {
      if (await english.isVisible()) await english.click({ timeout: 10_000 });
      try {
        await french.waitFor({ state: 'visible', timeout: 7_000 });
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
        log(`viewer: still in French after clicking English (try ${attempt}), clicking again`);
      }
    }
    log('viewer switched to English');
  }

  /** Sign in through the real login form (the page must be in English). */
  async signIn(login, password) {
    await this.loginBox().fill(login, { timeout: 5_000 });
    await this.passwordBox().fill(password, { timeout: 5_000 });
    await this.page.getByRole('button', { name: 'Sign in', exact: true }).click({ timeout: 5_000 });
    log(`viewer: signed in as ${login}`);
  }

  /** Type a session code and press Connect. */
  async connect(code) {
    await this.codeBox().fill(code, { timeout: 5_000 });
    await this.connectButton().click({ timeout: 5_000 });
    log(`viewer: typed code "${code}" and pressed Connect`);
  }

  async endSession() {
    await this.endButton().click({ timeout: 5_000 });
    log('viewer: pressed End session');
  }

  state() { return this.page.evaluate(() => document.body.dataset.state); }
  statusText() { return this.page.locator('#status').innerText({ timeout: 5_000 }); }

  /** Wait until document.body.dataset.state equals `state`. */
  async waitForState(state, timeoutMs = 15_000) {
    try {
      await this.page.waitForFunction((s) => document.body?.dataset.state === s, state, { timeout: timeoutMs, polling: 100 });
    } catch (err) {
      let now = '?'; let status = '?';
      try { now = await this.state(); status = await this.statusText(); } catch { /* page gone */ }
      throw new Error(`viewer did not reach state "${state}" within ${timeoutMs} ms: state is "${now}", ` +
        `status says "${status}" (${err.message.split('\n')[0]})`);
    }
    log(`viewer state: ${state}`);
  }

  /** The inbound video report of window.acote.pc, or null. */
  videoStats() {
    return this.page.evaluate(async () => {
      const pc = window.acote?.pc;
      if (!pc) return null;
      const stats = await pc.getStats();
      let inbound = null;
      for (const r of stats.values()) {
        if (r.type === 'inbound-rtp' && (r.kind === 'video' || r.mediaType === 'video')) inbound = r;
      }
      if (!inbound) return { connectionState: pc.connectionState };
      const codec = inbound.codecId ? stats.get(inbound.codecId) : null;
      return {
        connectionState: pc.connectionState,
        framesDecoded: inbound.framesDecoded ?? 0,
        frameWidth: inbound.frameWidth ?? 0,
        frameHeight: inbound.frameHeight ?? 0,
        bytesReceived: inbound.bytesReceived ?? 0,
        packetsReceived: inbound.packetsReceived ?? 0,
        pliCount: inbound.pliCount ?? 0,
        keyFramesDecoded: inbound.keyFramesDecoded ?? 0,
        codec: codec?.mimeType ?? null,
      };
    });
  }

  /** Poll the video stats until `pred(stats)` holds; resolves with the stats. */
  async waitForVideo(pred, timeoutMs, what) {
    const deadline = Date.now() + timeoutMs;
    let last = null;
    for (;;) {
      last = await this.videoStats();
      if (last && pred(last)) return last;
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last inbound video stats: ${JSON.stringify(last)}`);
      }
      await sleep(200);
    }
  }

  /** Average colour [r, g, b] of the central size×size region of the picture in <video id="screen">,
   * drawn at its intrinsic size; null when there is no picture yet. */
  centreColour(size = 64) {
    return this.page.evaluate((size) => {
      const video = document.getElementById('screen');
      if (!video || !video.videoWidth || !video.videoHeight) return null;
      const w = video.videoWidth; const h = video.videoHeight;
      const canvas = document.createElement('canvas');
      canvas.width = w; canvas.height = h;
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      ctx.drawImage(video, 0, 0, w, h);
      const x0 = Math.max(0, Math.floor(w / 2 - size / 2)); const y0 = Math.max(0, Math.floor(h / 2 - size / 2));
      const { data } = ctx.getImageData(x0, y0, Math.min(size, w), Math.min(size, h));
      const sum = [0, 0, 0]; const n = data.length / 4;
      for (let i = 0; i < data.length; i += 4) { sum[0] += data[i]; sum[1] += data[i + 1]; sum[2] += data[i + 2]; }
      return sum.map((v) => Math.round(v / n));
    }, size);
  }

  /** Poll until the central region's average colour is within `tolerance` per channel of `rgb`.
   * Resolves with the colour seen. */
  async waitForCentreColour(rgb, { tolerance = 24, timeoutMs = 15_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last = null;
    for (;;) {
      last = await this.centreColour();
      if (last && last.every((v, i) => Math.abs(v - rgb[i]) <= tolerance)) {
        log(`viewer shows rgb(${last.join(',')}) at the centre (wanted ${rgb.join(',')} ±${tolerance})`);
        return last;
      }
      if (Date.now() > deadline) {
        throw new Error(`the viewer's picture did not turn rgb(${rgb.join(',')}) ±${tolerance} within ${timeoutMs} ms; ` +
          `centre colour is ${last ? `rgb(${last.join(',')})` : 'unavailable (no picture)'}`);
      }
      await sleep(200);
    }
  }

  diagnostics() {
    return `--- viewer console (tail) ---\n${this.console.slice(-30).join('\n')}`;
  }
}

// ---------------------------------------------------------------------------------------
// The resident's side: a real browser window on the Xvfb screen, keyboard layout, pointer

/** Open `file` (a path in the repo) in a real (headful) Chromium window filling the Xvfb
 * screen, as the resident's own browser. Returns { page, toScreen(box) }. */
export async function startResidentBrowser(h, xvfb, file) {
  const { chromium } = await import('playwright-core');
  const profile = path.join(h.dir, 'resident-profile');
  const url = `file://${path.join(REPO, file)}`;
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: false,
    args: [...CHROMIUM_ARGS, '--test-type', '--disable-features=Translate',
      '--window-position=0,0', `--window-size=${xvfb.width},${xvfb.height}`, `--app=${url}`],
    viewport: null,
    env: { ...process.env, DISPLAY: xvfb.display },
    timeout: 30_000,
  });
  h.cleanups.push(() => context.close());
  let page = context.pages()[0];
  if (!page) page = await context.waitForEvent('page', { timeout: 15_000 });
  await page.waitForLoadState('load', { timeout: 15_000 });
  log(`resident's browser shows ${file} on ${xvfb.display}`);
  /** Screen position (X pixels) of the centre of an element found by `selector`. */
  const centreOnScreen = async (selector) => {
    const box = await page.locator(selector).boundingBox({ timeout: 5_000 });
    const origin = await page.evaluate(() => ({
      x: window.screenX + (window.outerWidth - window.innerWidth),
      y: window.screenY + (window.outerHeight - window.innerHeight),
    }));
    return { x: Math.round(origin.x + box.x + box.width / 2), y: Math.round(origin.y + box.y + box.height / 2) };
  };
  return { page, context, centreOnScreen };
}

/** Set the X keyboard layout of the test's screen (`fr`, `us`, …). */
export async function setLayout(xvfb, layout) {
  await execFileP('setxkbmap', ['-display', xvfb.display, layout], { timeout: 10_000 });
  log(`keyboard layout on ${xvfb.display}: ${layout}`);
}

/** Where the X pointer is, in screen pixels. */
export async function pointerLocation(xvfb) {
  const { stdout } = await execFileP('xdotool', ['getmouselocation', '--shell'], {
    timeout: 10_000, env: { ...process.env, DISPLAY: xvfb.display } });
  const get = (k) => Number(/^X=(\d+)/m.exec(stdout) && new RegExp(`^${k}=(\\d+)`, 'm').exec(stdout)[1]);
  return { x: get('X'), y: get('Y') };
}

/** Type with the X server's own keyboard (not through Acote), e.g. to prove no key is held. */
export async function xType(xvfb, text) {
  await execFileP('xdotool', ['type', '--delay', '40', text], {
    timeout: 10_000, env: { ...process.env, DISPLAY: xvfb.display } });
}

// ---------------------------------------------------------------------------------------
// Viewer: remote control

/** Client coordinates in the viewer page of screen pixel (x, y) of a W×H remote screen,
 * through the video's letterboxing (object-fit: contain). */
Viewer.prototype.clientPoint = async function clientPoint(x, y, width, height) {
  return this.page.evaluate(async ({ x, y, width, height }) => {
    const v = document.getElementById('screen');
    // As a person would: aim once the picture has stopped moving (a toolbar that rewraps
    // on a mode change resizes it on the next frame, see viewer/src/video.js).
    const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    const box = () => JSON.stringify(v.getBoundingClientRect());
    for (let i = 0, last = ''; i < 30; i += 1) {
      await frame();
      const now = box();
      if (now === last) break;
      last = now;
    }
    const r = v.getBoundingClientRect();
    // As viewer/src/input.js: the box is the picture unless its proportions differ by a pixel.
    const scale = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
    let [boxW, boxH] = [v.videoWidth * scale, v.videoHeight * scale];
    if (Math.abs(r.width - boxW) < 1 && Math.abs(r.height - boxH) < 1) [boxW, boxH] = [r.width, r.height];
    const left = r.left + (r.width - boxW) / 2;
    const top = r.top + (r.height - boxH) / 2;
    // A point in the device pixel that the viewer maps onto screen pixel (x, y): the
    // picture's device pixels span the screen's end to end (viewer/src/fit.js). A whole
    // device-pixel coordinate, since Chromium rounds input positions.
    const dpr = window.devicePixelRatio || 1;
    const at = (origin, p, size, box) => {
      const n = Math.max(1, Math.round(box * dpr));
      const edge = origin + Math.round((p * (n - 1)) / Math.max(1, size - 1)) / dpr;
      return Math.ceil(edge * dpr - 1e-6) / dpr;
    };
    return { x: at(left, x, width, boxW), y: at(top, y, height, boxH) };
  }, { x, y, width, height });
};

/** Click at screen pixel (x, y) of the resident's screen, as seen in the video. */
Viewer.prototype.clickOnScreen = async function clickOnScreen(x, y, width, height) {
  const p = await this.clientPoint(x, y, width, height);
  await this.page.mouse.click(p.x, p.y);
  log(`viewer: clicked the picture at screen (${x}, ${y})`);
};

Viewer.prototype.controlMode = function controlMode() {
  return this.page.evaluate(() => document.body.dataset.control);
};

/** Wait until the control mode shown (body[data-control]) is `mode`. */
Viewer.prototype.waitForControl = async function waitForControl(mode, timeoutMs = 15_000) {
  await this.page.waitForFunction((m) => document.body.dataset.control === m, mode, { timeout: timeoutMs, polling: 50 });
  log(`viewer control mode: ${mode}`);
};

/** Send a line of text with the "Type text" box. */
Viewer.prototype.typeText = async function typeText(text) {
  await this.page.getByRole('textbox', { name: 'Text to type' }).fill(text, { timeout: 5_000 });
  await this.page.getByRole('button', { name: 'Type text' }).click({ timeout: 5_000 });
};

/** Give the keyboard to the picture (the caseworker clicks into it). */
Viewer.prototype.focusPicture = async function focusPicture() {
  await this.page.getByRole('textbox', { name: "Mouse and keyboard to the resident's screen" }).focus();
};

/** Average colour of the 4×4 pixels around (x, y) of the picture at its intrinsic size. */
Viewer.prototype.colourAt = function colourAt(x, y) {
  return this.page.evaluate(({ x, y }) => {
    const video = document.getElementById('screen');
    if (!video?.videoWidth) return null;
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth; canvas.height = video.videoHeight;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(video, 0, 0);
    const { data } = ctx.getImageData(x - 2, y - 2, 4, 4);
    const sum = [0, 0, 0];
    for (let i = 0; i < data.length; i += 4) { sum[0] += data[i]; sum[1] += data[i + 1]; sum[2] += data[i + 2]; }
    return sum.map((v) => Math.round(v / 16));
  }, { x, y });
};

/** Poll until the colour around (x, y) of the picture is within `tolerance` of `rgb`. */
Viewer.prototype.waitForColourAt = async function waitForColourAt(x, y, rgb, { tolerance = 24, timeoutMs = 15_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  while (Date.now() < deadline) {
    last = await this.colourAt(x, y);
    if (last && last.every((v, i) => Math.abs(v - rgb[i]) <= tolerance)) {
      log(`viewer shows rgb(${last.join(',')}) at (${x}, ${y})`);
      return last;
    }
    await sleep(200);
  }
  throw new Error(`the picture at (${x}, ${y}) did not turn rgb(${rgb.join(',')}) within ${timeoutMs} ms; last ${JSON.stringify(last)}`);
};

/** Send raw messages on the data channel, as a buggy or hostile viewer could. */
Viewer.prototype.sendRaw = function sendRaw(messages) {
  return this.page.evaluate((msgs) => {
    for (const m of msgs) window.acote.channel.send(JSON.stringify(m));
  }, messages);
};

// ---------------------------------------------------------------------------------------
// Sound (the voice call: tests/e2e/voice.test.mjs, the bench's `voice` scenario)

/** The sample rate of the resident's sound system and the test tones. */
export const SOUND_RATE = 48_000;
const RATE = SOUND_RATE;

/** A mono 16-bit WAV of `secs` seconds: `hz` on for 200 ms, off for 100 ms (noise
 * suppressors let a pulsed tone through, they flatten a steady one). */
export function pulsedTone(hz, secs) {
  const n = RATE * secs;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i += 1) {
    const on = (i % (RATE * 0.3)) < RATE * 0.2;
    const s = on ? Math.round(0.4 * 32767 * Math.sin((2 * Math.PI * hz * i) / RATE)) : 0;
    data.writeInt16LE(s, i * 2);
  }
  const head = Buffer.alloc(44);
  head.write('RIFF', 0); head.writeUInt32LE(36 + data.length, 4); head.write('WAVE', 8);
  head.write('fmt ', 12); head.writeUInt32LE(16, 16); head.writeUInt16LE(1, 20); head.writeUInt16LE(1, 22);
  head.writeUInt32LE(RATE, 24); head.writeUInt32LE(RATE * 2, 28); head.writeUInt16LE(2, 32);
  head.writeUInt16LE(16, 34); head.write('data', 36); head.writeUInt32LE(data.length, 40);
  return Buffer.concat([head, data]);
}

function runQuiet(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: ${code} ${err}`))));
  });
}

/** The resident's sound system: PulseAudio with a `mic` sink (what is played into it is
 * the microphone, through its monitor) and a `spk` sink (the speakers, recorded through
 * its monitor), reached by the agent through ALSA's pulse plugin, as on a desktop.
 * Returns the agent's environment and a recorder of the speakers. */
export async function startResidentSound(h, { tone = 440 } = {}) {
  const dir = path.join(h.dir, 'pulse');
  await mkdir(dir, { recursive: true });
  const own = { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir, PULSE_RUNTIME_PATH: dir };
  delete own.DISPLAY;
  h.spawn('pulseaudio', 'pulseaudio', ['-n', '--daemonize=no', '--exit-idle-time=-1', '--use-pid-file=no',
    '--log-target=stderr', '-L', `module-native-protocol-unix socket=${dir}/native auth-anonymous=1`,
    '-L', `module-null-sink sink_name=spk rate=${RATE} channels=2`,
    '-L', `module-null-sink sink_name=mic rate=${RATE} channels=1`], { env: own });
  const env = { ...own, PULSE_SERVER: `unix:${dir}/native` };
  for (let i = 0; ; i += 1) {
    try {
      await runQuiet('pactl', ['info'], env);
      break;
    } catch (err) {
      if (i > 50) throw err;
      await sleep(100);
    }
  }
  await runQuiet('pactl', ['set-default-sink', 'spk'], env);
  await runQuiet('pactl', ['set-default-source', 'mic.monitor'], env);
  // The agent's ALSA "default" device goes to this server (libasound2-plugins' pulse).
  const asound = path.join(dir, 'asound.conf');
  await writeFile(asound, `pcm.!default { type pulse server "${env.PULSE_SERVER}" }\n` +
    `ctl.!default { type pulse server "${env.PULSE_SERVER}" }\n`);
  const wav = path.join(dir, 'resident.wav');
  await writeFile(wav, pulsedTone(tone, 20));
  // The microphone plays the tone over and over, until the test ends.
  let player = null;
  let playing = true;
  const play = () => {
    player = spawn('paplay', ['-d', 'mic', wav], { env, stdio: 'ignore' });
    player.on('exit', () => { if (playing) play(); });
  };
  play();
  h.cleanups.push(async () => { playing = false; player?.kill(); });
  // The speakers, as 16-bit mono samples at 48 kHz, kept as they come.
  const recorder = spawn('parec', ['-d', 'spk.monitor', '--raw', '--format=s16le', `--rate=${RATE}`, '--channels=1',
    '--latency-msec=20'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  h.cleanups.push(async () => recorder.kill());
  // The last 10 s are kept (all a check looks at).
  const keep = RATE * 2 * 10;
  const chunks = [];
  let kept = 0;
  let bytes = 0;
  recorder.stdout.on('data', (d) => {
    chunks.push(d);
    kept += d.length;
    bytes += d.length;
    while (chunks.length > 1 && kept - chunks[0].length >= keep) kept -= chunks.shift().length;
  });
  /** RMS (in 16-bit units) of the speakers over the last `ms`: silence ≈ 0, the call's
   * tone thousands. */
  const speakers = (ms) => {
    const want = Math.floor((RATE * ms) / 1000) * 2;
    const all = Buffer.concat(chunks);
    const tail = all.subarray(Math.max(0, all.length - want));
    let sum = 0;
    for (let i = 0; i + 1 < tail.length; i += 2) sum += tail.readInt16LE(i) ** 2;
    return Math.sqrt(sum / Math.max(1, tail.length / 2));
  };
  const recorded = () => bytes;
  return {
    // ALSA's default device is the server's ALSA plugin; Wine's sound driver finds the
    // server by its `PULSE_SERVER`.
    agentEnv: { PULSE_SERVER: env.PULSE_SERVER, ALSA_CONFIG_PATH: `/usr/share/alsa/alsa.conf:${asound}` },
    speakers,
    recorded,
  };
}

/** The viewer's inbound and outbound audio, from the peer connection's statistics. */
export function audioStats(viewer) {
  return viewer.page.evaluate(async () => {
    const out = { received: 0, energy: 0, duration: 0, level: 0, sent: 0, lost: 0, samples: 0, concealed: 0,
      jitterDelay: 0, emitted: 0, sentBytes: 0, receivedBytes: 0 };
    const pc = window.acote.pc;
    if (!pc) return out;
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') {
        out.received += r.packetsReceived ?? 0;
        out.energy += r.totalAudioEnergy ?? 0;
        out.duration += r.totalSamplesDuration ?? 0;
        out.level = Math.max(out.level, r.audioLevel ?? 0);
        out.lost += r.packetsLost ?? 0;
        out.samples += r.totalSamplesReceived ?? 0;
        out.concealed += r.concealedSamples ?? 0;
        out.jitterDelay += r.jitterBufferDelay ?? 0;
        out.emitted += r.jitterBufferEmittedCount ?? 0;
        out.receivedBytes += r.bytesReceived ?? 0;
      }
      if (r.type === 'outbound-rtp' && r.kind === 'audio') {
        out.sent += r.packetsSent ?? 0;
        out.sentBytes += r.bytesSent ?? 0;
      }
    });
    return out;
  });
}
