import request from 'supertest';
import { Client } from 'pg';
import type { TestApp } from '../../support/app';
import type { Session } from '../../support/api';
import { BUSYBOX_IMAGE } from '../../support/docker/busybox-image';
import { SwarmTestRun } from '../../support/docker/swarm-test-run';
import { logText, startSwarmSuite, stopSwarmSuite, SWARM_SUITE_HOOK_TIMEOUT_MS, waitForDeployment } from '../../support/deploy';

jest.setTimeout(240_000);

/** A tiny service without published ports: busybox httpd, no health check. */
function tinySpec(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    image: BUSYBOX_IMAGE,
    command: ['/bin/sh', '-c', 'exec httpd -f -p 8080 -h /'],
    replicas: 1,
    ports: [],
    update: { parallelism: 1, order: 'stop-first', failureAction: 'pause', monitorMs: 500 },
    restartPolicy: { condition: 'any', delayMs: 500, maxAttempts: 0 },
    stopGracePeriodMs: 500,
    deployTimeoutMs: 120_000,
    ...extra,
  };
}

interface Row {
  id: string;
  status: string;
  queued_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  attempts: number;
}

describe('concurrent deployments', () => {
  const lock = new SwarmTestRun();
  let t: TestApp;
  let run: SwarmTestRun;
  let owner: Session & { organizationId: string };
  let env: { projectId: string; environmentId: string };
  let db: Client;

  beforeAll(async () => {
    ({ t, run, owner, env } = await startSwarmSuite(lock));
    db = new Client({ connectionString: t.databaseUrl });
    await db.connect();
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await db?.end();
    await stopSwarmSuite(lock, { t, run });
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  async function createApp(name: string, spec: Record<string, unknown>): Promise<string> {
    return (await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name, spec }).expect(201)).body.id;
  }

  it('two deploys of one application racing: one runs at a time, the newest spec ends up running', async () => {
    const appId = await createApp('racer', tinySpec({ labels: { generation: '0' } }));
    // Three rounds: two POSTs at once (with a spec change in between rounds), so the race meets a running deployment too.
    const ids: string[] = [];
    for (let round = 1; round <= 3; round++) {
      await request(t.server).patch(`/api/v1/applications/${appId}`).set(owner.auth).send({ spec: { labels: { generation: String(round) } } }).expect(200);
      const [a, b] = await Promise.all([0, 1].map(() => request(t.server).post(`/api/v1/applications/${appId}/deployments`).set(owner.auth).send({})));
      expect([a.status, b.status]).toEqual([202, 202]);
      ids.push(a.body.id, b.body.id);
    }
    // The last one requested is the newest; wait for all to end.
    const rows = async () => (await db.query<Row>(`SELECT id, status, queued_at, started_at, finished_at, attempts FROM deployments WHERE application_id = $1 ORDER BY queued_at, id`, [appId])).rows;
    for (const id of ids) await waitForDeployment(t, owner, id, 90_000);
    const all = await rows();
    expect(all).toHaveLength(6);
    const newest = all[all.length - 1];
    expect(newest.status).toBe('succeeded');
    for (const r of all) expect(['succeeded', 'superseded']).toContain(r.status);
    // Superseded ones never started; the ones that ran did so one after another (never two `running` at once).
    for (const r of all.filter((x) => x.status === 'superseded')) expect(r.started_at).toBeNull();
    const ran = all.filter((r) => r.status === 'succeeded').sort((x, y) => x.started_at!.getTime() - y.started_at!.getTime());
    for (let i = 1; i < ran.length; i++) expect(ran[i].started_at!.getTime()).toBeGreaterThanOrEqual(ran[i - 1].finished_at!.getTime());
    for (const r of ran) expect(r.attempts).toBe(1);
    // Runs happen in request order: a later request never runs before an earlier one that also ran.
    const byQueue = [...ran].sort((x, y) => x.queued_at.getTime() - y.queued_at.getTime()).map((r) => r.id);
    expect(ran.map((r) => r.id)).toEqual(byQueue);
    console.log(`racing deploys: ${ran.length} ran, ${all.length - ran.length} superseded`);

    // The service runs the newest spec, labelled with the newest deployment.
    const [svc] = await run.docker.listServices({ filters: JSON.stringify({ label: [`wharf.service=${appId}`] }) } as object);
    expect(svc.Spec?.Labels).toMatchObject({ generation: '3', 'wharf.deployment': newest.id });

    // The database itself refuses a second running deployment of one application.
    const other = all.find((r) => r.id !== newest.id)!;
    await db.query(`UPDATE deployments SET status = 'running' WHERE id = $1`, [newest.id]);
    await expect(db.query(`UPDATE deployments SET status = 'running' WHERE id = $1`, [other.id])).rejects.toMatchObject({ code: '23505', constraint: 'ux_deployments_one_running' });
    await db.query(`UPDATE deployments SET status = 'succeeded' WHERE id = $1`, [newest.id]);
    expect(await logText(t, owner, newest.id)).toMatch(/\[finish\] Deployment succeeded/);
  });

  it('20 applications deployed at once all succeed', async () => {
    const N = 20;
    const apps: string[] = [];
    for (let i = 0; i < N; i++) apps.push(await createApp(`fleet-${i}`, tinySpec()));
    const t0 = Date.now();
    const posted = await Promise.all(apps.map((id) => request(t.server).post(`/api/v1/applications/${id}/deployments`).set(owner.auth).send({})));
    for (const p of posted) expect(p.status).toBe(202);
    const latencies = await Promise.all(
      posted.map(async (p) => {
        const d = await waitForDeployment(t, owner, p.body.id, 180_000);
        if (d.status !== 'succeeded') throw new Error(`deployment ${d.status}: ${d.error}\n${await logText(t, owner, p.body.id)}`);
        return Date.now() - t0;
      }),
    );
    const total = Date.now() - t0;
    const rows = (await db.query<Row>(`SELECT id, status, queued_at, started_at, finished_at, attempts FROM deployments WHERE application_id = ANY($1)`, [apps])).rows;
    const serverLatency = rows.map((r) => r.finished_at!.getTime() - r.queued_at.getTime());
    console.log(
      `20 concurrent deployments: total ${total} ms, max latency ${Math.max(...latencies)} ms (queued → finished, server clocks: max ${Math.max(...serverLatency)} ms, ` +
        `min ${Math.min(...serverLatency)} ms)`,
    );
    expect(rows.every((r) => r.status === 'succeeded' && r.attempts === 1)).toBe(true);
    const services = await run.docker.listServices({ filters: JSON.stringify({ label: [`wharf.install=${run.install}`] }) } as object);
    expect(services.filter((s) => apps.includes(String(s.Spec?.Labels?.['wharf.service'])))).toHaveLength(N);
    // Loose sanity bound only; the figure itself belongs to `npm run bench`.
    expect(total).toBeLessThan(170_000);
  });
});
