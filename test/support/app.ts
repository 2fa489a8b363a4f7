import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Server } from 'node:http';
import { bootstrap } from '../../apps/api/src/main';
import { createTestDatabase } from './database';

export interface TestApp {
  app: NestExpressApplication;
  server: Server;
  baseUrl: string;
  databaseUrl: string;
  env: NodeJS.ProcessEnv;
  close: () => Promise<void>;
}

/** Boots the real Wharf (role `all`) on a fresh database and its own queue prefix, on a random port. */
export async function startTestApp(extraEnv: Record<string, string> = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    WHARF_ROLE: 'all',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    REDIS_URL: process.env.WHARF_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    WHARF_QUEUE_PREFIX: `wt_${randomBytes(4).toString('hex')}`,
    WHARF_SECRET_KEY: randomBytes(32).toString('hex'),
    WHARF_DATA_DIR: mkdtempSync(join(tmpdir(), 'wharf-test-')),
    LOG_LEVEL: process.env.WHARF_TEST_LOG_LEVEL ?? 'silent',
    WHARF_SETUP_TOKEN: 'test-setup-token-0123456789',
    ...extraEnv,
  };
  const app = (await bootstrap(env))!;
  const server = app.getHttpServer() as Server;
  const addr = server.address() as { port: number };
  return {
    app,
    server,
    baseUrl: `http://127.0.0.1:${addr.port}`,
    databaseUrl: db.url,
    env,
    close: async () => {
      await app.close();
      await db.drop();
    },
  };
}
