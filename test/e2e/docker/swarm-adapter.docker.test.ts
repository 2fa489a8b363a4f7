/**
 * The dockerode Swarm adapter against the real dockerd in swarm mode. Docker tests hold a cross-process lock
 * (SwarmTestRun), so they run one file at a time; everything they create carries this run's `wharf.install` label and
 * is removed in afterAll.
 */
import { DockerodeSwarmAdapter, type ConvergenceEvent, type LogLine } from '@wharf/orchestration';
import { ensureBusyboxImage } from '../../support/docker/busybox-image';
import { DOCKER_SOCKET } from '../../support/docker/host-tools';
import { httpdSpec, sleeperSpec } from '../../support/docker/specs';
import { SwarmTestRun, httpGetUntil } from '../../support/docker/swarm-test-run';

jest.setTimeout(60_000);

const run = new SwarmTestRun();
const swarm = new DockerodeSwarmAdapter({ socketPath: DOCKER_SOCKET });
let network: string;

beforeAll(async () => {
  await run.start();
  await ensureBusyboxImage(run.docker);
  network = run.name('net');
}, 300_000);

afterAll(async () => {
  await run.cleanup();
  expect(await run.leftovers()).toEqual({ services: 0, networks: 0 });
}, 60_000);

test('reports the host capabilities and answers ping', async () => {
  expect(await swarm.ping()).toBe(true);
  const caps = await swarm.hostCapabilities();
  expect(caps.swarmActive).toBe(true);
  expect(caps.nodeCount).toBeGreaterThanOrEqual(1);
  expect(caps.engineVersion).toMatch(/^\d+\.\d+/);
  expect(typeof caps.ipvs).toBe('boolean');
});

test('ensureNetwork creates one attachable overlay network and is idempotent', async () => {
  const first = await swarm.ensureNetwork(network, run.labels({ 'wharf.environment': 'e2e' }));
  const second = await swarm.ensureNetwork(network, run.labels());
  expect(first.created).toBe(true);
  // An existing network keeps its own labels, and says which: the caller checks who owns it.
  expect(second).toEqual({ id: first.id, created: false, labels: run.labels({ 'wharf.environment': 'e2e' }) });
  const net = await run.docker.getNetwork(first.id).inspect();
  expect(net).toMatchObject({ Name: network, Driver: 'overlay', Attachable: true, Scope: 'swarm' });
  expect(net.Labels).toEqual(run.labels({ 'wharf.environment': 'e2e' }));
});

test('ensureService creates, leaves an unchanged spec alone, updates a changed one, and refuses a service it does not own', async () => {
  const name = run.name('own');
  const owner = run.labels({ 'wharf.role': 'e2e-own' });
  const spec = sleeperSpec({ name, labels: run.labels({ 'wharf.role': 'e2e-own' }), replicas: 0 });
  const created = await swarm.ensureService(spec, owner);
  expect(created.action).toBe('created');
  const v1 = (await run.docker.getService(name).inspect()).Version.Index;
  expect(await swarm.ensureService(spec, owner)).toMatchObject({ id: created.id, action: 'unchanged' });
  expect((await run.docker.getService(name).inspect()).Version.Index).toBe(v1);
  const changed = await swarm.ensureService({ ...spec, env: { CHANGED: '1' } }, owner);
  expect(changed).toMatchObject({ id: created.id, action: 'updated' });
  const after = await run.docker.getService(name).inspect();
  expect(after.Spec.TaskTemplate.ContainerSpec.Env).toEqual(['CHANGED=1']);
  expect(after.Spec.Labels['wharf.spec-hash']).toMatch(/^[0-9a-f]{32}$/);
  // Someone else's service under the name (here: without the owner's role label) is refused and not changed.
  await expect(swarm.ensureService({ ...spec, env: { OTHER: '1' } }, { ...owner, 'wharf.role': 'someone-else' })).rejects.toMatchObject({ statusCode: 409 });
  expect((await run.docker.getService(name).inspect()).Version.Index).toBe(after.Version.Index);
});

test('removeNetwork removes only a network that carries the owner labels, read from the engine', async () => {
  const mine = await swarm.ensureNetwork(run.name('owned'), run.labels({ 'wharf.environment': 'mine' }));
  const other = await swarm.ensureNetwork(run.name('other'), run.labels({ 'wharf.environment': 'other' }));
  const owner = { 'wharf.install': run.install, 'wharf.environment': 'mine' };
  expect(await swarm.removeNetwork(other.id, owner)).toBe('not-owned');
  expect(await swarm.removeNetwork(other.id, {})).toBe('not-owned');
  expect((await run.docker.getNetwork(other.id).inspect()).Id).toBe(other.id);
  expect(await swarm.removeNetwork(mine.id, owner)).toBe('removed');
  expect(await swarm.removeNetwork(mine.id, owner)).toBe('missing');
});

