import { execFileSync } from 'node:child_process';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { LiveEventHub } from '@wharf/core';
import { eventually, launchBrowser } from '../support/browser';
import { startTestApp, TestApp } from '../support/app';
import { PASSWORD, SETUP_TOKEN } from '../support/api';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../support/docker/busybox-image';
import { freePort, SwarmTestRun } from '../support/docker/swarm-test-run';
import { HTTPD_COMMAND, swarmRunFor } from '../support/deploy';
import { until } from '../support/until';

/**
 * The portal as a self-hoster first opens it: over plain HTTP on the server's address, not on localhost (which browsers
 * treat as a secure context, where an `upgrade-insecure-requests` CSP or HSTS breaks nothing). The test makes a network
 * namespace joined by a veth pair (10.203.9.1/30 on this side, 10.203.9.2/30 inside), binds Wharf to the host side's
 * address and loads the portal from Chromium at http://10.203.9.1:<port>/: an insecure context. If namespaces cannot be
 * made here, it falls back to the machine's own interface address with Wharf on 0.0.0.0.
 * Before the fix this page stayed blank: every script and stylesheet request was rewritten to https and failed.
 * Then the whole journey through that address: first-run setup, a session that survives a reload (its cookies are not
 * Secure over plain HTTP), a project, an application from the local busybox image deployed from the header with its
 * live log and the organization's live event stream, and the header's Open link on that address.
 */

const NETNS = 'wharf-portal9';
const VETH_HOST = 'wp9h';
const VETH_NS = 'wp9n';
const HOST_ADDR = '10.203.9.1';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const quietly = (...args: string[]) => {
  try {
    ip(...args);
  } catch {
    /* already gone */
  }
};
function removeNamespace(): void {
  quietly('link', 'del', VETH_HOST); // deletes its peer in the namespace too
  quietly('netns', 'del', NETNS);
}

/** The non-loopback address the browser will use: the veth pair's host side, or the machine's first global address. */
function makeAddress(): { address: string; bind: string } {
  removeNamespace(); // a leftover from an interrupted run
  try {
    ip('netns', 'add', NETNS);
    ip('link', 'add', VETH_HOST, 'type', 'veth', 'peer', 'name', VETH_NS, 'netns', NETNS);
    ip('addr', 'add', `${HOST_ADDR}/30`, 'dev', VETH_HOST);
    ip('link', 'set', VETH_HOST, 'up');
    ip('-n', NETNS, 'addr', 'add', '10.203.9.2/30', 'dev', VETH_NS);
    ip('-n', NETNS, 'link', 'set', VETH_NS, 'up');
    return { address: HOST_ADDR, bind: HOST_ADDR };
  } catch (e) {
    removeNamespace();
    const own = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(ip('-4', '-o', 'addr', 'show', 'scope', 'global'))?.[1];
    if (!own) throw new Error(`no network namespace (${(e as Error).message.split('\n')[0]}) and no global IPv4 address`);
    return { address: own, bind: '0.0.0.0' };
  }
}

/**
 * Runs in the page before the portal: records what the organization's live event stream (an EventSource the portal
 * opens on /organizations/{orgId}/events) delivers, with the stream's resolved URL.
 */
const LIVE_PROBE = `(() => {
  const Native = globalThis.EventSource;
  globalThis.__live = [];
  globalThis.EventSource = class extends Native {
    constructor(url, init) {
      super(url, init);
      if (!/\\/organizations\\/[^/]+\\/events/.test(String(url))) return;
      this.addEventListener('ready', () => globalThis.__live.push({ type: 'ready', url: this.url }));
      this.addEventListener('domain', (e) => {
        const ev = JSON.parse(e.data);
        globalThis.__live.push({ type: ev.type, url: this.url, subject: ev.subject.id, applicationId: ev.payload.applicationId });
      });
    }
  };
})();`;
interface LiveRecord { type: string; url: string; subject?: string | null; applicationId?: string }

jest.setTimeout(60_000);

