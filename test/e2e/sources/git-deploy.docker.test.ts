/**
 * A Git application end to end on the real Swarm: the source is a repository served over HTTPS by `git http-backend`
 * (token auth) and over SSH (deploy key); a deployment checks out the ref, builds the repository's Dockerfile through
 * the Engine API (FROM the locally built busybox image, with a build argument), records the commit and runs the built
 * image; a second commit deploys the new code; a rollback returns to the first build without building again; a
 * broken Dockerfile fails the deployment at the build step with the step's output.
 */
import request from 'supertest';
import type { TestApp } from '../../support/app';
import type { Session } from '../../support/api';
import { BUSYBOX_IMAGE } from '../../support/docker/busybox-image';
import { freePort, httpGetUntil, SwarmTestRun } from '../../support/docker/swarm-test-run';
import { httpdSpec, logText, startSwarmSuite, stopSwarmSuite, SWARM_SUITE_HOOK_TIMEOUT_MS, waitForDeployment } from '../../support/deploy';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git as gitCli, GitServers, startGitServers, TestRepository } from '../../support/git-server';

jest.setTimeout(240_000);

const dockerfile = (extra = '') => `FROM ${BUSYBOX_IMAGE}\nARG GREETING=none\nCOPY site/ /www/\nRUN echo "$GREETING" > /www/greeting.txt${extra}\n`;

