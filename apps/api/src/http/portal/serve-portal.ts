import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';

/** Paths the portal never answers: the API, its documentation, probes, metrics and ACME challenges. */
const NOT_PORTAL = /^\/(api|health|metrics|\.well-known)(\/|$)/;
/** Angular's output names carry a content hash (main-ABCD1234.js): safe to cache forever. */
const HASHED = /-[A-Z0-9]{8}\.(js|css|woff2?)$/;

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
  const index = join(dir, 'index.html');
  const assets = express.static(dir, {
    index: false,
    redirect: false,
    setHeaders: (res: Response, path: string) => {
      res.setHeader('Cache-Control', HASHED.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  // API requests never touch the file system (a stat per request was a measurable share of API latency).
  app.use((req: Request, res: Response, next: NextFunction) => (NOT_PORTAL.test(req.path) ? next() : assets(req, res, next)));
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || NOT_PORTAL.test(req.path)) return next();
    // A missing asset (a path whose last segment has a dot) is a 404, not the portal.
    if (/\.[a-z0-9]+$/i.test(req.path)) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
}
