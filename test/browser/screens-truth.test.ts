import { readFileSync } from 'node:fs';
import request from 'supertest';
import type { Browser, Page } from 'playwright-core';
import { check, eventually, launchBrowser, signedInPage } from '../support/browser';
import { startTestApp, TestApp } from '../support/app';
import { Session, setupOwner } from '../support/api';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../support/docker/busybox-image';
import { SwarmTestRun } from '../support/docker/swarm-test-run';
import { productionEnvironment, swarmRunFor } from '../support/deploy';

/**
 * What the screens say must be true (one application for the whole file, deployments on the real Swarm): steps after a
 * failed pull are skipped, a cancelled deployment shows where it stopped, the history row shows "running" while it
 * runs, the live log follows its end, runtime logs of several tasks are in time order, forms are clean after a save,
 * the audit log records the value before a change and exports what its filters show, its drawer takes the focus and
 * closes on Escape, and a screen open on a deleted application says so and stops polling.
 */

interface El { scrollTop: number; scrollHeight: number; clientHeight: number; dispatchEvent(e: unknown): boolean }
interface BrowserDoc { activeElement: { tagName: string; getAttribute(n: string): string | null } | null }
type InPage = { document: BrowserDoc; Event: new (type: string) => unknown };

jest.setTimeout(120_000);

