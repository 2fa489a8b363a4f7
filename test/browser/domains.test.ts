import bcrypt from 'bcryptjs';
import request from 'supertest';
import type { Browser, Dialog, Page } from 'playwright-core';
import { check, eventually, launchBrowser, quiet, signedInPage } from '../support/browser';
import { startTestApp, TestApp } from '../support/app';
import { addMember, createOrganization, Session, setupOwner } from '../support/api';
import { productionEnvironment } from '../support/deploy';
import { NO_WORKER } from '../support/route-matrix';
import { sql } from '../support/sql';

/**
 * The Domains tab of an application in a real browser against the real API (no deployment needed: domains are saved
 * and routed at the next one): add a domain with every kind of option through the form and find exactly that in the
 * API (and the typed password behind the stored bcrypt hash), see it listed and in the header's Open links, edit it,
 * get the server's field errors (an invalid host, a host another organization holds) next to the host field, delete it
 * after a confirmation naming it; a viewer sees the list without any write control.
 */

jest.setTimeout(120_000);

interface StoredDomain {
  id: string;
  host: string;
  pathPrefix: string;
  stripPrefix: boolean;
  port: number;
  https: boolean;
  redirectHttpToHttps: boolean;
  wwwRedirect: boolean;
  redirects: unknown[];
  basicAuth: unknown[];
  responseHeaders: Record<string, string>;
  ipAllowList: string[];
  rateLimit: unknown;
  version: number;
}

