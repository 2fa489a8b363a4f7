import { execFileSync } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser';
import { startTestApp, TestApp } from '../support/app';

/**
 * The portal as a self-hoster first opens it: over plain HTTP on the server's address, not on localhost (which browsers
 * treat as a secure context, where an `upgrade-insecure-requests` CSP or HSTS breaks nothing). The test makes a network
 * namespace joined by a veth pair (10.203.9.1/30 on this side, 10.203.9.2/30 inside), binds Wharf to the host side's
 * address and loads the portal from Chromium at http://10.203.9.1:<port>/: an insecure context. If namespaces cannot be
 * made here, it falls back to the machine's own interface address with Wharf on 0.0.0.0.
 * Before the fix this page stayed blank: every script and stylesheet request was rewritten to https and failed.
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

jest.setTimeout(60_000);

describe('the portal over plain HTTP on a non-loopback address', () => {
  let t: TestApp;
  let browser: Browser;
  let base = '';

  beforeAll(async () => {
    const { address, bind } = makeAddress();
    t = await startTestApp({ HOST: bind });
    base = `http://${address}:${(t.server.address() as { port: number }).port}`;
    browser = await launchBrowser();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    removeNamespace();
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
});
