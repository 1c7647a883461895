// Helpers for the Windows agent's end-to-end tests: a Wine prefix of the test's own on
// the test's Xvfb, the test-only ProcessPrng shim Wine 8 needs (tests/e2e/wine/), and a
// one-field Windows form whose text the test reads back exactly.
//
// The Windows agent comes from target-windows/ (scripts/build-windows.sh) or
// $ACOTE_WIN_BIN_DIR.

import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO, displayFromFd, log } from './harness.mjs';

const execFileP = promisify(execFile);
export const WINE = process.env.ACOTE_WINE || '/usr/lib/wine/wine64';
export const WIN_BIN_DIR = process.env.ACOTE_WIN_BIN_DIR ||
  path.join(REPO, 'target-windows', 'x86_64-pc-windows-gnu', 'debug');
export const WIN_AGENT = path.join(WIN_BIN_DIR, 'acote-agent.exe');
const SRC = path.join(REPO, 'tests', 'e2e', 'wine');
const MINGW = 'x86_64-w64-mingw32-gcc';

/** Builds the shim DLL and the form into `dir` (a second or two with mingw). */
async function buildHelpers(dir) {
  const dll = path.join(dir, 'bcryptprimitives.dll');
  const form = path.join(dir, 'form.exe');
  await execFileP(MINGW, ['-O2', '-shared', '-o', dll, path.join(SRC, 'processprng.c'),
    path.join(SRC, 'processprng.def'), '-ladvapi32'], { timeout: 60_000 });
  await execFileP(MINGW, ['-O2', '-o', form, path.join(SRC, 'form.c'), '-lgdi32', '-lshell32'],
    { timeout: 60_000 });
  const monitors = path.join(dir, 'monitors.exe');
  await execFileP(MINGW, ['-O2', '-o', monitors, path.join(SRC, 'monitors.c'), '-luser32'], { timeout: 60_000 });
  return { dll, form, monitors };
}

/** Switches Xvfb's screen to a `width`×`height` mode at 60 Hz (at most its own size).
 * Xvfb's own mode has no clock, Wine reports 0 Hz, and Slint's winit backend divides by
 * the refresh rate (it would panic: a PC whose driver reports 0 Hz would do the same,
 * docs/platforms.md). */
export async function setMode(xvfb, width = xvfb.width, height = xvfb.height) {
  const x = (args) => execFileP('xrandr', ['-display', xvfb.display, ...args], { timeout: 10_000 });
  const name = `${width}x${height}_60`;
  // A CVT-like timing; only the refresh rate it implies matters here.
  const htotal = width + 304;
  const vtotal = height + 30;
  const clockMHz = ((htotal * vtotal * 60) / 1e6).toFixed(2);
  const { stdout } = await x(['--query']);
  if (!stdout.includes(name)) {
    await x(['--newmode', name, clockMHz, String(width), String(width + 48), String(width + 152),
      String(htotal), String(height), String(height + 3), String(height + 7), String(vtotal),
      '-hsync', '+vsync']);
    await x(['--addmode', 'screen', name]);
  }
  await x(['--output', 'screen', '--mode', name]);
}

/** A resident's PC with several monitors side by side, left to right, each [width, height]
 * (the first the primary): Xorg with the dummy video driver, whose RandR outputs Wine lists
 * as monitors (Xvfb has one output; its Xinerama screens all sit at 0,0). Returns an
 * Xvfb-like { display, proc, width, height, dummy: true, monitors: their count }. Xorg takes a config path outside
 * /etc only from root, as the tests run. */
