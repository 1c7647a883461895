// End-to-end: a caseworker's one-time set-password link, through the real page. The token
// is read from the address's fragment and at once taken out of the address bar (issue 16),
// the password is set with it, and the caseworker signs in with that password.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, startRelay, relayAdmin, openViewer, log } from './harness.mjs';

test('a set-password link sets the password and leaves no token in the address bar', { timeout: 120_000 }, async (t) => {
  const h = await Harness.create(t);
  await h.run(async () => {
    const relay = await startRelay(h);
    const added = await relayAdmin(h, relay, ['caseworker', 'add', 'nadia', '--name', 'Nadia Haddad', '--site', 'Accueil de jour']);
    assert.equal(added.code, 0, `caseworker add: ${added.stderr}`);
    const token = /\/set-password#(\S+)/.exec(added.stdout)?.[1];
    assert.ok(token, `caseworker add printed a link: ${added.stdout}`);

    const viewer = await openViewer(h, `${relay.url}/set-password#${token}`);
    const { page } = viewer;
    await page.locator('#new-password').waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(await page.evaluate(() => window.location.hash), '', 'the token is gone from the address bar');
    assert.ok(!page.url().includes(token), `the page's address holds no token: ${page.url()}`);

    const password = 'hirondelle bleue 2027';
    await page.locator('#new-password').fill(password);
    await page.locator('#confirm-password').fill(password);
    await page.locator('#save').click();
    await page.locator('#to-sign-in').waitFor({ state: 'visible', timeout: 15_000 });
    log('set-password: the password was saved with the token read before it left the address');

    await page.goto(relay.url, { waitUntil: 'load' });
    await viewer.waitForState('sign-in');
    await viewer.switchToEnglish();
    await viewer.signIn('nadia', password);
    await viewer.waitForState('enter-code');
  });
});
