import request from 'supertest';
import type { Browser, Page } from 'playwright-core';
import { newId } from '@wharf/core';
import { check, launchBrowser, signedInPage } from '../support/browser';
import { startTestApp, TestApp } from '../support/app';
import { Session, setupOwner } from '../support/api';
import { sql } from '../support/sql';

/**
 * The removal of deleted projects and environments in the portal, against the real API: deleting an environment lands
 * on its project, which shows the teardown's result; the dashboard shows one in progress ("Removing …"), asks again
 * while it runs and shows its result once the worker records it.
 */

jest.setTimeout(120_000);

describe('teardown progress in the portal', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let owner: Session & { organizationId: string };
  let orgId = '';
  let projectId = '';

  beforeAll(async () => {
    t = await startTestApp();
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    orgId = owner.organizationId;
    const project = await request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(owner.auth).send({ name: 'Shop' }).expect(201);
    projectId = project.body.id;
    browser = await launchBrowser();
    ({ page } = await signedInPage(browser, t.baseUrl, 'owner@example.com', orgId));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const removals = () => page.getByRole('region', { name: 'Removals' });

  it('deleting an environment lands on its project, which shows the removal and its result', async () => {
    const staging = await request(t.server).post(`/api/v1/projects/${projectId}/environments`).set(owner.auth).send({ name: 'Staging' }).expect(201);
    await page.goto(`/orgs/${orgId}/projects/${projectId}/environments/${staging.body.id}`);
    const danger = page.getByRole('region', { name: 'Delete environment' });
    await danger.getByLabel(/to confirm/).fill(staging.body.slug);
    await danger.getByRole('button', { name: 'Delete environment' }).click();
    await page.waitForURL(`**/orgs/${orgId}/projects/${projectId}`);
    // Nothing of it ran on the engine: the teardown finds nothing to remove, and says so.
    await removals().getByText('Removed environment Staging: 0 services, 0 networks').waitFor({ timeout: 30_000 });
    await check(page, 'teardown-01-project-after-environment-delete');
  });

  it('the dashboard shows a teardown in progress, follows it, and shows its result', async () => {
    const id = newId();
    const subjectId = newId();
    await sql(t.databaseUrl,
      `INSERT INTO teardowns (id, organization_id, project_id, scope, subject_id, subject_name, status, removed_services, attempts) VALUES ($1, $2, $3, 'environment', $4, 'Preview', 'running', '["shop-preview-web"]', 1)`,
      [id, orgId, projectId, subjectId]);
    await page.goto(`/orgs/${orgId}/dashboard`);
    await removals().getByText('Removing environment Preview: 1 service, 0 networks…').waitFor();
    await check(page, 'teardown-02-dashboard-in-progress');

    await sql(t.databaseUrl,
      `UPDATE teardowns SET status = 'succeeded', removed_services = '["shop-preview-web","shop-preview-api"]', removed_networks = '["shop-preview"]', updated_at = now() WHERE id = $1`, [id]);
    await removals().getByText('Removed environment Preview: 2 services, 1 network').waitFor({ timeout: 15_000 });
  });
});
