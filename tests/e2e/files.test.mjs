// End-to-end: files both ways between the caseworker's viewer and the console agent, on a
// relay whose site allows files up to 1 MB (`[limits] max_file_mb = 1`), while the
// caseworker only views (no control asked). In one session:
//   1. the caseworker sends a 300 kB file with "Send a file…" (by keyboard): the viewer
//      waits for the resident, the agent asks (`file offered: NAME, N bytes`), the
//      resident says `save`, the file lands in the resident's Downloads with the very same
//      bytes (`file saved: PATH`), and the viewer says the resident saved it, having shown
//      a progress bar on the way;
//   2. another file, declined (`skip`): the viewer says the resident declined it;
//   3. a 1.5 MB file is refused in the viewer, before anything leaves, with the limit;
//   4. the resident sends a 200 kB file (`send PATH`) while the Files panel is closed: the
//      picture does not move, the rail counts it, the viewer lists it with a Save link whose
//      download has the very same bytes, and the agent prints `file sent: NAME`.
// Messages that break the protocol, dispatched on the channel as if from the agent, are
// ignored. After the end the received file can still be saved, the next session starts
// empty; the relay's audit log says files were used, once, and neither it nor any log of
// the relay (nor the viewer's console) holds a file name.
// A second test makes the resident's Downloads a 256 kB tmpfs: a 1 MB file the resident
// accepts fills it, both sides say the disk is full, no partial file is left, and the next
// file, that fits, is saved whole in the same session.
//
// Run with ACOTE_VIEWER_DIR=viewer to try the viewer's files without rebuilding the relay.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  Harness, startXvfb, startRelay, startAgent, openSignedInViewer, addCaseworker, relayAdmin, log,
  QUESTION_LINE,
} from './harness.mjs';

const CASEWORKER = { login: 'marie', name: 'Marie Dupont', site: 'CCAS Belleville', password: 'classeur vert 2031' };
// Names no log would hold by chance, so finding one anywhere means it was logged.
const NONCE = randomBytes(4).toString('hex');
const SENT_NAME = `attestation-${NONCE}.pdf`;
const DECLINED_NAME = `formulaire-${NONCE}.pdf`;
const BIG_NAME = `grosfichier-${NONCE}.bin`;
const RESIDENT_NAME = `scan-identite-${NONCE}.pdf`;
const OFFERED = /^file offered: (.+), (\d+) bytes\s*$/;
const SAVED = /^file saved: (.+?)\s*$/;
const ENDED = /^file ended: (.+), ([a-z_]+)\s*$/;
const SENT = /^file sent: (.+?)\s*$/;

const sha = (bytes) => createHash('sha256').update(bytes).digest('hex');
const execFileP = promisify(execFile);

/** Where the picture is drawn, once the page is laid out (two frames, for the
 * ResizeObserver that fits the picture). */
function pictureRect(viewer) {
  return viewer.page.evaluate(async () => {
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const r = document.getElementById('frame').getBoundingClientRect();
    return { left: r.left, top: r.top, width: r.width, height: r.height };
  });
}

/** The transfers listed: [{ name, dir, phase, status, text }]. */
function listed(viewer) {
  return viewer.page.evaluate(() => [...document.querySelectorAll('#files-list .file-item')].map((li) => ({
    name: li.querySelector('.file-name').textContent,
    dir: li.dataset.dir,
    phase: li.dataset.phase,
    status: li.dataset.status,
    text: li.querySelector('.file-status').textContent,
  })));
}

