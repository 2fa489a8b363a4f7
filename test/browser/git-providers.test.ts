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
 * an application's Source tab and save; the connection in use cannot be deleted; a viewer sees no write control.
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
});
