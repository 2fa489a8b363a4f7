import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import type { Browser, Page } from 'playwright-core';
import { pack as tarPack, type Headers } from 'tar-stream';
import { check, launchBrowser, signedInPage } from '../support/browser';
import { startTestApp, TestApp } from '../support/app';
import { addMember, Session, setupOwner } from '../support/api';
import { productionEnvironment } from '../support/deploy';
import { NO_WORKER } from '../support/route-matrix';

/**
 * Upload sources in the Source tab, in a real browser against the real API (no worker: a deployment stays queued):
 * choose "Upload a source archive", save the build settings, pick a .tar.gz with the file input and upload it with
 * "Deploy after the upload": the page shows the archive's name, size and sha256 (as the API stored them) and links the
 * queued deployment; a hostile archive is refused with the reason at the file field; a file of another type is refused
 * before sending; a viewer sees the archive without the upload form.
 */

jest.setTimeout(120_000);

async function tarOf(entries: Array<Partial<Headers> & { name: string; body?: string }>): Promise<Buffer> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  p.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((r) => p.on('end', r));
  for (const { body, ...h } of entries) p.entry(h as Headers, body ?? '');
  p.finalize();
  await ended;
  return Buffer.concat(chunks);
}

describe('the Source tab: upload sources', () => {
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
    appId = (await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'site', spec: { image: 'nginx:1' } }).expect(201)).body.id;
    browser = await launchBrowser();
    ({ page } = await signedInPage(browser, t.baseUrl, 'owner@example.com', orgId));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const source = async () => (await request(t.server).get(`/api/v1/applications/${appId}/source`).set(owner.auth).expect(200)).body;
  const form = () => page.getByRole('form', { name: 'Git source' });
  const panel = () => page.getByRole('region', { name: 'Source archive' });
  const fileInput = () => panel().getByLabel('Archive', { exact: true });

  it('creates an upload source, uploads a .tar.gz with "deploy" and shows its name, size and sha256', async () => {
    await page.goto(`/orgs/${orgId}/applications/${appId}/source`);
    await page.getByText('This application runs its image').waitFor();
    await page.getByRole('button', { name: 'Upload a source archive' }).click();
    await form().waitFor();
    // No repository, ref, watch paths or authentication for an upload source.
    expect(await form().getByLabel('Repository', { exact: true }).count()).toBe(0);
    await form().getByLabel('Build path', { exact: true }).fill('site');
    await form().getByRole('button', { name: 'Save and choose an archive' }).click();
    await panel().getByTestId('no-upload').waitFor();
    expect(await source()).toMatchObject({ kind: 'upload', buildPath: 'site', repository: '', upload: null });

    const archive = gzipSync(await tarOf([{ name: 'site/Dockerfile', body: 'FROM scratch\nCOPY index.html /\n' }, { name: 'site/index.html', body: 'hello from the browser' }]));
    await fileInput().setInputFiles({ name: 'site-v1.tar.gz', mimeType: 'application/gzip', buffer: archive });
    await panel().getByRole('checkbox', { name: 'Deploy after the upload' }).check();
    await check(page, 'upload-source-01-chosen', ['region']);
    await panel().getByRole('button', { name: 'Upload and deploy' }).click();
    await panel().getByTestId('upload-name').getByText('site-v1.tar.gz').waitFor();
    const sha = createHash('sha256').update(archive).digest('hex');
    expect(await panel().getByTestId('upload-sha256').textContent()).toBe(sha);
    expect(await panel().getByTestId('upload-size').textContent()).toContain(`${archive.length} B · 2 entries`);
    await panel().getByText('Deployment queued:').waitFor();
    const s = await source();
    expect(s.upload).toMatchObject({ fileName: 'site-v1.tar.gz', size: archive.length, sha256: sha, entries: 2 });
    const deployments = (await request(t.server).get(`/api/v1/applications/${appId}/deployments`).set(owner.auth).expect(200)).body.items;
    expect(deployments[0]).toMatchObject({ status: 'queued', source: { kind: 'upload', upload: { sha256: sha, fileName: 'site-v1.tar.gz' } } });
    await check(page, 'upload-source-02-uploaded', ['region']);
  });

  it('a hostile archive is refused with the reason at the file field; another file type before sending', async () => {
    const before = (await source()).upload;
    const hostile = gzipSync(await tarOf([{ name: 'site/Dockerfile', body: 'FROM scratch\n' }, { name: '../../etc/cron.d/evil', body: '* * * * * root true' }]));
    await fileInput().setInputFiles({ name: 'evil.tgz', mimeType: 'application/gzip', buffer: hostile });
    await panel().getByRole('checkbox', { name: 'Deploy after the upload' }).uncheck();
    await panel().getByRole('button', { name: 'Upload', exact: true }).click();
    const error = panel().getByTestId('upload-error');
    await error.getByText('The archive entry "../../etc/cron.d/evil" path contains a .. segment').waitFor();
    expect(await fileInput().getAttribute('aria-invalid')).toBe('true');
    await check(page, 'upload-source-03-refused', ['region']);
    expect((await source()).upload).toEqual(before);

    await fileInput().setInputFiles({ name: 'site.rar', mimeType: 'application/vnd.rar', buffer: Buffer.from('Rar!\u001a\u0007') });
    await error.getByText('Choose a .tar.gz, .tgz, .tar or .zip file').waitFor();
    expect(await panel().getByRole('button', { name: 'Upload', exact: true }).isDisabled()).toBe(false);
    expect((await source()).upload).toEqual(before);
  });

  it('a viewer sees the archive but no upload form', async () => {
    await addMember(t, owner, orgId, 'viewer@example.com', 'viewer');
    const { ctx, page: v } = await signedInPage(browser, t.baseUrl, 'viewer@example.com', orgId);
    try {
      await v.goto(`/orgs/${orgId}/applications/${appId}/source`);
      const p = v.getByRole('region', { name: 'Source archive' });
      await p.getByTestId('upload-name').getByText('site-v1.tar.gz').waitFor();
      expect(await p.getByLabel('Archive', { exact: true }).count()).toBe(0);
      expect(await p.getByRole('button', { name: /Upload/ }).count()).toBe(0);
    } finally {
      await ctx.close();
    }
  });
});
