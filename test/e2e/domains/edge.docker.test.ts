/**
 * The edge on the real Swarm: a routed application's deployment ensures its organization's edge network (attachable
 * overlay, this install's labels) and this install's Traefik service on every edge network; the application's service
 * joins its environment network and the edge network (start-first: it publishes no host port). A second organization
 * gets its own edge network and Traefik joins both; a same-named network without Wharf's labels is refused; deleting
 * an organization takes its edge network off Traefik and removes it.
 *
 * Traefik cannot run here (no image can be pulled): its image is one on a registry address that refuses at once
 * (127.0.0.1:9), so nothing waits on it, and only its spec is checked.
 */
import request from 'supertest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { edgeNetworkNameFor, edgeProxyServiceNameFor } from '@wharf/applications';
import { startTestApp, TestApp } from '../../support/app';
import { createOrganization, Session, setupOwner } from '../../support/api';
import { freePort, SwarmTestRun } from '../../support/docker/swarm-test-run';
import { ensureBusyboxImage } from '../../support/docker/busybox-image';
import { httpdSpec, logText, productionEnvironment, stopSwarmSuite, swarmRunFor, SWARM_SUITE_HOOK_TIMEOUT_MS, waitForDeployment } from '../../support/deploy';
import { until } from '../../support/until';

jest.setTimeout(240_000);

const TRAEFIK_IMAGE = '127.0.0.1:9/wharf-test/traefik:v3.4.1';

