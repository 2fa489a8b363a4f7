import type { DeploymentSnapshot } from '@wharf/applications';
import { DEFAULT_ROLLBACK_POLICY, DEFAULT_UPDATE_POLICY, effectiveOrder } from '@wharf/contracts';
import { validateSpecForHost } from '@wharf/orchestration';
import { snapshotToSpec } from './snapshot-to-spec';

const caps = { ipvs: false, swarmActive: true, nodeCount: 1, engineVersion: '20.10' };

function snapshot(ports: DeploymentSnapshot['spec']['ports']): DeploymentSnapshot {
  return {
    v: 1,
    serviceName: 'production-shop-abc123',
    networkName: 'wharf-0f5e2a4c-env-aaaaaaaaaaaa',
    spec: {
      image: 'busybox:1', registryId: null, command: null, args: null, replicas: 1,
      resources: { cpuLimit: null, memoryLimitMb: null, cpuReservation: null, memoryReservationMb: null },
      ports, healthcheck: null, restartPolicy: { condition: 'any', delayMs: 500, maxAttempts: 0 },
      update: { ...DEFAULT_UPDATE_POLICY }, rollback: { ...DEFAULT_ROLLBACK_POLICY, order: 'start-first' },
      constraints: [], labels: {}, mounts: [], stopGracePeriodMs: 1000, deployTimeoutMs: 60_000,
    },
    env: {}, refs: { project: {}, environment: {} }, image: 'busybox:1', replicas: 1, forceUpdate: false,
    labels: { 'wharf.install': '0f5e2a4c-1111', 'wharf.organization': 'org', 'wharf.service': 'app' },
  };
}

describe('snapshotToSpec and the edge network', () => {
  it('a routed application joins its environment network and its organization’s edge network; others only the first', () => {
    expect(snapshotToSpec(snapshot([]), {}).networks).toEqual(['wharf-0f5e2a4c-env-aaaaaaaaaaaa']);
    expect(snapshotToSpec(snapshot([]), {}, undefined, { edgeNetwork: 'wharf-0f5e2a4c-edge-bbbbbbbbbbbb' }).networks)
      .toEqual(['wharf-0f5e2a4c-env-aaaaaaaaaaaa', 'wharf-0f5e2a4c-edge-bbbbbbbbbbbb']);
  });

  it('a routed application without published host ports keeps start-first on a single node (it is reached through Traefik)', () => {
    const spec = snapshotToSpec(snapshot([]), {}, undefined, { edgeNetwork: 'wharf-0f5e2a4c-edge-bbbbbbbbbbbb' });
    const checked = validateSpecForHost(spec, caps);
    expect(checked.ok).toBe(true);
    expect(checked.spec.updateConfig!.order).toBe('start-first');
    expect(checked.spec.rollbackConfig!.order).toBe('start-first');
    expect(checked.issues.filter((i) => /stop-first/.test(i.code))).toEqual([]);
    expect(effectiveOrder('start-first', spec.ports, 1, 'update')).toEqual({ chosen: 'start-first', effective: 'start-first', reason: null });
    // An engine-assigned host port does not force stop-first either; a fixed one does (the old task holds it).
    expect(effectiveOrder('start-first', [{ mode: 'host', protocol: 'tcp' }], 1, 'update').effective).toBe('start-first');
    const fixed = validateSpecForHost(snapshotToSpec(snapshot([{ target: 8080, published: 8080, protocol: 'tcp', mode: 'host' }]), {}, undefined, { edgeNetwork: 'e' }), caps);
    expect(fixed.spec.updateConfig!.order).toBe('stop-first');
  });
});
