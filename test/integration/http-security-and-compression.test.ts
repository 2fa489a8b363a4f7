import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest, IncomingMessage, Server } from 'node:http';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import request from 'supertest';
import { startTestApp, TestApp } from '../support/app';
import { PASSWORD, Session, setupOwner, SETUP_TOKEN } from '../support/api';
import { productionEnvironment } from '../support/deploy';
import { sql } from '../support/sql';

/**
 * Security headers follow the public URL, and what Wharf sends is compressed, against the real Wharf:
 *  - over plain HTTP (no https WHARF_PUBLIC_URL) no HSTS and no CSP `upgrade-insecure-requests` (they blank the portal
 *    on http://<server-ip>); with an https public URL, or X-Forwarded-Proto: https from a trusted proxy, both are sent;
 *  - the portal's files are served pre-compressed (.br/.gz from the build) by Accept-Encoding, JSON is compressed on the
 *    fly, and a Server-Sent Events stream is never compressed: its first event arrives while the stream is still open.
 */

const ROOT = join(__dirname, '..', '..');
const PORTAL = join(ROOT, 'dist', 'admin', 'browser');

interface Raw { status: number; headers: IncomingMessage['headers']; body: Buffer }

/** One request on a raw socket: the bytes exactly as sent (supertest would decode them). */
function raw(server: Server, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  const { port } = server.address() as { port: number };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const hsts = (h: IncomingMessage['headers'] | Record<string, string>) => h['strict-transport-security'];
const upgrades = (h: IncomingMessage['headers'] | Record<string, string>) => /upgrade-insecure-requests/.test(String(h['content-security-policy']));
const secureCookies = (h: Record<string, unknown>) => ([] as string[]).concat((h['set-cookie'] as string[] | undefined) ?? []).map((c) => /;\s*Secure/i.test(c));

describe('security headers follow the public URL', () => {
  let plain: TestApp;
  let untrusting: TestApp;
  let https: TestApp;
  beforeAll(async () => {
    plain = await startTestApp({ WHARF_ROLE: 'api' });
    untrusting = await startTestApp({ WHARF_ROLE: 'api', WHARF_TRUST_PROXY: '192.0.2.10' });
    https = await startTestApp({ WHARF_ROLE: 'api', WHARF_PUBLIC_URL: 'https://wharf.example.com' });
  });
  afterAll(async () => {
    await Promise.all([plain?.close(), untrusting?.close(), https?.close()]);
  });

  it('over plain HTTP without an https public URL: no HSTS, no upgrade-insecure-requests, cookies not Secure', async () => {
    for (const path of ['/', '/api/v1/me', '/health/live']) {
      const res = await request(plain.server).get(path);
      expect({ path, hsts: hsts(res.headers), upgrades: upgrades(res.headers) }).toEqual({ path, hsts: undefined, upgrades: false });
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    }
    const setup = await request(plain.server).post('/api/v1/auth/setup').send({ setupToken: SETUP_TOKEN, email: 'o@example.com', name: 'O', password: PASSWORD, organizationName: 'Acme' }).expect(201);
    expect(secureCookies(setup.headers)).toEqual([false, false, false]);
  });

  it('with WHARF_PUBLIC_URL=https://…: HSTS and upgrade-insecure-requests on every answer, cookies Secure', async () => {
    for (const path of ['/', '/api/v1/me', '/health/live']) {
      const res = await request(https.server).get(path);
      expect({ path, hsts: hsts(res.headers), upgrades: upgrades(res.headers) }).toEqual({ path, hsts: expect.stringContaining('max-age='), upgrades: true });
    }
    const setup = await request(https.server).post('/api/v1/auth/setup').send({ setupToken: SETUP_TOKEN, email: 'o@example.com', name: 'O', password: PASSWORD, organizationName: 'Acme' }).expect(201);
    expect(secureCookies(setup.headers)).toEqual([true, true, true]);
  });

  it('X-Forwarded-Proto: https counts only from a trusted proxy (loopback by default, WHARF_TRUST_PROXY otherwise)', async () => {
    const trusted = await request(plain.server).get('/api/v1/me').set('X-Forwarded-Proto', 'https');
    expect({ hsts: hsts(trusted.headers), upgrades: upgrades(trusted.headers) }).toEqual({ hsts: expect.stringContaining('max-age='), upgrades: true });
    // The tests connect from 127.0.0.1, which this instance does not trust: the header is the client's own claim.
    const spoofed = await request(untrusting.server).get('/api/v1/me').set('X-Forwarded-Proto', 'https');
    expect({ hsts: hsts(spoofed.headers), upgrades: upgrades(spoofed.headers) }).toEqual({ hsts: undefined, upgrades: false });
  });
});

describe('compression', () => {
  let t: TestApp;
  let main: string;
  let owner: Session & { organizationId: string };
  beforeAll(async () => {
    // The build writes the .br/.gz files and then the stamp; build when either is missing (as the browser tests do).
    if (!existsSync(join(PORTAL, 'index.html')) || !existsSync(join(ROOT, 'dist', 'admin', '.compressed'))) {
      execFileSync('bash', [join(ROOT, 'scripts', 'build-admin.sh')], { cwd: ROOT, stdio: 'inherit' });
    }
    t = await startTestApp({ WHARF_ROLE: 'api' });
    owner = await setupOwner(t);
    // The largest script the first page loads (index.html names main and its preloaded chunks).
    const scripts = [...readFileSync(join(PORTAL, 'index.html'), 'utf8').matchAll(/(?:src|href)="([^"]+\.js)"/g)].map((m) => m[1]);
    main = scripts.sort((a, b) => readFileSync(join(PORTAL, b)).length - readFileSync(join(PORTAL, a)).length)[0];
  }, 240_000);
  afterAll(async () => {
    await t?.close();
  });

  it('serves the build-time brotli and gzip files by Accept-Encoding, and the file itself otherwise', async () => {
    const original = readFileSync(join(PORTAL, main));
    const cases: Array<[string | null, string | undefined, (b: Buffer) => Buffer]> = [
      ['br', 'br', brotliDecompressSync],
      ['gzip', 'gzip', gunzipSync],
      ['gzip, deflate, br, zstd', 'br', brotliDecompressSync],
      ['gzip;q=1, br;q=0.5', 'gzip', gunzipSync],
      ['br;q=0, gzip', 'gzip', gunzipSync],
      ['br;q=0, gzip;q=0', undefined, (b) => b],
      ['identity', undefined, (b) => b],
      [null, undefined, (b) => b],
    ];
    for (const [accept, encoding, decode] of cases) {
      const res = await raw(t.server, `/${main}`, accept === null ? {} : { 'Accept-Encoding': accept });
      expect({ accept, status: res.status, encoding: res.headers['content-encoding'] }).toEqual({ accept, status: 200, encoding });
      expect(res.headers['content-type']).toMatch(/^(text|application)\/javascript/);
      expect(res.headers.vary).toMatch(/Accept-Encoding/i);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(Number(res.headers['content-length'])).toBe(res.body.length);
      expect(decode(res.body).equals(original)).toBe(true);
      if (encoding) expect(res.body.length).toBeLessThan(original.length / 2);
    }
    // The stylesheet and the portal's pages (index.html, also for its own routes) likewise; index.html is never cached.
    const css = /href="(styles-[A-Z0-9]+\.css)"/.exec(readFileSync(join(PORTAL, 'index.html'), 'utf8'))![1];
    const style = await raw(t.server, `/${css}`, { 'Accept-Encoding': 'br' });
    expect({ encoding: style.headers['content-encoding'], type: style.headers['content-type'] }).toEqual({ encoding: 'br', type: 'text/css; charset=utf-8' });
    expect(brotliDecompressSync(style.body).equals(readFileSync(join(PORTAL, css)))).toBe(true);
    for (const path of ['/', '/orgs/123/settings/members', '/index.html']) {
      const page = await raw(t.server, path, { 'Accept-Encoding': 'gzip' });
      expect({ path, status: page.status, encoding: page.headers['content-encoding'], type: page.headers['content-type'], cache: page.headers['cache-control'] })
        .toEqual({ path, status: 200, encoding: 'gzip', type: 'text/html; charset=utf-8', cache: 'no-cache' });
      expect(gunzipSync(page.body).equals(readFileSync(join(PORTAL, 'index.html')))).toBe(true);
    }
    const head = await raw(t.server, `/${main}`, { 'Accept-Encoding': 'br' }, 'HEAD');
    expect({ status: head.status, encoding: head.headers['content-encoding'], length: head.headers['content-length'] }).toEqual({ status: 200, encoding: 'br', length: String(readFileSync(join(PORTAL, `${main}.br`)).length) });
    // No file outside the portal's folder, and a missing asset stays a 404.
    expect((await raw(t.server, '/..%2f..%2fpackage.json', { 'Accept-Encoding': 'br' })).status).toBe(404);
    expect((await raw(t.server, '/missing-file.js', { 'Accept-Encoding': 'br' })).status).toBe(404);
  });

  it('compresses JSON answers for clients that ask, not small ones', async () => {
    for (let i = 0; i < 12; i++) await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/projects`).set(owner.auth).send({ name: `Project ${i}` }).expect(201);
    const path = `/api/v1/organizations/${owner.organizationId}/projects?limit=100`;
    const identity = await raw(t.server, path, owner.auth);
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.body.length).toBeGreaterThan(2048);
    const list = JSON.parse(identity.body.toString('utf8'));
    expect(list.items).toHaveLength(12);
    for (const [accept, encoding, decode] of [['gzip', 'gzip', gunzipSync], ['br, gzip', 'br', brotliDecompressSync]] as const) {
      const res = await raw(t.server, path, { ...owner.auth, 'Accept-Encoding': accept });
      expect({ accept, status: res.status, encoding: res.headers['content-encoding'], type: res.headers['content-type'] }).toEqual({ accept, status: 200, encoding, type: 'application/json; charset=utf-8' });
      expect(res.headers.vary).toMatch(/Accept-Encoding/i);
      expect(res.body.length).toBeLessThan(identity.body.length / 2);
      expect(JSON.parse(decode(res.body).toString('utf8'))).toEqual(list);
    }
    const small = await raw(t.server, '/health/live', { 'Accept-Encoding': 'gzip, br' });
    expect(small.headers['content-encoding']).toBeUndefined();
  });

  it('never compresses a Server-Sent Events stream: the first event arrives while the stream is open', async () => {
    const env = await productionEnvironment(t, owner, owner.organizationId, 'Streams');
    const app = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'sse', spec: { image: 'busybox:latest' } }).expect(201);
    // Role api: no worker takes the deployment, so it stays queued (unfinished) until this test finishes it.
    const id = (await request(t.server).post(`/api/v1/applications/${app.body.id}/deployments`).set(owner.auth).send({}).expect(202)).body.id as string;
    await sql(t.databaseUrl, `INSERT INTO deployment_logs (deployment_id, step, level, message) VALUES ($1, 'service', 'info', 'first line')`, [id]);

    const { port } = t.server.address() as { port: number };
    const seen = await new Promise<{ status: number; headers: IncomingMessage['headers']; firstEventWhileOpen: boolean; text: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no end event within 15 s')), 15_000);
      const req = httpRequest({ host: '127.0.0.1', port, path: `/api/v1/deployments/${id}/logs?follow=true`, headers: { ...owner.auth, 'Accept-Encoding': 'gzip, deflate, br' } }, (res) => {
        let text = '';
        let firstEventWhileOpen = false;
        let ended = false;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (!firstEventWhileOpen && text.includes('event: log') && text.includes('first line') && !ended) {
            firstEventWhileOpen = true;
            // Only now let the deployment finish, which ends the stream.
            sql(t.databaseUrl, `UPDATE deployments SET status = 'failed', finished_at = now() WHERE id = $1`, [id]).catch(reject);
          }
        });
        res.on('end', () => {
          ended = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, firstEventWhileOpen, text });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    expect(seen.status).toBe(200);
    expect(seen.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(seen.headers['content-encoding']).toBeUndefined();
    expect(seen.firstEventWhileOpen).toBe(true);
    expect(seen.text).toMatch(/event: end\ndata: \{"status":"failed"\}/);
  });
});
