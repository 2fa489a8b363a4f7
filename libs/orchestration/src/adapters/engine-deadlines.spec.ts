import { createServer, Server, Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerodeSwarmAdapter } from './dockerode-swarm.adapter';

/**
 * A "Docker engine" on a real Unix socket that accepts every request and never answers. Each call must give up at its
 * deadline and close its connection (the request itself is aborted), not leave it hanging.
 */
describe('every short engine call aborts its request at the deadline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-hung-engine-'));
  const socketPath = join(dir, 'docker.sock');
  const open = new Set<Socket>();
  let connections = 0;
  let server: Server;
  const adapter = new DockerodeSwarmAdapter({ socketPath, callTimeoutMs: 300, probeIpvs: () => false });

  beforeAll(async () => {
    server = createServer((s) => {
      connections++;
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
      // Read (and ignore) the request, so the client closing its end is seen.
      s.resume();
    });
    await new Promise<void>((r) => server.listen(socketPath, r));
  });

  afterAll(async () => {
    for (const s of open) s.destroy();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  async function allClosed(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (open.size > 0) {
      if (Date.now() > deadline) throw new Error(`${open.size} request(s) still open`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  const calls: Array<[string, () => Promise<unknown>, number]> = [
    ['service inspect', () => adapter.inspectService('svc'), 300],
    ['task list', () => adapter.serviceTasks('svc'), 300],
    ['registry auth', () => adapter.checkRegistryAuth({ serveraddress: '127.0.0.1:5000', username: 'u', password: 'p' }), 300],
    ['image inspect', () => adapter.imageDigest('busybox:latest'), 300],
    ['network list', () => adapter.ensureNetwork('net', {}), 300],
    ['volume inspect', () => adapter.removeVolume('vol', {}), 300],
    ['engine info', () => adapter.hostCapabilities(), 300],
    // Service create first reads the engine's capabilities (its own create request has five times the deadline).
    // Ensuring a service first reads the engine's capabilities, then the service (not owned or missing: never written).
    ['service ensure', () => adapter.ensureService({ name: 'svc', image: 'busybox:latest', labels: { 'wharf.install': 'i' }, replicas: 1, networks: [], env: {}, ports: [], mounts: [], constraints: [], endpointMode: 'dnsrr' }, { 'wharf.install': 'i' }), 300],
    ['service create', () => adapter.createService({ name: 'svc', image: 'busybox:latest', labels: {}, replicas: 1, networks: [], env: {}, ports: [], mounts: [], constraints: [], resources: { limits: {}, reservations: {} }, restartPolicy: { condition: 'any', delayMs: 0, maxAttempts: 0 }, updateConfig: { parallelism: 1, order: 'stop-first', failureAction: 'pause', monitorMs: 0 }, rollbackConfig: { parallelism: 1, order: 'stop-first', failureAction: 'pause', monitorMs: 0 }, stopGracePeriodMs: 1000, endpointMode: 'vip' } as never), 300],
  ];

  it.each(calls)('%s gives up at its deadline and closes its connection', async (_name, call, deadlineMs) => {
    const before = connections;
    const t0 = Date.now();
    await expect(call()).rejects.toThrow(/no answer within|aborted/i);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(deadlineMs - 50);
    expect(took).toBeLessThan(deadlineMs + 2000);
    expect(connections).toBeGreaterThan(before);
    await allClosed();
  });

  it('ping answers false within its deadline and leaves no connection open', async () => {
    const t0 = Date.now();
    expect(await adapter.ping()).toBe(false);
    expect(Date.now() - t0).toBeLessThan(2300);
    await allClosed();
  });
});
