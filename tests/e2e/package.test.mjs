// Issue 18: the relay as an IT admin installs it. The Debian package is built from the
// relay the tests built (scripts/package-deb.sh --bin), installed with dpkg on this
// machine, its systemd unit checked by systemd-analyze (verify, and the security score),
// and the relay started from the installed files as the `acote` user: a caseworker added
// with the installed admin command signs in through the real viewer and pairs with an
// agent. Then `dpkg -r` removes the program and keeps the data (the audit log).
// Root only (dpkg, a system user); it leaves the machine as it found it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  Harness, REPO, BIN_DIR, startXvfb, startAgent, serveRelay, addCaseworker, openSignedInViewer,
  log, QUESTION_LINE,
} from './harness.mjs';

const execFileP = promisify(execFile);
const run = (cmd, ...args) => execFileP(cmd, args, { timeout: 120_000, maxBuffer: 16 << 20 });
const CASEWORKER = { login: 'yasmina', name: 'Yasmina Benali', site: 'Espace solidarité', password: 'paquet installé 2027' };
const UNIT = '/usr/lib/systemd/system/acote-relay.service';

/** Takes the package and everything it made off the machine (the data folder too). */
async function uninstall() {
  await run('dpkg', '--purge', 'acote-relay').catch(() => {});
  await run('rm', '-rf', '/var/lib/acote', '/etc/acote');
  await run('userdel', 'acote').catch(() => {});
  await run('groupdel', 'acote').catch(() => {});
}

const mode = async (p) => {
  const s = await stat(p);
  return { mode: (s.mode & 0o777).toString(8), uid: s.uid, gid: s.gid };
};
const idOf = async (flag, name) => Number((await run('id', flag, name)).stdout.trim());

test('the Debian package: installed with dpkg, a hardened unit, the relay runs from it as acote; dpkg -r keeps the data',
  { timeout: 300_000, skip: process.getuid?.() !== 0 && 'needs root (dpkg, a system user)' }, async (t) => {
    const h = await Harness.create(t);
    await h.run(async () => {
      await uninstall();
      h.cleanups.push(uninstall);
      const { stdout } = await run('bash', path.join(REPO, 'scripts/package-deb.sh'), '--bin', path.join(BIN_DIR, 'acote-relay'));
      const deb = stdout.trim().split('\n').pop();
      assert.match(deb, /acote-relay_[0-9.]+_[a-z0-9]+\.deb$/);
      const info = (await run('dpkg-deb', '--field', path.resolve(REPO, deb), 'Depends', 'Version')).stdout;
      log(`built ${path.basename(deb)}: ${info.replace(/\n/g, ' ').trim()}`);
      await run('dpkg', '-i', path.resolve(REPO, deb));
      log('installed with dpkg -i');

      // What the package put where, and with which rights.
      assert.ok(existsSync('/usr/bin/acote-relay'), 'the program');
      assert.ok(existsSync(UNIT), 'the unit');
      assert.ok(existsSync('/usr/share/doc/acote-relay/usage.txt'), 'the --help texts');
      const passwd = (await run('getent', 'passwd', 'acote')).stdout.trim().split(':');
      assert.equal(passwd[5], '/var/lib/acote', 'the system user acote lives in /var/lib/acote');
      assert.match(passwd[6], /nologin|false/, 'and cannot log in');
      assert.ok(Number(passwd[2]) < 1000, 'a system user');
      const [uid, gid] = [await idOf('-u', 'acote'), await idOf('-g', 'acote')];
      assert.deepEqual(await mode('/var/lib/acote'), { mode: '700', uid, gid }, 'its data folder is its own, 0700');
      assert.deepEqual(await mode('/etc/acote/relay.toml'), { mode: '640', uid: 0, gid }, 'the config readable by acote only');
      const conffiles = (await readFile('/var/lib/dpkg/info/acote-relay.conffiles', 'utf8')).trim();
      assert.equal(conffiles, '/etc/acote/relay.toml', 'an admin\'s edits to the config survive upgrades');

      // The unit: valid, and how exposed systemd rates it (lower is better; docs/deployment.md).
      await run('systemd-analyze', 'verify', UNIT);
      const security = await execFileP('systemd-analyze', ['security', '--offline=true', '--no-pager', UNIT], { timeout: 60_000 })
        .catch((e) => e); // it exits non-zero above its threshold; the score is what matters
      const score = Number(/Overall exposure level for acote-relay\.service: ([0-9.]+)/.exec(security.stdout)?.[1]);
      log(`systemd-analyze security: exposure ${score} (0 safest, 10 unsafe)`);
      assert.ok(score <= 2, `exposure ${score}: the unit is hardened`);
      const unit = await readFile(UNIT, 'utf8');
      for (const line of ['Type=notify', 'User=acote', 'ProtectSystem=strict', 'StateDirectory=acote', 'NoNewPrivileges=yes',
        'AmbientCapabilities=CAP_NET_BIND_SERVICE', 'SystemCallFilter=@system-service']) {
        assert.ok(unit.split('\n').includes(line), `the unit has ${line}`);
      }

      // The relay from the installed files, as acote (an address of our own instead of 443).
      const acote = ['runuser', '-u', 'acote', '--'];
      const relay = await serveRelay(h, {
        bin: '/usr/bin/acote-relay', config: '/etc/acote/relay.toml', dataDir: null, listen: '127.0.0.1:0', wrap: acote,
      });
      await addCaseworker(h, relay, CASEWORKER);
      const db = await mode('/var/lib/acote/acote.db');
      assert.deepEqual(db, { mode: '600', uid, gid }, 'the database is acote\'s, 0600');
      const xvfb = await startXvfb(h, { width: 1280, height: 720 });
      const agent = await startAgent(h, relay, xvfb);
      const code = await agent.nextCode(30_000);
      const viewer = await openSignedInViewer(h, relay, CASEWORKER);
      await viewer.connect(code.digits);
      await agent.nextLine(QUESTION_LINE, 30_000);
      agent.write('y\n');
      await viewer.waitForState('watching', 45_000);
      log('paired through the installed relay');
      await viewer.endSession();
      process.kill(-relay.proc.child.pid, 'SIGTERM');
      await relay.proc.exitPromise;

      // Removed: the program and the unit go, the data and its owner stay.
      await run('dpkg', '-r', 'acote-relay');
      assert.ok(!existsSync('/usr/bin/acote-relay') && !existsSync(UNIT), 'the program and unit are gone');
      assert.ok(existsSync('/var/lib/acote/acote.db'), 'the database (accounts, audit log) is kept');
      const audit = (await run(path.join(BIN_DIR, 'acote-relay'), 'admin', '--data-dir', '/var/lib/acote', 'audit', 'verify')).stdout;
      log(`after dpkg -r: ${audit.trim().split('\n').pop()}`);
    });
  });

