import request from 'supertest';
import { LiveEventHub } from '@wharf/core';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser';
import { startTestApp, TestApp } from '../support/app';
import { PASSWORD, Session, setupOwner } from '../support/api';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../support/docker/busybox-image';
import { SwarmTestRun } from '../support/docker/swarm-test-run';
import { productionEnvironment, swarmRunFor } from '../support/deploy';
import { until } from '../support/until';

/**
 * The application screen follows the organization's live event stream: a deployment made elsewhere (here through the
 * API) shows up in its history and its state without the old fixed 3 s status poll.
 */
jest.setTimeout(180_000);

describe('live updates on the application screen', () => {
  const lock = new SwarmTestRun();
  let run: SwarmTestRun;
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let owner: Session & { organizationId: string };
  let orgId = '';
  let appId = '';
  let envId = '';
  let projectId = '';
  const statusRequests: number[] = [];
  const streams: string[] = [];

  beforeAll(async () => {
    await lock.start();
    t = await startTestApp();
    run = await swarmRunFor(t);
    await ensureBusyboxImage(run.docker);
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    orgId = owner.organizationId;
    const env = await productionEnvironment(t, owner, orgId);
    envId = env.environmentId;
    projectId = env.projectId;
    const app = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth)
      .send({ name: 'live', spec: { image: BUSYBOX_IMAGE, command: ['/bin/sh', '-c', 'exec sleep 3600'], replicas: 1, stopGracePeriodMs: 1000, deployTimeoutMs: 60_000 } }).expect(201);
    appId = app.body.id;
    browser = await launchBrowser();
    const ctx = await browser.newContext({ baseURL: t.baseUrl, bypassCSP: true, reducedMotion: 'reduce', viewport: { width: 1280, height: 900 } });
    ctx.setDefaultTimeout(15_000);
    page = await ctx.newPage();
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path === `/api/v1/applications/${appId}/status`) statusRequests.push(Date.now());
      if (path === `/api/v1/organizations/${orgId}/events`) streams.push(path);
    });
    await page.goto('/login');
    await page.getByLabel('Email').fill('owner@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`**/orgs/${orgId}/dashboard`);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await run?.cleanup().catch(() => undefined);
    await lock.cleanup();
  });

  it('shows a deployment made through the API, and its result, from live events; no 3 s status poll', async () => {
    await page.goto(`/orgs/${orgId}/applications/${appId}/deployments`);
    await page.getByText('No deployments yet.').waitFor();
    expect(streams.length).toBeGreaterThanOrEqual(1);
    // The screen's live stream is open (subscribed on the server).
    await until('the screen to subscribe to the live events', async () => t.app.get(LiveEventHub).listenerCount >= 1, 10_000, 50);

    // Idle, the screen does not ask for the status every 3 s any more (the fallback poll runs every 30 s).
    const idleFrom = Date.now();
    await page.waitForTimeout(10_000);
    const idle = statusRequests.filter((x) => x >= idleFrom).length;
    console.log(`status requests in 10 s on an idle application screen: ${idle}`);
    expect(idle).toBeLessThanOrEqual(1);

    // A deployment made elsewhere: the history shows it without any list poll, then its end and the running state.
    const deployedAt = Date.now();
    const d = await request(t.server).post(`/api/v1/applications/${appId}/deployments`).set(owner.auth).send({}).expect(202);
    const row = page.getByRole('table', { name: 'Deployments' }).getByRole('row').filter({ has: page.getByRole('button', { name: `Show log of ${d.body.id}` }) });
    await row.waitFor({ timeout: 10_000 });
    console.log(`the deployment appeared in the history ${Date.now() - deployedAt} ms after the API call`);
    await row.getByTestId('status').filter({ hasText: 'succeeded' }).waitFor({ timeout: 90_000 });
    await page.getByTestId('application-state').getByTestId('status').filter({ hasText: 'running' }).waitFor({ timeout: 25_000 });
    console.log(`state running ${Date.now() - deployedAt} ms after the API call; status requests meanwhile: ${statusRequests.filter((x) => x >= deployedAt).length}`);
  });

  it('the environment page and the dashboard follow a service stopped and started elsewhere, without polling', async () => {
    const listRequests: number[] = [];
    const onRequest = (r: { url(): string }) => {
      const path = new URL(r.url()).pathname;
      if (path === `/api/v1/environments/${envId}/applications` || path === `/api/v1/organizations/${orgId}/applications`) listRequests.push(Date.now());
    };
    page.on('request', onRequest);
    try {
      const chip = (p: Page) => p.getByRole('row').filter({ has: p.getByRole('link', { name: 'live', exact: true }) }).getByTestId('status');
      await page.goto(`/orgs/${orgId}/projects/${projectId}/environments/${envId}`);
      await chip(page).filter({ hasText: 'running' }).waitFor({ timeout: 25_000 });
      await until('the environment page to subscribe to the live events', async () => t.app.get(LiveEventHub).listenerCount >= 1, 10_000, 50);
      // Idle: the page does not ask for its services again by itself.
      const idleFrom = Date.now();
      await page.waitForTimeout(5_000);
      expect(listRequests.filter((x) => x >= idleFrom)).toEqual([]);

      await request(t.server).post(`/api/v1/applications/${appId}/stop`).set(owner.auth).send({}).expect(202);
      await chip(page).filter({ hasText: 'stopped' }).waitFor({ timeout: 60_000 });

      await page.goto(`/orgs/${orgId}/dashboard`);
      const item = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: 'live', exact: true }) }).getByTestId('status');
      await item.filter({ hasText: 'stopped' }).waitFor({ timeout: 25_000 });
      await until('the dashboard to subscribe to the live events', async () => t.app.get(LiveEventHub).listenerCount >= 1, 10_000, 50);
      await request(t.server).post(`/api/v1/applications/${appId}/start`).set(owner.auth).send({}).expect(202);
      await item.filter({ hasText: 'running' }).waitFor({ timeout: 60_000 });
    } finally {
      page.off('request', onRequest);
    }
  });

  it('toasts a finished deployment of the organization on another screen', async () => {
    await page.goto(`/orgs/${orgId}/dashboard`);
    await until('the dashboard to subscribe to the live events', async () => t.app.get(LiveEventHub).listenerCount >= 1, 10_000, 50);
    await request(t.server).post(`/api/v1/applications/${appId}/deployments`).set(owner.auth).send({ kind: 'redeploy' }).expect(202);
    const toast = page.locator('mat-snack-bar-container').filter({ hasText: 'Deployment succeeded' });
    await toast.waitFor({ timeout: 90_000 });
    await toast.getByRole('button', { name: 'Open' }).click();
    await page.waitForURL(`**/orgs/${orgId}/applications/${appId}/deployments`);
  });
});
