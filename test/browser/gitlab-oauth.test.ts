import request from 'supertest';
import type { Browser, Page } from 'playwright-core';
import { check, launchBrowser, signedInPage } from '../support/browser';
import { startTestApp, TestApp } from '../support/app';
import { addMember, Session, setupOwner } from '../support/api';
import { freePort } from '../support/docker/swarm-test-run';
import { FakeGitProvider, startFakeGitProvider } from '../support/git-provider-fake';

/**
 * Organization settings → Git providers with a GitLab OAuth application (and a Bitbucket OAuth consumer) in a real browser, against the real API and
 * worker and the contract fake's GitLab OAuth endpoints (no real GitLab is reachable here; the fake's authorize page
 * stands in for the user's consent and redirects straight back): connect with "OAuth application" (the secret never
 * comes back into the page), see the redirect URI to register, click "Authorize with GitLab", travel to the provider
 * and back, and land on the page authorized as the GitLab user; a viewer sees the status but no Authorize button.
 */

jest.setTimeout(120_000);

const CALLBACK = '/api/v1/git-providers/oauth/callback';

describe('GitLab OAuth application in the portal', () => {
  let t: TestApp;
  let fake: FakeGitProvider;
  let browser: Browser;
  let page: Page;
  let owner: Session & { organizationId: string };
  let orgId = '';
  let publicUrl = '';

  beforeAll(async () => {
    fake = await startFakeGitProvider();
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    fake.gitlabOAuth.redirectUris = [`${publicUrl}${CALLBACK}`];
    fake.bitbucketOAuth.callbackUrl = `${publicUrl}${CALLBACK}`;
    t = await startTestApp({ PORT: String(port), WHARF_PUBLIC_URL: publicUrl, WHARF_GIT_ALLOW_PRIVATE_HOSTS: 'true', WHARF_GIT_CA_FILE: fake.caFile });
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    orgId = owner.organizationId;
    await addMember(t, owner, orgId, 'viewer@example.com', 'viewer');
    browser = await launchBrowser();
    // The fake provider's certificate is its own (self-signed): the browser visits its authorize page.
    ({ page } = await signedInPage(browser, t.baseUrl, 'owner@example.com', orgId, { ignoreHTTPSErrors: true }));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await fake?.stop();
  });

  const pageText = async () => `${await page.content()}\n${(await page.locator('input, textarea').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value))).join('\n')}`;

  it('connects a GitLab OAuth application; the row shows the redirect URI to register and that it is not authorized yet', async () => {
    await page.goto(`/orgs/${orgId}/settings/git-providers`);
    await page.getByRole('heading', { name: 'Git providers', level: 2 }).waitFor();
    const form = page.locator('form').first();
    await form.getByLabel('Name', { exact: true }).fill('Company GitLab');
    await form.getByRole('combobox', { name: 'Provider' }).click();
    await page.getByRole('option', { name: 'GitLab', exact: true }).click();
    await form.getByRole('combobox', { name: 'Authentication' }).click();
    await page.getByRole('option', { name: 'OAuth application' }).click();
    expect(await form.getByLabel('Access token').count()).toBe(0);
    await form.getByLabel('Base URL').fill(fake.url);
    await form.getByLabel('Application ID').fill(fake.gitlabOAuth.clientId);
    await form.getByLabel('Application secret').fill(fake.gitlabOAuth.clientSecret);
    await form.getByRole('button', { name: 'Connect' }).click();
    const row = page.getByRole('row', { name: /Company GitLab/ });
    await row.getByText('Not authorized yet').waitFor();
    await expect(row.getByTestId('oauth-redirect-uri').textContent()).resolves.toBe(`${publicUrl}${CALLBACK}`);
    await check(page, 'gitlab-oauth-01-connected', ['region']);
    expect(await pageText()).not.toContain(fake.gitlabOAuth.clientSecret);
  });

  it('Authorize with GitLab goes to the provider and comes back authorized as the GitLab user', async () => {
    const row = page.getByRole('row', { name: /Company GitLab/ });
    await row.getByRole('button', { name: 'Authorize with GitLab: Company GitLab' }).click();
    await page.waitForURL((u) => u.pathname === `/orgs/${orgId}/settings/git-providers` && u.searchParams.get('oauth') === 'authorized');
    const back = page.getByRole('row', { name: /Company GitLab/ });
    await back.getByText('Authorized with GitLab.').waitFor();
    await back.getByText(/Authorized as wharf-bot/).waitFor();
    expect(fake.requests.some((r) => r.method === 'GET' && r.path.startsWith('/oauth/authorize?'))).toBe(true);
    expect(fake.gitlabOAuth.grants.authorization_code).toBe(1);
    await check(page, 'gitlab-oauth-02-authorized', ['region']);
    const list = await request(t.server).get(`/api/v1/organizations/${orgId}/git-providers`).set(owner.auth).expect(200);
    const repos = await request(t.server).get(`/api/v1/git-providers/${list.body[0].id}/repositories`).set(owner.auth).expect(200);
    expect(repos.body.map((r: { fullName: string }) => r.fullName)).toEqual(['octo/hello']);
    expect(await pageText()).not.toContain(fake.gitlabOAuth.clientSecret);
    for (const rt of fake.gitlabOAuth.issuedRefreshTokens) expect(await pageText()).not.toContain(rt);
  });

  it('a Bitbucket OAuth consumer: connect with its key and secret, Authorize with Bitbucket, back authorized', async () => {
    await page.goto(`/orgs/${orgId}/settings/git-providers`);
    const form = page.locator('form').first();
    await form.getByLabel('Name', { exact: true }).fill('Team Bitbucket');
    await form.getByRole('combobox', { name: 'Provider' }).click();
    await page.getByRole('option', { name: 'Bitbucket', exact: true }).click();
    await form.getByRole('combobox', { name: 'Authentication' }).click();
    await page.getByRole('option', { name: 'OAuth consumer' }).click();
    await form.getByLabel('Base URL').fill(`${fake.url}/2.0`);
    await form.getByLabel('Workspace').fill(fake.bitbucket.workspace);
    await form.getByLabel('Key', { exact: true }).fill(fake.bitbucketOAuth.key);
    await form.getByLabel('Secret', { exact: true }).fill(fake.bitbucketOAuth.secret);
    expect(await form.getByLabel(/Username/).count()).toBe(0);
    await form.getByRole('button', { name: 'Connect' }).click();
    const row = page.getByRole('row', { name: /Team Bitbucket/ });
    await row.getByText('Not authorized yet').waitFor();
    await row.getByRole('button', { name: 'Authorize with Bitbucket: Team Bitbucket' }).click();
    await page.waitForURL((u) => u.searchParams.get('oauth') === 'authorized');
    const back = page.getByRole('row', { name: /Team Bitbucket/ });
    await back.getByText('Authorized with Bitbucket.').waitFor();
    await back.getByText(/Authorized as wharf-bot/).waitFor();
    expect(fake.bitbucketOAuth.grants.authorization_code).toBe(1);
    expect(await pageText()).not.toContain(fake.bitbucketOAuth.secret);
  });

  it('a viewer sees the authorization but cannot start one', async () => {
    const viewer = await signedInPage(browser, t.baseUrl, 'viewer@example.com', orgId);
    await viewer.page.goto(`/orgs/${orgId}/settings/git-providers`);
    await viewer.page.getByRole('row', { name: /Company GitLab/ }).getByText(/Authorized as wharf-bot/).waitFor();
    await viewer.page.getByRole('row', { name: /Team Bitbucket/ }).getByText(/Authorized as wharf-bot/).waitFor();
    expect(await viewer.page.getByRole('button', { name: /Authorize/ }).count()).toBe(0);
    await viewer.ctx.close();
  });
});
