/**
 * Webhook delivery history stays bounded: rejected deliveries (which anyone who knows an application id can send) are
 * recorded at most REJECTED_RECORDED_PER_10_MIN per application in 10 minutes while every one is still answered, and
 * the retention job removes old deliveries (rejected after 7 days, others after 30) and all but the newest 1,000 per
 * application, leaving other applications' rows alone.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { REJECTED_RECORDED_PER_10_MIN } from '@wharf/sources';
import { startTestApp, TestApp } from '../../support/app';
import { Session, setupOwner } from '../../support/api';
import { NO_WORKER } from '../../support/route-matrix';
import { DELIVERIES_KEPT_PER_APPLICATION, OutboxMaintenance } from '../../../apps/worker/src/jobs/outbox-maintenance';

describe('webhook delivery retention', () => {
  let t: TestApp;
  let ds: DataSource;
  let owner: Session & { organizationId: string };
  const apps: string[] = [];

  beforeAll(async () => {
    t = await startTestApp(NO_WORKER);
    ds = t.app.get(DataSource);
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    const project = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/projects`).set(owner.auth).send({ name: 'web' }).expect(201);
    for (const name of ['one', 'two']) {
      const id = (await request(t.server).post(`/api/v1/environments/${project.body.environments[0].id}/applications`).set(owner.auth).send({ name, spec: { image: 'busybox:latest' } }).expect(201)).body.id;
      await request(t.server).put(`/api/v1/applications/${id}/source`).set(owner.auth).send({ repository: 'https://git.example.com/acme/shop.git', ref: 'main', auth: { kind: 'none' } }).expect(200);
      apps.push(id);
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  const count = async (applicationId: string, outcome?: string): Promise<number> =>
    (await ds.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE application_id = $1 AND ($2::text IS NULL OR outcome = $2)`, [applicationId, outcome ?? null]))[0].n;

  it('answers every badly signed delivery with 401 but records only a bounded number of them', async () => {
    const sent = REJECTED_RECORDED_PER_10_MIN + 5;
    for (let i = 0; i < sent; i++) {
      await request(t.server).post(`/api/v1/webhooks/applications/${apps[0]}/generic`).set('Content-Type', 'application/json')
        .set('X-Wharf-Timestamp', String(Math.floor(Date.now() / 1000))).set('X-Wharf-Signature-256', `sha256=${'0'.repeat(64)}`).set('X-Wharf-Delivery', `d-${i}`).send('{"ref":"refs/heads/main"}').expect(401);
    }
    expect(await count(apps[0], 'rejected')).toBe(REJECTED_RECORDED_PER_10_MIN);
    const list = (await request(t.server).get(`/api/v1/applications/${apps[0]}/source/deliveries`).set(owner.auth).expect(200)).body;
    const items: Array<{ outcome: string }> = Array.isArray(list) ? list : list.items;
    expect(items.filter((d) => d.outcome === 'rejected').length).toBe(REJECTED_RECORDED_PER_10_MIN);
  });

  it('the retention job removes old and surplus deliveries of each application, and nothing else', async () => {
    const [a, b] = apps;
    const [{ organization_id: org, project_id: project, environment_id: env }] = await ds.query(`SELECT organization_id, project_id, environment_id FROM applications WHERE id = $1`, [a]);
    const insert = (applicationId: string, outcome: string, ageDays: number, n: number) =>
      ds.query(
        `INSERT INTO webhook_deliveries (id, application_id, organization_id, project_id, environment_id, provider, delivery_id, event, outcome, reason, received_at)
         SELECT gen_random_uuid(), $1, $2, $3, $4, 'generic', $5 || '-' || g, 'push', $6, NULL, now() - make_interval(days => $7) - make_interval(secs => g)
         FROM generate_series(1, $8) g`,
        [applicationId, org, project, env, randomUUID(), outcome, ageDays, n],
      );
    // Application a: the 50 recent rejected ones from the first test, rejected ones 8 days old (gone), ignored ones 8
    // days old (kept), accepted ones 31 days old (gone). Application b: more than the per-application cap of recent ones.
    await insert(a, 'rejected', 8, 10);
    await insert(a, 'ignored', 8, 10);
    await insert(a, 'accepted', 31, 10);
    await insert(b, 'accepted', 1, DELIVERIES_KEPT_PER_APPLICATION + 25);
    const newestOfB: Array<{ id: string }> = await ds.query(`SELECT id FROM webhook_deliveries WHERE application_id = $1 ORDER BY received_at DESC LIMIT $2`, [b, DELIVERIES_KEPT_PER_APPLICATION]);

    const r = await new OutboxMaintenance(ds).purgeDeliveries();
    expect(r.deleted).toBe(10 + 10 + 25);
    expect(await count(a, 'rejected')).toBe(REJECTED_RECORDED_PER_10_MIN);
    expect(await count(a, 'ignored')).toBe(10);
    expect(await count(a, 'accepted')).toBe(0);
    const keptOfB: Array<{ id: string }> = await ds.query(`SELECT id FROM webhook_deliveries WHERE application_id = $1`, [b]);
    expect(new Set(keptOfB.map((x) => x.id))).toEqual(new Set(newestOfB.map((x) => x.id)));
    // A second run has nothing left to do.
    expect((await new OutboxMaintenance(ds).purgeDeliveries()).deleted).toBe(0);
  });
});
