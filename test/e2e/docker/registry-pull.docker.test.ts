/**
 * Pulling from a private registry (Debian's docker-registry with htpasswd auth on 127.0.0.1), the digest Wharf records,
 * a Swarm service on the private image (registry auth passed with create), and cancelling a pull.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { DockerodeSwarmAdapter, type PullProgress } from '@wharf/orchestration';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../../support/docker/busybox-image';
import { DOCKER_SOCKET } from '../../support/docker/host-tools';
import { startLocalRegistry, type LocalRegistry } from '../../support/docker/local-registry';
import { sleeperSpec } from '../../support/docker/specs';
import { SwarmTestRun } from '../../support/docker/swarm-test-run';

jest.setTimeout(60_000);

const run = new SwarmTestRun();
const swarm = new DockerodeSwarmAdapter({ socketPath: DOCKER_SOCKET });
let registry: LocalRegistry;
let privateRef: string;

beforeAll(async () => {
  await run.start();
  await ensureBusyboxImage(run.docker);
  registry = await startLocalRegistry();
  privateRef = await registry.push(run.docker, BUSYBOX_IMAGE, `${run.install}/busybox:1`);
  // Forget the pushed tag locally so the pulls below really fetch it.
  await run.docker.getImage(privateRef).remove({ noprune: true });
}, 300_000);

afterAll(async () => {
  try {
    await run.cleanup();
    expect(await run.leftovers()).toEqual({ services: 0, networks: 0 });
  } finally {
    await run.docker.getImage(privateRef).remove({ noprune: true }).catch(() => undefined);
    await registry?.stop();
  }
}, 60_000);

test('a pull without credentials is refused, with credentials it succeeds and reports progress', async () => {
  await expect(swarm.pullImage(privateRef, undefined, () => undefined)).rejects.toThrow(/no basic auth credentials|unauthorized|authentication required/i);
  await expect(swarm.pullImage(privateRef, { ...registry.auth, password: 'wrong' }, () => undefined)).rejects.toThrow(/unauthorized|authentication required|incorrect/i);

  const progress: PullProgress[] = [];
  await swarm.pullImage(privateRef, registry.auth, (p) => progress.push(p));
  expect(progress.some((p) => /Downloaded newer image|Image is up to date/.test(p.status ?? ''))).toBe(true);

  const digest = await swarm.imageDigest(privateRef);
  expect(digest).toMatch(new RegExp(`^${registry.host}/${run.install}/busybox@sha256:[0-9a-f]{64}$`));
  // A local-only image has no RepoDigest: its id is what a deployment pins.
  expect(await swarm.imageDigest(BUSYBOX_IMAGE)).toMatch(/^sha256:[0-9a-f]{64}$/);
});

test('a service on the private image converges only when the registry auth travels with create', async () => {
  const forgetLocalTag = () => run.docker.getImage(privateRef).remove({ noprune: true }).catch(() => undefined);
  await forgetLocalTag();
  const without = await swarm.createService(sleeperSpec({ name: run.name('noauth'), labels: run.labels(), image: privateRef }));
  const refused = await swarm.waitForConvergence(without.id, { timeoutMs: 30_000 });
  expect(refused).toMatchObject({ ok: false, reason: 'task-failed' });
  if (!refused.ok) expect(refused.taskError).toMatch(/No such image|no basic auth|unauthorized/i);
  await swarm.removeService(without.id);

  await forgetLocalTag();
  const created = await swarm.createService(
    sleeperSpec({ name: run.name('private'), labels: run.labels(), image: privateRef, registryAuth: registry.auth }),
  );
  expect(await swarm.waitForConvergence(created.id, { timeoutMs: 45_000 })).toMatchObject({ ok: true, running: 1 });
  const [task] = (await swarm.serviceTasks(created.id)).filter((t) => t.state === 'running');
  expect(task.image).toBe(privateRef);
  expect(await swarm.imageDigest(privateRef)).toMatch(/@sha256:[0-9a-f]{64}$/);
  // Credentials are not part of the service spec the API returns.
  expect(JSON.stringify(await run.docker.getService(created.id).inspect())).not.toContain(registry.password);
});

test('an AbortSignal cancels a pull that hangs', async () => {
  // A "registry" that accepts connections and never answers.
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 500);
    await expect(swarm.pullImage(`127.0.0.1:${port}/hangs/forever:1`, undefined, () => undefined, ac.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(swarm.pullImage(`127.0.0.1:${port}/hangs/forever:1`, undefined, () => undefined, ac.signal)).rejects.toMatchObject({ name: 'AbortError' });
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  }
});
