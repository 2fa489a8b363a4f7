/**
 * Chosen commits, tag deploys and push bursts on the real Swarm, with the worker: a repository served over HTTPS by
 * `git http-backend`; a manual deploy of an older commit checks out exactly that commit (not the branch's tip) and
 * serves its content; a pushed tag matching the source's deployTags deploys the tag's commit; a burst of pushes while
 * a deployment runs collapses to the newest commit (the queued ones in between are superseded and never start).
 */
import request from 'supertest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signGenericWebhook } from '@wharf/sources';
import type { TestApp } from '../../support/app';
import type { Session } from '../../support/api';
import { BUSYBOX_IMAGE } from '../../support/docker/busybox-image';
import { freePort, httpGetUntil, SwarmTestRun } from '../../support/docker/swarm-test-run';
import { httpdSpec, startSwarmSuite, stopSwarmSuite, SWARM_SUITE_HOOK_TIMEOUT_MS, waitForDeployment, waitForStatus } from '../../support/deploy';
import { git as gitCli, GitServers, startGitServers, TestRepository } from '../../support/git-server';

jest.setTimeout(300_000);

const DOCKERFILE = `FROM ${BUSYBOX_IMAGE}\nCOPY site/ /www/\n`;

describe('Git applications: a chosen commit, tags, bursts', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let run: SwarmTestRun;
  let env: { projectId: string; environmentId: string };
  let git: GitServers;
  let repo: TestRepository;
  let appId: string;
  let port: number;
  let secret: string;
  let work: string;
  const lock = new SwarmTestRun();

  const push = async (content: string, dockerfile?: string) => {
    writeFileSync(join(work, 'site', 'index.html'), content);
    if (dockerfile) writeFileSync(join(work, 'Dockerfile'), dockerfile);
    await gitCli(work, ['commit', '-q', '-am', content]);
    await gitCli(work, ['push', '-q', 'origin', 'main']);
    return gitCli(work, ['rev-parse', 'HEAD']);
  };
  const deliver = async (payload: Record<string, unknown>) => {
    const body = JSON.stringify(payload);
    const r = await request(t.server).post(`/api/v1/webhooks/applications/${appId}/generic`).set('Content-Type', 'application/json')
      .set(signGenericWebhook(secret, body, Math.floor(Date.now() / 1000))).send(body).expect(202);
    return r.body as { outcome: string; reason: string | null; deploymentId: string | null };
  };

  beforeAll(async () => {
    git = await startGitServers();
    ({ t, run, owner, env } = await startSwarmSuite(lock, { WHARF_GIT_ALLOW_PRIVATE_HOSTS: 'true', WHARF_GIT_CA_FILE: git.caFile }));
    repo = await git.createRepository('picks', [
      { message: 'v1', files: { Dockerfile: DOCKERFILE, 'site/index.html': 'content v1' }, tag: 'v1.0.0' },
      { message: 'v2', files: { Dockerfile: DOCKERFILE, 'site/index.html': 'content v2' } },
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'wharf-picks-'));
    await gitCli(dir, ['clone', '-q', '--', repo.bare, 'w']);
    work = join(dir, 'w');
    await gitCli(work, ['config', 'user.email', 'dev@example.com']);
    await gitCli(work, ['config', 'user.name', 'Dev']);
    port = await freePort();
    appId = (await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth)
      .send({ name: 'picks', spec: httpdSpec(port, { command: ['httpd', '-f', '-p', '8080', '-h', '/www'] }) }).expect(201)).body.id;
    await request(t.server).put(`/api/v1/applications/${appId}/source`).set(owner.auth)
      .send({ repository: git.httpsUrl('picks'), ref: 'main', deployTags: ['v*'], auth: { kind: 'token', token: git.token } }).expect(200);
    secret = (await request(t.server).post(`/api/v1/applications/${appId}/source/webhook-secret/reveal`).set(owner.auth).expect(200)).body.secret;
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    try {
      const images = await run?.docker.listImages({ filters: { label: [`wharf.install=${run.install}`] } });
      for (const i of images ?? []) await run.docker.getImage(i.Id).remove({ force: true }).catch(() => undefined);
    } finally {
      await stopSwarmSuite(lock, { t, run });
      await git?.stop();
    }
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  it('a manual deploy of an older commit builds and serves exactly that commit, not the tip of the branch', async () => {
    const id = (await request(t.server).post(`/api/v1/applications/${appId}/deployments`).set(owner.auth).send({ commit: repo.commits[0] }).expect(202)).body.id as string;
    const d = await waitForDeployment(t, owner, id, 180_000);
    expect({ status: d.status, error: d.error }).toEqual({ status: 'succeeded', error: null });
    expect(d.source).toMatchObject({ ref: 'main', commit: repo.commits[0], message: 'v1' });
    await httpGetUntil(port, (r) => r.body === 'content v1', 60_000);
  });

  it('a pushed tag matching deployTags deploys the tag\'s commit; another tag is ignored', async () => {
    expect(await deliver({ ref: 'refs/tags/nightly', commit: repo.commits[1] })).toMatchObject({ outcome: 'ignored', reason: 'tag "nightly" matches no deploying tag pattern' });
    // The tip first (so the tag's deployment visibly changes what is served).
    const tip = await waitForDeployment(t, owner, (await request(t.server).post(`/api/v1/applications/${appId}/deployments`).set(owner.auth).send({}).expect(202)).body.id, 180_000);
    expect(tip.source).toMatchObject({ commit: repo.commits[1] });
    await httpGetUntil(port, (r) => r.body === 'content v2', 60_000);
    const r = await deliver({ ref: 'refs/tags/v1.0.0', commit: repo.commits[0] });
    expect(r.outcome).toBe('accepted');
    const d = await waitForDeployment(t, owner, r.deploymentId!, 180_000);
    expect({ status: d.status, source: d.source }).toMatchObject({ status: 'succeeded', source: { ref: 'refs/tags/v1.0.0', commit: repo.commits[0] } });
    await httpGetUntil(port, (x) => x.body === 'content v1', 60_000);
  });

  it('a burst of pushes while a deployment runs collapses to the newest commit', async () => {
    // This build takes a few seconds more (a RUN step before the COPY, cached for the later builds), so the burst
    // arrives while it runs.
    const first = await push('content v3', `FROM ${BUSYBOX_IMAGE}\nRUN sleep 8\nCOPY site/ /www/\n`);
    const running = (await deliver({ ref: 'main', commit: first })).deploymentId!;
    await waitForStatus(t, owner, running, 'running', 60_000);
    const burst: Array<{ commit: string; deploymentId: string }> = [];
    for (const n of [4, 5, 6]) {
      const commit = await push(`content v${n}`);
      burst.push({ commit, deploymentId: (await deliver({ ref: 'main', commit })).deploymentId! });
    }
    const last = await waitForDeployment(t, owner, burst[2].deploymentId, 240_000);
    expect({ status: last.status, source: last.source }).toMatchObject({ status: 'succeeded', source: { commit: burst[2].commit } });
    expect((await waitForDeployment(t, owner, running, 10_000)).status).toBe('succeeded');
    for (const b of burst.slice(0, 2)) {
      const d = (await request(t.server).get(`/api/v1/deployments/${b.deploymentId}`).set(owner.auth).expect(200)).body;
      expect({ status: d.status, startedAt: d.startedAt }).toEqual({ status: 'superseded', startedAt: null });
    }
    await httpGetUntil(port, (r) => r.body === 'content v6', 60_000);
  });
});