describe('the screens tell the truth', () => {
  const lock = new SwarmTestRun();
  let run: SwarmTestRun;
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let owner: Session & { organizationId: string };
  let orgId = '';
  let appId = '';
  let appVersion = 0;

  beforeAll(async () => {
    await lock.start();
    t = await startTestApp();
    run = await swarmRunFor(t);
    await ensureBusyboxImage(run.docker);
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    orgId = owner.organizationId;
    const env = await productionEnvironment(t, owner, orgId);
    // A registry that refuses connections: the pull fails at once and no local image exists.
    const app = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth)
      .send({ name: 'web', spec: { image: '127.0.0.1:1/wharf/missing:1', replicas: 1, deployTimeoutMs: 60_000 } }).expect(201);
    appId = app.body.id;
    appVersion = app.body.version;
    browser = await launchBrowser();
    ({ page } = await signedInPage(browser, t.baseUrl, 'owner@example.com', orgId, { acceptDownloads: true }));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await run?.cleanup().catch(() => undefined);
    await lock.cleanup();
  });

  const live = () => page.getByRole('region', { name: 'Deployment progress' });
  const step = (name: string, state: string) => live().getByRole('listitem', { name: `${name}: ${state}` });
  const patchSpec = async (spec: Record<string, unknown>) => {
    const res = await request(t.server).patch(`/api/v1/applications/${appId}`).set(owner.auth).set('If-Match', `"${appVersion}"`).send({ spec }).expect(200);
    appVersion = res.body.version;
  };

  it('a deployment that fails at the pull shows the pull failed and the later steps skipped, not done', async () => {
    await page.goto(`/orgs/${orgId}/applications/${appId}/deployments`);
    await page.getByText('No deployments yet.').waitFor();
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await live().getByTestId('status').filter({ hasText: 'failed' }).waitFor({ timeout: 60_000 });
    await step('network', 'done').waitFor();
    await step('pull', 'failed').waitFor();
    for (const s of ['service', 'wait', 'finish']) await step(s, 'skipped').waitFor();
    await expect(live().getByRole('listitem', { name: /^(service|wait|finish): done$/ }).count()).resolves.toBe(0);
    await expect(live().getByTestId('deployment-log').textContent()).resolves.toContain('could not be pulled');
  });

  it('while a deployment runs its history row says running and the live log follows its end; a cancel shows where it stopped', async () => {
    // A health check that never passes keeps the deployment in its wait step until it is cancelled.
    await patchSpec({
      image: BUSYBOX_IMAGE, command: ['/bin/sh', '-c', 'i=0; while true; do i=$((i+1)); echo "line $i"; sleep 0.2; done'],
      healthcheck: { test: ['CMD', 'false'], intervalMs: 60_000, timeoutMs: 1000, retries: 3, startPeriodMs: 0 },
    });
    const log = live().getByTestId('deployment-log');
    // A short log box (it stays across deployments), so that a deployment's lines overflow it.
    await log.evaluate((el) => ((el as unknown as { style: { maxHeight: string } }).style.maxHeight = '48px'));
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await step('wait', 'active').waitFor({ timeout: 60_000 });
    const rows = page.getByRole('table', { name: 'Deployments' }).locator('tbody tr');
    await eventually(() => rows.count(), 2);
    // The newest row (the selected deployment) shows the real status.
    await rows.first().getByTestId('status').filter({ hasText: 'running' }).waitFor();

    // The user has not scrolled: the end of the log is in view.
    const atEnd = () => log.evaluate((el) => { const e = el as unknown as El; return e.scrollHeight > e.clientHeight && e.scrollHeight - e.scrollTop - e.clientHeight < 24; });
    await eventually(atEnd, true);
    // Scrolled up, the log stays where the user put it while lines keep coming.
    await log.evaluate((el) => { const e = el as unknown as El; e.scrollTop = 0; e.dispatchEvent(new (globalThis as unknown as InPage).Event('scroll')); });
    const before = await log.locator('span').count();
    await page.getByRole('button', { name: 'Cancel deployment' }).click();
    await live().getByTestId('status').filter({ hasText: 'cancelled' }).waitFor({ timeout: 60_000 });
    expect(await log.locator('span').count()).toBeGreaterThan(before);
    await expect(log.evaluate((el) => (el as unknown as El).scrollTop)).resolves.toBe(0);

    await step('service', 'done').waitFor();
    await step('wait', 'cancelled').waitFor();
    await step('finish', 'skipped').waitFor();
    await expect(step('wait', 'done').count()).resolves.toBe(0);
    await rows.first().getByTestId('status').filter({ hasText: 'cancelled' }).waitFor();
  });

  it('runtime logs of several tasks come in time order', async () => {
    await patchSpec({ replicas: 2, healthcheck: null });
    const d = await request(t.server).post(`/api/v1/applications/${appId}/deployments`).set(owner.auth).send({}).expect(202);
    await eventually(async () => (await request(t.server).get(`/api/v1/deployments/${d.body.id}`).set(owner.auth)).body.status, 'succeeded', 60_000);
    // Both tasks have logged a few lines each (five per second).
    type Line = { line: string; time: string };
    const read = async (): Promise<Line[]> => (await request(t.server).get(`/api/v1/applications/${appId}/logs`).query({ tail: 20 }).set(owner.auth).expect(200)).body.lines;
    await eventually(async () => (await read()).length >= 30, true, 30_000);
    const lines = await read();
    const times = lines.map((l) => l.time);
    expect(times).toEqual([...times].sort());
    // Both tasks are in the answer (each prints the same numbered lines), interleaved by time.
    expect(new Set(lines.map((l) => l.line)).size).toBeLessThan(lines.length);

    await page.getByRole('tab', { name: 'Runtime logs' }).click();
    const shown = page.getByTestId('runtime-log').locator('span');
    await eventually(async () => (await shown.count()) >= 30, true, 15_000);
  });

  it('a saved variable leaves a clean form, and the audit log records the value before the change', async () => {
    await page.getByRole('tab', { name: 'Variables' }).click();
    const form = page.getByRole('form', { name: 'Set a variable (Application variables)' });
    await form.getByLabel('Key').fill('BODY');
    await form.getByLabel('Value').fill('v1');
    await page.getByRole('button', { name: 'Save variable' }).click();
    await page.getByRole('cell', { name: 'v1', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Edit BODY' }).click();
    await page.getByLabel('Value of BODY').fill('v2');
    await page.getByRole('button', { name: 'Save BODY' }).click();
    await page.getByRole('cell', { name: 'v2', exact: true }).waitFor();
    await eventually(() => form.getByLabel('Key').inputValue(), '');
    await expect(page.getByText('Key is required').count()).resolves.toBe(0);
    await expect(form.locator('mat-error').count()).resolves.toBe(0);

    await page.goto(`/orgs/${orgId}/settings/audit`);
    const table = page.getByRole('table', { name: 'Audit events' });
    await table.getByRole('cell', { name: 'application.variables-changed', exact: true }).first().waitFor();
    await page.getByLabel('Action').fill('application.variables-changed');
    await page.getByRole('button', { name: 'Filter' }).click();
    await eventually(() => table.locator('tbody tr').count(), 2, 10_000);

    // The export link carries the active filter, and the file holds exactly the rows shown.
    const link = page.getByRole('link', { name: 'Export CSV' });
    expect(await link.getAttribute('href')).toContain('action=application.variables-changed');
    const download = page.waitForEvent('download');
    await link.click();
    const csv = readFileSync((await (await download).path())!, 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3); // header + the two changes
    expect(csv.slice(1).every((r) => r.includes('application.variables-changed'))).toBe(true);

    const details = page.getByRole('button', { name: /^Details of application\.variables-changed/ }).first();
    await details.click();
    const drawer = page.getByRole('dialog');
    await expect(drawer.getByTestId('audit-changes').textContent().then((x) => JSON.parse(x!))).resolves.toEqual({ BODY: { from: 'v1', to: 'v2' } });
    // The drawer takes the focus; Escape closes it and the focus goes back to the row's button.
    await eventually(() => page.evaluate(() => (globalThis as unknown as InPage).document.activeElement?.getAttribute('role') ?? null), 'dialog');
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });
    await eventually(() => page.evaluate(() => (globalThis as unknown as InPage).document.activeElement?.getAttribute('aria-label') ?? null), await details.getAttribute('aria-label'));
  });

  it('an added registry leaves a clean form (no "Name is required")', async () => {
    await page.goto(`/orgs/${orgId}/settings/registries`);
    await page.getByText('No registries.').waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Nowhere');
    await page.getByLabel('Host').fill('127.0.0.1:1');
    await page.getByLabel('Username').fill('ci');
    await page.getByLabel('Password').fill('registry-password');
    await page.getByRole('button', { name: 'Add registry' }).click();
    await page.getByRole('cell', { name: 'Nowhere', exact: true }).waitFor();
    await eventually(() => page.getByLabel('Name', { exact: true }).inputValue(), '');
    await expect(page.getByText('Name is required').count()).resolves.toBe(0);
    await expect(page.locator('mat-error').count()).resolves.toBe(0);
  });

  it('a screen open on an application deleted elsewhere says so and stops polling', async () => {
    await page.goto(`/orgs/${orgId}/applications/${appId}/overview`);
    await page.getByRole('heading', { name: 'web' }).waitFor();
    const statusUrl = `/api/v1/applications/${appId}/status`;
    await request(t.server).delete(`/api/v1/applications/${appId}`).set(owner.auth).expect((r) => expect([202, 204]).toContain(r.status));
    await page.getByRole('heading', { name: 'This application was deleted' }).waitFor({ timeout: 60_000 });
    await page.getByRole('link', { name: 'Back to the environment' }).waitFor();
    await check(page, '40-application-deleted');
    // No status request for two poll periods (3 s each) after the 404.
    const more = await page.waitForRequest((r) => r.url().endsWith(statusUrl), { timeout: 7000 }).then(() => true, () => false);
    expect(more).toBe(false);
  });
});
