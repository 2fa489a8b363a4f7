import request from 'supertest';
import type { Browser, Dialog, Page } from 'playwright-core';
import { check, eventually, launchBrowser, signedInPage } from '../support/browser';
import { startTestApp, TestApp } from '../support/app';
import { Session, setupOwner } from '../support/api';
import { selfSignedPem } from '../support/acme';
import { productionEnvironment } from '../support/deploy';
import { NO_WORKER } from '../support/route-matrix';

/**
 * Certificates in the portal against the real API (no ACME CA: the app runs without a worker, so no order is placed):
 * upload a self-signed certificate for a domain on the Domains tab and see its state (custom, issuer, expiry), get the
 * server's field error for a key that does not belong to it, find it on the organization's Certificates screen, set the
 * ACME contact e-mail there and find it through the API, and remove the uploaded certificate after a confirmation.
 */

jest.setTimeout(120_000);

interface Cert { domainId: string; source: string; status: string; issuer: string | null; notAfter: string | null; hosts: string[] }

describe('certificates in the portal', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let owner: Session & { organizationId: string };
  let orgId = '';
  let appId = '';
  let domainId = '';
  const host = 'secure.example.com';

  beforeAll(async () => {
    t = await startTestApp(NO_WORKER);
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    orgId = owner.organizationId;
    const env = await productionEnvironment(t, owner, orgId);
    appId = (await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'web', spec: { image: 'nginx:1' } }).expect(201)).body.id;
    domainId = (await request(t.server).post(`/api/v1/applications/${appId}/domains`).set(owner.auth).send({ host, port: 80, https: true }).expect(201)).body.id;
    browser = await launchBrowser();
    ({ page } = await signedInPage(browser, t.baseUrl, 'owner@example.com', orgId));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const certificates = async (): Promise<Cert[]> => (await request(t.server).get(`/api/v1/applications/${appId}/certificates`).set(owner.auth).expect(200)).body;
  const row = () => page.getByRole('table', { name: 'Domains' }).getByRole('row').filter({ has: page.getByRole('link', { name: `https://${host}/` }) });
  const state = () => row().getByTestId('certificate-state');
  const nextDialog = () => new Promise<string>((resolve) => page.once('dialog', (d: Dialog) => {
    resolve(d.message());
    void d.accept();
  }));

  it('uploads a self-signed certificate: a key of another certificate is refused at its field, then the row shows custom, issuer and expiry', async () => {
    await page.goto(`/orgs/${orgId}/applications/${appId}/domains`);
    await state().waitFor();
    await expect(state().textContent()).resolves.not.toContain('custom');

    const pem = selfSignedPem(host);
    const other = selfSignedPem(host);
    await row().getByRole('button', { name: `Upload certificate: ${host}` }).click();
    const f = page.getByRole('form', { name: `Upload a certificate for ${host}` });
    await f.getByLabel('Certificate chain (PEM)').fill(pem.certificatePem);
    await f.getByLabel('Private key (PEM)').fill(other.privateKeyPem);
    await f.getByRole('button', { name: 'Upload' }).click();
    const keyError = f.locator('mat-form-field', { has: page.getByLabel('Private key (PEM)') }).locator('mat-error');
    await eventually(async () => (await keyError.textContent())?.trim(), 'does not belong to the certificate');
    await check(page, 'certificates-01-key-mismatch', ['region']);
    expect((await certificates()).filter((c) => c.source === 'custom')).toEqual([]);

    await f.getByLabel('Private key (PEM)').fill(pem.privateKeyPem);
    await f.getByRole('button', { name: 'Upload' }).click();
    await f.waitFor({ state: 'detached' });
    await state().locator('[data-state="custom"]').waitFor();
    const [c] = (await certificates()).filter((x) => x.domainId === domainId);
    expect(c).toMatchObject({ source: 'custom', status: 'valid', hosts: [host] });
    expect(c.issuer).toContain(host);
    const text = (await state().textContent()) ?? '';
    expect(text).toContain(`issued by ${c.issuer}`);
    expect(text).toMatch(new RegExp(`expires ${c.notAfter!.slice(0, 10)} \\((29|30) days left\\)`));
    // No renewal for an uploaded certificate; it can be removed.
    await expect(row().getByRole('button', { name: `Renew now: ${host}` }).count()).resolves.toBe(0);
    await row().getByRole('button', { name: `Remove uploaded certificate: ${host}` }).waitFor();
    await check(page, 'certificates-02-custom', ['region']);
  });

  it('the organization\'s Certificates screen lists it; the ACME contact e-mail saved there is what the API holds', async () => {
    await page.goto(`/orgs/${orgId}/settings/members`);
    await page.getByRole('tab', { name: 'Certificates' }).click();
    await page.waitForURL(`**/orgs/${orgId}/settings/certificates`);
    const listed = page.getByRole('table', { name: 'Certificates' }).getByRole('row').filter({ hasText: host });
    await listed.getByRole('link', { name: 'web' }).waitFor();
    await listed.locator('[data-state="custom"]').waitFor();
    await expect(listed.textContent()).resolves.toMatch(/expires \d{4}-\d{2}-\d{2}/);

    const f = page.getByRole('form', { name: 'ACME settings' });
    await f.getByLabel('Contact e-mail').fill('not-an-address');
    await f.getByRole('button', { name: 'Save ACME settings' }).click();
    await eventually(async () => (await f.locator('mat-form-field', { has: page.getByLabel('Contact e-mail') }).locator('mat-error').textContent())?.trim(), 'Enter a valid email address');
    await f.getByLabel('Contact e-mail').fill('certs@example.com');
    await f.getByRole('button', { name: 'Save ACME settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const acme = (await request(t.server).get(`/api/v1/organizations/${orgId}/acme`).set(owner.auth).expect(200)).body;
    expect(acme).toMatchObject({ email: 'certs@example.com', staging: false, challenge: 'http-01', dnsProvider: null });
    // The owner set the instance up, so is its administrator: Wharf's own address is shown (plain HTTP here: off).
    const own = page.getByRole('region', { name: "Wharf's own address" });
    await own.getByTestId('instance-tls-state').filter({ hasText: 'Not behind the edge' }).waitFor();
    await expect(own.textContent()).resolves.toContain('WHARF_PUBLIC_URL');
    await check(page, 'certificates-03-organization', ['region']);
  });

  it('removes the uploaded certificate after a confirmation', async () => {
    await page.goto(`/orgs/${orgId}/applications/${appId}/domains`);
    await state().locator('[data-state="custom"]').waitFor();
    const dialog = nextDialog();
    await row().getByRole('button', { name: `Remove uploaded certificate: ${host}` }).click();
    expect(await dialog).toMatch(new RegExp(`^Remove the uploaded certificate of ${host.replace(/\./g, '\\.')}\\?`));
    await state().locator('[data-state="custom"]').waitFor({ state: 'detached' });
    expect((await certificates()).filter((c) => c.source === 'custom')).toEqual([]);
  });
});
