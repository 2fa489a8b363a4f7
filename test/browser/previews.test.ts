import { createHmac } from 'node:crypto';
import request from 'supertest';
import type { Browser, Dialog, Page } from 'playwright-core';
import { check, eventually, launchBrowser, quiet, signedInPage } from '../support/browser';
import { startTestApp, TestApp } from '../support/app';
import { addMember, Session, setupOwner } from '../support/api';
import { productionEnvironment } from '../support/deploy';
import { NO_WORKER } from '../support/route-matrix';

/**
 * The Previews tab of an application in a real browser against the real API (no worker: deployments stay queued):
 * preview settings saved through the form (a secret override never comes back into the page, a bad domain refused at
 * its field), a signed GitHub pull request from a fork listed as awaiting approval, approved with the button (the
 * preview then active with its URL and a link to the preview application), and a viewer without the Approve button
 * or write controls.
 */

jest.setTimeout(120_000);

const SECRET = 'preview-canary-5b2e91d0';
const SHA = 'feed0123456789abcdef0123456789abcdef0123';

describe('the Previews tab', () => {
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

  const settings = async () => (await request(t.server).get(`/api/v1/applications/${appId}/previews/settings`).set(owner.auth).expect(200)).body;
  const form = () => page.getByRole('form', { name: 'Preview settings' });
  const field = (label: string) => form().getByLabel(label, { exact: true });
  const errorOf = (label: string) => form().locator('mat-form-field', { has: page.getByLabel(label, { exact: true }) }).locator('mat-error');
  const pageText = async () => `${await page.content()}\n${(await page.locator('input, textarea').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value))).join('\n')}`;

  it('saves the preview settings; a bad domain is refused at its field; a secret override never comes back', async () => {
    await page.goto(`/orgs/${orgId}/applications/${appId}/overview`);
    await page.getByRole('tab', { name: 'Previews' }).click();
    await page.waitForURL(`**/applications/${appId}/previews`);
    await page.getByTestId('no-previews').waitFor();
    await form().getByRole('checkbox', { name: 'Build a preview for each pull request' }).check();
    await field('Preview domain').fill('preview.example.com');
    await form().getByRole('button', { name: 'Save preview settings' }).click();
    await eventually(async () => (await errorOf('Preview domain').textContent())?.trim(), 'must be a wildcard domain such as *.preview.example.com');
    expect((await settings()).version).toBe(0);

    await field('Preview domain').fill('*.preview.example.com');
    await form().getByRole('button', { name: 'Add override' }).click();
    await form().getByLabel('Name', { exact: true }).fill('API_TOKEN');
    await form().getByRole('checkbox', { name: 'Secret' }).check();
    await form().getByLabel('Value', { exact: true }).fill(SECRET);
    await check(page, 'previews-01-settings', ['region']);
    await form().getByRole('button', { name: 'Save preview settings' }).click();
    await form().getByText('A secret value is stored; leave empty to keep it').waitFor();
    expect(await settings()).toMatchObject({ enabled: true, domain: '*.preview.example.com', https: true, maxPreviews: 5, env: [{ key: 'API_TOKEN', value: null, secret: true }], version: 1 });
    await quiet(page);
    expect(await pageText()).not.toContain(SECRET);

    // Saving again with the secret left empty keeps it.
    await field('Previews at once').fill('3');
    await form().getByRole('button', { name: 'Save preview settings' }).click();
    await eventually(async () => (await settings()).version, 2);
    expect(await settings()).toMatchObject({ maxPreviews: 3, env: [{ key: 'API_TOKEN', secret: true }] });
  });

  it('lists a fork pull request as awaiting approval; Approve deploys it and links the preview application', async () => {
    const secret = (await request(t.server).post(`/api/v1/applications/${appId}/source/webhook-secret/reveal`).set(owner.auth).expect(200)).body.secret as string;
    const body = JSON.stringify({
      action: 'opened', number: 42,
      pull_request: {
        number: 42, title: 'Add dark mode', merged: false, author_association: 'NONE', user: { login: 'stranger' },
        head: { ref: 'dark-mode', sha: SHA, repo: { full_name: 'stranger/shop', fork: true } }, base: { ref: 'main', sha: SHA, repo: { full_name: 'acme/shop', fork: false } },
      },
    });
    const r = await request(t.server).post(`/api/v1/webhooks/applications/${appId}/github`).set('Content-Type', 'application/json').set('X-GitHub-Event', 'pull_request')
      .set('X-GitHub-Delivery', 'browser-pr-42').set('X-Hub-Signature-256', `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`).send(body).expect(202);
    expect(r.body).toMatchObject({ outcome: 'accepted', deploymentId: null });

    await page.getByRole('button', { name: 'Refresh' }).click();
    const row = page.getByRole('table', { name: 'Previews' }).locator('tr[data-preview="42"]');
    await row.waitFor();
    await expect(row.getByTestId('preview-state').textContent()).resolves.toBe('awaiting approval');
    await row.getByText('the pull request comes from a fork').waitFor();
    await expect(row.getByTestId('preview-commit').textContent()).resolves.toBe(SHA.slice(0, 7));
    await check(page, 'previews-02-awaiting', ['region']);

    const dialog = new Promise<string>((resolve) => page.once('dialog', (d: Dialog) => {
      resolve(d.message());
      void d.accept();
    }));
    await row.getByRole('button', { name: `Approve pull request #42 at ${SHA.slice(0, 7)}` }).click();
    expect(await dialog).toMatch(/^Approve pull request #42 at commit feed012\?/);
    await eventually(async () => row.getByTestId('preview-state').textContent(), 'active');
    const [p] = (await request(t.server).get(`/api/v1/applications/${appId}/previews`).set(owner.auth).expect(200)).body;
    expect(p).toMatchObject({ state: 'active', approvedSha: SHA, url: 'https://pr-42-shop.preview.example.com', deployment: { status: 'queued' } });
    await expect(row.getByTestId('preview-url').getAttribute('href')).resolves.toBe('https://pr-42-shop.preview.example.com');
    const link = row.getByTestId('preview-app');
    await expect(link.getAttribute('href')).resolves.toBe(`/orgs/${orgId}/applications/${p.applicationId}/deployments?deployment=${p.deployment.id}`);
    await check(page, 'previews-03-approved', ['region']);

    // The preview application's own Previews tab says where its settings are.
    await link.click();
    await page.waitForURL(`**/applications/${p.applicationId}/deployments?deployment=${p.deployment.id}`);
    await page.getByRole('tab', { name: 'Previews' }).click();
    await page.getByText('This application is the preview of a pull request').waitFor();
    await page.getByRole('link', { name: 'Previews and their settings are on the application it previews' }).click();
    await page.waitForURL(`**/applications/${appId}/previews`);
    await page.getByRole('table', { name: 'Previews' }).locator('tr[data-preview="42"]').waitFor();
  });

  it('a viewer sees the previews without Approve or write controls', async () => {
    await addMember(t, owner, orgId, 'viewer@example.com', 'viewer');
    const { ctx, page: v } = await signedInPage(browser, t.baseUrl, 'viewer@example.com', orgId);
    await v.goto(`/orgs/${orgId}/applications/${appId}/previews`);
    await v.getByRole('table', { name: 'Previews' }).locator('tr[data-preview="42"]').waitFor();
    await quiet(v);
    const f = v.getByRole('form', { name: 'Preview settings' });
    await expect(f.getByLabel('Preview domain', { exact: true }).isDisabled()).resolves.toBe(true);
    await expect(v.getByRole('button', { name: /^(Approve.*|Save preview settings|Add override|Remove.*)$/ }).count()).resolves.toBe(0);
    await ctx.close();
  });
});
