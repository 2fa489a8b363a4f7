import request from 'supertest';
import type { Browser, Dialog, Page } from 'playwright-core';
import { signGenericWebhook } from '@wharf/sources';
import { check, eventually, launchBrowser, quiet, signedInPage } from '../support/browser';
import { startTestApp, TestApp } from '../support/app';
import { addMember, Session, setupOwner } from '../support/api';
import { productionEnvironment } from '../support/deploy';
import { NO_WORKER } from '../support/route-matrix';

/**
 * The Source tab of an application in a real browser against the real API (no worker: a webhook's deployment stays
 * queued): connect a repository with an access token (the token never comes back into the page, "A token is stored"
 * does), a hostile ref refused by the server with its message at the Ref field, deploy-key authentication showing the
 * generated public key, the webhook URL and the revealed secret, and a signed generic delivery listed as accepted
 * with its deployment; a viewer sees the source without any write control.
 */

jest.setTimeout(120_000);

const TOKEN = 'glpat-browser-canary-7f3a9c1e';
const KNOWN_HOST = 'git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const SHA = 'c0ffee0123456789abcdef0123456789abcdef01';
const BUILD_SECRET = 'npm-build-secret-canary-4e1d';

describe('the Source tab', () => {
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
    browser = await launchBrowser();
    ({ page } = await signedInPage(browser, t.baseUrl, 'owner@example.com', orgId));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const source = async () => (await request(t.server).get(`/api/v1/applications/${appId}/source`).set(owner.auth).expect(200)).body;
  const form = () => page.getByRole('form', { name: 'Git source' });
  const field = (label: string) => form().getByLabel(label, { exact: true });
  const errorOf = (label: string) => form().locator('mat-form-field', { has: page.getByLabel(label, { exact: true }) }).locator('mat-error');
  const chooseAuth = async (option: string) => {
    await form().getByRole('combobox', { name: 'Authentication' }).click();
    await page.getByRole('option', { name: option }).click();
  };
  /** Every value the page holds: its markup and what its fields hold (an input's value is not in the markup). */
  const pageText = async () => `${await page.content()}\n${(await page.locator('input, textarea').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value))).join('\n')}`;

  it('connects a repository with an access token: the API holds it, the page never shows it again', async () => {
    await page.goto(`/orgs/${orgId}/applications/${appId}/overview`);
    await page.getByRole('tab', { name: 'Source' }).click();
    await page.waitForURL(`**/applications/${appId}/source`);
    await page.getByText('This application runs its image').waitFor();
    await page.getByRole('button', { name: 'Connect a Git repository' }).click();
    await form().waitFor();
    await field('Repository').fill('https://git.example.com/acme/shop.git');
    await field('Ref').fill('main');
    await field('Watch paths (one glob per line)').fill('web/**\n\n docs/*.md\n');
    await chooseAuth('Access token');
    await field('Access token').fill(TOKEN);
    await form().getByRole('button', { name: 'Add build argument' }).click();
    await field('Argument name 1').fill('NODE_ENV');
    await field('Argument value 1').fill('production');
    await check(page, 'sources-01-connect', ['region']);
    await form().getByRole('button', { name: 'Connect', exact: true }).click();

    await form().getByText('A token is stored; leave empty to keep it').waitFor();
    expect(await source()).toMatchObject({
      repository: 'https://git.example.com/acme/shop.git', ref: 'main', watchPaths: ['web/**', 'docs/*.md'],
      auth: { kind: 'token', tokenSet: true }, build: { dockerfile: 'Dockerfile', target: null, args: { NODE_ENV: 'production' } }, version: 1,
    });
    await expect(field('Access token').inputValue()).resolves.toBe('');
    await quiet(page);
    expect(await pageText()).not.toContain(TOKEN);
    // A reload reads the source again: still no token anywhere.
    await page.reload();
    await form().getByText('A token is stored; leave empty to keep it').waitFor();
    await eventually(() => field('Repository').inputValue(), 'https://git.example.com/acme/shop.git');
    expect(await pageText()).not.toContain(TOKEN);
  });

  it('a hostile ref is refused by the server, with its message at the Ref field; the stored source is unchanged', async () => {
    const expected = (await request(t.server).put(`/api/v1/applications/${appId}/source`).set(owner.auth)
      .send({ repository: 'https://git.example.com/acme/shop.git', ref: 'main; rm -rf /', auth: { kind: 'token' } }).expect(400)).body.errors
      .find((e: { pointer: string }) => e.pointer === '/ref').detail as string;
    await field('Ref').fill('main; rm -rf /');
    await form().getByRole('button', { name: 'Save source' }).click();
    await eventually(async () => (await errorOf('Ref').textContent())?.trim(), expected);
    await check(page, 'sources-02-ref-error', ['region']);
    expect(await source()).toMatchObject({ ref: 'main', version: 1, auth: { tokenSet: true } });
  });

  it('switching to a deploy key (SSH repository, known hosts) shows the generated public key', async () => {
    await field('Ref').fill('main');
    await field('Repository').fill('git@git.example.com:acme/shop.git');
    await chooseAuth('Deploy key (SSH)');
    await form().getByText('A key pair is generated when you save').waitFor();
    await field('Known hosts (one known_hosts line each)').fill(`# git.example.com:22 SSH-2.0-OpenSSH_9.6\n${KNOWN_HOST}\n`);
    await form().getByRole('button', { name: 'Save source' }).click();
    const key = form().getByTestId('deploy-key');
    await key.waitFor();
    const stored = await source();
    expect(stored).toMatchObject({ repository: 'git@git.example.com:acme/shop.git', auth: { kind: 'deploy-key', tokenSet: false }, knownHosts: [KNOWN_HOST], version: 2 });
    await expect(key.textContent()).resolves.toBe(stored.deployKey.publicKey);
    expect(stored.deployKey.publicKey).toMatch(/^ssh-ed25519 AAAA[A-Za-z0-9+/=]+ wharf-shop$/);
    await form().getByText(stored.deployKey.fingerprint).waitFor();
    await form().getByRole('button', { name: 'Copy the public key' }).waitFor();

    // A new key after a confirmation replaces the one shown.
    const dialog = new Promise<string>((resolve) => page.once('dialog', (d: Dialog) => {
      resolve(d.message());
      void d.accept();
    }));
    await form().getByRole('button', { name: 'Generate a new key' }).click();
    expect(await dialog).toMatch(/^Generate a new deploy key\?/);
    await eventually(async () => (await source()).deployKey.fingerprint !== stored.deployKey.fingerprint, true);
    await eventually(() => key.textContent(), (await source()).deployKey.publicKey as string);
  });

  it('shows the webhook URL and, on request, the secret; a signed generic delivery is listed as accepted', async () => {
    const stored = await source();
    const github = `${new URL(t.baseUrl).origin}${stored.webhooks.github}`;
    expect(github).toMatch(new RegExp(`/api/v1/webhooks/applications/${appId}/github$`));
    await page.getByRole('table', { name: 'Webhook URLs' }).getByText(github, { exact: true }).waitFor();

    await page.getByRole('button', { name: 'Show secret' }).click();
    const secretField = page.getByLabel('Webhook secret', { exact: true });
    await secretField.waitFor();
    const secret = await secretField.inputValue();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await request(t.server).post(`/api/v1/applications/${appId}/source/webhook-secret/reveal`).set(owner.auth).expect(200)).body.secret).toBe(secret);
    await page.getByText('No deliveries yet.').waitFor();
    await check(page, 'sources-03-webhooks', ['region']);

    const body = JSON.stringify({ ref: 'main', commit: SHA });
    const r = await request(t.server).post(stored.webhooks.generic).set('Content-Type', 'application/json').set(signGenericWebhook(secret, body, Math.floor(Date.now() / 1000))).send(body).expect(202);
    expect(r.body.outcome).toBe('accepted');

    const table = page.getByRole('table', { name: 'Webhook deliveries' });
    const deadline = Date.now() + 15_000;
    while (!(await table.isVisible()) && Date.now() < deadline) {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await quiet(page);
    }
    const row = table.getByRole('row').filter({ hasText: 'Generic' });
    await expect(row.getByTestId('delivery-outcome').textContent()).resolves.toBe('accepted');
    await row.getByText(SHA.slice(0, 7), { exact: true }).waitFor();
    const [delivery] = (await request(t.server).get(`/api/v1/applications/${appId}/source/deliveries`).set(owner.auth).expect(200)).body;
    expect(delivery).toMatchObject({ provider: 'generic', outcome: 'accepted', commit: SHA });
    const link = row.getByRole('link', { name: delivery.deploymentId.slice(-8), exact: true });
    await expect(link.getAttribute('href')).resolves.toBe(`/orgs/${orgId}/applications/${appId}/deployments?deployment=${delivery.deploymentId}`);
    await check(page, 'sources-04-delivery', ['region']);

    // The link opens that deployment, which names the commit it builds.
    await link.click();
    await page.waitForURL(`**/applications/${appId}/deployments?deployment=${delivery.deploymentId}`);
    await eventually(async () => (await page.getByTestId('deployment-commit').textContent())?.includes(SHA.slice(0, 7)) ?? false, true);
    await page.getByRole('table', { name: 'Deployments' }).getByRole('code').filter({ hasText: SHA.slice(0, 7) }).waitFor();
    await page.getByRole('tab', { name: 'Source' }).click();
    await page.getByRole('button', { name: 'Show secret' }).waitFor();

    // Leaving the screen (above) forgot the secret.
    await expect(page.getByLabel('Webhook secret', { exact: true }).count()).resolves.toBe(0);
  });

  it('a viewer sees the source read-only: no write control, no secret', async () => {
    await addMember(t, owner, orgId, 'viewer@example.com', 'viewer');
    const { ctx, page: v } = await signedInPage(browser, t.baseUrl, 'viewer@example.com', orgId);
    await v.goto(`/orgs/${orgId}/applications/${appId}/source`);
    const f = v.getByRole('form', { name: 'Git source' });
    await eventually(() => f.getByLabel('Repository', { exact: true }).inputValue(), 'git@git.example.com:acme/shop.git');
    await quiet(v);
    await expect(f.getByLabel('Repository', { exact: true }).isDisabled()).resolves.toBe(true);
    await expect(v.getByRole('button', { name: /^(Save source|Disconnect|Generate a new key|Show secret|Rotate secret|Add build argument)$/ }).count()).resolves.toBe(0);
    await v.getByRole('table', { name: 'Webhook deliveries' }).waitFor();
    await ctx.close();
  });

  it('build type static with SPA fallback and a write-only build secret; a hostile publish directory is refused at its field', async () => {
    await page.goto(`/orgs/${orgId}/applications/${appId}/source`);
    await eventually(() => field('Repository').inputValue(), 'git@git.example.com:acme/shop.git');
    await form().getByRole('combobox', { name: 'Build type' }).click();
    await page.getByRole('option', { name: 'Static site' }).click();
    await field('Publish directory').fill('dist');
    await form().getByRole('checkbox', { name: /Single-page application/ }).check();
    await form().getByRole('button', { name: 'Add build secret' }).click();
    await field('Secret name 1').fill('NPM_TOKEN');
    await field('Secret value 1').fill(BUILD_SECRET);
    await check(page, 'sources-03-static-build', ['region']);
    await form().getByRole('button', { name: 'Save source' }).click();
    await form().getByText('A value is stored; type a new one to replace it').waitFor();
    expect((await source()).build).toEqual({ kind: 'static', dockerfile: 'Dockerfile', target: null, args: { NODE_ENV: 'production' }, publishDirectory: 'dist', spaFallback: true, secrets: ['NPM_TOKEN'] });
    await expect(field('Secret value 1').inputValue()).resolves.toBe('');
    await quiet(page);
    expect(await pageText()).not.toContain(BUILD_SECRET);

    const before = (await source()).version;
    await field('Publish directory').fill('../etc');
    await form().getByRole('button', { name: 'Save source' }).click();
    await eventually(async () => (await errorOf('Publish directory').textContent())?.trim(), 'must not contain .. segments');
    expect((await source()).version).toBe(before);
  });
});
