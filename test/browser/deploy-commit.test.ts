import request from 'supertest';
import type { Browser, Page } from 'playwright-core';
import { eventually, launchBrowser, quiet, signedInPage } from '../support/browser';
import { startTestApp, TestApp } from '../support/app';
import { Session, setupOwner } from '../support/api';
import { productionEnvironment } from '../support/deploy';
import { NO_WORKER } from '../support/route-matrix';

/**
 * "Deploy commit…" and deploying tags on the Source tab in a real browser against the real API (no worker: the
 * deployment stays queued): a short id is refused in the page before sending; a full commit id queues a deployment of
 * exactly that commit (the API says so) and the page links it; tag globs are saved with the source and a hostile one is
 * refused at its field, naming the line.
 */

jest.setTimeout(120_000);

const SHA = 'feed0123456789abcdef0123456789abcdef0123';

describe('Source tab: deploy a chosen commit, deploying tags', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let owner: Session & { organizationId: string };
  let orgId = '';
  let appId = '';

  beforeAll(async () => {
    t = await startTestApp(NO_WORKER);
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    orgId = owner.organizationId;
    const env = await productionEnvironment(t, owner, orgId);
    appId = (await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'shop', spec: { image: 'nginx:1' } }).expect(201)).body.id;
    await request(t.server).put(`/api/v1/applications/${appId}/source`).set(owner.auth).send({ repository: 'https://git.example.com/acme/shop.git', ref: 'main', auth: { kind: 'none' } }).expect(200);
    browser = await launchBrowser();
    ({ page } = await signedInPage(browser, t.baseUrl, 'owner@example.com', orgId));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('deploys exactly the commit typed; a short id is refused before sending', async () => {
    await page.goto(`/orgs/${orgId}/applications/${appId}/source`);
    const f = page.getByRole('form', { name: 'Deploy commit' });
    const commit = f.getByLabel('Commit', { exact: true });
    await commit.fill('abc123');
    await f.getByRole('button', { name: 'Deploy commit' }).click();
    await f.getByText('Enter a full commit id (40 or 64 lowercase hexadecimal characters)').waitFor();
    expect((await request(t.server).get(`/api/v1/applications/${appId}/deployments`).set(owner.auth).expect(200)).body.items).toHaveLength(0);

    await commit.fill(SHA);
    await f.getByRole('button', { name: 'Deploy commit' }).click();
    const status = f.getByRole('status');
    await status.waitFor();
    const [d] = (await request(t.server).get(`/api/v1/applications/${appId}/deployments`).set(owner.auth).expect(200)).body.items;
    expect(d).toMatchObject({ kind: 'deploy', status: 'queued', source: { ref: 'main', commit: SHA } });
    await expect(status.getByRole('link', { name: d.id.slice(-8), exact: true }).getAttribute('href')).resolves.toBe(`/orgs/${orgId}/applications/${appId}/deployments?deployment=${d.id}`);
  });

  it('saves deploying tags; a hostile pattern is refused at the field, naming the line', async () => {
    await page.goto(`/orgs/${orgId}/applications/${appId}/source`);
    const f = page.getByRole('form', { name: 'Git source' });
    const tags = f.getByLabel('Deploying tags (one glob per line)', { exact: true });
    await tags.fill('v*\n$(id)');
    await f.getByRole('button', { name: 'Save source' }).click();
    await quiet(page);
    await eventually(async () => (await f.locator('mat-form-field', { has: page.getByLabel('Deploying tags (one glob per line)', { exact: true }) }).locator('mat-error').textContent())?.startsWith('line 2:') ?? false, true);
    await tags.fill('v*\nrelease-*');
    await f.getByRole('button', { name: 'Save source' }).click();
    await eventually(async () => JSON.stringify((await request(t.server).get(`/api/v1/applications/${appId}/source`).set(owner.auth).expect(200)).body.deployTags), '["v*","release-*"]');
  });
});