describe('the Domains tab', () => {
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
    appId = (await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'web', spec: { image: 'nginx:1' } }).expect(201)).body.id;
    // Another organization holds taken.example.com: this one may use it on no path.
    const other = await createOrganization(t, owner, 'Other');
    const otherEnv = await productionEnvironment(t, owner, other, 'Elsewhere');
    const otherApp = (await request(t.server).post(`/api/v1/environments/${otherEnv.environmentId}/applications`).set(owner.auth).send({ name: 'site', spec: { image: 'nginx:1' } }).expect(201)).body.id;
    await request(t.server).post(`/api/v1/applications/${otherApp}/domains`).set(owner.auth).send({ host: 'taken.example.com', port: 80, https: false }).expect(201);
    browser = await launchBrowser();
    ({ page } = await signedInPage(browser, t.baseUrl, 'owner@example.com', orgId));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const domains = async (): Promise<StoredDomain[]> => (await request(t.server).get(`/api/v1/applications/${appId}/domains`).set(owner.auth).expect(200)).body;
  const form = (name: string) => page.getByRole('form', { name });
  const field = (f: ReturnType<typeof form>, label: string) => f.getByLabel(label, { exact: true });
  /** The error shown inside the form field labelled `label`. */
  const errorOf = (f: ReturnType<typeof form>, label: string) => f.locator('mat-form-field', { has: page.getByLabel(label, { exact: true }) }).locator('mat-error');
  const shownErrors = () => page.locator('mat-error').filter({ hasText: /\S/ });
  const table = () => page.getByRole('table', { name: 'Domains' });
  const nextDialog = () => new Promise<string>((resolve) => page.once('dialog', (d: Dialog) => {
    resolve(d.message());
    void d.accept();
  }));

  it('adds a domain with options through the form: the API holds what was typed, the list and the header show it', async () => {
    await page.goto(`/orgs/${orgId}/applications/${appId}/overview`);
    await page.getByRole('tab', { name: 'Domains' }).click();
    await page.waitForURL(`**/applications/${appId}/domains`);
    await page.getByText('No domains yet.').waitFor();

    await page.getByRole('button', { name: 'Add domain' }).click();
    const f = form('Add a domain');
    await f.waitFor();
    await expect(shownErrors().count()).resolves.toBe(0);
    await field(f, 'Host').fill('shop.example.com');
    await field(f, 'Path prefix').fill('/api/');
    await field(f, 'Container port').fill('8080');
    await field(f, 'Strip the path prefix').check();
    await field(f, 'Redirect the www/apex form to this host').check();
    await expect(field(f, 'HTTPS').isChecked()).resolves.toBe(true);
    await expect(field(f, 'Redirect HTTP to HTTPS').isChecked()).resolves.toBe(true);

    await f.getByRole('button', { name: 'Add redirect' }).click();
    await field(f, 'Regex 1').fill('^https://shop\\.example\\.com/api/old/(.*)$');
    await field(f, 'Replacement 1').fill('https://shop.example.com/api/new/${1}');
    await field(f, 'Permanent 1').uncheck();
    await f.getByRole('button', { name: 'Add user' }).click();
    await field(f, 'Username 1').fill('alice');
    await field(f, 'Password 1').fill('alice-pw-1');
    await f.getByRole('button', { name: 'Add header' }).click();
    await field(f, 'Header name 1').fill('X-Frame-Options');
    await field(f, 'Header value 1').fill('DENY');
    await f.getByRole('button', { name: 'Add header' }).click();
    await field(f, 'Header name 2').fill('Server');
    await field(f, 'IP allow-list (one address or CIDR per line; empty allows everyone)').fill('10.0.0.0/8\n\n192.168.1.7\n');
    await field(f, 'Rate limit (per client IP)').check();
    await field(f, 'Average requests').fill('100');
    await field(f, 'Burst').fill('50');
    await field(f, 'Period (seconds)').fill('2');
    await check(page, 'domains-01-add-form', ['region']);
    await f.getByRole('button', { name: 'Save domain' }).click();

    await table().getByRole('link', { name: 'https://shop.example.com/api' }).waitFor();
    await f.waitFor({ state: 'detached' });
    const [d] = await domains();
    expect(d).toMatchObject({
      host: 'shop.example.com', pathPrefix: '/api', stripPrefix: true, port: 8080, https: true, redirectHttpToHttps: true, wwwRedirect: true,
      redirects: [{ regex: '^https://shop\\.example\\.com/api/old/(.*)$', replacement: 'https://shop.example.com/api/new/${1}', permanent: false }],
      basicAuth: [{ username: 'alice', passwordSet: true }],
      responseHeaders: { 'X-Frame-Options': 'DENY', Server: '' },
      ipAllowList: ['10.0.0.0/8', '192.168.1.7/32'],
      rateLimit: { average: 100, burst: 50, periodSeconds: 2 },
      version: 1,
    });
    // The password typed is the one behind the stored hash (the API never returns either).
    const [row] = await sql<{ basic_auth: Array<{ username: string; passwordHash: string }> }>(t.databaseUrl, 'SELECT basic_auth FROM domains WHERE id = $1', [d.id]);
    expect(await bcrypt.compare('alice-pw-1', row.basic_auth[0].passwordHash)).toBe(true);

    const listed = table().getByRole('row').filter({ has: page.getByRole('link', { name: 'https://shop.example.com/api' }) });
    await expect(listed.getByRole('cell').nth(1).textContent()).resolves.toBe('on');
    const summary = (await listed.getByRole('cell').nth(2).textContent()) ?? '';
    for (const part of ['port 8080', 'HTTP → HTTPS', 'prefix stripped', 'www → apex', '1 redirect', 'basic auth (alice)', '2 response headers', 'allow-list: 2 addresses', 'rate limit 100/2 s (burst 50)']) {
      expect(summary).toContain(part);
    }
    // The header opens it too.
    const open = page.getByRole('group', { name: 'Application actions' }).getByRole('link', { name: 'Open shop.example.com/api in a new tab' });
    await expect(open.getAttribute('href')).resolves.toBe('https://shop.example.com/api');

    // After the save the form opens empty again and shows no "required" error.
    await page.getByRole('button', { name: 'Add domain' }).click();
    await expect(field(form('Add a domain'), 'Host').inputValue()).resolves.toBe('');
    await quiet(page);
    await expect(shownErrors().count()).resolves.toBe(0);
    await form('Add a domain').getByRole('button', { name: 'Cancel' }).click();
    await check(page, 'domains-02-list', ['region']);
  });

  it('edits the domain: server field errors (invalid host, a host another organization holds) show at the host field; the password is kept', async () => {
    const [before] = await domains();
    await table().getByRole('button', { name: 'Edit shop.example.com/api' }).click();
    const f = form('Edit shop.example.com/api');
    await eventually(() => field(f, 'Host').inputValue(), 'shop.example.com');
    await expect(field(f, 'New password 1').inputValue()).resolves.toBe('');
    await expect(field(f, 'IP allow-list (one address or CIDR per line; empty allows everyone)').inputValue()).resolves.toBe('10.0.0.0/8\n192.168.1.7/32');

    // Not a host name: the validator's message, at the field.
    await field(f, 'Host').fill('localhost');
    await f.getByRole('button', { name: 'Save domain' }).click();
    await eventually(async () => (await errorOf(f, 'Host').textContent())?.trim(), 'host must have at least two labels (a name like app.example.com)');
    // Held by another organization: a 409 on the host that never names the holder, at the field.
    await field(f, 'Host').fill('taken.example.com');
    await f.getByRole('button', { name: 'Save domain' }).click();
    await eventually(async () => (await errorOf(f, 'Host').textContent())?.trim(), 'taken.example.com is already in use on this install');
    await expect(page.getByRole('alert').filter({ hasText: 'already in use' }).count()).resolves.toBe(0);
    await check(page, 'domains-03-host-conflict', ['region']);
    expect(await domains()).toEqual([before]);

    await field(f, 'Host').fill('shop.example.org');
    await field(f, 'Container port').fill('9090');
    // The stored headers come back in the database's key order: remove the row that holds Server.
    const names = [await field(f, 'Header name 1').inputValue(), await field(f, 'Header name 2').inputValue()];
    expect([...names].sort()).toEqual(['Server', 'X-Frame-Options']);
    await f.getByRole('button', { name: `Remove header ${names.indexOf('Server') + 1}` }).click();
    await field(f, 'Rate limit (per client IP)').uncheck();
    await f.getByRole('button', { name: 'Save domain' }).click();
    await table().getByRole('link', { name: 'https://shop.example.org/api' }).waitFor();
    const [after] = await domains();
    expect(after).toMatchObject({ id: before.id, host: 'shop.example.org', port: 9090, responseHeaders: { 'X-Frame-Options': 'DENY' }, rateLimit: null, basicAuth: [{ username: 'alice', passwordSet: true }], version: 2 });
    expect({ ...after, host: before.host, port: before.port, responseHeaders: before.responseHeaders, rateLimit: before.rateLimit, version: 1, updatedAt: null }).toEqual({ ...before, updatedAt: null });
    // An empty password field kept alice's password.
    const [row] = await sql<{ basic_auth: Array<{ passwordHash: string }> }>(t.databaseUrl, 'SELECT basic_auth FROM domains WHERE id = $1', [before.id]);
    expect(await bcrypt.compare('alice-pw-1', row.basic_auth[0].passwordHash)).toBe(true);
    await page.getByRole('group', { name: 'Application actions' }).getByRole('link', { name: 'Open shop.example.org/api in a new tab' }).waitFor();
  });

  it('deletes the domain after a confirmation naming it', async () => {
    const dialog = nextDialog();
    await table().getByRole('button', { name: 'Delete shop.example.org/api' }).click();
    expect(await dialog).toMatch(/^Delete the domain shop\.example\.org\/api\?/);
    await page.getByText('No domains yet.').waitFor();
    expect(await domains()).toEqual([]);
    await expect(page.getByRole('group', { name: 'Application actions' }).getByRole('link', { name: /^Open shop/ }).count()).resolves.toBe(0);
  });

  it('a viewer sees the domains and no write control; the API refuses the viewer anyway', async () => {
    await request(t.server).post(`/api/v1/applications/${appId}/domains`).set(owner.auth).send({ host: 'docs.example.com', pathPrefix: '/', port: 80, https: false }).expect(201);
    const viewer = await addMember(t, owner, orgId, 'viewer@example.com', 'viewer');
    const { ctx, page: v } = await signedInPage(browser, t.baseUrl, 'viewer@example.com', orgId);
    await v.goto(`/orgs/${orgId}/applications/${appId}/domains`);
    await v.getByRole('table', { name: 'Domains' }).getByRole('link', { name: 'http://docs.example.com/' }).waitFor();
    await quiet(v);
    await expect(v.getByRole('button', { name: /^(Add domain|Edit .*|Delete .*|Save domain)$/ }).count()).resolves.toBe(0);
    await expect(v.getByRole('table', { name: 'Domains' }).getByRole('button').count()).resolves.toBe(0);
    await check(v, 'domains-04-viewer', ['region']);
    await request(t.server).post(`/api/v1/applications/${appId}/domains`).set(viewer.auth).send({ host: 'x.example.com', port: 80, https: false }).expect(403);
    await ctx.close();
  });
});
