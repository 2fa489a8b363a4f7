/**
 * Build types of Git applications on the real Swarm (repositories served by `git http-backend`):
 * - static: the publish directory is served by the image Wharf generates (busybox httpd on 8080, as nobody), with the
 *   SPA fallback answering unknown paths with index.html;
 * - auto: a Node.js repository without a Dockerfile gets a generated one, built against a local stand-in for the
 *   configured node base image (busybox with a small `npm` script), and the image runs;
 * - build secrets: write-only in the API (names only in the view, a value left out is kept), reach a
 *   `RUN --mount=type=secret` step and are absent from the image history, the log and every response;
 * - nixpacks / buildpacks (`pack`) not installed: the deployment fails with 'builder-missing' and says which tool.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type Docker from 'dockerode';
import type { TestApp } from '../../support/app';
import type { Session } from '../../support/api';
import { BUSYBOX_IMAGE } from '../../support/docker/busybox-image';
import { freePort, httpGetUntil, SwarmTestRun } from '../../support/docker/swarm-test-run';
import { httpdSpec, logText, startSwarmSuite, stopSwarmSuite, SWARM_SUITE_HOOK_TIMEOUT_MS, waitForDeployment } from '../../support/deploy';
import { GitServers, startGitServers } from '../../support/git-server';

jest.setTimeout(240_000);

const NODE_STANDIN = 'wharf-test/node-standin:1';

/** busybox plus an `npm` that installs nothing, "builds" public/index.html and starts httpd on $PORT. */
async function ensureNodeStandin(docker: Docker): Promise<void> {
  const ctx = mkdtempSync(join(tmpdir(), 'wharf-node-standin-'));
  try {
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${BUSYBOX_IMAGE}\nCOPY npm /bin/npm\nRUN ["chmod", "755", "/bin/npm"]\n`);
    writeFileSync(
      join(ctx, 'npm'),
      [
        '#!/bin/sh',
        'case "$1" in',
        '  ci|install) echo "stand-in npm $1 in $(pwd)"; mkdir -p node_modules ;;',
        '  run) [ "$2" = build ] && mkdir -p public && echo "built by npm run build from $(cat message.txt)" > public/index.html ;;',
        '  start) exec httpd -f -p "${PORT:-8080}" -h /app/public ;;',
        '  *) echo "unknown npm command $1"; exit 2 ;;',
        'esac',
        '',
      ].join('\n'),
    );
    chmodSync(join(ctx, 'npm'), 0o755);
    const stream = await docker.buildImage({ context: ctx, src: ['Dockerfile', 'npm'] }, { t: NODE_STANDIN, rm: true, forcerm: true, labels: { 'wharf.test-image': 'node-standin' } });
    const events = await new Promise<Array<{ error?: string }>>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, out: unknown[]) => (err ? reject(err) : resolve(out as never))));
    const failed = events.find((e) => e.error);
    if (failed) throw new Error(`Building ${NODE_STANDIN} failed: ${failed.error}`);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

/** A spec that runs the image's own command (the generated CMD). */
function imageSpec(port: number | null): Record<string, unknown> {
  const spec = httpdSpec(port);
  delete spec.command;
  return spec;
}

describe('Git applications: build types, generated Dockerfiles and build secrets', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let run: SwarmTestRun;
  let env: { projectId: string; environmentId: string };
  let git: GitServers;
  const lock = new SwarmTestRun();

  beforeAll(async () => {
    git = await startGitServers();
    ({ t, run, owner, env } = await startSwarmSuite(lock, {
      WHARF_GIT_ALLOW_PRIVATE_HOSTS: 'true', WHARF_GIT_CA_FILE: git.caFile, WHARF_BUILD_IMAGE_STATIC: BUSYBOX_IMAGE, WHARF_BUILD_IMAGE_NODE: NODE_STANDIN,
    }));
    await ensureNodeStandin(run.docker);
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

  async function gitApp(name: string, port: number | null, source: Record<string, unknown>) {
    const app = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name, spec: imageSpec(port) }).expect(201);
    const src = await request(t.server).put(`/api/v1/applications/${app.body.id}/source`).set(owner.auth)
      .send({ repository: git.httpsUrl(name), ref: 'main', auth: { kind: 'token', token: git.token }, ...source }).expect(200);
    return { id: app.body.id as string, source: src.body };
  }
  async function deploy(appId: string) {
    const id = (await request(t.server).post(`/api/v1/applications/${appId}/deployments`).set(owner.auth).send({}).expect(202)).body.id as string;
    return waitForDeployment(t, owner, id, 180_000);
  }

  it('static: the publish directory is served by the generated busybox image; unknown paths fall back to index.html', async () => {
    await git.createRepository('static-site', [
      { message: 'Site', files: { 'site/dist/index.html': 'static index v1', 'site/dist/app.js': 'console.log(1)', 'site/README.md': 'not published' } },
    ]);
    const port = await freePort();
    const app = await gitApp('static-site', port, { buildPath: 'site', build: { kind: 'static', publishDirectory: 'dist', spaFallback: true } });
    expect(app.source.build).toMatchObject({ kind: 'static', publishDirectory: 'dist', spaFallback: true, secrets: [] });
    const d = await deploy(app.id);
    expect({ status: d.status, error: d.error }).toEqual({ status: 'succeeded', error: null });
    const log = await logText(t, owner, String(d.id));
    expect(log).toContain('Build type static: serving dist with busybox httpd on port 8080 (SPA fallback to index.html)');
    expect((await httpGetUntil(port, (r) => r.body === 'static index v1', 60_000)).status).toBe(200);
    expect((await httpGetUntil(port, (r) => r.status === 200, 10_000, '/app.js')).body).toBe('console.log(1)');
    // The SPA fallback: busybox answers with index.html's body and keeps the 404 status (documented).
    const fallback = await httpGetUntil(port, (r) => r.body === 'static index v1', 10_000, '/orders/42');
    expect(fallback.status).toBe(404);
    // Outside the publish directory nothing is served.
    expect((await httpGetUntil(port, () => true, 10_000, '/README.md')).body).not.toContain('not published');
    // The image runs as nobody.
    const image = await run.docker.getImage(String(d.image)).inspect();
    expect(image.Config.User).toBe('65534:65534');
  });

  it('auto: a Node.js repository without a Dockerfile is detected, built with the generated Dockerfile on the configured node image, and runs', async () => {
    await git.createRepository('node-app', [
      {
        message: 'Node app',
        files: {
          'package.json': JSON.stringify({ name: 'node-app', scripts: { build: 'vite build', start: 'node server.js' } }),
          // Unique per run: the engine's build cache would otherwise reuse the `npm ci` layer of an earlier run
          // on this machine and the step's output would not be in the log.
          'package-lock.json': JSON.stringify({ lockfileVersion: 3, run: randomBytes(8).toString('hex') }),
          'message.txt': 'the repository',
        },
      },
    ]);
    const port = await freePort();
    const app = await gitApp('node-app', port, { build: { kind: 'auto' } });
    const d = await deploy(app.id);
    const log = await logText(t, owner, String(d.id));
    expect({ status: d.status, error: d.error }).toEqual({ status: 'succeeded', error: null });
    expect(log).toContain('Build type auto: detected Node.js (npm (package-lock.json); build script; start: npm start); generated a Dockerfile (port 8080)');
    expect(log).toContain('stand-in npm ci in /app');
    expect((await httpGetUntil(port, (r) => r.body.includes('built by npm run build'), 60_000)).body.trim()).toBe('built by npm run build from the repository');
    const image = await run.docker.getImage(String(d.image)).inspect();
    expect(image.Config.Cmd).toEqual(['npm', 'start']);
    expect(image.Config.Env).toEqual(expect.arrayContaining(['NODE_ENV=production', 'PORT=8080']));

    // Nothing detectable: a clear failure.
    await git.createRepository('nothing', [{ message: 'Docs only', files: { 'README.md': '# docs' } }]);
    const none = await gitApp('nothing', null, { build: { kind: 'auto' } });
    const failed = await deploy(none.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^Build failed \(detection-failed\): No Dockerfile and no known stack/);
  });

  it('build secrets: write-only, used by a RUN --mount step, absent from the image history, the log and every response', async () => {
    const secret = `s3cret-${randomBytes(12).toString('hex')}`;
    await git.createRepository('secret-app', [
      {
        message: 'With a secret',
        files: {
          Dockerfile: [
            `FROM ${BUSYBOX_IMAGE}`,
            'RUN mkdir -p /www && echo ok > /www/index.html',
            'RUN --mount=type=secret,id=API_TOKEN echo "length=$(wc -c < /run/secrets/API_TOKEN)" > /www/secret.txt && cat /run/secrets/API_TOKEN',
            'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]',
            '',
          ].join('\n'),
        },
      },
    ]);
    const port = await freePort();
    const app = await gitApp('secret-app', port, { build: { secrets: [{ name: 'API_TOKEN', value: secret }] } });
    expect(app.source.build.secrets).toEqual(['API_TOKEN']);
    expect(JSON.stringify(app.source)).not.toContain(secret);
    // A new secret needs a value; leaving the stored one's value out keeps it.
    const refused = await request(t.server).put(`/api/v1/applications/${app.id}/source`).set(owner.auth)
      .send({ repository: git.httpsUrl('secret-app'), ref: 'main', auth: { kind: 'token' }, build: { secrets: [{ name: 'API_TOKEN' }, { name: 'OTHER' }] } }).expect(400);
    expect(refused.body.errors).toEqual([expect.objectContaining({ pointer: '/build/secrets/1/value' })]);
    const kept = await request(t.server).put(`/api/v1/applications/${app.id}/source`).set(owner.auth)
      .send({ repository: git.httpsUrl('secret-app'), ref: 'main', auth: { kind: 'token' }, build: { secrets: [{ name: 'API_TOKEN' }] } }).expect(200);
    expect(kept.body.build.secrets).toEqual(['API_TOKEN']);
    const read = await request(t.server).get(`/api/v1/applications/${app.id}/source`).set(owner.auth).expect(200);
    expect(JSON.stringify(read.body)).not.toContain(secret);

    const d = await deploy(app.id);
    expect({ status: d.status, error: d.error }).toEqual({ status: 'succeeded', error: null });
    expect(JSON.stringify(d)).not.toContain(secret);
    const log = await logText(t, owner, String(d.id));
    expect(log).toContain('Build type dockerfile');
    expect(log).not.toContain(secret);
    expect((await httpGetUntil(port, (r) => r.status === 200 && r.body.startsWith('length='), 60_000, '/secret.txt')).body.trim()).toBe(`length=${secret.length}`);
    expect(JSON.stringify(await run.docker.getImage(String(d.image)).history())).not.toContain(secret);
    const deployments = await request(t.server).get(`/api/v1/applications/${app.id}/deployments`).set(owner.auth).expect(200);
    expect(JSON.stringify(deployments.body)).not.toContain(secret);
    const audit = await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/audit-events`).set(owner.auth).expect(200);
    expect(JSON.stringify(audit.body)).not.toContain(secret);
  });

  it.each([
    ['nixpacks', 'nixpacks is not installed on the build host'],
    ['buildpacks', 'pack is not installed on the build host'],
  ])('%s without the tool on the build host: the deployment fails with builder-missing', async (kind, message) => {
    await git.createRepository(`tool-${kind}`, [{ message: 'App', files: { 'index.html': 'x' } }]);
    const app = await gitApp(`tool-${kind}`, null, { build: { kind } });
    const d = await deploy(app.id);
    expect(d.status).toBe('failed');
    expect(d.error).toBe(`Build failed (builder-missing): ${message} (build type ${kind}); install it there, or choose another build type`);
    expect(await logText(t, owner, String(d.id))).toContain(`Build type ${kind} in .`);
  });
});