test('happy path: 2 healthy replicas on engine-assigned host ports serve HTTP on 127.0.0.1', async () => {
  const caps = await swarm.hostCapabilities();
  const name = run.name('web');
  const started = Date.now();
  const created = await swarm.createService(
    httpdSpec({ name, labels: run.labels({ 'wharf.service': 'web' }), replicas: 2, env: { BODY: 'two replicas' }, networks: [network], endpointMode: 'vip',
      ports: [{ target: 8080, protocol: 'tcp', mode: caps.ipvs ? 'host' : 'ingress' }] }),
  );
  if (!caps.ipvs) {
    // No IPVS here: the adapter switched vip → dnsrr and ingress → host, and says so.
    expect(created.adjustments.map((a) => a.code)).toEqual(expect.arrayContaining(['no-ipvs-dnsrr', 'no-ipvs-host-port']));
  }
  const events: ConvergenceEvent[] = [];
  const result = await swarm.waitForConvergence(created.id, { timeoutMs: 45_000, onEvent: (e) => events.push(e) });
  const convergedMs = Date.now() - started;
  expect(result).toMatchObject({ ok: true, running: 2, desired: 2 });
  expect(events.some((e) => e.type === 'progress' && e.running === 2)).toBe(true);
  console.log(`2 replicas with health checks converged in ${convergedMs} ms`);

  const info = await swarm.inspectService(created.id);
  expect(info).toMatchObject({ name, replicas: 2, endpointMode: caps.ipvs ? 'vip' : 'dnsrr', labels: run.labels({ 'wharf.service': 'web' }) });
  const listed = await swarm.listServices({ 'wharf.install': run.install, 'wharf.service': 'web' });
  expect(listed.map((s) => s.id)).toEqual([created.id]);

  const tasks = (await swarm.serviceTasks(created.id)).filter((t) => t.desiredState === 'running');
  expect(tasks).toHaveLength(2);
  for (const t of tasks) {
    expect(t).toMatchObject({ state: 'running', health: { status: 'healthy' } });
    expect(t.containerId).toMatch(/^[0-9a-f]{64}$/);
    expect(t.nodeId).toBeTruthy();
    const port = t.ports.find((p) => p.target === 8080 && p.mode === 'host')!.published;
    expect(port).toBeGreaterThan(0);
    const res = await httpGetUntil(port, (r) => r.status === 200);
    expect(res).toMatchObject({ status: 200, body: 'two replicas' });
  }
  expect(new Set(tasks.map((t) => t.ports[0].published)).size).toBe(2);

  await swarm.scaleService(created.id, 1);
  expect(await swarm.waitForConvergence(created.id, { timeoutMs: 20_000 })).toMatchObject({ ok: true, running: 1, desired: 1 });
  expect((await swarm.serviceTasks(created.id)).filter((t) => t.desiredState === 'running' && t.state === 'running')).toHaveLength(1);

  await swarm.removeService(created.id);
  await swarm.removeService(created.id); // idempotent
  expect(await swarm.inspectService(created.id)).toBeNull();
});

test('a container that exits at once fails convergence with its exit code', async () => {
  const created = await swarm.createService(
    sleeperSpec({ name: run.name('crash'), labels: run.labels(), command: ['/bin/sh', '-c', 'echo going down >&2; exit 3'], restartPolicy: { condition: 'on-failure', delayMs: 5_000 } }),
  );
  const started = Date.now();
  const result = await swarm.waitForConvergence(created.id, { timeoutMs: 30_000 });
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.reason).toBe('task-failed');
  expect(result.exitCode).toBe(3);
  expect(result.taskError).toMatch(/non-zero exit \(3\)/);
  expect(result.message).toMatch(/exit code 3/);
  expect(Date.now() - started).toBeLessThan(15_000);
});

test('convergence times out with the reason the task is stuck', async () => {
  const created = await swarm.createService(
    sleeperSpec({ name: run.name('stuck'), labels: run.labels(), constraints: ['node.labels.wharf-test-no-such-label==yes'] }),
  );
  const started = Date.now();
  const result = await swarm.waitForConvergence(created.id, { timeoutMs: 2_000, pollMs: 200 });
  const elapsed = Date.now() - started;
  expect(result).toMatchObject({ ok: false, reason: 'timeout', running: 0, desired: 1 });
  if (!result.ok) expect(result.message).toMatch(/Timed out after 2000 ms: 0\/1 tasks running.*pending.*no suitable node/);
  expect(elapsed).toBeGreaterThanOrEqual(2_000);
  expect(elapsed).toBeLessThan(6_000);
});

