import { DEFAULT_ROLLBACK_POLICY, DEFAULT_UPDATE_POLICY, type ApplicationSpec } from '@wharf/contracts';
import { updateOrderOf } from '../commands/application.commands';
import { configurationChanges } from './deployment-drift';

const spec = (x: Partial<ApplicationSpec> = {}): ApplicationSpec => ({
  image: 'busybox:1', registryId: null, command: null, args: null, replicas: 1,
  resources: { cpuLimit: null, memoryLimitMb: null, cpuReservation: null, memoryReservationMb: null },
  ports: [], healthcheck: null, restartPolicy: { condition: 'any', delayMs: 500, maxAttempts: 0 }, update: DEFAULT_UPDATE_POLICY, rollback: DEFAULT_ROLLBACK_POLICY,
  constraints: [], labels: {}, mounts: [], stopGracePeriodMs: 1000, deployTimeoutMs: 60_000, ...x,
});
// A stand-in box: "enc:<value>" decrypts to <value>.
const decrypt = (box: string) => box.replace(/^enc:/, '');
const refs = { project: {}, environment: {} };

describe('configurationChanges', () => {
  it('is empty when the running snapshot is what the saved configuration would deploy (key order does not matter)', () => {
    const running = { spec: spec({ labels: { a: '1', b: '2' } }), env: { A: { plain: 'x' }, S: { enc: 'enc:s', aad: 'old' } }, refs, replicas: 1 };
    // A secret saved again is a new box with the same value: not a change.
    const saved = { spec: spec({ labels: { b: '2', a: '1' } }), desiredState: 'running' as const, env: { S: { enc: 'enc:s', aad: 'new' }, A: { plain: 'x' } }, refs };
    expect(configurationChanges(running, saved, decrypt)).toEqual([]);
  });

  it('names spec fields and variable keys that differ (added, removed, changed, secret values), never values', () => {
    const running = { spec: spec({ image: 'busybox:1' }), env: { A: { plain: 'x' }, GONE: { plain: '1' }, S: { enc: 'enc:old', aad: 'a' } }, refs, replicas: 1 };
    const saved = { spec: spec({ image: 'busybox:2' }), desiredState: 'running' as const, env: { A: { plain: 'y' }, NEW: { plain: '1' }, S: { enc: 'enc:new', aad: 'a' } }, refs };
    const changed = configurationChanges(running, saved, decrypt);
    expect(changed).toEqual(['spec.image', 'variables.A', 'variables.GONE', 'variables.NEW', 'variables.S']);
    expect(JSON.stringify(changed)).not.toMatch(/old|new|"y"/);
  });

  it('compares resolved values: a changed project variable a reference uses is a change of that key', () => {
    const env = { URL: { plain: 'http://${{project.HOST}}' } };
    const running = { spec: spec(), env, refs: { project: { HOST: { plain: 'a' } }, environment: {} }, replicas: 1 };
    const saved = { spec: spec(), desiredState: 'running' as const, env, refs: { project: { HOST: { plain: 'b' } }, environment: {} } };
    expect(configurationChanges(running, saved, decrypt)).toEqual(['variables.URL']);
  });

  it('counts replicas only while the application runs (a stop runs 0 on purpose)', () => {
    const running = { spec: spec({ replicas: 2 }), env: {}, refs, replicas: 0 };
    expect(configurationChanges(running, { spec: spec({ replicas: 2 }), desiredState: 'stopped', env: {}, refs }, decrypt)).toEqual([]);
    expect(configurationChanges({ ...running, replicas: 2 }, { spec: spec({ replicas: 3 }), desiredState: 'running', env: {}, refs }, decrypt)).toEqual(['spec.replicas']);
  });
});

describe('updateOrderOf', () => {
  const hostPort = [{ target: 80, published: 8080, protocol: 'tcp' as const, mode: 'host' as const }];
  it('start-first with a fixed host-mode port on one node is stop-first, with the reason', () => {
    const o = updateOrderOf(spec({ ports: hostPort }), { nodeCount: 1, ipvs: false });
    expect(o.update).toMatchObject({ chosen: 'start-first', effective: 'stop-first' });
    expect(o.update.reason).toContain('host-mode port 8080/tcp on a single node');
    expect(o.rollback).toEqual({ chosen: 'stop-first', effective: 'stop-first', reason: null });
  });
  it('keeps start-first on several nodes, without a fixed port, and for ingress ports where IPVS routes them', () => {
    expect(updateOrderOf(spec({ ports: hostPort }), { nodeCount: 2, ipvs: false }).update.effective).toBe('start-first');
    expect(updateOrderOf(spec({ ports: [{ target: 80, protocol: 'tcp', mode: 'host' }] }), { nodeCount: 1, ipvs: false }).update.effective).toBe('start-first');
    const ingress = spec({ ports: [{ ...hostPort[0], mode: 'ingress' }] });
    expect(updateOrderOf(ingress, { nodeCount: 1, ipvs: true }).update.effective).toBe('start-first');
    // Without IPVS an ingress port is published in host mode: the same rule applies.
    expect(updateOrderOf(ingress, { nodeCount: 1, ipvs: false }).update.effective).toBe('stop-first');
  });
});
