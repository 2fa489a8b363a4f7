/**
 * A pull request preview end to end on the real Swarm: a repository served by `git http-backend` with a pull request
 * branch; a signed GitHub pull request delivery creates the preview application, whose deployment checks out the
 * pull request's head commit (not the tracked branch), builds it and runs it with the preview's variable override;
 * `preview.deployed` follows the deployment; closing the pull request removes the preview's Swarm service and row.
 */
import { createHmac } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import type { TestApp } from '../../support/app';
import type { Session } from '../../support/api';
import { BUSYBOX_IMAGE } from '../../support/docker/busybox-image';
import { SwarmTestRun } from '../../support/docker/swarm-test-run';
import { httpdSpec, startSwarmSuite, stopSwarmSuite, SWARM_SUITE_HOOK_TIMEOUT_MS, waitForDeployment } from '../../support/deploy';
import { git as gitCli, GitServers, startGitServers } from '../../support/git-server';
import { auditAll } from '../audit/helpers';

jest.setTimeout(240_000);

const run$ = promisify(execFile);
const dockerfile = `FROM ${BUSYBOX_IMAGE}\nCOPY site/ /www/\n`;

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('preview deployments on the real Swarm', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let run: SwarmTestRun;
  let env: { projectId: string; environmentId: string };
  let git: GitServers;
  const lock = new SwarmTestRun();

  beforeAll(async () => {
    git = await startGitServers();
    ({ t, run, owner, env } = await startSwarmSuite(lock, { WHARF_GIT_ALLOW_PRIVATE_HOSTS: 'true', WHARF_GIT_CA_FILE: git.caFile }));
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

  it('a pull request builds and runs its head commit with the overrides; closing it removes the preview', async () => {
    const repo = await git.createRepository('preview-shop', [{ message: 'Main', files: { Dockerfile: dockerfile, 'site/index.html': 'main branch' } }]);
    // The pull request's branch: one commit on top of main, pushed as `feature`.
    const work = mkdtempSync(join(tmpdir(), 'wharf-pr-'));
    await gitCli(work, ['clone', '-q', '--', repo.bare, 'w']);
    await gitCli(join(work, 'w'), ['checkout', '-q', '-b', 'feature']);
    writeFileSync(join(work, 'w', 'site', 'index.html'), 'pull request branch');
    await gitCli(join(work, 'w'), ['commit', '-q', '-am', 'PR change']);
    await gitCli(join(work, 'w'), ['push', '-q', 'origin', 'feature']);
    const head = await gitCli(join(work, 'w'), ['rev-parse', 'HEAD']);

    const app = (await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth)
      .send({ name: 'pv', spec: httpdSpec(null, { command: ['/bin/sh', '-c', 'printf "%s" "$MODE" > /www/mode.txt && exec httpd -f -p 8080 -h /www'] }) }).expect(201)).body;
    await request(t.server).put(`/api/v1/applications/${app.id}/source`).set(owner.auth).send({ repository: git.httpsUrl('preview-shop'), ref: 'main', auth: { kind: 'token', token: git.token } }).expect(200);
    await request(t.server).put(`/api/v1/applications/${app.id}/variables`).set(owner.auth).send({ variables: [{ key: 'MODE', value: 'production' }] }).expect((r) => expect(r.status).toBeLessThan(300));
    await request(t.server).put(`/api/v1/applications/${app.id}/previews/settings`).set(owner.auth).send({ enabled: true, domain: '*.preview.wharf.test', https: false, env: [{ key: 'MODE', value: 'preview', secret: false }] }).expect(200);
    const secret = (await request(t.server).post(`/api/v1/applications/${app.id}/source/webhook-secret/reveal`).set(owner.auth).expect(200)).body.secret as string;
    const deliver = (action: string, delivery: string) => {
      const body = JSON.stringify({
        action, number: 5,
        pull_request: {
          number: 5, title: 'PR change', merged: false, author_association: 'OWNER', user: { login: 'owner' },
          head: { ref: 'feature', sha: head, repo: { full_name: 'acme/preview-shop', fork: false } }, base: { ref: 'main', sha: repo.commits[0], repo: { full_name: 'acme/preview-shop', fork: false } },
        },
      });
      return request(t.server).post(`/api/v1/webhooks/applications/${app.id}/github`).set('Content-Type', 'application/json').set('X-GitHub-Event', 'pull_request')
        .set('X-GitHub-Delivery', delivery).set('X-Hub-Signature-256', `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`).send(body).expect(202);
    };

    const opened = (await deliver('opened', 'docker-pr-5')).body;
    expect(opened).toMatchObject({ outcome: 'accepted', deploymentId: expect.any(String) });
    const d = await waitForDeployment(t, owner, opened.deploymentId, 180_000);
    expect({ status: d.status, error: d.error }).toEqual({ status: 'succeeded', error: null });
    expect(d.source).toMatchObject({ ref: 'feature', commit: head, message: 'PR change' });
    const [preview] = (await request(t.server).get(`/api/v1/applications/${app.id}/previews`).set(owner.auth).expect(200)).body;
    expect(preview).toMatchObject({ number: 5, state: 'active', deployedSha: head, url: 'http://pr-5-pv.preview.wharf.test', deployment: { id: opened.deploymentId, status: 'succeeded' } });

    // The preview's container serves the pull request's code with the override.
    const child = (await request(t.server).get(`/api/v1/applications/${preview.applicationId}`).set(owner.auth).expect(200)).body;
    const container = await until('the preview container', async () => {
      const list = await run.docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${child.serviceName}`], status: ['running'] } });
      return list[0]?.Id;
    });
    const get = async (path: string) => (await run$('/usr/bin/docker', ['exec', container, 'wget', '-q', '-O', '-', `http://127.0.0.1:8080${path}`])).stdout;
    expect(await get('/')).toBe('pull request branch');
    expect(await get('/mode.txt')).toBe('preview');

    // preview.deployed follows the deployment (for a commit status), once.
    const deployed = await until('preview.deployed', async () => {
      const rows = (await auditAll(t, owner, owner.organizationId)).filter((e) => e.action === 'preview.deployed');
      return rows.length > 0 && rows;
    });
    expect(deployed).toHaveLength(1);

    // Closed: the preview application is removed (its Swarm service, then its row).
    expect((await deliver('closed', 'docker-pr-5-closed')).body).toMatchObject({ outcome: 'accepted', reason: 'pull request #5 closed: preview removed' });
    await until('the preview service to go', async () => (await run.docker.listServices({ filters: { label: [`wharf.service=${preview.applicationId}`] } })).length === 0, 90_000);
    await until('the preview application to go', async () => (await request(t.server).get(`/api/v1/applications/${preview.applicationId}`).set(owner.auth)).status === 404, 90_000);
    expect((await request(t.server).get(`/api/v1/applications/${app.id}/previews`).set(owner.auth).expect(200)).body).toEqual([]);
  });
});
