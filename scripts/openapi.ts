/**
 * Writes the OpenAPI document the code produces to openapi.json (committed; the portal's client types are generated
 * from it). Boots the Nest application in preview mode: no database, Redis or port is touched.
 *   npm run openapi            regenerate openapi.json, apps/admin/src/app/core/api/schema.d.ts and the portal's client
 *                              (api-client.gen.ts, scripts/openapi-client.ts)
 *   node scripts/run-ts.js scripts/openapi.ts --check   exit 1 when openapi.json is stale
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfig } from '@wharf/core';
import { AppModule } from '../apps/api/src/app.module';
import { configureHttp } from '../apps/api/src/http/configure-http';

export const OPENAPI_FILE = join(__dirname, '..', 'openapi.json');

/** The OpenAPI document of the current code, as the committed file's text (stable key order, trailing newline). */
export async function buildOpenApiDocument(): Promise<string> {
  const config = loadConfig({
    NODE_ENV: 'test',
    WHARF_ROLE: 'api',
    DATABASE_URL: 'postgres://openapi@127.0.0.1:1/openapi',
    REDIS_URL: 'redis://127.0.0.1:1/0',
    WHARF_SECRET_KEY: '00'.repeat(32),
    LOG_LEVEL: 'silent',
  }, () => undefined);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), { preview: true, logger: false, bodyParser: false });
  try {
    const document = configureHttp(app, config);
    return `${JSON.stringify(document, null, 2)}\n`;
  } finally {
    await app.close();
  }
}

async function main(): Promise<void> {
  const text = await buildOpenApiDocument();
  if (process.argv.includes('--check')) {
    const committed = readFileSync(OPENAPI_FILE, 'utf8');
    if (committed !== text) {
      console.error('openapi.json is stale: run `npm run openapi` and commit the result');
      process.exit(1);
    }
    return;
  }
  writeFileSync(OPENAPI_FILE, text);
  console.log(`wrote ${OPENAPI_FILE}`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
