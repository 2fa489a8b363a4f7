import type { ApplicationStatus, Deployment } from '../../core/api/api-types';
import { statusTone } from '../../shared/ui/status-chip.component';
import { activeDeployment, applicationActions, applicationState, canRollBackTo, liveDeploymentId, openUrl, rollbackQuestion } from './application-actions';

const shown = (r: ReturnType<typeof applicationActions>) => Object.entries(r).filter(([, v]) => v.shown).map(([k]) => k);
const dep = (id: string, status: Deployment['status'], extra: Partial<Deployment> = {}): Deployment =>
  ({ id, applicationId: 'a', kind: 'deploy', status, image: 'busybox:1', imageDigest: null, replicas: 1, rollbackOf: null, requestedBy: { type: 'user', id: 'u', name: 'Olga Owner' }, error: null,
    queuedAt: '2026-01-01T10:00:00Z', startedAt: null, finishedAt: null, durationMs: null, cancelRequested: false, ...extra }) as Deployment;
const status = (extra: Partial<ApplicationStatus>): ApplicationStatus =>
  ({ applicationId: 'a', desiredState: 'running', state: 'running', running: 1, desired: 1, tasks: [], drift: [], observedAt: null, server: null, configuration: null, ...extra }) as ApplicationStatus;

describe('applicationActions', () => {
  const base = { canDeploy: true, deployed: true, desiredState: 'running' as const, inProgress: null };

  it('offers only Deploy before the first successful deployment', () => {
    const r = applicationActions({ ...base, deployed: false });
    expect(shown(r)).toEqual(['deploy']);
    expect(r.deploy.disabled).toBe(false);
  });

  it('offers Deploy, Redeploy, Restart and Stop when running, Deploy and Start when stopped', () => {
    expect(shown(applicationActions(base))).toEqual(['deploy', 'redeploy', 'restart', 'stop']);
    expect(shown(applicationActions({ ...base, desiredState: 'stopped' }))).toEqual(['deploy', 'start']);
    expect(Object.values(applicationActions(base)).every((v) => !v.disabled || !v.shown)).toBe(true);
  });

  it('disables every offered action with the reason while a deployment is queued or running', () => {
    for (const inProgress of ['queued', 'running'] as const) {
      const r = applicationActions({ ...base, inProgress });
      for (const k of shown(r)) {
        expect(r[k as keyof typeof r]).toEqual({ shown: true, disabled: true, reason: `A deployment is ${inProgress}; wait until it ends` });
      }
    }
  });

  it('offers nothing without the deploy ability', () => {
    expect(shown(applicationActions({ ...base, canDeploy: false }))).toEqual([]);
    expect(shown(applicationActions({ ...base, canDeploy: false, deployed: false }))).toEqual([]);
  });
});

describe('deployments: in progress, live, roll back', () => {
  it('finds a queued or running deployment', () => {
    expect(activeDeployment([dep('3', 'succeeded'), dep('2', 'failed')])).toBeNull();
    expect(activeDeployment([dep('3', 'queued'), dep('2', 'succeeded')])?.id).toBe('3');
    expect(activeDeployment(null)).toBeNull();
  });

  it('the live deployment is the one the status names, else the newest succeeded one; no roll back to it', () => {
    const list = [dep('3', 'failed', { finishedAt: '2026-01-03T00:00:00Z' }), dep('2', 'succeeded', { finishedAt: '2026-01-02T00:00:00Z' }), dep('1', 'succeeded', { finishedAt: '2026-01-01T00:00:00Z' })];
    expect(liveDeploymentId(null, list)).toBe('2');
    expect(liveDeploymentId(status({ configuration: { differs: false, changed: [], deploymentId: '1', deploymentKind: 'rollback' } }), list)).toBe('1');
    expect(canRollBackTo(list[1], '2')).toBe(false);
    expect(canRollBackTo(list[2], '2')).toBe(true);
    expect(canRollBackTo(list[0], '2')).toBe(false); // failed
  });

  it('the roll back question names when, who, image and digest', () => {
    const q = rollbackQuestion(dep('0123456789abcdef', 'succeeded', { imageDigest: 'busybox@sha256:abc' }), '1/1/2026, 10:00');
    expect(q).toContain('89abcdef');
    expect(q).toContain('1/1/2026, 10:00');
    expect(q).toContain('Olga Owner');
    expect(q).toContain('busybox:1');
    expect(q).toContain('busybox@sha256:abc');
  });
});

describe('states and colours', () => {
  it('says "not deployed" for an application that never ran, not the engine\'s missing/unknown', () => {
    expect(applicationState(status({ state: 'missing' }))).toBe('not deployed');
    expect(applicationState(status({ state: 'unknown' }))).toBe('not deployed');
    expect(applicationState(status({ state: 'missing', configuration: { differs: false, changed: [], deploymentId: '1', deploymentKind: 'deploy' } }))).toBe('missing');
    expect(applicationState(status({ state: 'deploying' }))).toBe('deploying');
    expect(applicationState(null)).toBeNull();
  });

  it('succeeded is green, failed red, queued and a running deployment neutral', () => {
    expect(statusTone('succeeded', 'deployment')).toBe('ok');
    expect(statusTone('failed', 'deployment')).toBe('bad');
    expect(statusTone('queued', 'deployment')).toBe('busy');
    expect(statusTone('running', 'deployment')).toBe('busy');
    expect(statusTone('running')).toBe('ok');
    expect(statusTone('not deployed')).toBe('idle');
  });

  it('opens a published port on the host the portal is opened on', () => {
    expect(openUrl('wharf.example.com', 8080)).toBe('http://wharf.example.com:8080');
    expect(openUrl('::1', 8080)).toBe('http://[::1]:8080');
  });
});
