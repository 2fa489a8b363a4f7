import { createServer, Server, Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerodeSwarmAdapter, isTransientEngineError, SwarmEngineError, SwarmSpecRejectedError, splitReference } from './dockerode-swarm.adapter';
import { baseSpec } from '../swarm/test-spec.fixture';

describe('splitReference', () => {
  it.each([
    ['busybox', { fromImage: 'busybox', tag: 'latest' }],
    ['busybox:1.36', { fromImage: 'busybox', tag: '1.36' }],
    ['127.0.0.1:5000/acme/web', { fromImage: '127.0.0.1:5000/acme/web', tag: 'latest' }],
    ['127.0.0.1:5000/acme/web:v2', { fromImage: '127.0.0.1:5000/acme/web', tag: 'v2' }],
    ['registry.example.com/web@sha256:abc', { fromImage: 'registry.example.com/web@sha256:abc' }],
  ])('%s', (ref, expected) => expect(splitReference(ref)).toEqual(expected));
});

describe('DockerodeSwarmAdapter (no engine)', () => {
  it('refuses a spec the host cannot run without calling Docker', async () => {
    const calls: string[] = [];
    const docker = {
      info: async () => ({ Swarm: { LocalNodeState: 'active', Nodes: 1 }, ServerVersion: '20.10.24' }),
      version: async () => ({ Version: '20.10.24', ApiVersion: '1.41' }),
      modem: { dial: (o: { path: string }) => calls.push(o.path) },
    };
    const adapter = new DockerodeSwarmAdapter({ docker: docker as never, probeIpvs: () => false });
    const spec = baseSpec({ replicas: 2, endpointMode: 'dnsrr', ports: [{ target: 80, published: 8080, protocol: 'tcp', mode: 'host' }] });
    await expect(adapter.createService(spec)).rejects.toBeInstanceOf(SwarmSpecRejectedError);
    expect(calls).toEqual([]);
  });
});

describe('DockerodeSwarmAdapter against an engine socket that accepts and never answers', () => {
  let dir: string;
  let server: Server;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-mute-docker-'));
    server = createServer((s) => void sockets.push(s)); // reads the request, never writes a byte
    await new Promise<void>((r) => server.listen(join(dir, 'docker.sock'), r));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails short calls after callTimeoutMs instead of hanging, and ping says no', async () => {
    const adapter = new DockerodeSwarmAdapter({ socketPath: join(dir, 'docker.sock'), callTimeoutMs: 300, probeIpvs: () => false });
    const t0 = Date.now();
    const err = await adapter.listServices({ 'wharf.install': 'x' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(SwarmEngineError);
    expect((err as Error).message).toBe('Docker engine: no answer within 300 ms');
    expect(Date.now() - t0).toBeLessThan(5000);
    await expect(adapter.inspectService('web')).rejects.toThrow(/no answer/);
    await expect(adapter.ping()).resolves.toBe(false);
    expect(sockets.length).toBeGreaterThanOrEqual(3);
  });
});

describe('isTransientEngineError', () => {
  it.each([
    [new SwarmEngineError('Docker engine: connect ENOENT /var/run/docker.sock'), true],
    [new SwarmEngineError('Docker engine: no answer within 60 s'), true],
    [new SwarmEngineError('Docker engine: This node is not a swarm manager.', 503), true],
    [new SwarmEngineError('Docker engine: rpc error: The swarm does not have a leader', 500), true],
    [new SwarmEngineError('Docker engine: service web not found', 404), false],
    [new SwarmEngineError('Docker engine: invalid mount config', 400), false],
    [new SwarmEngineError('Docker engine: some internal error', 500), false],
    [new Error('not an engine error'), false],
  ])('%s → %s', (e, expected) => expect(isTransientEngineError(e)).toBe(expected));
});

describe('waitForConvergence across a dockerd restart (scripted engine answers)', () => {
  const service = { ID: 'svc1', Spec: { Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: { ContainerSpec: {} } } };
  const task = (id: string, state: string, err?: string) => ({ ID: id, ServiceID: 'svc1', Slot: 1, DesiredState: state === 'running' ? 'running' : 'shutdown', Status: { State: state, Err: err }, CreatedAt: id });
  const engine = (rounds: object[][]) => {
    let i = 0;
    return {
      getService: () => ({ inspect: async () => service }),
      listTasks: async () => rounds[Math.min(i++, rounds.length - 1)],
    };
  };

  it('a task rejected because the restarting engine had no active swarm yet is replaced, not a failure', async () => {
    const docker = engine([
      [task('t1', 'rejected', 'cannot create a swarm scoped network when swarm is not active')],
      [task('t1', 'rejected', 'cannot create a swarm scoped network when swarm is not active'), task('t2', 'starting')],
      [task('t1', 'rejected', 'cannot create a swarm scoped network when swarm is not active'), task('t2', 'running')],
    ]);
    const events: string[] = [];
    const adapter = new DockerodeSwarmAdapter({ docker: docker as never, probeIpvs: () => false });
    const result = await adapter.waitForConvergence('svc1', { timeoutMs: 5000, pollMs: 1, stableMs: 0, onEvent: (e) => e.type === 'engine' && events.push(e.message) });
    expect(result.ok).toBe(true);
    expect(events).toEqual([expect.stringMatching(/^Task t1 was rejected while the engine's swarm was starting \(.*swarm is not active\); Swarm replaces it$/)]);
  });

  it('any other rejection still fails the wait', async () => {
    const docker = engine([[task('t1', 'rejected', 'No such image: acme/web:1')]]);
    const adapter = new DockerodeSwarmAdapter({ docker: docker as never, probeIpvs: () => false });
    const result = await adapter.waitForConvergence('svc1', { timeoutMs: 5000, pollMs: 1, stableMs: 0 });
    expect(result).toMatchObject({ ok: false, reason: 'task-failed' });
  });
});
