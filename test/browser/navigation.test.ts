import { Logger } from '@nestjs/common';
import request from 'supertest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { check, eventually, launchBrowser, reloadOnNetworkChange } from '../support/browser';
import { startTestApp, TestApp } from '../support/app';
import { login, PASSWORD, Session } from '../support/api';

/**
 * Finding one's way (one fresh install for the whole file): a fresh install opens /setup and its log prints the setup
 * link with the token, which fills in the form; "First start?" is gone once set up. Breadcrumbs (organization ›
 * project › environment › service); the project page lists its services and follows their state; empty screens name
 * the next step. The invitation page names the organization, the email and the role, and signs the invitee in.
 * At phone width (390 px) every screen, in light and in dark, fits the screen (no horizontal scrolling of the page),
 * has its header collapsed into a menu, passes axe (including `region`: everything inside landmarks), and is
 * photographed into test-artifacts/screenshots/.
 */

jest.setTimeout(120_000);

const PHONE = { width: 390, height: 844 };
/** A long image reference with a digest: it must truncate or wrap inside its box, never widen the page. */
const LONG_IMAGE = `127.0.0.1:5000/acme/a-rather-long-image-name-for-the-storefront@sha256:${'0123456789abcdef'.repeat(4)}`;

interface Box { right: number }
interface Elem { tagName: string; className: unknown; children: ArrayLike<Elem>; getBoundingClientRect(): Box }
interface Win { innerWidth: number; document: { documentElement: { scrollWidth: number }; querySelectorAll(s: string): ArrayLike<Elem> } }
/** The page's width, and (when too wide) the innermost elements that reach past the screen's right edge. */
const pageWidth = (p: Page) => p.evaluate(() => {
  const w = globalThis as unknown as Win;
  const scrollWidth = w.document.documentElement.scrollWidth;
  const wide = scrollWidth <= w.innerWidth ? [] : Array.from(w.document.querySelectorAll('body *'))
    .filter((e) => e.getBoundingClientRect().right > w.innerWidth + 1 && !Array.from(e.children).some((c) => c.getBoundingClientRect().right > w.innerWidth + 1))
    .slice(0, 3).map((e) => `${e.tagName.toLowerCase()}.${String(e.className).split(' ').join('.')}`);
  return { scrollWidth, innerWidth: w.innerWidth, wide };
});