describe('edge: organization edge networks and the Traefik service', () => {
  let t: TestApp;
  let run: SwarmTestRun;
  let owner: Session & { organizationId: string };
  let dir: string;
  let httpPort: number;
  let httpsPort: number;
  const lock = new SwarmTestRun();
  const squats: string[] = [];

  beforeAll(async () => {
    await lock.start();
    dir = join(mkdtempSync(join(tmpdir(), 'wharf-edge-')), 'dynamic');
    httpPort = await freePort();
    do httpsPort = await freePort(); while (httpsPort === httpPort);
    t = await startTestApp({
      WHARF_TRAEFIK_DIR: dir, WHARF_EDGE_ENABLED: 'true', WHARF_TRAEFIK_IMAGE: TRAEFIK_IMAGE,
      WHARF_EDGE_HTTP_PORT: String(httpPort), WHARF_EDGE_HTTPS_PORT: String(httpsPort),
    });
    run = await swarmRunFor(t);
    await ensureBusyboxImage(run.docker);
    owner = await setupOwner(t);
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    try {
      for (const name of squats) await run?.docker.getNetwork(name).remove().catch(() => undefined);
    } finally {
      await stopSwarmSuite(lock, { t, run });
    }
    if (run) expect(await run.leftovers()).toEqual({ services: 0, networks: 0 });
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  /** An application (routed when `host` is given) in a new project of `orgId`, deployed; returns its service and log. */
  async function deployed(orgId: string, name: string, host: string | null): Promise<{ appId: string; serviceName: string; environmentId: string; status: string; error: string | null; log: string }> {
    const env = await productionEnvironment(t, owner, orgId, `${name} project`);
    const app = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth)
      .send({ name, spec: httpdSpec(null, { ports: [], update: { parallelism: 1, order: 'start-first', failureAction: 'rollback', monitorMs: 1000 } }) }).expect(201);
    if (host) await request(t.server).post(`/api/v1/applications/${app.body.id}/domains`).set(owner.auth).send({ host, port: 8080, https: false }).expect(201);
    const res = await request(t.server).post(`/api/v1/applications/${app.body.id}/deployments`).set(owner.auth).send({}).expect(202);
    const done = await waitForDeployment(t, owner, res.body.id);
    return { appId: app.body.id, serviceName: app.body.serviceName, environmentId: env.environmentId, status: done.status, error: done.error, log: await logText(t, owner, res.body.id) };
  }

  const networkIds = async (serviceName: string): Promise<string[]> =>
    ((await run.docker.getService(serviceName).inspect()).Spec.TaskTemplate.Networks ?? []).map((n: { Target: string }) => n.Target).sort();
  const networkId = async (name: string): Promise<string> => (await run.docker.getNetwork(name).inspect()).Id;
  const envNetwork = (environmentId: string) => `wharf-${run.install.replace(/-/g, '').slice(0, 8)}-env-${environmentId.replace(/-/g, '').slice(-12)}`;

  it('a routed deployment ensures the edge network and Traefik; a second organization gets its own; a squatted name is refused; a deleted organization leaves Traefik', async () => {
    const proxyName = edgeProxyServiceNameFor(run.install);
    const edgeA = edgeNetworkNameFor(run.install, owner.organizationId);

    // An application without domains does not touch the edge.
    const plain = await deployed(owner.organizationId, 'plain', null);
    expect(plain.status).toBe('succeeded');
    expect(plain.log).not.toMatch(/edge/i);
    expect(await networkIds(plain.serviceName)).toEqual([await networkId(envNetwork(plain.environmentId))]);
    await expect(run.docker.getNetwork(edgeA).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(run.docker.getService(proxyName).inspect()).rejects.toMatchObject({ statusCode: 404 });

    // A routed one: the organization's edge network and the Traefik service are made at its network step.
    const shop = await deployed(owner.organizationId, 'shop', 'shop.example.com');
    expect(shop.status).toBe('succeeded');
    expect(shop.log).toMatch(/\[network\] Edge network created/);
    expect(shop.log).toMatch(new RegExp(`\\[network\\] Edge proxy ${proxyName} created \\(on 1 edge network\\)`));
    const netA = await run.docker.getNetwork(edgeA).inspect();
    expect(netA).toMatchObject({ Name: edgeA, Driver: 'overlay', Scope: 'swarm', Attachable: true });
    expect(netA.Labels).toEqual({ 'wharf.install': run.install, 'wharf.organization': owner.organizationId, 'wharf.role': 'edge' });

    // The application's service is on its environment network and the edge network, and updates start-first.
    const shopService = await run.docker.getService(shop.serviceName).inspect();
    expect(await networkIds(shop.serviceName)).toEqual([await networkId(envNetwork(shop.environmentId)), netA.Id].sort());
    expect(shopService.Spec.UpdateConfig.Order).toBe('start-first');
    expect(shop.log).not.toMatch(/stop-first/);

    // The Traefik service: image, args, host-mode ports, read-only Traefik directory, manager only, labels, networks.
    const proxy = await run.docker.getService(proxyName).inspect();
    const c = proxy.Spec.TaskTemplate.ContainerSpec;
    expect(c.Image.split('@')[0]).toBe(TRAEFIK_IMAGE);
    expect(c.Args).toEqual(expect.arrayContaining([
      '--entrypoints.web.address=:80', '--entrypoints.websecure.address=:443', '--providers.file.directory=/etc/traefik/dynamic',
      '--providers.file.watch=true', '--api.dashboard=false', '--ping=true', '--accesslog=true',
    ]));
    expect(c.Args.some((a: string) => /^--api(=|\.insecure)|^--providers\.(docker|swarm)/.test(a))).toBe(false);
    expect(c.Mounts).toEqual([{ Type: 'bind', Source: dir, Target: '/etc/traefik/dynamic', ReadOnly: true }]);
    expect(proxy.Spec.EndpointSpec.Ports).toEqual([
      { Protocol: 'tcp', TargetPort: 80, PublishedPort: httpPort, PublishMode: 'host' },
      { Protocol: 'tcp', TargetPort: 443, PublishedPort: httpsPort, PublishMode: 'host' },
    ]);
    expect(proxy.Spec.TaskTemplate.Placement.Constraints).toEqual(['node.role==manager']);
    expect(proxy.Spec.Labels).toMatchObject({ 'wharf.install': run.install, 'wharf.role': 'edge-proxy' });
    expect(proxy.Spec.Labels['wharf.organization']).toBeUndefined();
    expect(proxy.Spec.Mode.Replicated.Replicas).toBe(1);
    expect(await networkIds(proxyName)).toEqual([netA.Id]);

    // A redeploy changes nothing on the edge.
    const again = await request(t.server).post(`/api/v1/applications/${shop.appId}/deployments`).set(owner.auth).send({}).expect(202);
    expect((await waitForDeployment(t, owner, again.body.id)).status).toBe('succeeded');
    const againLog = await logText(t, owner, again.body.id);
    expect(againLog).toMatch(/\[network\] Edge network exists/);
    expect(againLog).toMatch(new RegExp(`Edge proxy ${proxyName} unchanged`));
    expect((await run.docker.getService(proxyName).inspect()).Version.Index).toBe(proxy.Version.Index);

    // A second organization: its own edge network; Traefik joins both; neither application is on the other's.
    const orgB = await createOrganization(t, owner, 'Beta');
    const edgeB = edgeNetworkNameFor(run.install, orgB);
    const beta = await deployed(orgB, 'beta', 'beta.example.org');
    expect(beta.status).toBe('succeeded');
    expect(beta.log).toMatch(new RegExp(`Edge proxy ${proxyName} updated \\(on 2 edge networks\\)`));
    const netB = await run.docker.getNetwork(edgeB).inspect();
    expect(netB.Id).not.toBe(netA.Id);
    expect(netB.Labels).toEqual({ 'wharf.install': run.install, 'wharf.organization': orgB, 'wharf.role': 'edge' });
    expect(netB.Attachable).toBe(true);
    expect(await networkIds(proxyName)).toEqual([netA.Id, netB.Id].sort());
    expect(await networkIds(beta.serviceName)).toEqual([await networkId(envNetwork(beta.environmentId)), netB.Id].sort());
    expect(await networkIds(shop.serviceName)).not.toContain(netB.Id);

    // A network squatting a third organization's edge name without Wharf's labels is refused, and left as it is.
    const orgC = await createOrganization(t, owner, 'Gamma');
    const edgeC = edgeNetworkNameFor(run.install, orgC);
    squats.push(edgeC);
    await run.docker.createNetwork({ Name: edgeC, Driver: 'overlay', Attachable: true, Labels: { 'test.squat': 'yes' } });
    const gamma = await deployed(orgC, 'gamma', 'gamma.example.net');
    expect(gamma.status).toBe('failed');
    expect(gamma.error).toContain(`Network "${edgeC}" exists but does not carry`);
    expect(gamma.error).toContain('wharf.install=');
    const squat = await run.docker.getNetwork(edgeC).inspect();
    expect(squat.Labels).toEqual({ 'test.squat': 'yes' });
    expect(await networkIds(proxyName)).toEqual([netA.Id, netB.Id].sort());
    await expect(run.docker.getService(gamma.serviceName).inspect()).rejects.toMatchObject({ statusCode: 404 });

    // Deleting organization B takes its edge network off Traefik and removes it; A's stays.
    await request(t.server).delete(`/api/v1/organizations/${orgB}`).set(owner.auth).expect(204);
    await until('organization B\'s edge network to be removed', async () => run.docker.getNetwork(edgeB).inspect().then(() => false, (e: { statusCode?: number }) => e.statusCode === 404), 90_000, 300);
    expect(await networkIds(proxyName)).toEqual([netA.Id]);
    await run.docker.getNetwork(edgeA).inspect();
  });
});