describe('the portal over plain HTTP on a non-loopback address', () => {
  const lock = new SwarmTestRun();
  let run: SwarmTestRun;
  let t: TestApp;
  let browser: Browser;
  let address = '';
  let base = '';

  beforeAll(async () => {
    await lock.start();
    const made = makeAddress();
    address = made.address;
    t = await startTestApp({ HOST: made.bind });
    base = `http://${address}:${(t.server.address() as { port: number }).port}`;
    run = await swarmRunFor(t);
    await ensureBusyboxImage(run.docker);
    browser = await launchBrowser();
  }, 240_000);

  afterAll(async () => {
    try {
      await browser?.close();
      await t?.close();
      await run?.cleanup().catch(() => undefined);
    } finally {
      await lock.cleanup();
      removeNamespace();
    }
  });

  it('renders the sign-in screen with every script and stylesheet loaded, compressed, and no console error', async () => {
    const ctx = await browser.newContext(); // no bypassCSP: the API's own headers apply
    const page: Page = await ctx.newPage();
    const failed: string[] = [];
    const consoleErrors: string[] = [];
    const assets: Array<{ url: string; status: number; encoding: string | undefined }> = [];
    page.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('response', async (r) => {
      if (!/\.(js|css)$/.test(new URL(r.url()).pathname)) return;
      assets.push({ url: r.url(), status: r.status(), encoding: (await r.allHeaders())['content-encoding'] });
    });

    const doc = await page.goto(`${base}/`);
    expect(doc?.status()).toBe(200);
    // A fresh install opens the setup form.
    await page.getByRole('heading', { name: 'Set up Wharf' }).waitFor({ timeout: 15_000 }).catch((e: Error) => {
      throw new Error(`${e.message}\nfailed requests:\n${failed.join('\n')}\nconsole errors:\n${consoleErrors.join('\n')}`);
    });
    await page.getByRole('link', { name: /Already set up/ }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(await doc?.headerValue('strict-transport-security')).toBeNull();
    expect(await doc?.headerValue('content-security-policy')).not.toMatch(/upgrade-insecure-requests/);

    // The point of the test: the browser does not consider this origin secure (on 127.0.0.1 it would).
    expect(await page.evaluate(() => (globalThis as unknown as { isSecureContext: boolean }).isSecureContext)).toBe(false);
    expect(page.url()).toMatch(new RegExp(`^${base.replace(/\./g, '\\.')}/`));
    expect(failed).toEqual([]);
    // The signed-out portal's own session probe answers 401 (logged by Chromium as a failed resource); nothing else may.
    expect(consoleErrors.filter((m) => !/status of 401 \(Unauthorized\)/.test(m))).toEqual([]);
    expect(assets.length).toBeGreaterThan(1);
    for (const a of assets) {
      expect({ url: a.url, status: a.status, https: a.url.startsWith('https:') }).toEqual({ url: a.url, status: 200, https: false });
      // Chromium offers brotli only to secure origins; over plain HTTP it gets the build's gzip files.
      expect({ url: a.url, encoding: a.encoding }).toEqual({ url: a.url, encoding: expect.stringMatching(/^(br|gzip)$/) });
    }
    await ctx.close();
  });
  it('runs the journey through that address: setup, a session kept over a reload, a project, a deployment from the header with its live log and live events, the Open link', async () => {
    const startedAt = Date.now();
    const ctx: BrowserContext = await browser.newContext({ reducedMotion: 'reduce', viewport: { width: 1280, height: 900 } }); // no bypassCSP
    ctx.setDefaultTimeout(15_000);
    await ctx.addInitScript({ content: LIVE_PROBE });
    const requests: string[] = [];
    ctx.on('request', (r) => requests.push(r.url()));
    const page: Page = await ctx.newPage();
    let phase = 'signed out';
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(`${phase}: ${m.text()}`));
    page.on('pageerror', (e) => consoleErrors.push(`${phase}: page error: ${e.message}`));
    const eventStreams: Array<{ url: string; status: number; type: string | undefined }> = [];
    page.on('response', (r) => {
      if (/\/api\/v1\/organizations\/[0-9a-f-]+\/events$/.test(new URL(r.url()).pathname)) eventStreams.push({ url: r.url(), status: r.status(), type: r.headers()['content-type'] });
    });
    const live = () => page.evaluate(() => (globalThis as unknown as { __live: LiveRecord[] }).__live);

    // First-run setup with the setup token; it signs the owner in.
    await page.goto(`${base}/setup`);
    await page.getByRole('heading', { name: 'Set up Wharf' }).waitFor({ timeout: 30_000 });
    await page.getByLabel('Setup token').fill(SETUP_TOKEN);
    await page.getByLabel('Your name').fill('Olivia Owner');
    await page.getByLabel('Email').fill('owner@example.com');
    await page.getByLabel('Organization name').fill('Acme');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create owner and sign in' }).click();
    await page.waitForURL(/\/orgs\/[0-9a-f-]+\/dashboard$/);
    phase = 'signed in';
    const orgId = /\/orgs\/([0-9a-f-]+)\//.exec(page.url())![1];
    await page.getByText('No projects yet.').waitFor();

    // The session cookies came over plain HTTP: not Secure (the browser would drop Secure ones here), for this host.
    const cookies = Object.fromEntries((await ctx.cookies()).map((c) => [c.name, c]));
    for (const name of ['wharf_access', 'wharf_refresh', 'wharf_csrf']) {
      expect({ name, domain: cookies[name]?.domain, secure: cookies[name]?.secure }).toEqual({ name, domain: address, secure: false });
    }
    // ... so the session survives a reload.
    const dashboard = page.url();
    await page.reload();
    await page.getByText('No projects yet.').waitFor();
    expect(page.url()).toBe(dashboard);
    expect(await page.evaluate(() => (globalThis as unknown as { isSecureContext: boolean }).isSecureContext)).toBe(false);

    // A project (a POST with the CSRF cookie's token), its production environment, an application from the local image.
    await page.getByLabel('Project name').fill('Shop');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.waitForURL(/\/projects\/[0-9a-f-]+$/);
    await page.getByRole('link', { name: 'Production', exact: true }).click();
    await page.getByText('No services yet.').waitFor();
    const appPort = await freePort();
    await page.getByRole('link', { name: 'New application' }).click();
    await page.getByLabel('Name', { exact: true }).fill('web');
    await page.getByLabel('Image').fill(BUSYBOX_IMAGE);
    await page.getByLabel('Command (one argument per line)').fill(HTTPD_COMMAND.join('\n'));
    await page.getByLabel('Container port').fill('8080');
    await page.getByLabel('Published port').fill(String(appPort));
    await page.getByLabel('Variables (KEY=value per line)').fill('BODY=hello from the public address');
    await page.getByRole('button', { name: 'Create application' }).click();
    await page.waitForURL(/\/applications\/[0-9a-f-]+\/deployments$/);
    const appId = /\/applications\/([0-9a-f-]+)\//.exec(page.url())![1];
    await page.getByText('No deployments yet.').waitFor();

    // The organization's live stream is open through this address (the server has the subscriber).
    await until('the live event stream to be ready', async () => (await live()).find((e) => e.type === 'ready'), 15_000, 100);
    await until('the server to hold the screen\'s live subscription', async () => t.app.get(LiveEventHub).listenerCount >= 1, 10_000, 50);
    expect(eventStreams.length).toBeGreaterThanOrEqual(1);
    for (const s of eventStreams) expect(s).toEqual({ url: `${base}/api/v1/organizations/${orgId}/events`, status: 200, type: expect.stringMatching(/^text\/event-stream/) });

    // Deploy from the header. The deployments tab learns of it from the live events only (the header asks for no
    // list reload), selects it and follows its log live.
    const actions = page.getByRole('group', { name: 'Application actions' });
    const follow = page.waitForRequest((r) => /\/api\/v1\/deployments\/[0-9a-f-]+\/logs\?follow=true$/.test(r.url()));
    await actions.getByRole('button', { name: 'Deploy', exact: true }).click();
    expect((await follow).url()).toMatch(new RegExp(`^${base.replace(/\./g, '\\.')}/api/v1/deployments/`));
    const progress = page.getByRole('region', { name: 'Deployment progress' });
    const log = page.getByTestId('deployment-log');
    await log.filter({ hasText: '[network]' }).waitFor({ timeout: 60_000 });
    await progress.getByTestId('status').filter({ hasText: 'succeeded' }).waitFor({ timeout: 120_000 });
    await page.locator('mat-snack-bar-container').filter({ hasText: 'Deployment succeeded' }).waitFor();
    const text = (await log.textContent())!;
    for (const step of ['network', 'pull', 'service', 'wait']) expect(text).toContain(`[${step}]`);
    await page.getByTestId('application-state').getByTestId('status').filter({ hasText: 'running' }).waitFor({ timeout: 30_000 });
    // Its status changes arrived as live events on the stream opened on this address.
    await until('the deployment\'s live events', async () => {
      const types = (await live()).filter((e) => e.applicationId === appId).map((e) => e.type);
      return ['deployment.queued', 'deployment.started', 'deployment.succeeded'].every((x) => types.includes(x));
    }, 15_000, 100);
    for (const e of await live()) expect(e.url).toBe(`${base}/api/v1/organizations/${orgId}/events`);

    // The header's Open link points at the host the portal is opened on, and the application answers there.
    const open = actions.getByRole('link', { name: `Open port ${appPort} in a new tab` });
    await expect(open.getAttribute('href')).resolves.toBe(`http://${address}:${appPort}`);
    await until('the application to answer on the public address', async () => {
      const res = await fetch(`http://${address}:${appPort}/`, { signal: AbortSignal.timeout(2_000) });
      return res.status === 200 && (await res.text()) === 'hello from the public address';
    }, 30_000);
    const [tab] = await Promise.all([ctx.waitForEvent('page'), open.click()]);
    await tab.waitForLoadState();
    expect(tab.url()).toBe(`http://${address}:${appPort}/`);
    await eventually(() => tab.locator('body').innerText(), 'hello from the public address');
    await tab.close();

    // Nothing went anywhere but this address (no https upgrade, no localhost), and no console error but the signed-out 401.
    const appOrigin = `http://${address}:${appPort}/`;
    expect(requests.filter((u) => !u.startsWith(`${base}/`) && !u.startsWith(appOrigin))).toEqual([]);
    expect(requests.filter((u) => u.startsWith('https:'))).toEqual([]);
    expect(consoleErrors.filter((m) => !/^signed out: .*status of 401 \(Unauthorized\)/.test(m) && !/net::ERR_NETWORK_CHANGED/.test(m))).toEqual([]);
    await ctx.close();
    console.log(`journey through ${base}: ${Date.now() - startedAt} ms, ${requests.length} requests`);
  }, 240_000);
});