// The container image (packaging/Containerfile), built by podman from the same package.
// Its base is Debian's own minimal system of the machine's release, made by debootstrap
// from Debian's archive and imported (no registry is reachable here); the Containerfile
// is otherwise built as an admin builds it. This sandbox refuses a container's init its
// resource limits (setrlimit RLIMIT_NPROC), so `podman run` cannot start a container
// here: the image's entrypoint runs from the image's own files, its user and its config
// instead (chroot into the container's file system as podman mounts it), and a caseworker
// pairs through it. Where `podman run` works, the image's program answers --version there too.
const BASE = 'localhost/acote-test-base';
const IMAGE = 'localhost/acote-relay:test';

/** Debian's minimal system of this machine's release, as a local image (kept between runs). */
async function baseImage(h) {
  const release = /^VERSION_CODENAME=(\w+)$/m.exec(await readFile('/etc/os-release', 'utf8'))?.[1];
  assert.ok(release, 'the machine\'s Debian release');
  const tag = `${BASE}:${release}`;
  if ((await execFileP('podman', ['image', 'exists', tag]).then(() => true, () => false))) return tag;
  const rootfs = path.join(h.dir, 'rootfs');
  log(`making ${tag} with debootstrap (minbase) from deb.debian.org`);
  await execFileP('debootstrap', ['--variant=minbase', release, rootfs, 'http://deb.debian.org/debian'],
    { timeout: 600_000, maxBuffer: 64 << 20 });
  await execFileP('bash', ['-c', 'tar -C "$1" -c . | podman import - "$2"', 'import', rootfs, tag],
    { timeout: 300_000, maxBuffer: 64 << 20 });
  await run('rm', '-rf', rootfs);
  return tag;
}

const canBuildImages = process.getuid?.() !== 0 ? 'needs root (podman\'s storage, chroot)'
  : !['podman', 'debootstrap'].every((c) => ['/usr/bin', '/usr/sbin'].some((d) => existsSync(path.join(d, c))))
    && 'needs podman and debootstrap (scripts/lib.sh installs them)';

