/**
 * The worker's routing step on the real Swarm: a deployment writes the application's Traefik file into
 * WHARF_TRAEFIK_DIR (YAML that parses, routing the host to the Swarm service by its DNS name), a redeploy leaves it
 * untouched, an application without domains has no file, and deleting the application removes it.
 */
import request from 'supertest';
import { mkdtempSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startTestApp, TestApp } from '../../support/app';
import { Session, setupOwner } from '../../support/api';
import { SwarmTestRun } from '../../support/docker/swarm-test-run';
import { ensureBusyboxImage } from '../../support/docker/busybox-image';
import { httpdSpec, logText, productionEnvironment, stopSwarmSuite, swarmRunFor, SWARM_SUITE_HOOK_TIMEOUT_MS, waitForDeployment } from '../../support/deploy';
import { until } from '../../support/until';

jest.setTimeout(240_000);

describe('routing step: the Traefik file of an application', () => {
  let t: TestApp;
  let run: SwarmTestRun;
  let owner: Session & { organizationId: string };
  let env: { projectId: string; environmentId: string };
  let dir: string;
  const lock = new SwarmTestRun();

  beforeAll(async () => {
    // startSwarmSuite, with the Traefik directory of this test.
    await lock.start();
    dir = join(mkdtempSync(join(tmpdir(), 'wharf-traefik-')), 'dynamic');
    t = await startTestApp({ WHARF_TRAEFIK_DIR: dir });
    run = await swarmRunFor(t);
    await ensureBusyboxImage(run.docker);
    owner = await setupOwner(t);
    env = await productionEnvironment(t, owner, owner.organizationId);
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await stopSwarmSuite(lock, { t, run });
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  async function deploy(appId: string): Promise<string> {
    const res = await request(t.server).post(`/api/v1/applications/${appId}/deployments`).set(owner.auth).send({}).expect(202);
    const done = await waitForDeployment(t, owner, res.body.id);
    expect(done.status).toBe('succeeded');
    return logText(t, owner, res.body.id);
  }

  it('writes the file as soon as domains change (the deployment finds it done), leaves it unchanged on a redeploy, removes it without domains and with the application', async () => {
    const app = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'shop', spec: httpdSpec(null, { ports: [] }) }).expect(201);
    const appId: string = app.body.id;
    const serviceName: string = app.body.serviceName;
    // swarmRunFor gives the run the app's install id (the prefix of its Traefik files).
    const file = join(dir, `wharf-${run.install}-app-${appId}.yml`);

    // No domains: the deployment writes nothing.
    await deploy(appId);
    await expect(fs.stat(file)).rejects.toThrow();

    const d1 = await request(t.server).post(`/api/v1/applications/${appId}/domains`).set(owner.auth)
      .send({ host: 'shop.example.com', port: 8080, https: true, redirectHttpToHttps: true, basicAuth: [{ username: 'ops', password: 'routing-canary-pw' }] }).expect(201);
    await request(t.server).post(`/api/v1/applications/${appId}/domains`).set(owner.auth).send({ host: 'shop.example.com', pathPrefix: '/status', stripPrefix: true, port: 8080, https: false }).expect(201);

    // A domain change reaches Traefik at once (routing.apply), without a deployment; the deployment finds it done.
    await until('the domain change to be written without a deployment', async () => (await fs.readFile(file, 'utf8').catch(() => '')).includes('PathPrefix(`/status`)'), 30_000, 100);
    const log1 = await deploy(appId);
    expect(log1).toMatch(/\[routing\] routing: unchanged \(3 routers\)/);
    const text = await fs.readFile(file, 'utf8');
    expect(text).not.toContain('routing-canary-pw');
    const yml = parse(text);
    const routers = yml.http.routers as Record<string, { rule: string; service: string; entryPoints: string[]; middlewares?: string[] }>;
    const secure = Object.values(routers).find((r) => r.entryPoints.includes('websecure'))!;
    expect(secure.rule).toBe('Host(`shop.example.com`)');
    expect(yml.http.services[secure.service].loadBalancer.servers).toEqual([{ url: `http://${serviceName}:8080` }]);
    expect(Object.values(routers).some((r) => r.rule === 'Host(`shop.example.com`) && PathPrefix(`/status`)')).toBe(true);
    // The load balancer targets the Swarm service by the name it has on its overlay network.
    const service = await run.docker.getService(serviceName).inspect();
    expect(service.Spec.Name).toBe(serviceName);
    expect(service.Spec.Labels['wharf.service']).toBe(appId);

    // A redeploy with the same domains does not touch the file.
    const before = await fs.stat(file);
    const log2 = await deploy(appId);
    expect(log2).toMatch(/\[routing\] routing: unchanged \(3 routers\)/);
    const after = await fs.stat(file);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);

    // Without domains the next deployment removes the file.
    for (const d of (await request(t.server).get(`/api/v1/applications/${appId}/domains`).set(owner.auth).expect(200)).body) {
      await request(t.server).delete(`/api/v1/domains/${d.id}`).set(owner.auth).expect(204);
    }
    await until('the file to go with the last domain, without a deployment', async () => fs.stat(file).then(() => false, () => true), 30_000, 100);
    const log3 = await deploy(appId);
    expect(log3).not.toMatch(/routing: wrote/);
    await expect(fs.stat(file)).rejects.toThrow();
    expect(d1.body.id).toBeTruthy();

    // Deleting the application removes its file (and the domain rows with the application).
    await request(t.server).post(`/api/v1/applications/${appId}/domains`).set(owner.auth).send({ host: 'again.example.com', port: 8080, https: false }).expect(201);
    expect(await deploy(appId)).toMatch(/routing: (wrote 1 routers|unchanged \(1 routers\))/);
    await fs.stat(file);
    await request(t.server).delete(`/api/v1/applications/${appId}`).set(owner.auth).expect(202);
    await until('the routing file to be removed', async () => fs.stat(file).then(() => false, () => true), 60_000);
    await until('the application to be gone', async () => (await request(t.server).get(`/api/v1/applications/${appId}`).set(owner.auth)).status === 404, 60_000);
  });

  it('deleting an environment removes the routing files of its applications with their services', async () => {
    const staging = await request(t.server).post(`/api/v1/projects/${env.projectId}/environments`).set(owner.auth).send({ name: 'Staging' }).expect(201);
    const app = await request(t.server).post(`/api/v1/environments/${staging.body.id}/applications`).set(owner.auth).send({ name: 'web', spec: httpdSpec(null, { ports: [] }) }).expect(201);
    await request(t.server).post(`/api/v1/applications/${app.body.id}/domains`).set(owner.auth).send({ host: 'staging.example.com', port: 8080, https: false }).expect(201);
    expect(await deploy(app.body.id)).toMatch(/routing: (wrote 1 routers|unchanged \(1 routers\))/);
    const file = join(dir, `wharf-${run.install}-app-${app.body.id}.yml`);
    await fs.stat(file);
    await request(t.server).delete(`/api/v1/environments/${staging.body.id}`).set(owner.auth).expect(204);
    await until('the staging routing file to be removed', async () => fs.stat(file).then(() => false, () => true), 60_000);
  });
});
