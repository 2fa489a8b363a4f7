import request from 'supertest';
import type { TestApp } from '../../support/app';
import type { Session } from '../../support/api';
import { sql } from '../../support/sql';
import { SwarmTestRun } from '../../support/docker/swarm-test-run';
import { until as waitUntil } from '../../support/until';
import { BUSYBOX_IMAGE } from '../../support/docker/busybox-image';
import { httpdSpec, productionEnvironment, startSwarmSuite, stopSwarmSuite, SWARM_SUITE_HOOK_TIMEOUT_MS, waitForDeployment } from '../../support/deploy';

jest.setTimeout(120_000);

/**
 * Deleting an environment or a project tears down its Swarm services and overlay networks (the `*.deleted` listener
 * enqueues `engine.teardown`, which finds them by this install's labels), while the SQL cascade removes the rows.
 * Objects of another install that carry the same environment/project labels are never touched.
 */
describe('deleting an environment or a project tears down its engine objects', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let run: SwarmTestRun;
  let env: { projectId: string; environmentId: string };
  const lock = new SwarmTestRun();
  const foreignInstall = `foreign-${Date.now().toString(36)}`;
  const foreign: { serviceId?: string; networkId?: string } = {};

  beforeAll(async () => {
    ({ t, run, owner, env } = await startSwarmSuite(lock));
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    if (foreign.serviceId) await run?.docker.getService(foreign.serviceId).remove().catch(() => undefined);
    if (foreign.networkId) {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        try {
          await run.docker.getNetwork(foreign.networkId).remove();
          break;
        } catch (e) {
          if ((e as { statusCode?: number }).statusCode === 404) break;
          await new Promise((r) => setTimeout(r, 300));
        }
      }
    }
    await stopSwarmSuite(lock, { t, run });
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  const labelFilter = (labels: Record<string, string>) => JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
  const services = async (labels: Record<string, string>) => run.docker.listServices({ filters: labelFilter({ 'wharf.install': run.install, ...labels }) } as object);
  const networks = async (labels: Record<string, string>) => run.docker.listNetworks({ filters: labelFilter({ 'wharf.install': run.install, ...labels }) } as object);

  const until = (what: string, check: () => Promise<boolean>) => waitUntil(what, check, 45_000, 250);

  async function deployedApp(environmentId: string, name: string): Promise<string> {
    const app = await request(t.server).post(`/api/v1/environments/${environmentId}/applications`).set(owner.auth).send({ name, spec: httpdSpec(null, { healthcheck: null }) }).expect(201);
    const d = await request(t.server).post(`/api/v1/applications/${app.body.id}/deployments`).set(owner.auth).send({ kind: 'deploy' }).expect(202);
    expect((await waitForDeployment(t, owner, d.body.id, 60_000)).status).toBe('succeeded');
    return app.body.id;
  }

  /** A service and a network of another install on the same engine, with the same organization/project/environment labels. */
  async function foreignObjects(environmentId: string): Promise<void> {
    const labels = { 'wharf.install': foreignInstall, 'wharf.organization': owner.organizationId, 'wharf.project': env.projectId, 'wharf.environment': environmentId };
    const net = await run.docker.createNetwork({ Name: run.name('foreign-net'), Driver: 'overlay', Attachable: true, Labels: labels });
    foreign.networkId = net.id;
    const svc = await run.docker.createService({
      Name: run.name('foreign'),
      Labels: labels,
      TaskTemplate: { ContainerSpec: { Image: BUSYBOX_IMAGE, Command: ['sleep', '600'] }, Networks: [{ Target: net.id }] },
      Mode: { Replicated: { Replicas: 1 } },
    } as object);
    foreign.serviceId = (svc as { id: string }).id;
  }

  async function foreignStillThere(): Promise<void> {
    expect((await run.docker.getService(foreign.serviceId!).inspect()).Spec?.Labels?.['wharf.install']).toBe(foreignInstall);
    expect((await run.docker.getNetwork(foreign.networkId!).inspect()).Labels?.['wharf.install']).toBe(foreignInstall);
  }

  it('environment: its services and network go, the rows go, the audit entry stays; the sibling environment and another install are untouched', async () => {
    const staging = await request(t.server).post(`/api/v1/projects/${env.projectId}/environments`).set(owner.auth).send({ name: 'Staging' }).expect(201);
    const stagingId: string = staging.body.id;
    const stagingApp = await deployedApp(stagingId, 'web');
    const productionApp = await deployedApp(env.environmentId, 'web');
    await foreignObjects(stagingId);
    expect(await services({ 'wharf.environment': stagingId })).toHaveLength(1);
    expect(await networks({ 'wharf.environment': stagingId })).toHaveLength(1);

    await request(t.server).delete(`/api/v1/environments/${stagingId}`).set(owner.auth).expect(204);

    await until('the staging service is gone', async () => (await services({ 'wharf.environment': stagingId })).length === 0);
    await until('the staging network is gone', async () => (await networks({ 'wharf.environment': stagingId })).length === 0);
    expect(await sql(t.databaseUrl, `SELECT 1 FROM environments WHERE id = $1`, [stagingId])).toHaveLength(0);
    expect(await sql(t.databaseUrl, `SELECT 1 FROM applications WHERE id = $1`, [stagingApp])).toHaveLength(0);
    const audit = await sql<{ outcome: string; subject_name: string }>(t.databaseUrl, `SELECT outcome, subject_name FROM audit_events WHERE action = 'environment.deleted' AND subject_id = $1`, [stagingId]);
    expect(audit).toEqual([{ outcome: 'succeeded', subject_name: 'Staging' }]);

    // The production environment keeps its service and network; the other install keeps everything.
    expect(await services({ 'wharf.environment': env.environmentId, 'wharf.service': productionApp })).toHaveLength(1);
    expect(await networks({ 'wharf.environment': env.environmentId })).toHaveLength(1);
    await foreignStillThere();
  });

  it('organization: its services and networks go with it; the other organization keeps its own', async () => {
    const org = await request(t.server).post('/api/v1/organizations').set(owner.auth).send({ name: 'Other Co' }).expect(201);
    const orgId: string = org.body.id;
    const other = await productionEnvironment(t, owner, orgId, 'Other shop');
    await deployedApp(other.environmentId, 'api');
    expect(await services({ 'wharf.organization': orgId })).toHaveLength(1);
    expect(await networks({ 'wharf.organization': orgId })).toHaveLength(1);

    await request(t.server).delete(`/api/v1/organizations/${orgId}`).set(owner.auth).expect(204);

    await until('the organization services are gone', async () => (await services({ 'wharf.organization': orgId })).length === 0);
    await until('the organization network is gone', async () => (await networks({ 'wharf.organization': orgId })).length === 0);
    expect(await sql(t.databaseUrl, `SELECT 1 FROM applications WHERE organization_id = $1`, [orgId])).toHaveLength(0);
    expect(await sql(t.databaseUrl, `SELECT 1 FROM environments WHERE id = $1`, [other.environmentId])).toHaveLength(0);
    // Recorded in the instance chain (the organization's own log goes with it).
    expect(await sql(t.databaseUrl, `SELECT 1 FROM audit_events WHERE action = 'organization.deleted' AND subject_id = $1 AND organization_id IS NULL`, [orgId])).toHaveLength(1);
    expect(await services({ 'wharf.organization': owner.organizationId })).toHaveLength(1);
    await foreignStillThere();
  });

  it('project: every service and network of its environments goes with it; another install is untouched', async () => {
    expect(await services({ 'wharf.project': env.projectId })).toHaveLength(1);
    const project = await request(t.server).get(`/api/v1/projects/${env.projectId}`).set(owner.auth).expect(200);

    await request(t.server).delete(`/api/v1/projects/${env.projectId}`).set(owner.auth).set('X-Confirm', project.body.slug).expect(204);

    await until('the project services are gone', async () => (await services({ 'wharf.project': env.projectId })).length === 0);
    await until('the environment network is gone', async () => (await networks({ 'wharf.environment': env.environmentId })).length === 0);
    expect(await sql(t.databaseUrl, `SELECT 1 FROM projects WHERE id = $1`, [env.projectId])).toHaveLength(0);
    expect(await sql(t.databaseUrl, `SELECT 1 FROM applications WHERE project_id = $1`, [env.projectId])).toHaveLength(0);
    const audit = await sql<{ action: string }>(t.databaseUrl, `SELECT action FROM audit_events WHERE subject_id = ANY($1) AND action IN ('project.deleted', 'environment.deleted') ORDER BY seq`, [[env.projectId, env.environmentId]]);
    expect(audit.map((a) => a.action)).toEqual(['environment.deleted', 'project.deleted']);
    expect(await run.leftovers()).toEqual({ services: 0, networks: 0 });
    await foreignStillThere();
  });
});
