import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, Browser, BrowserContext, BrowserContextOptions, Page, Request } from 'playwright-core';
import { PASSWORD } from './api';

/** Shared by the browser tests: Debian's Chromium through playwright-core, screenshots and axe-core checks. */
export const ROOT = join(__dirname, '..', '..');
export const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const CHROMIUM = process.env.WHARF_CHROMIUM ?? '/usr/bin/chromium';
const AXE = require.resolve('axe-core/axe.min.js');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The page's document, typed just enough (the repository's tsconfig has no DOM library); used inside page.evaluate. */
interface BrowserDoc { getAnimations(): Array<{ playState: string }> }
type InPage = { document: BrowserDoc };
interface AxeViolation { id: string; impact: string | null; help: string; nodes: Array<{ target: string[] }> }

/** Builds the portal when it is missing, makes the screenshot folder, and starts a fresh headless Chromium. */
export async function launchBrowser(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  if (!existsSync(join(ROOT, 'dist', 'admin', 'browser', 'index.html'))) {
    execFileSync('bash', [join(ROOT, 'scripts', 'build-admin.sh')], { cwd: ROOT, stdio: 'inherit' });
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  // Every context of every browser test is protected against a page load cut off by a network change (below).
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...a: Parameters<Browser['newContext']>) => reloadOnNetworkChange(await newContext(...a));
  return browser;
}

/**
 * Chromium aborts in-flight requests with ERR_NETWORK_CHANGED when a network interface comes or goes on the machine
 * (Docker networks, veth pairs of tests running meanwhile). A page whose document, scripts or styles were cut off that
 * way never starts: load it again. Requests the app itself makes are left alone (the screen shows their failure).
 */
const protectedContexts = new WeakSet<BrowserContext>();
/** Requests of each page still under way, except live streams (EventSource never finishes): see `quiet`. */
const inFlight = new WeakMap<Page, Set<Request>>();
const pageOf = (r: Request): Page | null => {
  try {
    return r.frame().page();
  } catch {
    return null; // a service worker's request
  }
};
export function reloadOnNetworkChange(ctx: BrowserContext): BrowserContext {
  if (protectedContexts.has(ctx)) return ctx;
  protectedContexts.add(ctx);
  ctx.on('request', (r) => {
    const p = pageOf(r);
    if (!p || r.resourceType() === 'eventsource') return;
    if (!inFlight.has(p)) inFlight.set(p, new Set());
    inFlight.get(p)!.add(r);
  });
  const done = (r: Request) => {
    const p = pageOf(r);
    if (p) inFlight.get(p)?.delete(r);
  };
  ctx.on('requestfinished', done);
  ctx.on('requestfailed', done);
  ctx.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_NETWORK_CHANGED' || !['document', 'script', 'stylesheet'].includes(r.resourceType())) return;
    void r.frame().page().reload().catch(() => undefined);
  });
  return ctx;
}

/** Polls a value read from the page until it equals `expected` (or the timeout passes), then asserts it: screens load data after navigation. */
export async function eventually<T>(read: () => Promise<T>, expected: T, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let value = await read();
  while (value !== expected && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  expect(value).toBe(expected);
}

/**
 * Screenshot of the screen, then axe-core: no serious or critical violation, and none at all of the rules in `strict`
 * (e.g. `region`, moderate by axe's rating: all content inside landmarks).
 */
/**
 * Waits until the page has loaded and no request of it (other than its live event stream, which stays open) has been
 * under way for `quietMs`, at most `timeoutMs`. Playwright's `networkidle` never comes while an EventSource is open.
 */
export async function quiet(page: Page, quietMs = 300, timeoutMs = 10_000): Promise<void> {
  await page.waitForLoadState('load').catch(() => undefined);
  const deadline = Date.now() + timeoutMs;
  let since = Date.now();
  while (Date.now() < deadline) {
    if ((inFlight.get(page)?.size ?? 0) > 0) since = Date.now();
    else if (Date.now() - since >= quietMs) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function check(page: Page, name: string, strict: readonly string[] = []): Promise<void> {
  await quiet(page);
  // Let transitions (a field error fading in) finish: axe measures contrast on what is painted now.
  await page.waitForFunction(() => (globalThis as unknown as InPage).document.getAnimations().every((a) => a.playState !== 'running'), undefined, { timeout: 3000 }).catch(() => undefined);
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: object) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const r = await axe.run((globalThis as unknown as InPage).document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target })) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical' || strict.includes(v.id));
  expect({ screen: name, violations: bad }).toEqual({ screen: name, violations: [] });
}

/**
 * A desktop-sized page in a new context on the test app, signed in through the sign-in form as `email` (password
 * PASSWORD), on the organization's dashboard. `options` add to or override the context's defaults.
 */
export async function signedInPage(browser: Browser, baseURL: string, email: string, orgId: string, options: BrowserContextOptions = {}): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ baseURL, bypassCSP: true, reducedMotion: 'reduce', viewport: { width: 1280, height: 900 }, ...options });
  ctx.setDefaultTimeout(15_000);
  const page = await ctx.newPage();
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`**/orgs/${orgId}/dashboard`);
  return { ctx, page };
}
