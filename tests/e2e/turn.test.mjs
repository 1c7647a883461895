// End-to-end: media through the relay's embedded TURN. First with the site's relay-only
// policy on one machine; then with the agent and the caseworker's browser on two networks
// (network namespaces) that cannot reach each other, UDP blocked for the caseworker, so
// the picture can only travel through the relay over TCP; last with UDP blocked on the
// resident's side, where the agent bridges its TURN client over TCP or TLS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  Harness, startXvfb, startRelay, startAgent, openViewer, log, QUESTION_LINE, addCaseworker, fillScreen,
} from './harness.mjs';

const run = promisify(execFile);

const CASEWORKER = {
  login: 'karim.benali',
  name: 'Karim Benali',
  site: 'Espace solidarité',
  password: 'pelican orage tableau 17',
};

/** A process's log without its colour codes. */
// eslint-disable-next-line no-control-regex
const uncoloured = (text) => text.replace(/\x1b\[[0-9;]*m/g, '');

/** Signs in, connects with `code`, has the resident say yes, waits for decoded frames;
 * returns the viewer's stats once they say how the media travels. */
async function watch(h, agent, url, code, { netns = null, relayOnlyBox = false, extraArgs = [] } = {}) {
  const viewer = await openViewer(h, url, { netns, extraArgs });
  await viewer.waitForState('sign-in', 30_000);
  await viewer.switchToEnglish();
  await viewer.signIn(CASEWORKER.login, CASEWORKER.password);
  await viewer.waitForState('enter-code');
  if (relayOnlyBox) {
    await viewer.page.getByLabel('Always go through the relay').check();
  }
  const frames = [];
  viewer.page.on('websocket', (ws) => {
    ws.on('framesent', (f) => { if (String(f.payload).includes('candidate')) frames.push(`sent ${f.payload}`); });
    ws.on('framereceived', (f) => { if (String(f.payload).includes('candidate')) frames.push(`got ${f.payload}`); });
  });
  h.frames = frames;
  await viewer.connect(code.spaced);
  await agent.nextLine(QUESTION_LINE, 20_000);
  agent.write('y\n');
  try {
    await viewer.waitForState('watching', 60_000);
  } catch (err) {
    const config = await viewer.page.evaluate(() => window.acote.ice).catch(() => null);
    // What each side tried, first: the browser's candidate pairs and the agent's own
    // account of its ICE and TURN, before the long candidate list.
    const pairs = await viewer.page.evaluate(async () => {
      const stats = await window.acote?.pc?.getStats();
      if (!stats) return [];
      const cands = new Map();
      stats.forEach((r) => { if (r.type.endsWith('candidate')) cands.set(r.id, r); });
      const name = (c) => (c ? `${c.candidateType}/${c.relayProtocol ?? c.protocol} ${c.address}:${c.port}` : '?');
      const out = [];
      stats.forEach((r) => {
        if (r.type !== 'candidate-pair') return;
        out.push(`${name(cands.get(r.localCandidateId))} -> ${name(cands.get(r.remoteCandidateId))}: ` +
          `${r.state}, ${r.requestsSent ?? 0} checks sent, ${r.responsesReceived ?? 0} answered, ` +
          `${r.requestsReceived ?? 0} received`);
      });
      return out;
    }).catch(() => []);
    const said = uncoloured(agent.stderr).split('\n')
      .filter((l) => /egress|peer_connection|agent_internal|turn::|relay_conn|WARN|ERROR/.test(l)).slice(-40);
    err.message += `\nviewer candidate pairs:\n${pairs.join('\n')}\nagent said:\n${said.join('\n')}` +
      `\nviewer peer configuration: ${JSON.stringify(config)}\n${frames.join('\n')}`;
    throw err;
  }
  await viewer.waitForVideo((s) => s.framesDecoded > 0, 20_000, 'decoded frames');
  const handle = await viewer.page.waitForFunction(
    () => (window.acote.stats?.path ? window.acote.stats : null), null, { timeout: 20_000, polling: 250 });
  const stats = await handle.jsonValue();
  const link = await viewer.page.locator('#link').innerText();
  log(`viewer: ${link}; path ${stats.path}, relay protocol ${stats.relayProtocol}, rtt ${stats.rttMs} ms`);
  return { viewer, stats, link };
}

test('relay-only sessions carry the picture through TURN and say so', { timeout: 180_000 }, async (t) => {
  const h = await Harness.create(t);
  await h.run(async () => {
    const xvfb = await startXvfb(h, { width: 1280, height: 720 });
    // The site requires relayed media: the relay tells both sides.
    const relay = await startRelay(h, { configExtra: 'relay_only = true\n', logLevel: process.env.ACOTE_RELAY_LOG || 'debug' });
    await addCaseworker(h, relay, CASEWORKER);
    const agent = await startAgent(h, relay, xvfb);
    const code = await agent.nextCode();
    const { stats, link } = await watch(h, agent, relay.url, code, { relayOnlyBox: true });
    assert.equal(stats.path, 'relay', 'the selected candidate pair is relayed');
    assert.match(link, /^Through the relay · \d+ ms$/, 'the caseworker sees the path and the round-trip time');
  });
});

// Two networks: the agent's (10.231.1.0/24) and the caseworker's (10.231.2.0/24), each a
// namespace with a veth link to this host, where the relay listens on both. Neither has
// a route to the other, so no direct path exists.
let round = 0;
let NS_AGENT;
let NS_VIEWER;
let NETS;

/** Names and addresses for one test's networks (each test makes its own). */
function nets() {
  round += 1;
  const id = `${process.pid % 100000}${round}`;
  NS_AGENT = `acote-ag-${id}`;
  NS_VIEWER = `acote-cw-${id}`;
  NETS = [
    { ns: NS_AGENT, host: `10.231.${round}.1`, peer: `10.231.${round}.2`, dev: `va${id}` },
    { ns: NS_VIEWER, host: `10.232.${round}.1`, peer: `10.232.${round}.2`, dev: `vc${id}` },
  ];
}

async function sh(...args) {
  return run(args[0], args.slice(1));
}

/** The two networks; `noUdp` names the side whose firewall lets no UDP out. */
async function makeNetworks(h, noUdp = 'viewer') {
  nets();
  const mine = NETS;
  h.cleanups.push(async () => {
    for (const n of mine) {
      await sh('ip', 'netns', 'del', n.ns).catch(() => {});
      await sh('ip', 'link', 'del', n.dev).catch(() => {});
    }
  });
  for (const n of NETS) {
    await sh('ip', 'netns', 'add', n.ns);
    await sh('ip', 'link', 'add', n.dev, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.ns);
    await sh('ip', 'addr', 'add', `${n.host}/24`, 'dev', n.dev);
    await sh('ip', 'link', 'set', n.dev, 'up');
    await sh('ip', 'netns', 'exec', n.ns, 'ip', 'addr', 'add', `${n.peer}/24`, 'dev', 'eth0');
    await sh('ip', 'netns', 'exec', n.ns, 'ip', 'link', 'set', 'eth0', 'up');
    await sh('ip', 'netns', 'exec', n.ns, 'ip', 'link', 'set', 'lo', 'up');
  }
  // One network lets no UDP out (a council firewall allowing only TCP); the machine's own
  // loopback is not the firewall's business.
  const nft = noUdp === 'agent' ? agentFirewall : viewerFirewall;
  await nft('add', 'table', 'inet', 'acote');
  await nft('add', 'chain', 'inet', 'acote', 'out', '{ type filter hook output priority 0 ; policy accept ; }');
  await nft('add', 'rule', 'inet', 'acote', 'out', 'oifname', '!=', 'lo', 'meta', 'l4proto', 'udp', 'drop');
  log(`networks made: agent and caseworker cannot reach each other; ${noUdp === 'agent' ? 'resident' : 'caseworker'} has no UDP`);
}

function viewerFirewall(...args) {
  return sh('ip', 'netns', 'exec', NS_VIEWER, 'nft', ...args);
}

function agentFirewall(...args) {
  return sh('ip', 'netns', 'exec', NS_AGENT, 'nft', ...args);
}

/** The TURN ports the relay logged at start (stderr): { plain, tls }. */
async function turnPorts(relay) {
  for (let i = 0; i < 100; i += 1) {
    const text = uncoloured(relay.proc.stderr);
    const plain = /STUN\/TURN running udp_tcp=[^\s]*:(\d+)/.exec(text)?.[1];
    const tls = /STUN\/TURN running .*tls=Some\([^)]*:(\d+)\)/.exec(text)?.[1];
    if (plain) return { plain, tls };
    await new Promise((r) => setTimeout(r, 100));
  }
  return {};
}

