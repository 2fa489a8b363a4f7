/**
 * Built images pushed to the organization's registry (the multi-node path), on the real engine with Debian's
 * docker-registry (htpasswd auth) on 127.0.0.1: this machine's Swarm has one node, so WHARF_BUILD_PUSH=always takes the
 * path a placement over several nodes takes (the decision itself: registry-push.spec.ts). The deployment pushes
 * `<registry>/wharf-<app>:<deployment>` with the registry's credentials, the service runs that reference (its digest
 * recorded for rollback), and
 * the registry holds the tag; the registry's password never reaches the log.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { TestApp } from '../../support/app';
import type { Session } from '../../support/api';
import { DockerBuildAdapter } from '@wharf/orchestration';
import { BUSYBOX_IMAGE } from '../../support/docker/busybox-image';
import { DOCKER_SOCKET } from '../../support/docker/host-tools';
import { startLocalRegistry, type LocalRegistry } from '../../support/docker/local-registry';
import { freePort, httpGetUntil, SwarmTestRun } from '../../support/docker/swarm-test-run';
import { httpdSpec, logText, startSwarmSuite, stopSwarmSuite, SWARM_SUITE_HOOK_TIMEOUT_MS, waitForDeployment } from '../../support/deploy';
import { GitServers, startGitServers } from '../../support/git-server';

jest.setTimeout(300_000);

function registryTags(registry: LocalRegistry, repo: string): Promise<{ status: number; body: string }> {
  const [hostname, port] = registry.host.split(':');
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port: Number(port), path: `/v2/${repo}/tags/list`, auth: `${registry.username}:${registry.password}` }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('built images pushed to the organization registry', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let run: SwarmTestRun;
  let env: { projectId: string; environmentId: string };
  let git: GitServers;
  let registry: LocalRegistry;
  const lock = new SwarmTestRun();

  beforeAll(async () => {
    git = await startGitServers();
    registry = await startLocalRegistry();
    ({ t, run, owner, env } = await startSwarmSuite(lock, { WHARF_GIT_ALLOW_PRIVATE_HOSTS: 'true', WHARF_GIT_CA_FILE: git.caFile, WHARF_BUILD_PUSH: 'always' }));
    await git.createRepository('pushed', [{ message: 'Pushed', files: { Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY site/ /www/\n`, 'site/index.html': 'from the registry' } }]);
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    try {
      const images = await run?.docker.listImages({ filters: { label: [`wharf.install=${run.install}`] } });
      for (const i of images ?? []) await run.docker.getImage(i.Id).remove({ force: true }).catch(() => undefined);
    } finally {
      await stopSwarmSuite(lock, { t, run });
      await git?.stop();
      await registry?.stop();
    }
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  it('pushes the build with the registry credentials and runs the pushed reference (digest recorded)', async () => {
    const reg = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/registries`).set(owner.auth)
      .send({ name: 'local', host: registry.host, username: registry.username, password: registry.password }).expect(201);
    const port = await freePort();
    const app = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth)
      .send({ name: 'pushed', spec: { ...httpdSpec(port, { command: ['httpd', '-f', '-p', '8080', '-h', '/www'] }), registryId: reg.body.id } }).expect(201);
    await request(t.server).put(`/api/v1/applications/${app.body.id}/source`).set(owner.auth).send({ repository: git.httpsUrl('pushed'), ref: 'main', auth: { kind: 'token', token: git.token } }).expect(200);
    const id = (await request(t.server).post(`/api/v1/applications/${app.body.id}/deployments`).set(owner.auth).send({}).expect(202)).body.id as string;
    const d = await waitForDeployment(t, owner, id, 180_000);
    const log = await logText(t, owner, id);
    expect({ status: d.status, error: d.error }).toEqual({ status: 'succeeded', error: null });
    const repo = `wharf-${String(app.body.id).toLowerCase()}`;
    expect(d.image).toBe(`${registry.host}/${repo}:${id}`);
    expect(d.imageDigest).toMatch(new RegExp(`^${registry.host}/${repo}@sha256:[0-9a-f]{64}$`));
    expect(log).toContain(`Pushing the built image to ${registry.host}/${repo}:${id} (WHARF_BUILD_PUSH=always)`);
    expect(log).not.toContain(registry.password);
    const tags = await registryTags(registry, repo);
    expect(tags.status).toBe(200);
    expect(JSON.parse(tags.body).tags).toContain(id);
    const [svc] = await run.docker.listServices({ filters: JSON.stringify({ label: [`wharf.service=${app.body.id}`] }) } as object);
    expect(String((svc.Spec!.TaskTemplate as { ContainerSpec?: { Image?: string } }).ContainerSpec?.Image)).toMatch(new RegExp(`^${registry.host}/${repo}:${id}(@sha256:[0-9a-f]{64})?$`));
    await httpGetUntil(port, (r) => r.body === 'from the registry', 60_000);
  });

  it('retention removes an old image with both its tags (the local build tag and the pushed registry reference)', async () => {
    const builder = new DockerBuildAdapter({ socketPath: DOCKER_SOCKET });
    const ctx = mkdtempSync(join(tmpdir(), 'wharf-retention-push-'));
    const app = `app-${run.install}`;
    try {
      writeFileSync(join(ctx, 'Dockerfile'), `FROM ${BUSYBOX_IMAGE}\nRUN echo ${run.install} > /r.txt\n`);
      const built: Array<{ id: string; local: string; pushed: string }> = [];
      for (const d of ['ret-1', 'ret-2', 'ret-3']) {
        const local = `wharf/${run.install}-${app}:${d}`;
        const r = await builder.build({
          contextDir: ctx, dockerfile: 'Dockerfile', buildArgs: {}, tags: [local], deadlineMs: 60_000, onLog: () => undefined,
          labels: { 'wharf.install': run.install, 'wharf.organization': 'org-1', 'wharf.application': app, 'wharf.deployment': d },
        });
        const pushed = `${registry.host}/wharf-${app}:${d}`;
        await builder.pushImage({ source: local, target: pushed, auth: registry.auth, deadlineMs: 60_000, onLog: () => undefined });
        built.push({ id: r.imageId, local, pushed });
      }
      const exists = (ref: string) => run.docker.getImage(ref).inspect().then(() => true, () => false);
      for (const b of built) expect([await exists(b.local), await exists(b.pushed)]).toEqual([true, true]);

      // A stopped container of the oldest (as a Swarm task that was shut down leaves) keeps that image whole: both tags.
      const task = await run.docker.createContainer({ Image: built[0].pushed, Labels: run.labels(), Cmd: ['true'] });
      try {
        const busy = await builder.removeImages({ 'wharf.install': run.install, 'wharf.application': app }, { newest: 1 });
        expect(busy.removed).toEqual([built[1].id]);
        expect(busy.failed).toEqual([{ imageId: built[0].id, message: expect.stringContaining('uses it') }]);
        expect([await exists(built[0].local), await exists(built[0].pushed)]).toEqual([true, true]);
      } finally {
        await task.remove({ force: true });
      }
      const result = await builder.removeImages({ 'wharf.install': run.install, 'wharf.application': app }, { newest: 1 });
      expect(result.failed).toEqual([]);
      expect(result.removed).toEqual([built[0].id]);
      for (const b of built.slice(0, 2)) expect([await exists(b.id), await exists(b.local), await exists(b.pushed)]).toEqual([false, false, false]);
      expect([await exists(built[2].local), await exists(built[2].pushed)]).toEqual([true, true]);
    } finally {
      rmSync(ctx, { recursive: true, force: true });
    }
  });
});
