import { validateSpecForHost } from './validate-spec-for-host';
import { baseSpec, clusterWithIpvs, singleNodeNoIpvs } from './test-spec.fixture';

const codes = (r: ReturnType<typeof validateSpecForHost>) => r.issues.map((i) => `${i.level}:${i.code}`);

describe('validateSpecForHost', () => {
  it('accepts a plain spec unchanged on a host with IPVS', () => {
    const input = baseSpec({ ports: [{ target: 80, published: 8080, protocol: 'tcp', mode: 'ingress' }], replicas: 3 });
    const r = validateSpecForHost(input, clusterWithIpvs);
    expect(r).toEqual({ ok: true, issues: [], spec: input });
    expect(r.spec).not.toBe(input);
  });

  it('switches vip → dnsrr and ingress → host without IPVS, and says why', () => {
    const input = baseSpec({ ports: [{ target: 80, protocol: 'tcp', mode: 'ingress' }] });
    const r = validateSpecForHost(input, singleNodeNoIpvs);
    expect(r.ok).toBe(true);
    expect(codes(r)).toEqual(['adjusted:no-ipvs-dnsrr', 'adjusted:no-ipvs-host-port']);
    expect(r.spec.endpointMode).toBe('dnsrr');
    expect(r.spec.ports[0].mode).toBe('host');
    expect(r.issues[0].message).toMatch(/no IPVS/);
    // the input is not modified
    expect(input.endpointMode).toBe('vip');
    expect(input.ports[0].mode).toBe('ingress');
  });

  it('refuses dnsrr with an ingress port where IPVS exists (Docker would reject it)', () => {
    const r = validateSpecForHost(baseSpec({ endpointMode: 'dnsrr', ports: [{ target: 80, published: 80, protocol: 'tcp', mode: 'ingress' }] }), clusterWithIpvs);
    expect(r.ok).toBe(false);
    expect(codes(r)).toEqual(['error:dnsrr-ingress']);
  });

  it('switches start-first to stop-first for a fixed host-mode port on a single node (update and rollback)', () => {
    const r = validateSpecForHost(
      baseSpec({
        endpointMode: 'dnsrr',
        ports: [{ target: 80, published: 8080, protocol: 'tcp', mode: 'host' }],
        updateConfig: { parallelism: 1, order: 'start-first', failureAction: 'rollback', monitorMs: 5000 },
        rollbackConfig: { parallelism: 1, order: 'start-first', failureAction: 'pause', monitorMs: 5000 },
      }),
      singleNodeNoIpvs,
    );
    expect(r.ok).toBe(true);
    expect(codes(r)).toEqual(['adjusted:host-port-update-stop-first', 'adjusted:host-port-rollback-stop-first']);
    expect(r.spec.updateConfig!.order).toBe('stop-first');
    expect(r.spec.rollbackConfig!.order).toBe('stop-first');
    expect(r.issues[0].message).toMatch(/8080\/tcp.*never converge/);
  });

  it('keeps start-first when the host port is engine-assigned or the swarm has several nodes', () => {
    const update = { parallelism: 1, order: 'start-first' as const, failureAction: 'pause' as const, monitorMs: 5000 };
    const dynamic = validateSpecForHost(baseSpec({ endpointMode: 'dnsrr', replicas: 2, ports: [{ target: 80, protocol: 'tcp', mode: 'host' }], updateConfig: update }), singleNodeNoIpvs);
    expect(dynamic).toMatchObject({ ok: true, issues: [] });
    expect(dynamic.spec.updateConfig!.order).toBe('start-first');
    const multi = validateSpecForHost(baseSpec({ ports: [{ target: 80, published: 8080, protocol: 'tcp', mode: 'host' }], updateConfig: update }), clusterWithIpvs);
    expect(multi).toMatchObject({ ok: true, issues: [] });
  });

  it('refuses more replicas than nodes on a fixed host-mode port', () => {
    const r = validateSpecForHost(baseSpec({ endpointMode: 'dnsrr', replicas: 2, ports: [{ target: 80, published: 8080, protocol: 'tcp', mode: 'host' }] }), singleNodeNoIpvs);
    expect(r.ok).toBe(false);
    expect(codes(r)).toContain('error:host-port-replicas');
    expect(r.issues.find((i) => i.code === 'host-port-replicas')!.message).toMatch(/2 replicas need 2 nodes but the swarm has 1/);
  });

  it('rejects invalid names, env names, NUL characters, ports, replicas and an inactive swarm', () => {
    const r = validateSpecForHost(
      baseSpec({
        name: '-bad_name-',
        env: { 'A=B': 'x', OK: 'nul\0here' },
        replicas: -1,
        ports: [{ target: 0, published: 70000, protocol: 'udp', mode: 'host' }],
        healthcheck: { test: [], intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 },
      }),
      { ...clusterWithIpvs, swarmActive: false },
    );
    expect(r.ok).toBe(false);
    expect(codes(r)).toEqual(
      expect.arrayContaining(['error:swarm-inactive', 'error:invalid-name', 'error:invalid-replicas', 'error:invalid-env-name', 'error:nul-character', 'error:invalid-port', 'error:invalid-healthcheck']),
    );
  });

  it('accepts a 63-character name and refuses a 64-character one', () => {
    expect(validateSpecForHost(baseSpec({ name: 'a'.repeat(63) }), clusterWithIpvs).ok).toBe(true);
    expect(codes(validateSpecForHost(baseSpec({ name: 'a'.repeat(64) }), clusterWithIpvs))).toEqual(['error:invalid-name']);
  });

  it('turns a rollback failure action of "rollback" into pause', () => {
    const r = validateSpecForHost(baseSpec({ rollbackConfig: { parallelism: 1, order: 'stop-first', failureAction: 'rollback', monitorMs: 1000 } }), clusterWithIpvs);
    expect(codes(r)).toEqual(['adjusted:rollback-failure-action']);
    expect(r.spec.rollbackConfig!.failureAction).toBe('pause');
  });
});