async function twoNetworks(t, onlyTls) {
    if (process.getuid?.() !== 0) {
      t.skip('network namespaces need root');
      return;
    }
    const h = await Harness.create(t);
    await h.run(async () => {
      await makeNetworks(h);
      // The two networks really are apart: the agent's side cannot reach the caseworker's.
      await assert.rejects(
        run('ip', ['netns', 'exec', NS_AGENT, 'ip', 'route', 'get', NETS[1].peer]),
        'no route between the two networks');
      const xvfb = await startXvfb(h, { width: 1280, height: 720 });
      // The relay listens on every address of this host; relayed candidates carry the
      // agent network's side of it.
      const relay = await startRelay(h, {
        listen: '0.0.0.0:0',
        turnListen: '0.0.0.0:0',
        configExtra: `public_addresses = ["${NETS[0].host}"]\n${onlyTls ? 'tls_listen = "0.0.0.0:0"\n' : ''}`,
        logLevel: 'debug',
      });
      const port = new URL(relay.url).port;
      await addCaseworker(h, relay, CASEWORKER);
      if (onlyTls) {
        // Only TLS leaves the caseworker's network: plain TURN over TCP is blocked too.
        const { plain, tls } = await turnPorts(relay);
        assert.ok(plain && tls, 'the relay logs its TURN ports');
        await viewerFirewall('add', 'rule', 'inet', 'acote', 'out', 'tcp', 'dport', plain, 'drop');
      }
      const agent = await startAgent(h, relay, xvfb, {
        url: `https://${NETS[0].host}:${port}`, netns: NS_AGENT,
      });
      const code = await agent.nextCode(30_000);
      // Browsers check a TURNS certificate like a web site's: a real site uses a trusted one
      // ([tls] cert); this test relay's is self-signed, so its browser is told to accept it.
      const extraArgs = onlyTls ? ['--ignore-certificate-errors'] : [];
      const { stats, link } = await watch(h, agent, `https://${NETS[1].host}:${port}`, code,
        { netns: NS_VIEWER, extraArgs });
      assert.equal(stats.path, 'relay');
      const expected = onlyTls ? ['tls'] : ['tcp', 'tls'];
      assert.ok(expected.includes(stats.relayProtocol),
        `the caseworker reaches TURN over ${expected.join(' or ')}, got ${stats.relayProtocol}`);
      assert.match(link, /^Through the relay · \d+ ms$/);
    });
}

