/**
 * Shutting Wharf down while its Redis is down ends promptly. Bull's default close waits for every fetch loop (with the
 * client reconnecting, their blocking fetches ran one after another for the 30 s drain delay each: ten deployment slots
 * held a shutdown for five minutes), and QUIT waits in the offline queue until Redis is back. The app runs role `all`
 * (API and worker, every queue processing) on a private Redis; after the outage begins the test keeps Redis's port
 * taken by a listener that drops every connection, so nothing else on this machine can answer there meanwhile.
 */
import { createServer, Server } from 'node:net';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { QUEUES } from '@wharf/contracts';
import { createTestDatabase } from '../support/database';
import { PrivateRedis, startAppWith, startPrivateRedis, until, wharfEnv } from '../support/processes';

jest.setTimeout(90_000);

describe('shutdown with Redis down', () => {
  let redis: PrivateRedis;
  let holder: Server | null = null;
  afterAll(async () => {
    if (holder) await new Promise((r) => holder!.close(r));
    await redis?.destroy();
  });

  it('ends within seconds, not after the drain delay of every fetch loop', async () => {
    redis = await startPrivateRedis();
    const db = await createTestDatabase();
    const t = await startAppWith(wharfEnv(db.url, redis.url), db.drop);
    const queue = t.app.get<Queue>(getQueueToken(QUEUES.deployments), { strict: false });
    await until('the deployments queue to be ready', async () => queue.client.status === 'ready', 20_000, 50);

    await redis.stop();
    holder = createServer((c) => c.destroy());
    await new Promise<void>((r) => holder!.listen(redis.port, '127.0.0.1', r));
    await until('the queue client to notice the outage', async () => queue.client.status !== 'ready', 20_000, 50);

    const t0 = Date.now();
    await t.close();
    const took = Date.now() - t0;
    console.log(`shutdown with Redis down: ${took} ms`);
    // Handlers get 10 s to finish, each queue 5 s to close, each connection 2 s to quit.
    expect(took).toBeLessThan(25_000);
  });
});
