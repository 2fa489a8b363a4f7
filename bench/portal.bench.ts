/**
 * Portal download benchmark, run by `npm run bench` (or `npm run bench -- portal`): the bytes a browser transfers for
 * the portal's first page — index.html plus every script and stylesheet it references (main, its preloaded chunks,
 * the styles) — as the real Wharf serves them (the API process with the built portal), body bytes without headers:
 *  - with `Accept-Encoding: br, gzip` (what a browser sends over HTTPS or on localhost): goal ≤ 120 KB, so the first
 *    page stays small as screens are added;
 *  - with `Accept-Encoding: gzip, deflate` (what Chromium sends to a plain-HTTP origin such as http://<server-ip>:3000);
 *  - uncompressed, for information;
 *  - for information, what Chromium on localhost transfers until the sign-in screen shows (lazy route chunks included).
 * Builds the portal first when its sources changed (scripts/build-admin.sh --if-stale).
 * Writes its rows as JSON to $WHARF_BENCH_RESULT when set (scripts/bench.sh prints the summary).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { request, Server } from 'node:http';
import { join, resolve } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { chromium, Response } from 'playwright-core';
import { startTestApp } from '../test/support/app';

const ROOT = resolve(__dirname, '..');
const GOAL_KB = 120;
const CHROMIUM = process.env.WHARF_CHROMIUM ?? '/usr/bin/chromium';

/** One GET on a raw socket: the body exactly as transferred, and its decoded form. */
function get(server: Server, path: string, acceptEncoding: string | null): Promise<{ status: number; bytes: number; text: string; encoding: string }> {
  const { port } = server.address() as { port: number };
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, headers: acceptEncoding ? { 'Accept-Encoding': acceptEncoding } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const encoding = String(res.headers['content-encoding'] ?? 'identity');
        const decoded = encoding === 'br' ? brotliDecompressSync(body) : encoding === 'gzip' ? gunzipSync(body) : body;
        done({ status: res.statusCode ?? 0, bytes: body.length, text: decoded.toString('utf8'), encoding });
      });
    });
    req.on('error', fail);
    req.end();
  });
}

/** The first page's download with one Accept-Encoding: total body bytes, file count, and bytes per encoding used. */
async function initialLoad(server: Server, acceptEncoding: string | null): Promise<{ bytes: number; files: number; encodings: Record<string, number> }> {
  const index = await get(server, '/', acceptEncoding);
  if (index.status !== 200 || !index.text.includes('<w-root>')) throw new Error(`GET / answered ${index.status} without the portal`);
  const assets = [...new Set([...index.text.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1]))];
  if (!assets.some((a) => /^main-.*\.js$/.test(a))) throw new Error('index.html references no main script');
  const encodings: Record<string, number> = { [index.encoding]: 1 };
  let bytes = index.bytes;
  for (const a of assets) {
    const r = await get(server, `/${a.replace(/^\//, '')}`, acceptEncoding);
    if (r.status !== 200) throw new Error(`GET /${a}: ${r.status}`);
    bytes += r.bytes;
    encodings[r.encoding] = (encodings[r.encoding] ?? 0) + 1;
  }
  return { bytes, files: assets.length + 1, encodings };
}

/**
 * What Chromium really transfers until the sign-in screen shows (index.html, the referenced files and the lazily loaded
 * chunks of the first route), encoded body bytes as on the wire; null when Chromium is not installed.
 */
async function chromiumFirstScreen(baseUrl: string): Promise<{ bytes: number; files: number } | null> {
  if (!existsSync(CHROMIUM)) return null;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const page = await browser.newPage();
    const responses: Response[] = [];
    page.on('response', (r) => {
      if (/\.(js|css|html)$|\/$/.test(new URL(r.url()).pathname)) responses.push(r);
    });
    await page.goto(`${baseUrl}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 15_000 });
    await page.waitForLoadState('networkidle');
    let bytes = 0;
    for (const r of responses) bytes += (await r.request().sizes()).responseBodySize;
    return { bytes, files: responses.length };
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  execFileSync('bash', [join(ROOT, 'scripts', 'build-admin.sh'), '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
  const t = await startTestApp({ WHARF_ROLE: 'api' });
  try {
    const br = await initialLoad(t.server, 'br, gzip');
    const gzip = await initialLoad(t.server, 'gzip, deflate');
    const raw = await initialLoad(t.server, null);
    const screen = await chromiumFirstScreen(t.baseUrl).catch((e: Error) => {
      console.error(`  the Chromium figure failed: ${e.message.split('\n')[0]}`);
      return null;
    });
    const kb = (n: number) => Number((n / 1024).toFixed(1));
    const describe = (e: Record<string, number>) => Object.entries(e).map(([k, v]) => `${v} ${k}`).join(', ');
    const rows: Array<{ metric: string; value: number; unit: string; goal?: string; ok?: boolean }> = [
      { metric: 'first page download, Accept-Encoding: br, gzip', value: kb(br.bytes), unit: `KB (${describe(br.encodings)})`, goal: `≤ ${GOAL_KB} KB`, ok: br.bytes <= GOAL_KB * 1024 },
      { metric: 'first page download, gzip only (Chromium over plain HTTP)', value: kb(gzip.bytes), unit: `KB (${describe(gzip.encodings)})` },
      { metric: 'first page download, uncompressed (information)', value: kb(raw.bytes), unit: 'KB' },
      { metric: 'files in the first page (index.html, scripts, styles)', value: raw.files, unit: 'files' },
    ];
    if (screen) rows.push({ metric: 'Chromium on localhost until the sign-in screen shows (with lazy chunks)', value: kb(screen.bytes), unit: `KB in ${screen.files} files` });
    else console.log(`  (${CHROMIUM} is missing: the Chromium figure is skipped)`);
    console.log('\nPortal benchmark');
    for (const r of rows) console.log(`  ${r.metric}: ${r.value} ${r.unit}${r.goal ? ` (goal ${r.goal}: ${r.ok ? 'met' : 'NOT met'})` : ''}`);
    if (process.env.WHARF_BENCH_RESULT) writeFileSync(process.env.WHARF_BENCH_RESULT, JSON.stringify({ name: 'portal', rows }, null, 2));
  } finally {
    await t.close();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
