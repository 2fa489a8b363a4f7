import request from 'supertest';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { volumeEngineName } from '@wharf/applications';
import type { TestApp } from '../../support/app';
import type { Session } from '../../support/api';
import { sql } from '../../support/sql';
import { SwarmTestRun } from '../../support/docker/swarm-test-run';
import { until as waitUntil } from '../../support/until';
import { httpdSpec, productionEnvironment, startSwarmSuite, stopSwarmSuite, SWARM_SUITE_HOOK_TIMEOUT_MS, waitForDeployment } from '../../support/deploy';

jest.setTimeout(120_000);

/**
 * Deleting an environment, project or organization with `?removeVolumes=true` also removes the named volumes Wharf
 * created in it (after its services are gone), found by this install's labels and the deleted scope's label. Without
 * the flag they stay and the audit entry lists them as kept; legacy (unlabelled) volumes are always kept and listed.
 */
describe('deleting a parent removes its named volumes only when asked', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let run: SwarmTestRun;
  let env: { projectId: string; environmentId: string };
  const lock = new SwarmTestRun();
  const suffix = Date.now().toString(36);
  /** Every volume this file creates or causes, removed in afterAll whatever happened. */
  const created = new Set<string>();

  beforeAll(async () => {
    ({ t, run, owner, env } = await startSwarmSuite(lock));
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    if (run) {
      const mine = (await run.docker.listVolumes({ filters: JSON.stringify({ label: [`wharf.install=${run.install}`] }) } as object).catch(() => ({ Volumes: [] }))).Volumes ?? [];
      for (const n of [...mine.map((v) => v.Name), ...created]) {
        await run.removeVolume(n).catch(() => undefined);
      }
    }
    await stopSwarmSuite(lock, { t, run });
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  const labelFilter = (labels: Record<string, string>) => JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
  const services = async (labels: Record<string, string>) => run.docker.listServices({ filters: labelFilter({ 'wharf.install': run.install, ...labels }) } as object);
  const networks = async (labels: Record<string, string>) => run.docker.listNetworks({ filters: labelFilter({ 'wharf.install': run.install, ...labels }) } as object);
  const volumeLabels = (name: string) => run.docker.getVolume(name).inspect().then((v) => (v as { Labels: Record<string, string> | null }).Labels ?? {}, () => null);
  const volumeMounts = (...names: string[]) => names.map((source) => ({ type: 'volume', source, target: `/v/${source}`, readOnly: false }));

  const until = (what: string, check: () => Promise<boolean>) => waitUntil(what, check, 45_000, 250);

  async function deployedApp(environmentId: string, name: string, mounts: string[], legacy: string[] = []): Promise<string> {
    const spec = httpdSpec(null, { healthcheck: null, mounts: volumeMounts(...mounts) });
    const app = await request(t.server).post(`/api/v1/environments/${environmentId}/applications`).set(owner.auth).send({ name, spec }).expect(201);
    // What migration 1764100009000 records for an application that mounted these names before volumes were derived.
    if (legacy.length) await sql(t.databaseUrl, `UPDATE applications SET legacy_volumes = $2::jsonb WHERE id = $1`, [app.body.id, JSON.stringify(legacy)]);
    const d = await request(t.server).post(`/api/v1/applications/${app.body.id}/deployments`).set(owner.auth).send({ kind: 'deploy' }).expect(202);
    expect((await waitForDeployment(t, owner, d.body.id, 60_000)).status).toBe('succeeded');
    return app.body.id;
  }

  /** The listener's teardown job has run to its end (it is removed on completion; the network goes before volumes). */
  async function teardownFinished(scope: string, id: string): Promise<void> {
    const queue = t.app.get<Queue>(getQueueToken('deployments'), { strict: false });
    await until(`teardown of ${scope} ${id} finished`, async () => (await queue.getJob(`teardown:${scope}:${id}`)) === null);
  }

  async function auditChanges(action: string, subjectId: string): Promise<Record<string, unknown>> {
    let rows: Array<{ changes: Record<string, unknown> }> = [];
    await until(`the ${action} audit entry is written`, async () => {
      rows = await sql(t.databaseUrl, `SELECT changes FROM audit_events WHERE action = $1 AND subject_id = $2`, [action, subjectId]);
      return rows.length > 0;
    });
    expect(rows).toHaveLength(1);
    return rows[0].changes;
  }

  it('refuses a removeVolumes that is not true or false on every parent delete (400 naming the field)', async () => {
    const project = await request(t.server).get(`/api/v1/projects/${env.projectId}`).set(owner.auth).expect(200);
    for (const req of [
      request(t.server).delete(`/api/v1/environments/${env.environmentId}`).query({ removeVolumes: 'yes' }),
      request(t.server).delete(`/api/v1/projects/${env.projectId}`).set('X-Confirm', project.body.slug).query({ removeVolumes: '1' }),
      request(t.server).delete(`/api/v1/organizations/${owner.organizationId}`).query({ removeVolumes: 'TRUE' }),
    ]) {
      const res = await req.set(owner.auth).expect(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.errors).toEqual([expect.objectContaining({ pointer: '/removeVolumes' })]);
    }
    expect(await sql(t.databaseUrl, `SELECT 1 FROM projects WHERE id = $1`, [env.projectId])).toHaveLength(1);
  });

  it('environment with removeVolumes=true: its volume goes after its service; legacy, look-alike, sibling and other-organization volumes stay', async () => {
    const staging = await request(t.server).post(`/api/v1/projects/${env.projectId}/environments`).set(owner.auth).send({ name: 'Staging' }).expect(201);
    const stagingId: string = staging.body.id;
    const legacy = `wtv-legacy-${suffix}`;
    created.add(legacy);
    await run.docker.createVolume({ Name: legacy });
    await deployedApp(stagingId, 'web', ['data', legacy], [legacy]);
    const data = volumeEngineName(run.install, stagingId, 'data');
    expect(await volumeLabels(data)).toMatchObject({ 'wharf.install': run.install, 'wharf.environment': stagingId, 'wharf.project': env.projectId, 'wharf.organization': owner.organizationId });

    // A sibling environment's volume, another organization's volume (same install), and an unlabelled volume with the
    // derived name a "cache" volume of staging would have: none of them carries staging's labels.
    const sibling = volumeEngineName(run.install, env.environmentId, 'data');
    const otherOrg = `wtv-other-org-${suffix}`;
    const lookAlike = volumeEngineName(run.install, stagingId, 'cache');
    for (const n of [sibling, otherOrg, lookAlike]) created.add(n);
    await run.docker.createVolume({ Name: sibling, Labels: { 'wharf.install': run.install, 'wharf.organization': owner.organizationId, 'wharf.project': env.projectId, 'wharf.environment': env.environmentId, 'wharf.volume': 'data' } });
    await run.docker.createVolume({ Name: otherOrg, Labels: { 'wharf.install': run.install, 'wharf.organization': '00000000-0000-7000-8000-000000000001', 'wharf.environment': '00000000-0000-7000-8000-000000000002' } });
    await run.docker.createVolume({ Name: lookAlike });

    await request(t.server).delete(`/api/v1/environments/${stagingId}`).query({ removeVolumes: 'true' }).set(owner.auth).expect(204);

    await until('the staging volume is gone', async () => (await volumeLabels(data)) === null);
    expect(await services({ 'wharf.environment': stagingId })).toHaveLength(0);
    expect(await networks({ 'wharf.environment': stagingId })).toHaveLength(0);
    expect(await volumeLabels(legacy)).toEqual({});
    expect(await volumeLabels(lookAlike)).toEqual({});
    expect(await volumeLabels(sibling)).toMatchObject({ 'wharf.environment': env.environmentId });
    expect(await volumeLabels(otherOrg)).toMatchObject({ 'wharf.install': run.install });
    expect(await auditChanges('environment.deleted', stagingId)).toMatchObject({ removeVolumes: true, volumesToRemove: [data], volumesKept: [legacy] });
  });

  it('environment without removeVolumes: the volume stays after the teardown and the audit entry lists it as kept', async () => {
    const qa = await request(t.server).post(`/api/v1/projects/${env.projectId}/environments`).set(owner.auth).send({ name: 'QA' }).expect(201);
    const qaId: string = qa.body.id;
    await deployedApp(qaId, 'web', ['data']);
    const data = volumeEngineName(run.install, qaId, 'data');
    created.add(data);

    await request(t.server).delete(`/api/v1/environments/${qaId}`).query({ removeVolumes: 'false' }).set(owner.auth).expect(204);

    await until('the qa network is gone', async () => (await networks({ 'wharf.environment': qaId })).length === 0);
    await teardownFinished('environment', qaId);
    expect(await services({ 'wharf.environment': qaId })).toHaveLength(0);
    expect(await volumeLabels(data)).toMatchObject({ 'wharf.install': run.install, 'wharf.environment': qaId });
    expect(await auditChanges('environment.deleted', qaId)).toMatchObject({ removeVolumes: false, volumesToRemove: [], volumesKept: [data] });
  });

  it('project with removeVolumes=true: the volumes of its environments go; the audit entries record the flag', async () => {
    const project = await productionEnvironment(t, owner, owner.organizationId, 'Vol project');
    const labels = { 'wharf.install': run.install, 'wharf.organization': owner.organizationId, 'wharf.project': project.projectId, 'wharf.environment': project.environmentId };
    const data = volumeEngineName(run.install, project.environmentId, 'data');
    created.add(data);
    await run.docker.createVolume({ Name: data, Labels: { ...labels, 'wharf.volume': 'data' } });
    const slug = (await request(t.server).get(`/api/v1/projects/${project.projectId}`).set(owner.auth).expect(200)).body.slug;

    await request(t.server).delete(`/api/v1/projects/${project.projectId}`).set('X-Confirm', slug).query({ removeVolumes: 'true' }).set(owner.auth).expect(204);

    await until('the project volume is gone', async () => (await volumeLabels(data)) === null);
    expect(await auditChanges('project.deleted', project.projectId)).toMatchObject({ removeVolumes: true, environments: 1 });
    expect(await auditChanges('environment.deleted', project.environmentId)).toEqual({ reason: 'project deleted', removeVolumes: true });
  });

  it('organization with removeVolumes=true: its volumes go, recorded in the instance chain; the other organization keeps its own', async () => {
    const org = await request(t.server).post('/api/v1/organizations').set(owner.auth).send({ name: 'Volume Co' }).expect(201);
    const orgId: string = org.body.id;
    const other = await productionEnvironment(t, owner, orgId, 'Vol shop');
    await deployedApp(other.environmentId, 'db', ['pgdata']);
    const pgdata = volumeEngineName(run.install, other.environmentId, 'pgdata');
    const keep = volumeEngineName(run.install, env.environmentId, `keep-${suffix}`);
    created.add(keep);
    await run.docker.createVolume({ Name: keep, Labels: { 'wharf.install': run.install, 'wharf.organization': owner.organizationId, 'wharf.project': env.projectId, 'wharf.environment': env.environmentId } });

    await request(t.server).delete(`/api/v1/organizations/${orgId}`).query({ removeVolumes: 'true' }).set(owner.auth).expect(204);

    await until('the organization volume is gone', async () => (await volumeLabels(pgdata)) === null);
    expect(await services({ 'wharf.organization': orgId })).toHaveLength(0);
    expect(await volumeLabels(keep)).toMatchObject({ 'wharf.organization': owner.organizationId });
    const rows = await sql<{ changes: Record<string, unknown>; organization_id: string | null }>(t.databaseUrl, `SELECT changes, organization_id FROM audit_events WHERE action = 'organization.deleted' AND subject_id = $1`, [orgId]);
    expect(rows).toEqual([{ organization_id: null, changes: { removeVolumes: true, volumesToRemove: [pgdata], volumesKept: [] } }]);
  });
});