test('an AbortSignal cancels the wait promptly', async () => {
  const created = await swarm.createService(
    sleeperSpec({ name: run.name('cancel'), labels: run.labels(), constraints: ['node.labels.wharf-test-no-such-label==yes'] }),
  );
  const ac = new AbortController();
  const started = Date.now();
  setTimeout(() => ac.abort(), 400);
  const result = await swarm.waitForConvergence(created.id, { timeoutMs: 30_000, signal: ac.signal, pollMs: 5_000 });
  const elapsed = Date.now() - started;
  expect(result).toMatchObject({ ok: false, reason: 'aborted' });
  expect(elapsed).toBeLessThan(2_000);
});

test('service logs keep stdout and stderr apart, with and without follow', async () => {
  const created = await swarm.createService(
    sleeperSpec({
      name: run.name('logs'),
      labels: run.labels(),
      command: ['/bin/sh', '-c', 'echo out-1; echo err-1 >&2; echo "out 2 ünïcødé"; echo err-2 >&2; exec sleep 3600'],
    }),
  );
  expect(await swarm.waitForConvergence(created.id, { timeoutMs: 30_000 })).toMatchObject({ ok: true });

  const ac = new AbortController();
  const followed: LogLine[] = [];
  const timer = setTimeout(() => ac.abort(), 15_000);
  for await (const line of swarm.serviceLogs(created.id, { follow: true, signal: ac.signal })) {
    followed.push(line);
    if (followed.length === 4) ac.abort(); // ends the iteration without an error
  }
  clearTimeout(timer);
  const pick = (ls: LogLine[], s: string) => ls.filter((l) => l.stream === s).map((l) => l.line);
  expect(pick(followed, 'stdout')).toEqual(['out-1', 'out 2 ünïcødé']);
  expect(pick(followed, 'stderr')).toEqual(['err-1', 'err-2']);
  for (const l of followed) expect(Math.abs(l.time.getTime() - Date.now())).toBeLessThan(60_000);

  const all: LogLine[] = [];
  for await (const line of swarm.serviceLogs(created.id, { follow: false })) all.push(line);
  expect(pick(all, 'stdout')).toEqual(['out-1', 'out 2 ünïcødé']);
  expect(pick(all, 'stderr')).toEqual(['err-1', 'err-2']);

  const tail: LogLine[] = [];
  for await (const line of swarm.serviceLogs(created.id, { tail: 1 })) tail.push(line);
  expect(tail.length).toBeGreaterThanOrEqual(1);
  expect(tail.length).toBeLessThan(4);
});

test('hostile env, label and argv values arrive verbatim in the service and the container', async () => {
  const hostile = {
    QUOTES: `he said "hi" and 'bye'`,
    SUBST: '$(touch /tmp/pwned) ${HOME} $HOME',
    BACKTICKS: '`id` && rm -rf / ; echo done',
    NEWLINES: 'line1\nline2\r\nline3\ttab',
    UNICODE: 'ünïcødé 🚢 ∑ 日本語 \u202e',
    EQUALS: 'a=b=c==',
    EMPTY: '',
    SPACES: '  leading and trailing  \\',
  };
  const labels = run.labels({ 'wharf.note': `"quoted" $(x) \`y\` \n z 🚢`, 'wharf.empty': '' });
  const command = ['/bin/sleep', '3600'];
  const args: string[] = [];
  const created = await swarm.createService(sleeperSpec({ name: run.name('hostile'), labels, env: hostile, command, args }));
  const svc: any = await run.docker.getService(created.id).inspect();
  expect(svc.Spec.Labels).toEqual(labels);
  expect(svc.Spec.TaskTemplate.ContainerSpec.Env).toEqual(Object.entries(hostile).map(([k, v]) => `${k}=${v}`));
  expect(svc.Spec.TaskTemplate.ContainerSpec.Command).toEqual(command);
  expect((await swarm.inspectService(created.id))!.labels).toEqual(labels);

  expect(await swarm.waitForConvergence(created.id, { timeoutMs: 30_000 })).toMatchObject({ ok: true });
  const [task] = (await swarm.serviceTasks(created.id)).filter((t) => t.state === 'running');
  const container = await run.docker.getContainer(task.containerId!).inspect();
  for (const [k, v] of Object.entries(hostile)) expect(container.Config.Env).toContain(`${k}=${v}`);
  expect(container.Config.Labels).toMatchObject(labels);
  expect(container.Config.Entrypoint).toEqual(command);
});

test('a spec the host cannot run is refused before anything reaches Docker', async () => {
  const name = run.name('refused');
  await expect(
    swarm.createService(httpdSpec({ name, labels: run.labels(), replicas: 3, ports: [{ target: 8080, published: 18080, protocol: 'tcp', mode: 'host' }] })),
  ).rejects.toMatchObject({ name: 'SwarmSpecRejectedError', issues: [expect.objectContaining({ code: 'host-port-replicas' })] });
  expect(await swarm.listServices({ 'wharf.install': run.install })).not.toContainEqual(expect.objectContaining({ name }));
});
