import { RequestMethod } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import compression from 'compression';
import helmet from 'helmet';
import { newId, WharfConfig } from '@wharf/core';
import { validationPipe } from './common/validation';
import { NulPipe } from './common/params';
import { httpDuration } from './metrics/metrics';
import { servePortal } from './portal/serve-portal';

/**
 * Helmet's headers, with HSTS and the CSP's `upgrade-insecure-requests` only for HTTPS: when WHARF_PUBLIC_URL is https, or
 * the request came over TLS (directly, or through a trusted proxy's X-Forwarded-Proto). Over plain HTTP on the
 * server's address (the usual first visit of a self-hoster) they would make the browser fetch every script over https
 * and show a blank page; browsers treat only localhost as secure, so tests on 127.0.0.1 never see it. The
 * Cross-Origin-Opener-Policy is likewise ignored, with a console error, on an untrustworthy (plain HTTP) origin.
 */
export function securityHeaders(config: WharfConfig): RequestHandler {
  const overHttps = helmet();
  const overHttp = helmet({
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
    strictTransportSecurity: false,
    crossOriginOpenerPolicy: false,
  });
  const alwaysHttps = config.publicUrl.startsWith('https:');
  return (req, res, next) => (alwaysHttps || req.secure ? overHttps : overHttp)(req, res, next);
}

/** Smallest body worth compressing: below it the headers and the CPU cost more than the bytes saved. */
const COMPRESS_THRESHOLD = 1024;

/**
 * Compresses API answers (JSON, problem+json, CSV) on the fly for clients that ask; never a Server-Sent Events stream
 * (compression buffers, so events would arrive late) nor anything already encoded (the portal's pre-compressed files).
 */
export function compressResponses(): RequestHandler {
  return compression({
    threshold: COMPRESS_THRESHOLD,
    filter: (req, res) => !/^text\/event-stream/i.test(String(res.getHeader('Content-Type') ?? '')) && compression.filter(req, res),
  });
}

/**
 * Global prefix, body limits, CORS, validation, the built portal and the OpenAPI document (generated from the
 * controllers unless `prebuilt` is given, and returned for scripts/openapi.ts): shared by main.ts and the tests.
 */
export function configureHttp(app: NestExpressApplication, config: WharfConfig, prebuilt?: OpenAPIObject): OpenAPIObject {
  // Webhook deliveries are verified over the exact bytes received: the JSON parser keeps them for those routes only.
  app.useBodyParser('json', {
    limit: config.bodyLimit,
    strict: true,
    verify: (req: Request & { rawBody?: Buffer }, _res: unknown, buf: Buffer) => {
      if (req.url?.startsWith('/api/v1/webhooks/')) req.rawBody = buf;
    },
  });
  app.useBodyParser('urlencoded', { limit: config.bodyLimit, extended: false });
  app.setGlobalPrefix('api/v1', {
    exclude: [
      { path: 'health/(.*)', method: RequestMethod.ALL },
      { path: 'metrics', method: RequestMethod.ALL },
      { path: '.well-known/acme-challenge/:token', method: RequestMethod.GET },
    ],
  });
  app.enableCors(config.corsOrigins.length ? { origin: config.corsOrigins, credentials: true } : { origin: false });
  app.useGlobalPipes(new NulPipe(), validationPipe);
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.use(securityHeaders(config));
  app.use(compressResponses());
  app.use((req: Request & { id?: string }, res: Response, next: NextFunction) => {
    const incoming = req.headers['x-request-id'];
    req.id = typeof incoming === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : newId();
    res.setHeader('X-Request-Id', req.id);
    const end = httpDuration.startTimer();
    res.on('finish', () => end({ method: req.method, route: (req.route as { path?: string } | undefined)?.path ?? 'unmatched', status: String(res.statusCode) }));
    next();
  });
  servePortal(app);
  // A built install serves the committed openapi.json (kept equal to the code by test/integration/openapi.test.ts):
  // scanning every controller for it took a tenth of the start-up time.
  if (prebuilt) {
    SwaggerModule.setup('api/docs', app, prebuilt, { jsonDocumentUrl: 'api/docs-json' });
    return prebuilt;
  }
  const doc = new DocumentBuilder()
    .setTitle('Wharf API')
    .setDescription('Self-hosted platform-as-a-service. Errors are application/problem+json.')
    .setVersion('1')
    .addBearerAuth()
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'apiKey')
    .addCookieAuth('wharf_access')
    .build();
  const document = SwaggerModule.createDocument(app, doc);
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
  return document;
}