describe('navigation, first run, invitations and phone width', () => {
  let t: TestApp;
  let browser: Browser;
  let desk: BrowserContext;
  let page: Page;
  let owner: Session;
  let orgId = '';
  let projectId = '';
  let environmentId = '';
  let appId = '';
  let envName = '';
  let inviteToken = '';
  const warnings: string[] = [];

  beforeAll(async () => {
    // The announcer logs through Nest's Logger: record what it says (the app's own log level is silent in tests).
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    // No preset token: Wharf generates one and prints it, as on a real first start.
    t = await startTestApp({ WHARF_SETUP_TOKEN: '' });
    browser = await launchBrowser();
    desk = reloadOnNetworkChange(await browser.newContext({ baseURL: t.baseUrl, bypassCSP: true, reducedMotion: 'reduce', viewport: { width: 1280, height: 860 } }));
    desk.setDefaultTimeout(15_000);
    page = await desk.newPage();
  }, 120_000);

  afterAll(async () => {
    jest.restoreAllMocks();
    await browser?.close();
    await t?.close();
  });

  const phoneContext = (colorScheme: 'light' | 'dark', storageState?: Awaited<ReturnType<BrowserContext['storageState']>>) =>
    browser.newContext({ baseURL: t.baseUrl, bypassCSP: true, reducedMotion: 'reduce', viewport: PHONE, colorScheme, storageState }).then(reloadOnNetworkChange);

  /** The page fits a phone: nothing wider than the screen. */
  const fits = async (p: Page, screen: string) => {
    const w = await pageWidth(p);
    expect({ screen, fits: w.scrollWidth <= w.innerWidth, ...w }).toEqual({ screen, fits: true, scrollWidth: w.scrollWidth, innerWidth: w.innerWidth, wide: [] });
  };

  it('a fresh install opens /setup; the log prints the setup link with its token, which fills in the form; "First start?" is gone afterwards', async () => {
    const line = warnings.find((m) => m.includes('/setup?token='));
    expect(line).toBeDefined();
    const link = new URL(/(https?:\/\/\S+\/setup\?token=\S+)/.exec(line!)![1]);
    const token = link.searchParams.get('token')!;
    expect(token.length).toBeGreaterThanOrEqual(20);

    // The first visit lands on the setup form, not on a sign-in nobody can pass yet; it offers "First start?" meanwhile.
    await page.goto('/');
    await page.waitForURL('**/setup');
    await page.getByRole('heading', { name: 'Set up Wharf' }).waitFor();
    await page.goto('/login');
    await page.getByRole('link', { name: 'First start? Set up Wharf' }).waitFor();

    // The setup screen at phone width, light and dark (it exists only before the first owner).
    for (const scheme of ['light', 'dark'] as const) {
      const ctx = await phoneContext(scheme);
      const p = await ctx.newPage();
      await p.goto('/setup');
      await p.getByRole('heading', { name: 'Set up Wharf' }).waitFor();
      await fits(p, `setup ${scheme}`);
      await check(p, `nav-phone-${scheme}-setup`, ['region']);
      await ctx.close();
    }

    // The logged link opens the form with the token filled in.
    await page.goto(link.pathname + link.search);
    await eventually(() => page.getByLabel('Setup token').inputValue(), token);
    await page.getByLabel('Your name').fill('Olivia Owner');
    await page.getByLabel('Email').fill('owner@example.com');
    await page.getByLabel('Organization name').fill('Acme');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create owner and sign in' }).click();
    await page.waitForURL(/\/orgs\/[0-9a-f-]+\/dashboard$/);
    orgId = /\/orgs\/([0-9a-f-]+)\//.exec(page.url())![1];
    // The empty dashboard says what to do next.
    await page.getByRole('region', { name: 'No projects yet' }).getByText('Next step: name your first project').waitFor();
    await check(page, 'nav-01-dashboard-empty', ['region']);

    // Set up: signed out, no "First start?" any more, and /setup is the sign-in page.
    const out = reloadOnNetworkChange(await browser.newContext({ baseURL: t.baseUrl, bypassCSP: true, reducedMotion: 'reduce' }));
    const o = await out.newPage();
    const status = o.waitForResponse((r) => r.url().endsWith('/api/v1/auth/setup') && r.request().method() === 'GET');
    await o.goto('/login');
    await expect((await status).json()).resolves.toEqual({ needed: false });
    await o.getByRole('button', { name: 'Sign in' }).waitFor();
    await expect(o.getByRole('link', { name: /First start/ }).count()).resolves.toBe(0);
    await o.goto('/setup');
    await o.waitForURL('**/login');
    await out.close();
  });

  it('breadcrumbs lead from the organization to the service; the project lists its services and follows their state; empty screens name the next step', async () => {
    owner = await login(t, 'owner@example.com');
    const project = await request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(owner.auth).send({ name: 'Shop' }).expect(201);
    projectId = project.body.id;
    const envs = await request(t.server).get(`/api/v1/projects/${projectId}/environments`).set(owner.auth).expect(200);
    environmentId = envs.body.items[0].id;
    envName = envs.body.items[0].name;

    // The new project: no services yet, and a way to deploy the first one in each environment.
    await page.goto(`/orgs/${orgId}/projects/${projectId}`);
    const empty = page.getByRole('region', { name: 'No services yet' });
    await empty.getByRole('link', { name: `New application in ${envName}` }).waitFor();
    const trail = page.getByRole('navigation', { name: 'Breadcrumb' });
    await eventually(() => trail.getByRole('link').allTextContents().then((l) => l.join(' › ')), `Acme › Shop`);
    await check(page, 'nav-02-project-empty', ['region']);
    await empty.getByRole('link', { name: `New application in ${envName}` }).click();
    await page.waitForURL(`**/environments/${environmentId}/new-application`);

    // The environment without services says the same.
    await page.goto(`/orgs/${orgId}/projects/${projectId}/environments/${environmentId}`);
    await page.getByRole('region', { name: 'No services yet' }).getByText('Next step: choose New application').waitFor();
    await eventually(() => trail.getByRole('link').allTextContents().then((l) => l.join(' › ')), `Acme › Shop › ${envName}`);
    // A rename shows in the trail at once.
    await page.getByLabel('Environment name').fill('Live');
    await page.getByRole('button', { name: 'Rename environment' }).click();
    envName = 'Live';
    await eventually(() => trail.getByRole('link').allTextContents().then((l) => l.join(' › ')), 'Acme › Shop › Live');

    // A service added while the project page is open appears there with its state, without a reload.
    await page.goto(`/orgs/${orgId}/projects/${projectId}`);
    await page.getByRole('region', { name: 'No services yet' }).waitFor();
    const app = await request(t.server).post(`/api/v1/environments/${environmentId}/applications`).set(owner.auth)
      .send({ name: 'web', spec: { image: LONG_IMAGE, replicas: 1 } }).expect(201);
    appId = app.body.id;
    const services = page.getByRole('table', { name: 'Services' });
    await services.getByRole('row', { name: /web/ }).waitFor({ timeout: 15_000 });
    // The state the API reports for it (never deployed: its Swarm service is missing).
    const runtime = (await request(t.server).get(`/api/v1/applications/${appId}`).set(owner.auth).expect(200)).body.runtime;
    await eventually(() => services.getByRole('row', { name: /web/ }).getByTestId('status').textContent(), runtime?.state ?? 'not deployed');
    await expect(services.getByRole('row', { name: /web/ }).getByRole('cell').nth(1).textContent()).resolves.toBe(envName);
    await check(page, 'nav-03-project-services', ['region']);

    // On the service: the whole trail, the last crumb is the current page; a crumb leads back up.
    await services.getByRole('link', { name: 'web' }).click();
    await page.waitForURL(`**/applications/${appId}/**`);
    await eventually(() => trail.getByRole('link').allTextContents().then((l) => l.join(' › ')), `Acme › Shop › ${envName} › web`);
    await expect(trail.getByRole('link', { name: 'web' }).getAttribute('aria-current')).resolves.toBe('page');
    await check(page, 'nav-04-application-breadcrumbs', ['region']);
    await trail.getByRole('link', { name: envName }).click();
    await page.waitForURL(`**/orgs/${orgId}/projects/${projectId}/environments/${environmentId}`);
    await page.getByRole('table', { name: 'Services' }).getByRole('link', { name: 'web' }).waitFor();
    await trail.getByRole('link', { name: 'Acme' }).click();
    await page.waitForURL(`**/orgs/${orgId}/dashboard`);
  });

  it('the invitation page names the organization, the email and the role, and signs the invitee in after accepting', async () => {
    const inv = await request(t.server).post(`/api/v1/organizations/${orgId}/invitations`).set(owner.auth).send({ email: 'dana@example.com', role: 'developer' }).expect(201);
    inviteToken = inv.body.token;
    // Without the token there is nothing to learn; a wrong one is a plain 404.
    await request(t.server).get('/api/v1/invitations/preview').expect(400);
    await request(t.server).get('/api/v1/invitations/preview').set('X-Invitation-Token', 'not-the-token-at-all').expect(404);

    const ctx = reloadOnNetworkChange(await browser.newContext({ baseURL: t.baseUrl, bypassCSP: true, reducedMotion: 'reduce' }));
    ctx.setDefaultTimeout(15_000);
    const v = await ctx.newPage();
    await v.goto(`/invitations/accept?token=${encodeURIComponent(inviteToken)}`);
    const offer = v.getByRole('region', { name: 'Invitation' });
    await offer.getByText('You are invited to join Acme as developer.').waitFor();
    await offer.getByText('Invitation for dana@example.com').waitFor();
    await check(v, 'nav-05-accept-invitation', ['region']);
    await v.getByLabel('Your name').fill('Dana Developer');
    await v.getByLabel('Password').fill(PASSWORD);
    await v.getByRole('button', { name: 'Create account and join' }).click();
    // Signed in straight away, in the organization just joined.
    await v.waitForURL(`**/orgs/${orgId}/dashboard`);
    await v.getByRole('heading', { name: 'Acme' }).waitFor();
    await eventually(async () => ((await v.getByRole('combobox', { name: 'Organization' }).textContent()) ?? '').includes('Acme'), true);

    // The used link now says so instead of offering a form that cannot work.
    await ctx.clearCookies();
    await v.goto(`/invitations/accept?token=${encodeURIComponent(inviteToken)}`);
    await v.getByText('This invitation was already used, revoked, or has expired.').waitFor();
    await ctx.close();
  });

  it('at phone width every screen fits, collapses its header into a menu, passes axe and is photographed in light and dark', async () => {
    const state = await desk.storageState();
    const contexts = await Promise.all([phoneContext('light', state), phoneContext('dark', state)]);
    const pages = await Promise.all(contexts.map(async (c) => { c.setDefaultTimeout(15_000); return c.newPage(); }));
    const o = `/orgs/${orgId}`;
    const a = `${o}/applications/${appId}`;
    const screens: Array<[string, string, string]> = [
      ['dashboard', `${o}/dashboard`, 'Acme'],
      ['project', `${o}/projects/${projectId}`, 'Shop'],
      ['environment', `${o}/projects/${projectId}/environments/${environmentId}`, envName],
      ['new-application', `${o}/projects/${projectId}/environments/${environmentId}/new-application`, 'New application'],
      ['application-overview', `${a}/overview`, 'web'],
      ['application-deployments', `${a}/deployments`, 'web'],
      ['application-logs', `${a}/logs`, 'web'],
      ['application-variables', `${a}/variables`, 'web'],
      ['application-settings', `${a}/settings`, 'web'],
      ['application-danger', `${a}/danger`, 'web'],
      ['members', `${o}/settings/members`, 'Acme'],
      ['invitations', `${o}/settings/invitations`, 'Acme'],
      ['roles', `${o}/settings/roles`, 'Acme'],
      ['api-keys', `${o}/settings/api-keys`, 'Acme'],
      ['registries', `${o}/settings/registries`, 'Acme'],
      ['general', `${o}/settings/general`, 'Acme'],
      ['security', `${o}/settings/security`, 'Acme'],
      ['audit', `${o}/settings/audit`, 'Acme'],
      ['sso', `${o}/settings/sso`, 'Acme'],
      ['profile', '/profile', 'Profile'],
      ['new-organization', '/organizations/new', 'New organization'],
    ];
    const visit = async (p: Page, scheme: string, [name, url, heading]: [string, string, string]) => {
      await p.goto(url);
      await p.getByRole('heading', { level: 1, name: heading }).first().waitFor();
      // The header is collapsed: one menu button instead of the navigation and account buttons.
      await p.getByRole('button', { name: 'Menu' }).waitFor();
      await expect(p.getByRole('button', { name: 'Sign out' }).isVisible()).resolves.toBe(false);
      await check(p, `nav-phone-${scheme}-${name}`, ['region']);
      await fits(p, `${name} (${scheme})`);
    };
    for (const screen of screens) await Promise.all([visit(pages[0], 'light', screen), visit(pages[1], 'dark', screen)]);

    // The menu holds the navigation; the skip link moves the focus into the main content.
    const p = pages[0];
    await p.goto(`${o}/dashboard`);
    await p.getByRole('button', { name: 'Menu' }).click();
    await p.getByRole('menuitem', { name: 'Organization' }).click();
    await p.waitForURL(`**${o}/settings/members`);
    await p.getByRole('heading', { level: 1, name: 'Acme' }).waitFor();
    await p.reload();
    await p.getByRole('heading', { level: 1, name: 'Acme' }).waitFor();
    await p.keyboard.press('Tab');
    await expect(p.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement.textContent)).resolves.toBe('Skip to content');
    await p.keyboard.press('Enter');
    await eventually(() => p.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id), 'main');

    // Signed out: the sign-in and invitation screens.
    await Promise.all(contexts.map((c) => c.clearCookies()));
    const signedOut: Array<[string, string, string]> = [
      ['login', '/login', 'Sign in'],
      ['accept-invitation', '/invitations/accept?token=0123456789abcdef-unknown', 'Accept invitation'],
    ];
    for (const [name, url, heading] of signedOut) {
      await Promise.all(pages.map(async (pg, i) => {
        const scheme = i ? 'dark' : 'light';
        await pg.goto(url);
        await pg.getByRole('heading', { level: 1, name: heading }).waitFor();
        await check(pg, `nav-phone-${scheme}-${name}`, ['region']);
        await fits(pg, `${name} (${scheme})`);
      }));
    }
    await Promise.all(contexts.map((c) => c.close()));
  }, 300_000); // 21 screens × 2 themes with axe and full-page screenshots: about 2 minutes on a loaded 2-core machine
});
