// End-to-end: passkeys (issue 16 item 11) through real Chromium and its virtual
// authenticator (DevTools protocol, WebAuthn domain): a caseworker enrols a passkey from
// the code screen, signs out, and signs in again with the password then the passkey;
// with `[sign_in] passkeys = "required"`, a password alone is refused, and an admin's
// reset link lets a caseworker without a passkey set a password and create one.
//
// WebAuthn needs a secure context and a relying party id that is a DNS name matching the
// page's host: the relay is opened as https://localhost:PORT (its self-signed certificate
// names localhost, the default RP ID), never as https://127.0.0.1 (an address is no RP
// ID). The relay's key is also trusted by its SPKI hash, so the page has no certificate
// error at all, as a real deployment's page has none.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Harness, startRelay, restartRelay, addCaseworker, openViewer, relayAdmin, log } from './harness.mjs';

const PASSWORD = 'cheval agrafe batterie';

async function spkiHash(relay) {
  const pem = await readFile(path.join(relay.dataDir, 'tls', 'cert.pem'), 'utf8');
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

function localhost(relay) {
  const url = new URL(relay.url);
  return `https://localhost:${url.port}`;
}

async function signInWithPassword(viewer, login) {
  await viewer.waitForState('sign-in');
  await viewer.signIn(login, PASSWORD);
}

test('a caseworker enrols a passkey, signs in with it, and a required passkey refuses a password alone', { timeout: 180_000 }, async (t) => {
  const h = await Harness.create(t);
  await h.run(async () => {
    let relay = await startRelay(h);
    await addCaseworker(h, relay, { login: 'marie', name: 'Marie Dupont', site: 'CHRS Les Lilas', password: PASSWORD });
    await addCaseworker(h, relay, { login: 'paul', name: 'Paul Martin', site: 'CHRS Les Lilas', password: PASSWORD });
    const spki = await spkiHash(relay);
    const viewer = await openViewer(h, localhost(relay), { extraArgs: [`--ignore-certificate-errors-spki-list=${spki}`] });
    const { page } = viewer;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
        hasUserVerification: true, isUserVerified: true,
      },
    });
    log('virtual authenticator added');

    // Enrol from the code screen, after a password sign-in.
    await viewer.waitForState('sign-in');
    await viewer.switchToEnglish();
    await viewer.signIn('marie', PASSWORD);
    await viewer.waitForState('enter-code');
    await page.getByRole('button', { name: 'Add a passkey' }).click({ timeout: 10_000 });
    await page.getByText('Passkey added.').waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: /^Remove the passkey added on / }).waitFor({ timeout: 5_000 });
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1, 'one passkey on the authenticator');
    log('passkey enrolled');

    // Sign out, then in: the password, then the passkey (answered by the authenticator).
    await page.getByRole('button', { name: 'Sign out' }).click({ timeout: 5_000 });
    await signInWithPassword(viewer, 'marie');
    await viewer.waitForState('enter-code');
    const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.ok(after.credentials[0].signCount >= 1, 'the passkey signed the sign-in');
    log('signed in with password and passkey');

    // Without the authenticator, the password alone does not get in.
    await page.getByRole('button', { name: 'Sign out' }).click({ timeout: 5_000 });
    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
    await signInWithPassword(viewer, 'marie');
    await page.waitForFunction(() => /passkey/i.test(document.getElementById('status')?.textContent ?? ''), null, { timeout: 15_000 });
    assert.equal(await viewer.state(), 'sign-in');
    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: true });
    log('a passkey that does not verify the user leaves the page signed out');

    // The admin requires passkeys: Paul, who has none, is refused with his password.
    relay = await restartRelay(h, relay, {
      whileDown: () => appendFile(relay.config, '\n[sign_in]\npasskeys = "required"\n'),
    });
    await page.goto(localhost(relay), { waitUntil: 'load' });
    await signInWithPassword(viewer, 'paul');
    await page.getByText('This relay requires a passkey and your account has none.').waitFor({ timeout: 15_000 });
    assert.equal(await viewer.state(), 'sign-in');
    log('required: a password alone is refused');
    // Marie, who has one, still gets in.
    await viewer.signIn('marie', PASSWORD);
    await viewer.waitForState('enter-code');
    log('required: password and passkey get in');

    // Paul's way in: the admin's reset link sets a password, then creates his passkey.
    await page.getByRole('button', { name: 'Sign out' }).click({ timeout: 5_000 });
    const reset = await relayAdmin(h, relay, ['caseworker', 'reset', 'paul']);
    assert.equal(reset.code, 0, `caseworker reset: ${reset.stderr}`);
    const token = /\/set-password#(\S+)/.exec(reset.stdout)?.[1];
    assert.ok(token, `caseworker reset printed a link: ${reset.stdout}`);
    await page.goto(`${localhost(relay)}/set-password#${token}`, { waitUntil: 'load' });
    const newPassword = 'hirondelle bleue 2027';
    await page.locator('#new-password').fill(newPassword);
    await page.locator('#confirm-password').fill(newPassword);
    await page.locator('#save').click();
    await page.getByRole('button', { name: /^(Create my passkey|Créer ma clé d'accès)$/ }).click({ timeout: 15_000 });
    await page.locator('#to-sign-in').waitFor({ state: 'visible', timeout: 15_000 });
    await page.goto(localhost(relay), { waitUntil: 'load' });
    await viewer.waitForState('sign-in');
    await viewer.signIn('paul', newPassword);
    await viewer.waitForState('enter-code');
    log('required: a reset link enrols the passkey, which then signs in');
    // His only passkey cannot be removed while the site requires one.
    await page.getByRole('button', { name: /^Remove the passkey added on / }).click({ timeout: 10_000 });
    await page.getByText('This is your only passkey').waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: /^Remove the passkey added on / }).waitFor({ timeout: 5_000 });
    log('required: the last passkey stays');
  });
});
