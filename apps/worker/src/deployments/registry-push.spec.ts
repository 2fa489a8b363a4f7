import { registryImageRef, registryPushDecision } from './registry-push';

describe('registryPushDecision', () => {
  const base = { policy: 'multi-node' as const, registryId: 'r-1', activeNodes: 3, constraints: [] as string[] };
  it('pushes when the placement spans several nodes and a registry is set', () => {
    expect(registryPushDecision(base)).toEqual({ push: true, why: 'the placement spans 3 nodes' });
    expect(registryPushDecision({ ...base, constraints: ['node.role==worker'] })).toMatchObject({ push: true });
  });
  it('does not push on one node, or when a constraint pins one node', () => {
    expect(registryPushDecision({ ...base, activeNodes: 1 })).toEqual({ push: false, why: null });
    expect(registryPushDecision({ ...base, constraints: ['node.hostname == builder-1'] })).toEqual({ push: false, why: null });
    expect(registryPushDecision({ ...base, constraints: ['node.id==abc'] })).toEqual({ push: false, why: null });
  });
  it('warns when several nodes could run it but no registry is named', () => {
    expect(registryPushDecision({ ...base, registryId: null })).toMatchObject({ push: false, why: expect.stringMatching(/spans 3 nodes but the application names no registry/) });
  });
  it('follows the policy: always (with a registry), never', () => {
    expect(registryPushDecision({ ...base, policy: 'always', activeNodes: 1 })).toEqual({ push: true, why: 'WHARF_BUILD_PUSH=always' });
    expect(registryPushDecision({ ...base, policy: 'always', activeNodes: 1, registryId: null })).toEqual({ push: false, why: null });
    expect(registryPushDecision({ ...base, policy: 'never' })).toEqual({ push: false, why: null });
  });
  it('names the pushed image after ids only', () => {
    expect(registryImageRef('127.0.0.1:5000', 'APP', 'DEP')).toBe('127.0.0.1:5000/wharf-app:dep');
  });
});