/** The list's entry for `name`, once `pred` holds for it. */
async function waitForItem(viewer, name, pred, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let items = [];
  for (;;) {
    items = await listed(viewer);
    const item = items.find((i) => i.name === name);
    if (item && pred(item)) return item;
    if (Date.now() > deadline) {
      throw new Error(`the files list did not show ${what} for ${name} within ${timeoutMs} ms: ${JSON.stringify(items)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The caseworker signs in and types the agent's code, the resident says yes: the
 * viewer once the picture shows and the data channel is open. */
async function sharing(h, relay, agent) {
  const code = await agent.nextCode();
  const viewer = await openSignedInViewer(h, relay, CASEWORKER);
  await viewer.connect(code.digits);
  await agent.nextLine(QUESTION_LINE, 20_000);
  agent.write('y\n');
  await viewer.waitForState('watching', 60_000);
  await viewer.waitForVideo((s) => s.framesDecoded > 0, 20_000, 'decoded frames');
  await viewer.page.waitForFunction(() => window.acote.channel?.readyState === 'open', null, { timeout: 20_000 });
  return viewer;
}

/** Picks `file` ({ name, buffer }) with the panel's "Send a file…" button, by keyboard. */
const keptChooser = new WeakSet();

async function sendWithButton(page, file) {
  const button = page.getByRole('button', { name: 'Send a file…' });
  // A listener kept for the page's life keeps Playwright intercepting choosers: with only
  // the one-shot wait below, interception is turned off and on again between two picks,
  // and a chooser opened in that gap is missed.
  if (!keptChooser.has(page)) {
    page.on('filechooser', () => {});
    keptChooser.add(page);
  }
  await button.focus();
  const [chooser] = await Promise.all([page.waitForEvent('filechooser', { timeout: 10_000 }), page.keyboard.press('Enter')]);
  await chooser.setFiles({ name: file.name, mimeType: 'application/octet-stream', buffer: file.buffer });
  log(`viewer: picked ${file.name} (${file.buffer.length} bytes) with "Send a file…"`);
}

test('files both ways while only viewing: saved, declined, too large, received; no name in any log', { timeout: 300_000 }, async (t) => {
  const h = await Harness.create(t);
  await h.run(async () => {
    const xvfb = await startXvfb(h, { width: 1280, height: 720 });
    const relay = await startRelay(h, { configExtra: '\n[limits]\nmax_file_mb = 1\n' });
    await addCaseworker(h, relay, CASEWORKER);
    const agent = await startAgent(h, relay, xvfb);
    const agentHome = path.join(h.dir, 'agent-home'); // the agent's HOME (harness env)
    const viewer = await sharing(h, relay, agent);
    const { page } = viewer;

    // The rail opens the panel by keyboard; the focus goes to "Send a file…", which says the limit.
    const rail = page.getByRole('button', { name: 'Files', exact: true });
    assert.equal(await rail.getAttribute('aria-expanded'), 'false');
    await rail.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Files with the resident' }).waitFor({ timeout: 5_000 });
    await page.waitForFunction(() => document.activeElement?.id === 'files-pick', null, { timeout: 5_000 });
    await page.getByRole('button', { name: 'Send a file…' }).waitFor({ state: 'visible' });
    assert.ok(await page.getByRole('button', { name: 'Send a file…' }).isEnabled(), 'files can go: the channel is open');
    assert.match(await page.locator('#files-hint').textContent(), /^Up to 1\sMB per file\./);

    // 1. Caseworker → resident, saved.
    const form = randomBytes(300_000);
    await page.evaluate(() => {
      // Every value the progress bars take, for the check below.
      window.progressSeen = [];
      new MutationObserver((records) => {
        for (const r of records) {
          if (r.target.getAttribute('role') === 'progressbar') window.progressSeen.push(Number(r.target.getAttribute('aria-valuenow')));
        }
      }).observe(document.getElementById('files-list'), { subtree: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    });
    await sendWithButton(page, { name: SENT_NAME, buffer: form });
    const [, offeredName, offeredSize] = await agent.nextLine(OFFERED, 20_000);
    assert.equal(offeredName, SENT_NAME, 'the agent asks about the file by its name');
    assert.equal(Number(offeredSize), form.length);
    await waitForItem(viewer, SENT_NAME, (i) => i.text === 'Waiting for the resident to accept…', 'the wait for the resident');
    assert.ok(await page.getByRole('button', { name: `Cancel the transfer of ${SENT_NAME}` }).isVisible(), 'it can be cancelled meanwhile');
    agent.write('save\n');
    const [, savedPath] = await agent.nextLine(SAVED, 30_000);
    log(`agent saved the file at ${savedPath}`);
    assert.ok(path.resolve(savedPath).startsWith(`${agentHome}${path.sep}`), `saved in the resident's home (${savedPath})`);
    assert.equal(path.basename(savedPath), SENT_NAME);
    const onDisk = await readFile(savedPath);
    assert.equal(onDisk.length, form.length);
    assert.equal(sha(onDisk), sha(form), 'the resident has the very same bytes');
    const saved = await waitForItem(viewer, SENT_NAME, (i) => i.phase === 'ended', 'the end');
    assert.equal(saved.status, 'saved');
    assert.equal(saved.text, `The resident saved ${SENT_NAME} in their Downloads folder.`);
    const progress = await page.evaluate(() => window.progressSeen);
    assert.ok(progress.length > 0, 'a progress bar was shown');
    assert.ok(progress.every((v) => v >= 0 && v <= 100), `progress ${progress}`);
    assert.equal(await page.getByRole('progressbar').count(), 0, 'no bar once done');
    assert.equal(await viewer.controlMode(), 'watching', 'all of it while only viewing');

    // 2. Declined by the resident.
    await sendWithButton(page, { name: DECLINED_NAME, buffer: randomBytes(50_000) });
    const [, declinedName] = await agent.nextLine(OFFERED, 20_000);
    assert.equal(declinedName, DECLINED_NAME);
    agent.write('skip\n');
    const [, endedName, endedStatus] = await agent.nextLine(ENDED, 20_000);
    assert.deepEqual([endedName, endedStatus], [DECLINED_NAME, 'refused']);
    const declined = await waitForItem(viewer, DECLINED_NAME, (i) => i.phase === 'ended', 'the end');
    assert.equal(declined.status, 'refused');
    assert.equal(declined.text, `The resident declined ${DECLINED_NAME}.`);

    // 3. Over the site's limit: refused here, nothing offered.
    await sendWithButton(page, { name: BIG_NAME, buffer: randomBytes(1_500_000) });
    const alert = page.locator('#files-error');
    await alert.waitFor({ timeout: 10_000 });
    assert.equal((await alert.textContent()).replace(/\u00A0/g, ' '),
      `${BIG_NAME} is too large (1.5 MB): the limit on this site is 1 MB.`);
    assert.equal(await agent.lineWithin(OFFERED, 2_000), null, 'the agent was never offered it');
    assert.ok(!(await listed(viewer)).some((i) => i.name === BIG_NAME), 'not listed: it never left');

    // Protocol breakers posing as the agent: ignored, nothing listed, nothing thrown.
    const before = (await listed(viewer)).length;
    await page.evaluate(() => {
      const id = 'ab'.repeat(16);
      const bad = [
        { type: 'file_offer', id: 'not-an-id', name: 'x.pdf', size: 3, sha256: 'ab'.repeat(32) },
        { type: 'file_offer', id, name: '../..', size: 3, sha256: 'ab'.repeat(32) },
        { type: 'file_offer', id, name: 'x.pdf', size: -3, sha256: 'ab'.repeat(32) },
        { type: 'file_chunk', id: 'cd'.repeat(16), offset: 0, data: 'AAAA' },
        { type: 'file_ack', id: 'cd'.repeat(16), offset: 99 },
        { type: 'file_accept', id: 'cd'.repeat(16), offset: 0 },
        { type: 'file_end', id: 'cd'.repeat(16), status: 'saved' },
        { type: 'file_chunk', id, offset: 0 },
      ];
      for (const m of bad) window.acote.channel.dispatchEvent(new MessageEvent('message', { data: JSON.stringify(m) }));
      window.acote.channel.dispatchEvent(new MessageEvent('message', { data: '{"type":"file_offer",' }));
    });
    assert.equal((await listed(viewer)).length, before, 'nothing listed from broken messages');

    // 4. Resident → caseworker, with the panel closed: counted on the rail, the picture still.
    await page.getByRole('button', { name: 'Send a file…' }).focus();
    await page.keyboard.press('Escape');
    await page.getByRole('heading', { name: 'Files with the resident' }).waitFor({ state: 'hidden', timeout: 5_000 });
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'files-toggle', 'the focus goes back to the rail');
    const still = await pictureRect(viewer);
    const scan = randomBytes(200_000);
    const scanPath = path.join(h.dir, RESIDENT_NAME);
    await writeFile(scanPath, scan);
    agent.write(`send ${scanPath}\n`);
    const [, sentName] = await agent.nextLine(SENT, 30_000);
    assert.equal(sentName, RESIDENT_NAME, 'the viewer reported it saved');
    await page.getByRole('button', { name: 'Files, 1 new' }).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('#files-badge').textContent(), '1');
    assert.match(await page.locator('#files-notice').textContent(), new RegExp(RESIDENT_NAME.replace(/\./g, '\\.')));
    assert.deepEqual(await pictureRect(viewer), still, 'the picture did not move when the file came');
    assert.equal(await page.getByRole('heading', { name: 'Files with the resident' }).isVisible(), false,
      'a file never opens the panel by itself');
    await page.getByRole('button', { name: 'Files, 1 new' }).click();
    await rail.waitFor({ timeout: 5_000 }); // seen: the count is gone
    const received = await waitForItem(viewer, RESIDENT_NAME, (i) => i.phase === 'ended', 'the end');
    assert.deepEqual([received.dir, received.status], ['in', 'saved']);
    const saveLink = page.getByRole('link', { name: new RegExp(`^Save ${RESIDENT_NAME.replace(/\./g, '\\.')} \\(200\\skB\\)$`) });
    assert.equal(await saveLink.getAttribute('download'), RESIDENT_NAME);
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), saveLink.click()]);
    assert.equal(download.suggestedFilename(), RESIDENT_NAME);
    const got = await readFile(await download.path());
    assert.equal(sha(got), sha(scan), 'the caseworker has the very same bytes');
    assert.equal(page.url().startsWith(relay.url), true, 'the page never opened the file');

    // In French, the outcomes are said in French.
    await page.getByRole('button', { name: 'Français', exact: true }).click();
    await page.getByRole('heading', { name: 'Fichiers avec la personne' }).waitFor({ timeout: 5_000 });
    const fr = await listed(viewer);
    assert.equal(fr.find((i) => i.name === SENT_NAME).text, `La personne a enregistré ${SENT_NAME} dans son dossier Téléchargements.`);
    assert.equal(fr.find((i) => i.name === DECLINED_NAME).text, `La personne a refusé ${DECLINED_NAME}.`);
    await page.getByRole('button', { name: 'English', exact: true }).click();

    // The end: the received file can still be saved; a new session starts empty.
    await viewer.endSession();
    await agent.nextEnded(20_000);
    await viewer.waitForState('ended');
    await saveLink.waitFor({ state: 'visible', timeout: 5_000 });
    await page.getByRole('button', { name: 'New session' }).click();
    await viewer.waitForState('enter-code');
    assert.equal((await listed(viewer)).length, 0, 'nothing of the last session is listed');

    // Audited once, by whom; no file name in the audit, the relay's output or the console.
    const today = new Date().toISOString().slice(0, 10);
    const csv = (await relayAdmin(h, relay, ['audit', 'export', '--from', today, '--to', today])).stdout;
    const used = csv.split('\n').filter((row) => row.split(',')[2] === 'feature_used');
    assert.deepEqual(used.map((row) => row.split(',')[5]), ['feature=files'], `feature_used rows:\n${csv}`);
    const names = [SENT_NAME, DECLINED_NAME, BIG_NAME, RESIDENT_NAME, NONCE];
    for (const n of names) assert.ok(!csv.includes(n), `the audit holds no file name (${n})`);
    const relayLogs = [relay.proc.stdout, relay.proc.stderr].join('\n');
    for (const n of names) assert.ok(!relayLogs.includes(n), `the relay's logs hold no file name (${n})`);
    const consoleText = viewer.console.join('\n');
    for (const n of names) assert.ok(!consoleText.includes(n), `the viewer's console holds no file name (${n})`);
    assert.ok(!viewer.console.some((l) => l.startsWith('[pageerror]')), `no error in the page:\n${consoleText}`);
    // The agent's log (stderr) is its own matter; say it if a name shows there.
    const inAgentLog = names.filter((n) => agent.stderr.includes(n));
    if (inAgentLog.length) log(`note: the agent's log holds file names: ${inAgentLog.join(', ')}`);
  });
});

