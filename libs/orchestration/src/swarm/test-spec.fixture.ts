import type { HostCapabilities, ServiceSpecInput } from '../ports/swarm.port';

/** A minimal valid spec for unit tests. */
export function baseSpec(overrides: Partial<ServiceSpecInput> = {}): ServiceSpecInput {
  return {
    name: 'production-web-a1b2c3',
    image: 'registry.example.com/acme/web:1.2.3',
    env: {},
    labels: { 'wharf.install': 'i1' },
    replicas: 1,
    ports: [],
    constraints: [],
    mounts: [],
    networks: [],
    endpointMode: 'vip',
    ...overrides,
  };
}

export const singleNodeNoIpvs: HostCapabilities = { ipvs: false, swarmActive: true, nodeCount: 1, engineVersion: '20.10.24' };
export const clusterWithIpvs: HostCapabilities = { ipvs: true, swarmActive: true, nodeCount: 3, engineVersion: '24.0.0' };
