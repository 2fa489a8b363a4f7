import request from 'supertest';
import type { Browser, Dialog, Locator, Page } from 'playwright-core';
import { RuntimeReconciler } from '../../apps/worker/src/deployments/runtime.reconciler';
import { check, eventually, launchBrowser, signedInPage } from '../support/browser';
import { startTestApp, TestApp } from '../support/app';
import { Session, setupOwner } from '../support/api';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../support/docker/busybox-image';
import { freePort, httpGetUntil, SwarmTestRun } from '../support/docker/swarm-test-run';
import { httpdSpec, productionEnvironment, swarmRunFor, waitForDeployment } from '../support/deploy';
import { until } from '../support/until';

/**
 * The actions where users look (one application for the whole file, deployed on the real Swarm): the header offers
 * only what applies (Deploy for a new application that says "not deployed"; Stop, Restart, Redeploy when running;
 * Start when stopped; nothing while a deployment is under way), Stop and Restart are confirmed, Roll back names its
 * target and is not offered on the live deployment, statuses have their colours, each published port has an Open
 * link, and a published port another application holds is refused on the port field itself.
 */

jest.setTimeout(120_000);

interface Styled { getComputedStyle(el: unknown): { color: string } }

describe('application actions in the header', () => {
  const lock = new SwarmTestRun();
  let run: SwarmTestRun;
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let owner: Session & { organizationId: string };
  let orgId = '';
  let env: { projectId: string; environmentId: string };
  let appId = '';
  let port = 0;
  /** The deployments in the order they were made (oldest first). */
  const made: string[] = [];

  beforeAll(async () => {
    await lock.start();
    t = await startTestApp();
    run = await swarmRunFor(t);
    await ensureBusyboxImage(run.docker);
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    orgId = owner.organizationId;
    env = await productionEnvironment(t, owner, orgId);
    port = await freePort();
    const app = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'web', spec: httpdSpec(port) }).expect(201);
    appId = app.body.id;
    await request(t.server).put(`/api/v1/applications/${appId}/variables`).set(owner.auth).send({ variables: [{ key: 'BODY', value: 'hello' }] }).expect(200);
    browser = await launchBrowser();
    ({ page } = await signedInPage(browser, t.baseUrl, 'owner@example.com', orgId));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await run?.cleanup().catch(() => undefined);
    await lock.cleanup();
  });

  const actions = () => page.getByRole('group', { name: 'Application actions' });
  const actionNames = async () => (await actions().getByRole('button').allTextContents()).map((s) => s.trim()).join(', ');
  const headerState = () => page.getByTestId('application-state').getByTestId('status');
  const deploymentIds = async (): Promise<string[]> =>
    (await request(t.server).get(`/api/v1/applications/${appId}/deployments`).set(owner.auth).expect(200)).body.items.map((d: { id: string }) => d.id);
  /** The text colour of an element as [r, g, b]. */
  const colour = async (l: Locator): Promise<number[]> =>
    (await l.evaluate((el) => (globalThis as unknown as Styled).getComputedStyle(el).color)).match(/\d+/g)!.slice(0, 3).map(Number);
  /** Answers the next dialog (accept or dismiss) and resolves its message. */
  const nextDialog = (accept: boolean) => new Promise<string>((resolve) => page.once('dialog', (d: Dialog) => {
    resolve(d.message());
    void (accept ? d.accept() : d.dismiss());
  }));
  /** Clicks a header action, waits for the deployment it made to succeed, and returns its id. */
  async function runAction(name: string, confirm?: boolean): Promise<{ id: string; question: string | null }> {
    const before = await deploymentIds();
    const dialog = confirm === undefined ? null : nextDialog(confirm);
    await actions().getByRole('button', { name, exact: true }).click();
    const question = dialog ? await dialog : null;
    const id = await until(`a ${name} deployment`, async () => (await deploymentIds()).find((d) => !before.includes(d)));
    expect(await waitForDeployment(t, owner, id)).toMatchObject({ status: 'succeeded' });
    made.push(id);
    return { id, question };
  }

  it('a new application says "not deployed" (header and environment page) and offers only Deploy', async () => {
    // The reconciler has looked at it (no Swarm service yet): it still counts as not deployed.
    await t.app.get(RuntimeReconciler, { strict: false }).reconcileApplication(appId);
    expect((await request(t.server).get(`/api/v1/applications/${appId}`).set(owner.auth).expect(200)).body.runtime).toBeNull();
    await page.goto(`/orgs/${orgId}/projects/${env.projectId}/environments/${env.environmentId}`);
    await eventually(() => page.getByRole('table', { name: 'Services' }).getByRole('row', { name: /web/ }).getByTestId('status').textContent(), 'not deployed');

    await page.goto(`/orgs/${orgId}/applications/${appId}/overview`);
    await eventually(() => headerState().textContent(), 'not deployed');
    await eventually(actionNames, 'Deploy');
    await expect(actions().getByRole('button', { name: 'Deploy' }).isEnabled()).resolves.toBe(true);
    await check(page, 'actions-01-not-deployed', ['region']);
  });

  it('Deploy waits for its deployment; then Stop (confirmed) and Start work and the states and colours follow', async () => {
    await page.goto(`/orgs/${orgId}/applications/${appId}/deployments`);
    const before = await deploymentIds();
    await actions().getByRole('button', { name: 'Deploy', exact: true }).click();
    // While it is queued or running the header says so and Deploy waits.
    await actions().getByTestId('actions-reason').filter({ hasText: /^A deployment is (queued|running); wait until it ends$/ }).waitFor();
    await expect(actions().getByRole('button', { name: 'Deploy', exact: true }).isDisabled()).resolves.toBe(true);
    const first = await until('the deployment', async () => (await deploymentIds()).find((d) => !before.includes(d)));
    expect(await waitForDeployment(t, owner, first)).toMatchObject({ status: 'succeeded' });
    made.push(first);
    expect((await httpGetUntil(port, (r) => r.body === 'hello', 30_000)).body).toBe('hello');

    // Running: Deploy, Redeploy (explained), Restart, Stop.
    await eventually(actionNames, 'Deploy, Redeploy, Restart, Stop', 15_000);
    await expect(actions().getByRole('button', { name: 'Redeploy' }).getAttribute('aria-description')).resolves.toMatch(/saved configuration again/);
    await eventually(() => headerState().textContent(), 'running', 30_000);
    await expect(headerState().getAttribute('data-tone')).resolves.toBe('ok');
    // A succeeded deployment is green (not the theme's blue), in the history and in the live view.
    const row = page.getByRole('table', { name: 'Deployments' }).locator('tbody tr').first();
    await row.getByTestId('status').filter({ hasText: 'succeeded' }).waitFor();
    const [r, g, b] = await colour(row.getByTestId('status'));
    expect(g).toBeGreaterThan(r);
    expect(g).toBeGreaterThan(b);

    // Restart asks first; dismissed, nothing happens.
    const count = (await deploymentIds()).length;
    const restart = nextDialog(false);
    await actions().getByRole('button', { name: 'Restart' }).click();
    expect(await restart).toMatch(/^Restart web\?/);
    await expect(deploymentIds().then((l) => l.length)).resolves.toBe(count);

    // Stop asks first; accepted, the service stops and the header offers Start.
    const stop = await runAction('Stop', true);
    expect(stop.question).toMatch(/^Stop web\?/);
    await eventually(() => headerState().textContent(), 'stopped', 30_000);
    await eventually(actionNames, 'Deploy, Start', 15_000);
    expect((await httpGetUntil(port, (res) => res.status === undefined, 30_000)).status).toBeUndefined();
    await check(page, 'actions-02-stopped', ['region']);

    // Start needs no confirmation (a dialog would fail the wait: it is dismissed by default).
    const start = await runAction('Start');
    expect(start.question).toBeNull();
    await eventually(() => headerState().textContent(), 'running', 30_000);
    await eventually(actionNames, 'Deploy, Redeploy, Restart, Stop', 15_000);
    expect((await httpGetUntil(port, (res) => res.body === 'hello', 30_000)).body).toBe('hello');
  });

  it('Roll back names the target deployment and is not offered on the live one', async () => {
    const [first, stop, start] = made;
    await page.goto(`/orgs/${orgId}/applications/${appId}/deployments`);
    const table = page.getByRole('table', { name: 'Deployments' });
    await table.locator('tbody tr').nth(2).waitFor();
    // The live deployment (the Start) has no Roll back; the earlier ones have.
    await table.getByRole('button', { name: `Roll back to ${first}` }).waitFor();
    await table.getByRole('button', { name: `Roll back to ${stop}` }).waitFor();
    await expect(table.getByRole('button', { name: `Roll back to ${start}` }).count()).resolves.toBe(0);
    await table.getByLabel(`Deployment ${start} is live`).waitFor();

    const target = (await request(t.server).get(`/api/v1/deployments/${first}`).set(owner.auth).expect(200)).body;
    const before = (await deploymentIds()).length;
    const question = nextDialog(false);
    await table.getByRole('button', { name: `Roll back to ${first}` }).click();
    const text = await question;
    expect(text).toContain(first.slice(-8));
    expect(text).toContain(`by ${target.requestedBy.name}`);
    expect(text).toContain(target.image);
    if (target.imageDigest) expect(text).toContain(target.imageDigest);
    expect(text).toContain(String(new Date(target.finishedAt).getFullYear()));
    // Dismissed: nothing was rolled back.
    await expect(deploymentIds().then((l) => l.length)).resolves.toBe(before);
  });

  it('each published port has an Open link on the host the portal is opened on', async () => {
    await page.goto(`/orgs/${orgId}/applications/${appId}/overview`);
    const link = actions().getByRole('link', { name: `Open port ${port} in a new tab` });
    await expect(link.getAttribute('href')).resolves.toBe(`http://127.0.0.1:${port}`);
    await expect(link.getAttribute('target')).resolves.toBe('_blank');
    await expect(link.getAttribute('rel')).resolves.toBe('noopener');
    const inOverview = page.locator('dd').getByRole('link', { name: `Open port ${port} in a new tab` });
    await expect(inOverview.getAttribute('href')).resolves.toBe(`http://127.0.0.1:${port}`);
  });

  it('a second application asking for the same published port gets the error on the port field (create page and settings)', async () => {
    const taken = `host port ${port}/tcp is already published by another application on this server`;
    await page.goto(`/orgs/${orgId}/projects/${env.projectId}/environments/${env.environmentId}/new-application`);
    await page.getByLabel('Name').fill('other');
    await page.getByLabel('Image').fill(BUSYBOX_IMAGE);
    await page.getByLabel('Container port').fill('8080');
    await page.getByLabel('Published port').fill(String(port));
    await page.getByRole('button', { name: 'Create application' }).click();
    const published = page.getByLabel('Published port');
    await eventually(() => published.getAttribute('aria-invalid'), 'true');
    const field = page.locator('mat-form-field', { has: published });
    await eventually(() => field.locator('mat-error').textContent().then((s) => s?.trim()), taken);
    await expect(page.getByRole('alert').filter({ hasText: taken }).count()).resolves.toBe(0);
    await check(page, 'actions-03-port-taken-create', ['region']);

    // An existing application that adds the port in its settings.
    const other = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth)
      .send({ name: 'other', spec: { image: BUSYBOX_IMAGE, replicas: 1 } }).expect(201);
    await page.goto(`/orgs/${orgId}/applications/${other.body.id}/settings`);
    await page.getByRole('button', { name: 'Add port' }).click();
    await page.getByLabel('Container port 1').fill('8080');
    await page.getByLabel('Published port 1').fill(String(port));
    await page.getByRole('button', { name: 'Save settings' }).click();
    const p1 = page.getByLabel('Published port 1');
    await eventually(() => p1.getAttribute('aria-invalid'), 'true');
    await eventually(() => page.locator('mat-form-field', { has: p1 }).locator('mat-error').textContent().then((s) => s?.trim()), taken);
    await expect(page.getByRole('alert').filter({ hasText: taken }).count()).resolves.toBe(0);
    const saved = (await request(t.server).get(`/api/v1/applications/${other.body.id}`).set(owner.auth).expect(200)).body;
    expect(saved.spec.ports).toEqual([]);
  });
});