test('a file larger than the room left in the resident\'s Downloads: "disk full" on both sides, nothing half-written left, the next file still saved', { timeout: 240_000 }, async (t) => {
  const h = await Harness.create(t);
  await h.run(async () => {
    // The resident's Downloads is a 256 kB tmpfs: a real full disk (ENOSPC), not a fake.
    const downloads = path.join(h.dir, 'agent-home', 'Downloads');
    await mkdir(downloads, { recursive: true });
    try {
      await execFileP('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', downloads], { timeout: 10_000 });
    } catch (err) {
      t.skip(`cannot mount a small tmpfs as the resident's Downloads (${err.message.split('\n')[0]}); run as root`);
      return;
    }
    // Lazily, as the agent may still hold the folder open.
    h.cleanups.push(() => execFileP('umount', ['-l', downloads], { timeout: 10_000 }));
    const xvfb = await startXvfb(h, { width: 1024, height: 600 });
    const relay = await startRelay(h, { configExtra: '\n[limits]\nmax_file_mb = 2\n' });
    await addCaseworker(h, relay, CASEWORKER);
    const agent = await startAgent(h, relay, xvfb);
    const viewer = await sharing(h, relay, agent);
    const { page } = viewer;
    await page.getByRole('button', { name: 'Files', exact: true }).click();
    await page.getByRole('heading', { name: 'Files with the resident' }).waitFor({ timeout: 5_000 });

    // 1 MB, under the site's limit, four times the room left: the resident says yes, the
    // disk fills, and both sides say so.
    const big = randomBytes(1_000_000);
    await sendWithButton(page, { name: BIG_NAME, buffer: big });
    const [, offeredName] = await agent.nextLine(OFFERED, 20_000);
    assert.equal(offeredName, BIG_NAME);
    agent.write('save\n');
    const [, endedName, endedStatus] = await agent.nextLine(ENDED, 30_000);
    assert.deepEqual([endedName, endedStatus], [BIG_NAME, 'disk_full'], 'the agent ends it as a full disk');
    const full = await waitForItem(viewer, BIG_NAME, (i) => i.phase === 'ended', 'the end');
    assert.equal(full.status, 'disk_full');
    assert.equal(full.text, `The resident's disk is full: ${BIG_NAME} was not saved.`);
    assert.deepEqual(await readdir(downloads), [], 'no half-written file is left in Downloads');
    log('a file larger than the room left: "disk full" on both sides, nothing left behind');

    // The session goes on: a file that fits is saved whole.
    const small = randomBytes(100_000);
    await sendWithButton(page, { name: SENT_NAME, buffer: small });
    await agent.nextLine(OFFERED, 20_000);
    agent.write('save\n');
    const [, savedPath] = await agent.nextLine(SAVED, 30_000);
    assert.equal(path.dirname(savedPath), downloads);
    assert.equal(sha(await readFile(savedPath)), sha(small), 'the next file arrived whole');
    const saved = await waitForItem(viewer, SENT_NAME, (i) => i.phase === 'ended', 'the end');
    assert.equal(saved.status, 'saved');
    assert.equal(await viewer.state(), 'watching', 'the session went on');
    log('the next file, that fits, was saved whole');
  });
});
