import request from 'supertest';
import { DataSource } from 'typeorm';
import { DeploymentLifecycle } from '@wharf/applications';
import type { TestApp } from '../support/app';
import { Session, setupOwner } from '../support/api';
import { startTestApp } from '../support/app';
import { APP_DB_LIMITS, createDataSource, dataSourceOptions } from '../../migrations/data-source';
import { productionEnvironment } from '../support/deploy';

/**
 * The lease a running deployment holds, against the real PostgreSQL: the fence that precedes every engine change, the
 * renewal that also reads the cancel flag, and log lines that only the lease holder may add. The API runs alone (no
 * worker), so the deployment stays queued until this test claims it.
 */
describe('deployment lease (fencing, renewal, cancel flag) and database limits', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let lifecycle: DeploymentLifecycle;
  let ds: DataSource;
  let id: string;

  beforeAll(async () => {
    t = await startTestApp({ WHARF_ROLE: 'api' });
    owner = await setupOwner(t);
    const env = await productionEnvironment(t, owner, owner.organizationId);
    const app = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'lease', spec: { image: 'busybox:latest' } }).expect(201);
    id = (await request(t.server).post(`/api/v1/applications/${app.body.id}/deployments`).set(owner.auth).send({}).expect(202)).body.id;
    lifecycle = t.app.get(DeploymentLifecycle, { strict: false });
    ds = t.app.get(DataSource);
  });

  afterAll(async () => {
    await t?.close();
  });

  const expireLease = () => ds.query(`UPDATE deployments SET lease_expires_at = now() - interval '1 second' WHERE id = $1`, [id]);
  const lines = async () => (await ds.query(`SELECT message FROM deployment_logs WHERE deployment_id = $1 ORDER BY seq`, [id])).map((r: { message: string }) => r.message);

  it('fences engine changes to the worker that holds an unexpired lease; a replaced worker can neither change nor log', async () => {
    const a = await lifecycle.claim(id, 'worker-a', 60_000);
    expect(a).toMatchObject({ resumed: false });
    expect(await lifecycle.fence(id, 'worker-a', 60_000)).toBe(true);
    expect(await lifecycle.fence(id, 'worker-b', 60_000)).toBe(false);

    // Past its lease, worker A may not change the engine even while nobody took over yet (a claim could come any moment).
    await expireLease();
    expect(await lifecycle.fence(id, 'worker-a', 60_000)).toBe(false);
    // A worker paused past its lease is replaced: B claims, A's renewal, fence and log lines all fail from then on.
    const b = await lifecycle.claim(id, 'worker-b', 60_000);
    expect(b).toMatchObject({ resumed: true });
    expect(await lifecycle.renew(id, 'worker-a', 60_000)).toBe('lost');
    expect(await lifecycle.fence(id, 'worker-a', 60_000)).toBe(false);
    await lifecycle.log(id, 'service', 'info', 'stale line from worker A', 'worker-a');
    await lifecycle.log(id, 'service', 'info', 'line from worker B', 'worker-b');
    expect(await lines()).not.toContain('stale line from worker A');
    expect(await lines()).toContain('line from worker B');
    // Lines written together (the runner's batches): in their order for the holder, none for a replaced worker.
    const batch = Array.from({ length: 40 }, (_, i) => ({ step: 'build', level: 'info' as const, message: `batched ${i}` }));
    await lifecycle.logMany(id, [{ step: 'build', level: 'info', message: 'stale batch from worker A' }], 'worker-a');
    await lifecycle.logMany(id, batch, 'worker-b');
    await lifecycle.logMany(id, [], 'worker-b');
    const written = await lines();
    expect(written).not.toContain('stale batch from worker A');
    expect(written.filter((m: string) => m.startsWith('batched '))).toEqual(batch.map((l) => l.message));
    expect(await lifecycle.fence(id, 'worker-b', 60_000)).toBe(true);
    // The fence extends the lease it checked: no claim can take the deployment while the change is being made.
    const [{ left }] = await ds.query(`SELECT extract(epoch FROM lease_expires_at - now()) * 1000 AS left FROM deployments WHERE id = $1`, [id]);
    expect(Number(left)).toBeGreaterThan(50_000);
    expect(await lifecycle.claim(id, 'worker-c', 60_000)).toBeNull();
  });

  it('the renewal reports a cancel requested through the API (no pub/sub needed), and the end releases the lease', async () => {
    expect(await lifecycle.renew(id, 'worker-b', 60_000)).toBe('held');
    await request(t.server).post(`/api/v1/deployments/${id}/cancel`).set(owner.auth).expect(202);
    expect(await lifecycle.renew(id, 'worker-b', 60_000)).toBe('cancel-requested');
    expect(await lifecycle.finish(id, 'worker-a', 'cancelled', null)).toBe(false);
    expect(await lifecycle.finish(id, 'worker-b', 'cancelled', null)).toBe(true);
    expect(await lifecycle.renew(id, 'worker-b', 60_000)).toBe('lost');
    expect(await lifecycle.fence(id, 'worker-b', 60_000)).toBe(false);
    const [row] = await ds.query(`SELECT status, lease_owner FROM deployments WHERE id = $1`, [id]);
    expect(row).toEqual({ status: 'cancelled', lease_owner: null });
  });

  it('bounds statements and idle transactions on the application\'s connections (not on the migrations\' ones)', async () => {
    const show = async (d: DataSource) => (await d.query(`SELECT current_setting('statement_timeout') AS st, current_setting('idle_in_transaction_session_timeout') AS idle`))[0];
    expect(APP_DB_LIMITS).toEqual({ statementTimeoutMs: 60_000, idleInTransactionTimeoutMs: 60_000 });
    expect(await show(ds)).toEqual({ st: '1min', idle: '1min' });
    const migrations = createDataSource(t.databaseUrl);
    await migrations.initialize();
    try {
      expect(await show(migrations)).toEqual({ st: '0', idle: '0' });
    } finally {
      await migrations.destroy();
    }

    // The same options with short limits: PostgreSQL itself cancels the statement and ends the idle transaction.
    const short = new DataSource({ ...dataSourceOptions(t.databaseUrl, { statementTimeoutMs: 300, idleInTransactionTimeoutMs: 300 }), entities: [], migrations: [] });
    await short.initialize();
    try {
      const t0 = Date.now();
      await expect(short.query('SELECT pg_sleep(5)')).rejects.toThrow(/statement timeout/);
      expect(Date.now() - t0).toBeLessThan(4000);
      const qr = short.createQueryRunner();
      await qr.connect();
      await qr.startTransaction();
      await qr.query('SELECT 1');
      const [{ pid }] = await qr.query('SELECT pg_backend_pid() AS pid');
      // Idle inside the transaction past the limit: the server terminates that session.
      await eventuallyGone(pid);
      await expect(qr.query('SELECT 1')).rejects.toThrow();
      await qr.release().catch(() => undefined);
    } finally {
      await short.destroy();
    }
  });

  async function eventuallyGone(pid: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const rows = await ds.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
      if (!rows.length) return;
      if (Date.now() > deadline) throw new Error(`session ${pid} still alive`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});