describe('Git applications: checkout, build, deploy, rollback', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let run: SwarmTestRun;
  let env: { projectId: string; environmentId: string };
  let git: GitServers;
  let repo: TestRepository;
  const lock = new SwarmTestRun();

  beforeAll(async () => {
    git = await startGitServers();
    ({ t, run, owner, env } = await startSwarmSuite(lock, { WHARF_GIT_ALLOW_PRIVATE_HOSTS: 'true', WHARF_GIT_CA_FILE: git.caFile }));
    repo = await git.createRepository('shop', [
      { message: 'First version', files: { 'web/Dockerfile': dockerfile(), 'web/site/index.html': 'hello from git v1' } },
    ]);
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    try {
      // Built images carry this run's install label.
      const images = await run?.docker.listImages({ filters: { label: [`wharf.install=${run.install}`] } });
      for (const i of images ?? []) await run.docker.getImage(i.Id).remove({ force: true }).catch(() => undefined);
    } finally {
      await stopSwarmSuite(lock, { t, run });
      await git?.stop();
    }
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  async function deploy(appId: string) {
    const id = (await request(t.server).post(`/api/v1/applications/${appId}/deployments`).set(owner.auth).send({}).expect(202)).body.id as string;
    return waitForDeployment(t, owner, id, 180_000);
  }

  it('deploys the built image of the ref, with the commit on the deployment; a new commit deploys the new code; rollback reuses the first build', async () => {
    const port = await freePort();
    const app = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth)
      .send({ name: 'shop', spec: httpdSpec(port, { command: ['httpd', '-f', '-p', '8080', '-h', '/www'] }) }).expect(201);
    await request(t.server).put(`/api/v1/applications/${app.body.id}/source`).set(owner.auth).send({
      repository: git.httpsUrl('shop'), ref: 'main', buildPath: 'web', auth: { kind: 'token', token: git.token }, build: { args: { GREETING: 'built by wharf' } },
    }).expect(200);

    const first = await deploy(app.body.id);
    const log1 = await logText(t, owner, String(first.id));
    expect({ status: first.status, error: first.error }).toEqual({ status: 'succeeded', error: null });
    expect(first.source).toMatchObject({ repository: git.httpsUrl('shop'), ref: 'main', commit: repo.commits[0], message: 'First version' });
    expect(String(first.image)).toBe(`wharf/${run.install.toLowerCase()}-${app.body.id}:${first.id}`);
    expect(first.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(log1).toContain(`Commit ${repo.commits[0].slice(0, 12)}`);
    expect(log1).not.toContain(git.token);
    expect((await httpGetUntil(port, (r) => r.body === 'hello from git v1', 60_000)).body).toBe('hello from git v1');
    expect((await httpGetUntil(port, (r) => r.status === 200, 10_000, '/greeting.txt')).body.trim()).toBe('built by wharf');

    // A second commit pushed to main.
    const work = mkdtempSync(join(tmpdir(), 'wharf-push-'));
    await gitCli(work, ['clone', '-q', '--', repo.bare, 'w']);
    writeFileSync(join(work, 'w', 'web', 'site', 'index.html'), 'hello from git v2');
    await gitCli(join(work, 'w'), ['commit', '-q', '-am', 'Second version']);
    await gitCli(join(work, 'w'), ['push', '-q', 'origin', 'main']);
    const secondCommit = await gitCli(join(work, 'w'), ['rev-parse', 'HEAD']);
    const d2 = await deploy(app.body.id);
    expect(d2.status).toBe('succeeded');
    expect((d2.source as { commit: string; message: string }).commit).toBe(secondCommit);
    await httpGetUntil(port, (r) => r.body === 'hello from git v2', 60_000);

    const rb = (await request(t.server).post(`/api/v1/deployments/${first.id}/rollback`).set(owner.auth).send({}).expect(202)).body.id as string;
    const rolled = await waitForDeployment(t, owner, rb, 120_000);
    expect(rolled.status).toBe('succeeded');
    expect(rolled.imageDigest).toBe(first.imageDigest);
    expect(await logText(t, owner, rb)).not.toContain('Checking out');
    await httpGetUntil(port, (r) => r.body === 'hello from git v1', 60_000);
  });

  it('over SSH with a deploy key: host keys scanned by the worker are saved as known hosts, then the checkout works', async () => {
    await git.createRepository('ssh-shop', [{ message: 'Over SSH', files: { 'Dockerfile': dockerfile(), 'site/index.html': 'hello over ssh' } }]);
    const port = await freePort();
    const app = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth)
      .send({ name: 'ssh-shop', spec: httpdSpec(port, { command: ['httpd', '-f', '-p', '8080', '-h', '/www'] }) }).expect(201);
    const src = await request(t.server).put(`/api/v1/applications/${app.body.id}/source`).set(owner.auth).send({ repository: git.sshUrl('ssh-shop'), ref: 'main', auth: { kind: 'deploy-key' } }).expect(200);
    git.authorizeKey(src.body.deployKey.publicKey);
    // No known hosts yet: the checkout refuses the server's key.
    const refused = await deploy(app.body.id);
    expect(refused.error).toMatch(/^Checkout failed \(host-key\)/);
    const scan = (await request(t.server).post(`/api/v1/applications/${app.body.id}/source/scan-host-keys`).set(owner.auth).expect(200)).body;
    expect(scan.ok).toBe(true);
    const serverKey = git.knownHost.split(' ').slice(1).join(' ');
    expect(scan.lines.some((l: string) => l.endsWith(serverKey))).toBe(true);
    await request(t.server).put(`/api/v1/applications/${app.body.id}/source`).set(owner.auth).send({ repository: git.sshUrl('ssh-shop'), ref: 'main', auth: { kind: 'deploy-key' }, knownHosts: scan.lines }).expect(200);
    const ok = await deploy(app.body.id);
    expect({ status: ok.status, error: ok.error }).toEqual({ status: 'succeeded', error: null });
    await httpGetUntil(port, (r) => r.body === 'hello over ssh', 60_000);
  });

  it('a failing build step fails the deployment with its output; a wrong token fails the checkout without showing it', async () => {
    await git.createRepository('broken', [{ message: 'Broken', files: { 'Dockerfile': dockerfile('\nRUN echo "step output before failing" && exit 3') , 'site/index.html': 'x' } }]);
    const app = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth)
      .send({ name: 'broken', spec: httpdSpec(null, { command: ['httpd', '-f', '-p', '8080', '-h', '/www'] }) }).expect(201);
    await request(t.server).put(`/api/v1/applications/${app.body.id}/source`).set(owner.auth).send({ repository: git.httpsUrl('broken'), ref: 'main', auth: { kind: 'token', token: git.token } }).expect(200);
    const failed = await deploy(app.body.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^Build failed \(build-failed\)/);
    expect(await logText(t, owner, String(failed.id))).toContain('step output before failing');

    await request(t.server).put(`/api/v1/applications/${app.body.id}/source`).set(owner.auth).send({ repository: git.httpsUrl('broken'), ref: 'main', auth: { kind: 'token', token: 'wrong-token-value' } }).expect(200);
    const denied = await deploy(app.body.id);
    expect(denied.status).toBe('failed');
    expect(denied.error).toMatch(/^Checkout failed \(authentication\)/);
    expect(JSON.stringify(denied)).not.toContain('wrong-token-value');
    expect(await logText(t, owner, String(denied.id))).not.toContain('wrong-token-value');
  });
});
