import { createHmac, generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import type { Browser, Dialog, Page } from 'playwright-core';
import { check, launchBrowser, signedInPage } from '../support/browser';
import { startTestApp, TestApp } from '../support/app';
import { addMember, Session, setupOwner } from '../support/api';
import { productionEnvironment } from '../support/deploy';
import { FakeGitProvider, startFakeGitProvider } from '../support/git-provider-fake';

/**
 * Organization settings → Git providers and the Source tab's provider pickers in a real browser, against the real API
 * and worker, the worker calling the local contract fake of the provider APIs (no real provider is reachable here):
 * connect a Gitea connection (its token never comes back into the page), test it, pick its repository and branch in
 * an application's Source tab and save; the connection in use cannot be deleted; a viewer sees no write control; edit a
 * connection (secrets write-only: empty keeps, a stale form answers 412), copy a GitHub App connection's webhook URL,
 * see its webhook's deliveries, and narrow the Source tab's repository picker with its search box.
 */

jest.setTimeout(120_000);

const COMMIT = 'd'.repeat(40);

describe('Git providers in the portal', () => {
  let t: TestApp;
  let fake: FakeGitProvider;
  let browser: Browser;
  let page: Page;
  let owner: Session & { organizationId: string };
  let orgId = '';
  let appId = '';

  beforeAll(async () => {
    fake = await startFakeGitProvider({ token: 'gitea-browser-canary-5b7e2d' });
    fake.setRepositories([{ fullName: 'octo/hello', cloneUrl: 'https://127.0.0.1/octo/hello.git', commit: COMMIT }]);
    t = await startTestApp({ WHARF_GIT_ALLOW_PRIVATE_HOSTS: 'true', WHARF_GIT_CA_FILE: fake.caFile });
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    orgId = owner.organizationId;
    await addMember(t, owner, orgId, 'viewer@example.com', 'viewer');
    const env = await productionEnvironment(t, owner, orgId);
    appId = (await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'shop', spec: { image: 'nginx:1' } }).expect(201)).body.id;
    browser = await launchBrowser();
    ({ page } = await signedInPage(browser, t.baseUrl, 'owner@example.com', orgId));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await fake?.stop();
  });

  const pageText = async () => `${await page.content()}\n${(await page.locator('input, textarea').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value))).join('\n')}`;

  it('connects and tests a Gitea connection; the token never comes back', async () => {
    await page.goto(`/orgs/${orgId}/settings/git-providers`);
    await page.getByRole('heading', { name: 'Git providers', level: 2 }).waitFor();
    const form = page.locator('form').first();
    await form.getByLabel('Name', { exact: true }).fill('Team Gitea');
    await form.getByRole('combobox', { name: 'Provider' }).click();
    await page.getByRole('option', { name: 'Gitea / Forgejo' }).click();
    await form.getByLabel('Base URL').fill('http://not-https.example.com');
    await form.getByLabel('Access token').fill(fake.token);
    await form.getByRole('button', { name: 'Connect' }).click();
    await page.getByText(/baseUrl must be an https URL/).first().waitFor();
    await form.getByLabel('Base URL').fill(fake.url);
    await form.getByRole('button', { name: 'Connect' }).click();
    const row = page.getByRole('row', { name: /Team Gitea/ });
    await row.waitFor();
    await row.getByText('token stored').waitFor();
    await check(page, 'git-providers-01-list', ['region']);
    await row.getByRole('button', { name: 'Test connection to Team Gitea' }).click();
    await row.getByRole('status').getByText('Connected: signed in as wharf-bot').waitFor();
    expect(await pageText()).not.toContain(fake.token);
  });

  it('the Source tab picks the connection, its repository and branch, and saves them', async () => {
    await page.goto(`/orgs/${orgId}/applications/${appId}/source`);
    await page.getByRole('button', { name: 'Connect a Git repository' }).click();
    const form = page.getByRole('form', { name: 'Git source' });
    await form.getByRole('combobox', { name: 'Git provider' }).click();
    await page.getByRole('option', { name: 'Team Gitea (gitea)' }).click();
    await page.getByTestId('provider-auth').waitFor();
    await form.getByRole('combobox', { name: 'Repository from the provider' }).click();
    await page.getByRole('option', { name: 'octo/hello' }).click();
    await expect(form.getByLabel('Repository', { exact: true }).inputValue()).resolves.toBe('https://127.0.0.1/octo/hello.git');
    await form.getByRole('combobox', { name: 'Branch' }).waitFor();
    await expect(form.getByLabel('Ref', { exact: true }).inputValue()).resolves.toBe('main');
    await check(page, 'git-providers-02-source', ['region']);
    await form.getByRole('button', { name: 'Connect', exact: true }).click();
    const providerId = (await request(t.server).get(`/api/v1/organizations/${orgId}/git-providers`).set(owner.auth).expect(200)).body[0].id;
    for (let i = 0; i < 50; i++) {
      const s = await request(t.server).get(`/api/v1/applications/${appId}/source`).set(owner.auth);
      if (s.status === 200) {
        expect(s.body).toMatchObject({ repository: 'https://127.0.0.1/octo/hello.git', ref: 'main', providerId, auth: { kind: 'none', tokenSet: false } });
        break;
      }
      await page.waitForTimeout(100);
      if (i === 49) throw new Error('the source was not saved');
    }
  });

  it('a connection in use cannot be deleted; a viewer sees no write control', async () => {
    await page.goto(`/orgs/${orgId}/settings/git-providers`);
    page.once('dialog', (d: Dialog) => void d.accept());
    await page.getByRole('button', { name: 'Delete Team Gitea' }).click();
    await page.getByText(/used by application "shop"/).waitFor();
    const viewer = await signedInPage(browser, t.baseUrl, 'viewer@example.com', orgId);
    await viewer.page.goto(`/orgs/${orgId}/settings/git-providers`);
    await viewer.page.getByRole('row', { name: /Team Gitea/ }).waitFor();
    expect(await viewer.page.getByRole('button', { name: /Connect|Delete|Test connection/ }).count()).toBe(0);
    await viewer.ctx.close();
  });

  it("edits a connection (secrets write-only, If-Match), copies a GitHub App's webhook URL, and searches repositories", async () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const gh = (await request(t.server).post(`/api/v1/organizations/${orgId}/git-providers`).set(owner.auth)
      .send({ name: 'Acme App', kind: 'github', appId: '1234', installationId: '4242', privateKey: pem }).expect(201)).body;
    await page.goto(`/orgs/${orgId}/settings/git-providers`);
    const row = page.getByRole('row', { name: /Acme App/ });
    const url = `${new URL(t.baseUrl).origin}/api/v1/webhooks/git-providers/${gh.id}/github`;
    await row.getByTestId('provider-webhook-url').getByText(url, { exact: true }).waitFor();
    await row.getByText(/without it every delivery is refused/).waitFor();
    expect(await page.getByRole('row', { name: /Team Gitea/ }).getByTestId('provider-webhook-url').count()).toBe(0);
    // Copy puts exactly the URL on the clipboard (the copy event's text area holds it).
    await page.evaluate(`document.addEventListener('copy', (e) => { window.copiedText = e.target.value; }, true)`);
    await row.getByRole('button', { name: 'Copy the webhook URL of Acme App' }).click();
    await row.getByRole('button', { name: 'Copied the webhook URL of Acme App' }).waitFor();
    expect(await page.evaluate('window.copiedText')).toBe(url);

    // Edit: the stored private key is kept when its field stays empty; the webhook secret is set.
    await row.getByRole('button', { name: 'Edit Acme App' }).click();
    const edit = page.getByTestId('git-provider-edit');
    await expect(edit.getByLabel('Name', { exact: true }).inputValue()).resolves.toBe('Acme App');
    await expect(edit.getByLabel('App ID').inputValue()).resolves.toBe('1234');
    await expect(edit.locator('[data-field="privateKey"]').inputValue()).resolves.toBe('');
    await edit.getByText('A value is stored: leave empty to keep it').waitFor();
    await edit.getByText('No value stored').waitFor();
    await check(page, 'git-providers-03-edit', ['region']);
    // Someone else changes the connection meanwhile: the form's version is stale (412), nothing is saved.
    await request(t.server).patch(`/api/v1/git-providers/${gh.id}`).set(owner.auth).set('If-Match', '"1"').send({ installationId: '4243' }).expect(200);
    const secret = 'app-webhook-secret-browser-91f3';
    await edit.getByLabel('Webhook secret').fill(secret);
    await edit.getByLabel('Name', { exact: true }).fill('Acme GitHub App');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.getByRole('alert').waitFor();
    expect((await request(t.server).get(`/api/v1/git-providers/${gh.id}`).set(owner.auth).expect(200)).body).toMatchObject({ name: 'Acme App', secretsSet: ['privateKey'], version: 2 });
    // Reopened from the fresh list, the change goes through.
    await edit.getByRole('button', { name: 'Cancel' }).click();
    await page.reload();
    await page.getByRole('button', { name: 'Edit Acme App' }).click();
    await expect(edit.getByLabel('Installation ID').inputValue()).resolves.toBe('4243');
    await edit.getByLabel('Webhook secret').fill(secret);
    await edit.getByLabel('Name', { exact: true }).fill('Acme GitHub App');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('row', { name: /Acme GitHub App/ }).getByText('privateKey, webhookSecret stored').waitFor();
    expect(await edit.count()).toBe(0);
    expect((await request(t.server).get(`/api/v1/git-providers/${gh.id}`).set(owner.auth).expect(200)).body).toMatchObject({ name: 'Acme GitHub App', installationId: '4243', secretsSet: ['privateKey', 'webhookSecret'], version: 3 });
    expect(await pageText()).not.toContain(secret);
    // The stored secret is the one the App signs with: a ping through the connection's webhook is accepted.
    const ping = JSON.stringify({ zen: 'Design for failure.', hook: { type: 'App', app_id: 1234 } });
    const r = await request(t.server).post(`/api/v1/webhooks/git-providers/${gh.id}/github`).set('Content-Type', 'application/json').set('X-GitHub-Event', 'ping')
      .set('X-GitHub-Delivery', 'browser-ping').set('X-Hub-Signature-256', `sha256=${createHmac('sha256', secret).update(ping).digest('hex')}`).send(ping).expect(202);
    expect(r.body).toMatchObject({ outcome: 'ignored', reason: 'ping' });
    // The connection's webhook deliveries are listed on the screen.
    await page.getByRole('button', { name: 'Deliveries of Acme GitHub App' }).click();
    const deliveries = page.getByTestId('git-provider-deliveries');
    await deliveries.locator('tr[data-delivery="browser-ping"]').getByText('ignored').waitFor();
    await deliveries.locator('tr[data-delivery="browser-ping"]').getByText('ping', { exact: true }).first().waitFor();
    await check(page, 'git-providers-04-deliveries', ['region']);
    await deliveries.getByRole('button', { name: 'Close' }).click();
    expect(await deliveries.count()).toBe(0);

    // The Source tab's repository search asks the connection again and narrows the picker.
    fake.setRepositories([
      { fullName: 'octo/hello', cloneUrl: 'https://127.0.0.1/octo/hello.git', commit: COMMIT },
      { fullName: 'octo/world', cloneUrl: 'https://127.0.0.1/octo/world.git', commit: COMMIT },
    ]);
    const env = await productionEnvironment(t, owner, orgId);
    const other = (await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'blog', spec: { image: 'nginx:1' } }).expect(201)).body.id;
    await page.goto(`/orgs/${orgId}/applications/${other}/source`);
    await page.getByRole('button', { name: 'Connect a Git repository' }).click();
    const form = page.getByRole('form', { name: 'Git source' });
    await form.getByRole('combobox', { name: 'Git provider' }).click();
    await page.getByRole('option', { name: 'Team Gitea (gitea)' }).click();
    await form.getByText('Fills the repository URL').waitFor();
    await form.getByLabel('Search repositories').fill('WOR');
    await form.getByText('1 matching "WOR": fills the repository URL').waitFor();
    await form.getByRole('combobox', { name: 'Repository from the provider' }).click();
    await page.getByRole('option', { name: 'octo/world' }).waitFor();
    expect(await page.getByRole('option').allTextContents()).toEqual(['octo/world']);
    await page.getByRole('option', { name: 'octo/world' }).click();
    await expect(form.getByLabel('Repository', { exact: true }).inputValue()).resolves.toBe('https://127.0.0.1/octo/world.git');
    await form.getByLabel('Search repositories').fill('nothing-like-it');
    await form.getByText('No repository matches "nothing-like-it"').waitFor();
  });
});
