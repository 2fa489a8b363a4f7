import { DockerodeSwarmAdapter, SwarmSpecRejectedError, splitReference } from './dockerode-swarm.adapter';
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
