import { RequestMethod } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { newId, WharfConfig } from '@wharf/core';
import { validationPipe } from './common/validation';
import { NulPipe } from './common/params';
import { httpDuration } from './metrics/metrics';
import { servePortal } from './portal/serve-portal';

/**
 * Global prefix, body limits, CORS, validation, the built portal and the OpenAPI document (returned, for
 * scripts/openapi.ts): shared by main.ts and the tests.
 */
export function configureHttp(app: NestExpressApplication, config: WharfConfig): OpenAPIObject {
  app.useBodyParser('json', { limit: config.bodyLimit, strict: true });
  app.useBodyParser('urlencoded', { limit: config.bodyLimit, extended: false });
  app.setGlobalPrefix('api/v1', {
    exclude: [
      { path: 'health/(.*)', method: RequestMethod.ALL },
      { path: 'metrics', method: RequestMethod.ALL },
    ],
  });
  app.enableCors(config.corsOrigins.length ? { origin: config.corsOrigins, credentials: true } : { origin: false });
  app.useGlobalPipes(new NulPipe(), validationPipe);
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use((req: Request & { id?: string }, res: Response, next: NextFunction) => {
    const incoming = req.headers['x-request-id'];
    req.id = typeof incoming === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : newId();
    res.setHeader('X-Request-Id', req.id);
    const end = httpDuration.startTimer();
    res.on('finish', () => end({ method: req.method, route: (req.route as { path?: string } | undefined)?.path ?? 'unmatched', status: String(res.statusCode) }));
    next();
  });
  servePortal(app);
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