export async function startMonitors(h, monitors) {
  const width = monitors.reduce((sum, [w]) => sum + w, 0);
  const height = Math.max(...monitors.map(([, hh]) => hh));
  // A 60 Hz mode per size (Slint divides by the refresh rate; see setMode).
  const modeline = ([w, hh]) => {
    const clockMHz = (((w + 304) * (hh + 30) * 60) / 1e6).toFixed(2);
    return `  Modeline "${w}x${hh}" ${clockMHz} ${w} ${w + 48} ${w + 152} ${w + 304} ${hh} ${hh + 3} ${hh + 7} ${hh + 30} -hsync +vsync`;
  };
  const sizes = [...new Set(monitors.map(([w, hh]) => `${w}x${hh}`))].map((s) => s.split('x').map(Number));
  const config = path.join(h.dir, 'xorg-dummy.conf');
  await writeFile(config, [
    'Section "ServerFlags"', '  Option "AutoAddDevices" "false"', '  Option "AutoEnableDevices" "false"',
    '  Option "DontVTSwitch" "true"', 'EndSection',
    'Section "Device"', '  Identifier "card"', '  Driver "dummy"', '  VideoRam 131072', 'EndSection',
    'Section "Monitor"', '  Identifier "monitor"', '  HorizSync 5.0-1000.0', '  VertRefresh 5.0-200.0',
    ...sizes.map(modeline), 'EndSection',
    'Section "Screen"', '  Identifier "screen"', '  Device "card"', '  Monitor "monitor"', '  DefaultDepth 24',
    '  SubSection "Display"', '    Depth 24', `    Modes "${monitors[0][0]}x${monitors[0][1]}"`,
    `    Virtual ${width} ${height}`, '  EndSubSection', 'EndSection', '',
  ].join('\n'));
  const proc = h.spawn('xorg', 'Xorg', ['-displayfd', '3', '-config', config, '-noreset', '-nolisten', 'tcp',
    '-logfile', path.join(h.dir, 'xorg.log'), '-sharevts', 'vt7'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  const display = await displayFromFd(proc, 'Xorg (dummy driver)', 30_000);
  const xrandr = (args) => execFileP('xrandr', ['-display', display, ...args], { timeout: 10_000 });
  let left = 0;
  for (const [i, [w, hh]] of monitors.entries()) {
    const mode = `${w}x${hh}`;
    if (i > 0) await xrandr(['--addmode', `DUMMY${i}`, mode]);
    await xrandr(['--output', `DUMMY${i}`, '--mode', mode, '--pos', `${left}x0`, ...(i === 0 ? ['--primary'] : [])]);
    left += w;
  }
  await xrandr(['--fb', `${width}x${height}`]);
  // A plain query makes the server probe its outputs; Wine reads the unprobed ("current")
  // state, which otherwise may still have one monitor.
  await xrandr(['--query']);
  log(`Xorg (dummy) on ${display}: ${monitors.map(([w, hh]) => `${w}x${hh}`).join(' + ')}`);
  return { display, proc, width, height, dummy: true, monitors: monitors.length };
}

/** Waits until Wine lists `count` monitors. Wine reads RandR's unprobed state, which
 * startMonitors has the server refresh; should Wine still have read an older layout, a
 * fresh Wine server reads it again. */
async function waitForMonitors(env, exe, count) {
  const server = path.join(path.dirname(WINE), 'wineserver');
  let listed = '';
  for (let attempt = 1; attempt <= 6; attempt++) {
    ({ stdout: listed } = await execFileP(WINE, [exe], { env, timeout: 60_000 }));
    const found = listed.trim().split('\n').filter(Boolean).length;
    if (found === count) {
      log(`Wine lists ${count} monitors: ${listed.trim().replaceAll('\n', '; ')}`);
      return;
    }
    log(`Wine lists ${found} of ${count} monitors (attempt ${attempt}); starting its server afresh`);
    await execFileP(server, ['-k'], { env, timeout: 20_000 }).catch(() => {});
    await execFileP(server, ['-w'], { env, timeout: 60_000 }).catch(() => {});
    await new Promise((r) => setTimeout(r, 2_000));
  }
  throw new Error(`Wine does not list the ${count} monitors of the X server: ${listed}`);
}

/** A fresh Wine prefix in the harness's temp dir, booted on `xvfb`. Returns
 * { env, prefix, form, winPath(unixPath), kill() }; the prefix's wineserver is stopped
 * when the harness closes. */
export async function startWine(h, xvfb) {
  if (!existsSync(WINE)) throw new Error(`Wine not found at ${WINE} (apt-get install wine64)`);
  if (!existsSync(WIN_AGENT)) {
    throw new Error(`Windows agent not found at ${WIN_AGENT} (run scripts/build-windows.sh, or set ACOTE_WIN_BIN_DIR)`);
  }
  // The dummy driver's modes have their 60 Hz already.
  if (!xvfb.dummy) await setMode(xvfb);
  const prefix = path.join(h.dir, 'wine');
  const helpers = path.join(h.dir, 'wine-helpers');
  await mkdir(helpers, { recursive: true });
  const built = await buildHelpers(helpers);
  const env = {
    WINEPREFIX: prefix, WINEDEBUG: '-all', DISPLAY: xvfb.display,
    // No Mono or Gecko installers: the agent needs neither, and they would ask on screen.
    WINEDLLOVERRIDES: 'mscoree,mshtml=',
  };
  const base = await h.env('wine', env);
  const started = Date.now();
  await execFileP(WINE, ['wineboot', '--init'], { env: base, timeout: 180_000 });
  await execFileP(path.join(path.dirname(WINE), 'wineserver'), ['-w'], { env: base, timeout: 60_000 });
  await copyFile(built.dll, path.join(prefix, 'drive_c', 'windows', 'system32', 'bcryptprimitives.dll'));
  if (xvfb.dummy) await waitForMonitors(base, built.monitors, xvfb.monitors);
  log(`Wine prefix ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  h.cleanups.push(async () => {
    await execFileP(path.join(path.dirname(WINE), 'wineserver'), ['-k'], { env: base, timeout: 20_000 })
      .catch(() => {});
  });
  return {
    env,
    prefix,
    server: async (flag) => execFileP(path.join(path.dirname(WINE), 'wineserver'), [flag],
      { env: base, timeout: 60_000 }),
    /** Sets a variable of the Windows user's environment (HKCU\\Environment), which
     * programs started afterwards get over the Unix one. */
    setUserEnv: async (name, value) => {
      await execFileP(WINE, ['reg', 'add', 'HKCU\\Environment', '/v', name, '/d', value, '/f'],
        { env: base, timeout: 60_000 });
    },
    formExe: built.form,
    /** The Windows path Wine gives a Unix path (through drive Z:). */
    winPath: (p) => `Z:${p.replaceAll('/', '\\')}`,
  };
}

/** Starts the one-field form at (x, y, w, h) on the Windows desktop; resolves once shown.
 * `form.text()` is what its field holds now. */
export async function startForm(h, wine, { x = 100, y = 100, w = 600, height = 80 } = {}) {
  const out = path.join(h.dir, 'form.txt');
  const proc = h.spawn('form', WINE, [wine.formExe, wine.winPath(out), String(x), String(y), String(w), String(height)],
    { env: await h.env('form', wine.env) });
  await proc.nextLine(/^ready$/, 60_000);
  log(`Windows form shown at ${x},${y} (${w}x${height})`);
  return {
    proc,
    centre: { x: x + Math.floor(w / 2), y: y + Math.floor(height / 2) },
    text: async () => (existsSync(out) ? readFile(out, 'utf8') : ''),
  };
}

/** The registry keys the prefix's files hold now (wineserver writes them when it stops). */
export async function registryKeys(wine) {
  const keys = new Set();
  for (const file of ['system.reg', 'user.reg', 'userdef.reg']) {
    const text = await readFile(path.join(wine.prefix, file), 'utf8').catch(() => '');
    for (const m of text.matchAll(/^\[([^\]]+)\]/gm)) keys.add(m[1].toLowerCase());
  }
  return keys;
}

/** Every file under the prefix's C: drive modified at or after `sinceMs`, as paths
 * relative to drive_c. */
export async function filesWrittenSince(wine, sinceMs) {
  const root = path.join(wine.prefix, 'drive_c');
  const written = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath ?? entry.path, entry.name);
    const st = await stat(full).catch(() => null);
    if (st && st.mtimeMs >= sinceMs) written.push(path.relative(root, full));
  }
  return written;
}