test('the container image: built by podman from the package; its entrypoint, user and volume serve a session',
  { timeout: 600_000, skip: canBuildImages }, async (t) => {
    const h = await Harness.create(t);
    await h.run(async () => {
      const base = await baseImage(h);
      const { stdout } = await run('bash', path.join(REPO, 'scripts/package-deb.sh'), '--bin', path.join(BIN_DIR, 'acote-relay'));
      assert.match(stdout.trim().split('\n').pop(), /\.deb$/);
      const build = ['build', '--isolation', 'chroot', '--pull=never', '--network', 'host', '--from', base,
        '-f', path.join(REPO, 'packaging/Containerfile'), '-t', IMAGE, REPO];
      await execFileP('podman', build, { timeout: 300_000, maxBuffer: 64 << 20 });
      h.cleanups.push(() => run('podman', 'rmi', '-f', IMAGE));
      log(`built ${IMAGE} from ${base}`);

      // What the image says about itself: the admin's ports, volume and user.
      const [config] = JSON.parse((await run('podman', 'image', 'inspect', IMAGE)).stdout).map((i) => i.Config);
      assert.equal(config.User, 'acote', 'the relay does not run as root');
      assert.deepEqual(Object.keys(config.ExposedPorts).sort(), ['3478/tcp', '3478/udp', '443/tcp', '9464/tcp']);
      assert.deepEqual(Object.keys(config.Volumes), ['/var/lib/acote'], 'the data (accounts, audit log) is a volume');
      assert.deepEqual(config.Entrypoint, ['/usr/bin/acote-relay', 'serve', '--config', '/etc/acote/relay.toml']);
      assert.equal(config.StopSignal, 'SIGTERM');
      const version = (await run(path.join(BIN_DIR, 'acote-relay'), '--version')).stdout.trim();
      const probe = await execFileP('podman', ['run', '--rm', '--network', 'none', '--entrypoint', '/usr/bin/acote-relay', IMAGE, '--version'],
        { timeout: 120_000 }).catch((e) => e);
      if (probe.code) log(`podman run is refused here: ${probe.stderr.trim().split('\n').pop()}`);
      else assert.equal(probe.stdout.trim(), version, 'the image\'s program, run by podman');

      // The container's file system, as podman gives it to the container's process.
      const container = (await run('podman', 'create', '--name', 'acote-relay-test', IMAGE)).stdout.trim();
      const rootfs = (await run('podman', 'mount', container)).stdout.trim();
      h.cleanups.push(async () => {
        for (const p of h.procs) await p.kill(); // nothing may hold the mount
        await run('podman', 'rm', '-f', container);
      });
      const passwd = (await readFile(path.join(rootfs, 'etc/passwd'), 'utf8')).split('\n').find((l) => l.startsWith('acote:'));
      assert.ok(passwd, 'the image has the acote system user');
      const [, , uid, gid, , home] = passwd.split(':');
      assert.equal(home, '/var/lib/acote', 'its home is the volume');
      assert.deepEqual(await mode(path.join(rootfs, 'var/lib/acote')), { mode: '700', uid: Number(uid), gid: Number(gid) },
        'the volume\'s folder is acote\'s, 0700 (a new volume starts from it)');
      assert.equal((await run(path.join(rootfs, 'usr/bin/acote-relay'), '--version')).stdout.trim(), version);

      // Its entrypoint, as its user, with its config (our own address instead of 443).
      const [bin, , , imageConfig] = config.Entrypoint;
      const inImage = ['chroot', `--userspec=${uid}:${gid}`, rootfs];
      const relay = await serveRelay(h, { bin, config: imageConfig, dataDir: null, listen: '127.0.0.1:0', wrap: inImage });
      await addCaseworker(h, relay, CASEWORKER);
      assert.deepEqual(await mode(path.join(rootfs, 'var/lib/acote/acote.db')), { mode: '600', uid: Number(uid), gid: Number(gid) },
        'the database is written in the volume, acote\'s, 0600');
      const xvfb = await startXvfb(h, { width: 1024, height: 768 });
      const agent = await startAgent(h, relay, xvfb);
      const code = await agent.nextCode(30_000);
      const viewer = await openSignedInViewer(h, relay, CASEWORKER);
      await viewer.connect(code.digits);
      await agent.nextLine(QUESTION_LINE, 30_000);
      agent.write('y\n');
      await viewer.waitForState('watching', 45_000);
      log('paired through the relay of the container image');
      await viewer.endSession();
      process.kill(-relay.proc.child.pid, 'SIGTERM');
      await relay.proc.exitPromise;
      const audit = (await run(path.join(BIN_DIR, 'acote-relay'), 'admin', '--data-dir', path.join(rootfs, 'var/lib/acote'), 'audit', 'verify')).stdout;
      log(`the volume's audit log: ${audit.trim().split('\n').pop()}`);
    });
  });
