// End-to-end: the security code (issue 16 item 7). Once the data channel is open, the
// agent and the real viewer run the commit-reveal exchange over it; the console agent
// prints `security code NNNN` and the viewer shows the same 4 digits in its toolbar under
// an accessible name, which is what the caseworker reads aloud and the resident compares.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Harness, startXvfb, startRelay, startAgent, openSignedInViewer, addCaseworker, QUESTION_LINE,
} from './harness.mjs';

const CASEWORKER = { login: 'amina', name: 'Amina Diallo', site: 'CHRS Les Lilas', password: 'galet turquoise 2031' };
const SAS_LINE = /^security code (\d{4})\s*$/;

/** Relay, console agent, a viewer watching after the resident's yes; resolves with the
 * security code the agent printed and the viewer. */
async function watchingWithCode(h) {
  const xvfb = await startXvfb(h);
  const relay = await startRelay(h);
  await addCaseworker(h, relay, CASEWORKER);
  const agent = await startAgent(h, relay, xvfb);
  const code = await agent.nextCode();
  const viewer = await openSignedInViewer(h, relay, CASEWORKER);
  await viewer.connect(code.digits);
  await agent.nextLine(QUESTION_LINE, 15_000);
  agent.write('y\n');
  await viewer.waitForState('watching', 30_000);
  const [, agentCode] = await agent.nextLine(SAS_LINE, 20_000);
  return { agentCode, viewer };
}

test('issue16_7: the agent and the viewer show the same 4-digit security code', { timeout: 120_000 }, async (t) => {
  const h = await Harness.create(t);
  await h.run(async () => {
    const { agentCode, viewer } = await watchingWithCode(h);
    const shown = viewer.page.getByRole('status', { name: /^Security code to read to the resident/ });
    await shown.waitFor({ timeout: 20_000 });
    const text = (await shown.textContent()).trim();
    const m = /^Security code: (\d{4})$/.exec(text);
    assert.ok(m, `the toolbar says ${JSON.stringify(text)}`);
    assert.equal(m[1], agentCode, 'both sides show the same code');
    // Read digit by digit by a screen reader.
    const name = await shown.getAttribute('aria-label');
    assert.ok(name.includes(agentCode.split('').join(' ')), name);
    // The page in French says the same code in French.
    await viewer.page.getByRole('button', { name: 'Français' }).click();
    await viewer.page.getByRole('status', { name: /^Code de sécurité à lire/ }).waitFor({ timeout: 5_000 });
    assert.equal((await viewer.page.locator('#security-code').textContent()).trim(),
      `Code de sécurité : ${agentCode}`);
  });
});

test('issue16_7: a reveal that breaks the exchange replaces the code with a clear warning', { timeout: 120_000 }, async (t) => {
  const h = await Harness.create(t);
  await h.run(async () => {
    const { viewer } = await watchingWithCode(h);
    await viewer.page.getByRole('status', { name: /^Security code to read/ }).waitFor({ timeout: 20_000 });
    // What a relay in the middle would try after losing its one guess: another reveal.
    await viewer.page.evaluate(() => {
      const forged = JSON.stringify({ type: 'sas_reveal', n: '00'.repeat(32) });
      window.acote.channel.dispatchEvent(new MessageEvent('message', { data: forged }));
    });
    const warning = viewer.page.getByRole('status', { name: /^Security check failed/ });
    await warning.waitFor({ timeout: 5_000 });
    assert.match(await warning.textContent(), /connection may be intercepted/);
    assert.doesNotMatch(await warning.textContent(), /\d{4}/, 'no code beside the warning');
    assert.equal(await viewer.page.locator('#security-code').getAttribute('data-code'), null);
  });
});
