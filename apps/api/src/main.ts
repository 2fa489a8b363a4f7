import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoLogger } from 'nestjs-pino';
import cookieParser from 'cookie-parser';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { OpenAPIObject } from '@nestjs/swagger';
import { ConfigError, loadConfig, migrate, SchemaTooNewError, WharfConfig } from '@wharf/core';
import { createDataSource } from '../../../migrations/data-source';
import { AppModule } from './app.module';
import { configureHttp } from './http/configure-http';

/** Runs migrations with a short-lived connection before anything else touches the database. */
async function prepareDatabase(config: WharfConfig): Promise<void> {
  const ds = createDataSource(config.databaseUrl);
  await ds.initialize();
  try {
    const ran = await migrate(ds);
    if (ran.length && ['info', 'debug', 'trace'].includes(config.logLevel)) console.log(JSON.stringify({ level: 30, time: Date.now(), msg: `applied migrations: ${ran.join(', ')}` }));
  } finally {
    await ds.destroy();
  }
}

/**
 * The OpenAPI document committed beside the build (`npm run openapi` writes it; a test keeps it equal to the code), for
 * a build run from dist/; undefined when run from sources or when the file is missing (then it is generated).
 */
function committedOpenApi(): OpenAPIObject | undefined {
  if (!__filename.endsWith('.js')) return undefined;
  try {
    return JSON.parse(readFileSync(resolve(__dirname, '../../../../openapi.json'), 'utf8')) as OpenAPIObject;
  } catch {
    return undefined;
  }
}

export async function bootstrap(env: NodeJS.ProcessEnv = process.env): Promise<NestExpressApplication | null> {
  const config = loadConfig(env, (msg) => console.warn(JSON.stringify({ level: 40, time: Date.now(), msg })));
  await prepareDatabase(config);
  if (config.role === 'worker') {
    const ctx = await NestFactory.createApplicationContext(AppModule.forRoot(config), { bufferLogs: true });
    ctx.useLogger(ctx.get(PinoLogger));
    ctx.enableShutdownHooks();
    await ctx.init();
    return null;
  }
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(PinoLogger));
  app.use(cookieParser());
  configureHttp(app, config, committedOpenApi());
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  app.get(PinoLogger).log(`Wharf (${config.role}) listening on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`);
  return app;
}

if (require.main === module || process.env.WHARF_ROLE === 'worker') {
  bootstrap().catch((e: unknown) => {
    if (e instanceof ConfigError || e instanceof SchemaTooNewError) {
      console.error(`wharf: ${e.message}`);
    } else {
      console.error(`wharf: failed to start: ${(e as Error).message}`);
    }
    process.exit(1);
  });
}
