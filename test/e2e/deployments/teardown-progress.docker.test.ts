import request from 'supertest';
import type { TestApp } from '../../support/app';
import { addMember, createOrganization, type Session } from '../../support/api';
import { sql } from '../../support/sql';
import { SwarmTestRun } from '../../support/docker/swarm-test-run';
import { until } from '../../support/until';
import { httpdSpec, startSwarmSuite, stopSwarmSuite, SWARM_SUITE_HOOK_TIMEOUT_MS, waitForDeployment } from '../../support/deploy';

jest.setTimeout(120_000);

interface TeardownRow {
  id: string;
  organization_id: string;
  project_id: string | null;
  scope: string;
  subject_name: string;
  status: string;
  removed_services: string[];
  removed_networks: string[];
  attempts: number;
  error: string | null;
}

/**
 * A deletion's engine teardown is recorded in `teardowns` (queued when enqueued, then running, then succeeded with
 * what the worker removed from the real Swarm) and listed by GET /organizations/{orgId}/teardowns, scoped like projects.
 */
describe('teardown progress', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let run: SwarmTestRun;
  let env: { projectId: string; environmentId: string };
  const lock = new SwarmTestRun();

  beforeAll(async () => {
    ({ t, run, owner, env } = await startSwarmSuite(lock));
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await stopSwarmSuite(lock, { t, run });
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  const rowOf = async (subjectId: string) => (await sql<TeardownRow>(t.databaseUrl, `SELECT * FROM teardowns WHERE subject_id = $1`, [subjectId]))[0];

  it('an environment delete: the row goes to succeeded with the removed service and network; the list shows it, only to members who may read the project', async () => {
    const staging = await request(t.server).post(`/api/v1/projects/${env.projectId}/environments`).set(owner.auth).send({ name: 'Staging' }).expect(201);
    const stagingId: string = staging.body.id;
    const app = await request(t.server).post(`/api/v1/environments/${stagingId}/applications`).set(owner.auth).send({ name: 'web', spec: httpdSpec(null, { healthcheck: null }) }).expect(201);
    const d = await request(t.server).post(`/api/v1/applications/${app.body.id}/deployments`).set(owner.auth).send({ kind: 'deploy' }).expect(202);
    expect((await waitForDeployment(t, owner, d.body.id, 60_000)).status).toBe('succeeded');
    const [{ service_name: serviceName }] = await sql<{ service_name: string }>(t.databaseUrl, `SELECT service_name FROM applications WHERE id = $1`, [app.body.id]);

    await request(t.server).delete(`/api/v1/environments/${stagingId}`).set(owner.auth).expect(204);

    const done = await until('the teardown row succeeded', async () => {
      const r = await rowOf(stagingId);
      return r?.status === 'succeeded' ? r : null;
    }, 60_000, 250);
    expect(done).toMatchObject({ organization_id: owner.organizationId, project_id: env.projectId, scope: 'environment', subject_name: 'Staging', error: null });
    expect(done.removed_services).toEqual([serviceName]);
    expect(done.removed_networks).toHaveLength(1);
    expect(done.attempts).toBeGreaterThanOrEqual(1);
    const events = await sql<{ action: string; organization_id: string }>(t.databaseUrl, `SELECT action, organization_id FROM audit_events WHERE subject_id = $1 AND action LIKE 'teardown.%'`, [stagingId]);
    expect(events).toEqual([{ action: 'teardown.completed', organization_id: owner.organizationId }]);

    const list = await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/teardowns`).set(owner.auth).expect(200);
    const item = list.body.items.find((x: { subjectId: string }) => x.subjectId === stagingId);
    expect(item).toMatchObject({ id: done.id, scope: 'environment', subjectName: 'Staging', status: 'succeeded', projectId: env.projectId, error: null });
    expect(item.removed.services).toEqual([serviceName]);
    const byProject = await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/teardowns`).query({ projectId: env.projectId }).set(owner.auth).expect(200);
    expect(byProject.body.items.map((x: { id: string }) => x.id)).toContain(done.id);

    // Another organization's user: 404, as for an unknown organization; their own list does not show it.
    const otherOrg = await createOrganization(t, owner, 'Other Co');
    const outsider = await addMember(t, owner, otherOrg, 'outsider@example.com', 'owner');
    const denied = await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/teardowns`).set(outsider.auth).expect(404);
    expect(denied.headers['content-type']).toMatch(/application\/problem\+json/);
    const theirs = await request(t.server).get(`/api/v1/organizations/${otherOrg}/teardowns`).set(outsider.auth).expect(200);
    expect(theirs.body.items).toEqual([]);

    // A member limited to another project does not see it; bad input is a 400 naming the field.
    const other = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/projects`).set(owner.auth).send({ name: 'Elsewhere' }).expect(201);
    const limited = await addMember(t, owner, owner.organizationId, 'limited@example.com', 'viewer', { projectIds: [other.body.id] });
    const seen = await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/teardowns`).set(limited.auth).expect(200);
    expect(seen.body.items).toEqual([]);
    const bad = await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/teardowns`).query({ limit: '0' }).set(owner.auth).expect(400);
    expect(JSON.stringify(bad.body)).toContain('/limit');
    await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/teardowns`).query({ projectId: 'nope' }).set(owner.auth).expect(400);
  });

  it("an organization delete records its row under the deleted organization's id", async () => {
    const orgId = await createOrganization(t, owner, 'Gone Co');
    await request(t.server).delete(`/api/v1/organizations/${orgId}`).set(owner.auth).expect(204);
    const done = await until('the organization teardown row succeeded', async () => {
      const r = await rowOf(orgId);
      return r?.status === 'succeeded' ? r : null;
    }, 60_000, 250);
    expect(done).toMatchObject({ organization_id: orgId, project_id: null, scope: 'organization', subject_name: 'Gone Co', error: null });
    const events = await sql<{ organization_id: string | null }>(t.databaseUrl, `SELECT organization_id FROM audit_events WHERE subject_id = $1 AND action = 'teardown.completed'`, [orgId]);
    expect(events).toEqual([{ organization_id: null }]);
  });
});
