import { existsSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import Negotiator from 'negotiator';
import type { NextFunction, Request, Response } from 'express';

/** Paths the portal never answers: the API, its documentation, probes, metrics and ACME challenges. */
const NOT_PORTAL = /^\/(api|health|metrics|\.well-known)(\/|$)/;
/** Angular's output names carry a content hash (main-ABCD1234.js): safe to cache forever. */
const HASHED = /-[A-Z0-9]{8}\.(js|css|woff2?)$/;
/** Files that scripts/build-admin.sh pre-compresses (brotli `.br` and gzip `.gz` beside each). */
const PRECOMPRESSED = /\.(js|css|html|svg|json)$/;
/** Encodings in the order this server prefers them at equal q-values, with their files' suffixes. */
const ENCODINGS = [
  { name: 'br', suffix: '.br' },
  { name: 'gzip', suffix: '.gz' },
] as const;

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Sends `file` (html, js, css, svg or json) as the smallest variant the client accepts: the `.br` or `.gz` file made at
 * build time, chosen by Accept-Encoding (q-values honoured, `q=0` refuses), else the file itself. The Content-Type is
 * the original file's; Content-Length and ETag are those of the bytes sent; `Vary: Accept-Encoding` always.
 */
function sendNegotiated(req: Request, res: Response, next: NextFunction, dir: string, name: string, cacheControl: string): void {
  const file = join(dir, name);
  const available = ENCODINGS.filter((e) => isFile(file + e.suffix));
  // Express's req.acceptsEncodings takes the client's order at equal q, and Chromium sends "gzip, deflate, br, zstd":
  // negotiator's `preferred` option (not in its typings) breaks ties in favour of brotli.
  const negotiator = new Negotiator(req);
  const encodings = negotiator.encodings.bind(negotiator) as (available: string[], options: { preferred: string[] }) => string[];
  const names = available.map((e) => e.name as string);
  const chosen = available.length ? encodings([...names, 'identity'], { preferred: names })[0] : 'identity';
  const encoding = available.find((e) => e.name === chosen);
  res.vary('Accept-Encoding');
  res.setHeader('Cache-Control', cacheControl);
  res.type(extname(file));
  if (encoding) res.setHeader('Content-Encoding', encoding.name);
  // Relative to `root`, so only the path below the portal's folder is checked for dotfiles (an install may live under ~/.something).
  res.sendFile(encoding ? name + encoding.suffix : name, { root: dir, dotfiles: 'deny', cacheControl: false }, (err?: Error) => {
    if (err && !res.headersSent) {
      res.removeHeader('Content-Encoding');
      next();
    }
  });
}

/** The repository (or install) root: the nearest directory above this file with a package.json. */
function findRoot(from: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

/** Where `npm run build:admin` writes the portal. */
export function portalDirectory(): string | null {
  const root = findRoot(resolve(__dirname));
  const dir = root ? join(root, 'dist', 'admin', 'browser') : null;
  return dir && existsSync(join(dir, 'index.html')) ? dir : null;
}

/**
 * Serves the built Angular portal at `/`: static files, then index.html for any other GET of a page (the portal's
 * own routes), never for /api, /health, /metrics or /.well-known. Without a build nothing is served and one line says so.
 */
export function servePortal(app: NestExpressApplication, dir: string | null = portalDirectory()): void {
  if (!dir) {
    new Logger('Portal').log('The admin portal is not built (dist/admin/browser is missing): run `npm run build:admin` to serve it at /');
    return;
  }
  const root = resolve(dir) + sep;
  const cacheFor = (path: string) => (HASHED.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
  // Text assets with build-time .br/.gz variants are negotiated here; everything else (fonts, images) goes to express.static.
  const precompressed = (req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !PRECOMPRESSED.test(req.path)) return next();
    let path: string;
    try {
      path = decodeURIComponent(req.path);
    } catch {
      return next();
    }
    const file = resolve(dir, '.' + path);
    if (!file.startsWith(root) || path.includes('\0') || !isFile(file)) return next();
    sendNegotiated(req, res, next, dir, file.slice(root.length), cacheFor(file));
  };
  const assets = express.static(dir, {
    index: false,
    redirect: false,
    setHeaders: (res: Response, path: string) => {
      res.setHeader('Cache-Control', cacheFor(path));
    },
  });
  // API requests never touch the file system (a stat per request was a measurable share of API latency).
  app.use((req: Request, res: Response, next: NextFunction) => (NOT_PORTAL.test(req.path) ? next() : precompressed(req, res, () => assets(req, res, next))));
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || NOT_PORTAL.test(req.path)) return next();
    // A missing asset (a path whose last segment has a dot) is a 404, not the portal.
    if (/\.[a-z0-9]+$/i.test(req.path)) return next();
    sendNegotiated(req, res, next, dir, 'index.html', 'no-cache');
  });
}