test('agent and caseworker on two networks with no path between them, UDP blocked for the caseworker',
  { timeout: 240_000 }, (t) => twoNetworks(t, false));

test('the same when only TLS leaves the caseworker\'s network (TURN over TLS)',
  { timeout: 240_000 }, (t) => twoNetworks(t, true));

/** UDP blocked on the resident's side (TCP to the plain TURN port too when `onlyTls`):
 * the agent finds no UDP answer from the relay and carries its TURN client over a TCP or
 * TLS bridge; the caseworker's side is open. */
async function agentBehindFirewall(t, onlyTls) {
  if (process.getuid?.() !== 0) {
    t.skip('network namespaces need root');
    return;
  }
  const h = await Harness.create(t);
  await h.run(async () => {
    await makeNetworks(h, 'agent');
    const xvfb = await startXvfb(h, { width: 1280, height: 720 });
    const relay = await startRelay(h, {
      listen: '0.0.0.0:0',
      turnListen: '0.0.0.0:0',
      configExtra: `public_addresses = ["${NETS[0].host}"]\ntls_listen = "0.0.0.0:0"\n`,
      logLevel: 'debug',
    });
    const port = new URL(relay.url).port;
    await addCaseworker(h, relay, CASEWORKER);
    const { plain, tls } = await turnPorts(relay);
    assert.ok(plain && tls, 'the relay logs its TURN ports');
    if (onlyTls) await agentFirewall('add', 'rule', 'inet', 'acote', 'out', 'tcp', 'dport', plain, 'drop');
    const agent = await startAgent(h, relay, xvfb, {
      url: `https://${NETS[0].host}:${port}`, netns: NS_AGENT, logLevel: 'info,acote_agent=debug',
    });
    const code = await agent.nextCode(30_000);
    const { viewer, stats, link } = await watch(h, agent, `https://${NETS[1].host}:${port}`, code, { netns: NS_VIEWER });
    assert.equal(stats.path, 'relay');
    assert.match(link, /^Through the relay · \d+ ms$/);
    // The picture keeps coming through the bridge, not only the first frames.
    await fillScreen(xvfb, '#1e50dc');
    await viewer.waitForCentreColour([30, 80, 220], { timeoutMs: 20_000 });
    const said = uncoloured(agent.stderr);
    assert.match(said, /no UDP answer from the relay/, 'the agent found UDP blocked');
    const way = onlyTls ? 'TLS' : '(TCP|TLS)';
    assert.match(said, new RegExp(`media bridged to the relay's TURN over ${way}`), said.slice(-3000));
    if (onlyTls) assert.doesNotMatch(said, /media bridged to the relay's TURN over TCP/, 'plain TCP is blocked');
  });
}

test('the resident\'s network lets no UDP out: the agent reaches TURN over TCP', { timeout: 240_000 },
  (t) => agentBehindFirewall(t, false));

test('the resident\'s network lets only TLS out: the agent reaches TURN over TLS', { timeout: 240_000 },
  (t) => agentBehindFirewall(t, true));
