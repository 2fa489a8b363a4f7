import { DeploymentLogLine } from '../../core/api/api-types';
import { DeploymentProgress } from './deployment-progress';

const line = (seq: number, step: string, message = `${step} ${seq}`): DeploymentLogLine => ({ seq, step, message, level: 'info', time: '2026-01-01T00:00:00.000Z' });

describe('DeploymentProgress', () => {
  it('marks the steps it has seen: earlier ones done, the latest active, later ones pending', () => {
    const p = new DeploymentProgress();
    p.setStatus('running');
    p.add([line(1, 'network'), line(2, 'pull'), line(3, 'pull')]);
    expect(p.steps().map((s) => s.state)).toEqual(['done', 'active', 'pending', 'pending', 'pending']);
    expect(p.percent()).toBe(30);
    expect(p.finished()).toBe(false);
  });

  it('keeps lines in order without duplicates (a reconnect may resend) and remembers where to resume', () => {
    const p = new DeploymentProgress();
    p.add([line(2, 'pull'), line(1, 'network')]);
    p.add([line(2, 'pull'), line(3, 'service')]);
    expect(p.lines().map((l) => l.seq)).toEqual([1, 2, 3]);
    expect(p.after).toBe(3);
  });

  it('completes every step on success and marks the step that failed', () => {
    const ok = new DeploymentProgress();
    ok.add([line(1, 'network')]);
    ok.setStatus('succeeded');
    expect(ok.steps().every((s) => s.state === 'done')).toBe(true);
    expect(ok.percent()).toBe(100);

    const bad = new DeploymentProgress();
    bad.add([line(1, 'network'), line(2, 'pull'), line(3, 'service'), line(4, 'wait'), line(5, 'rollback'), line(6, 'finish', 'Deployment failed: timeout')]);
    bad.setStatus('failed');
    expect(bad.steps().map((s) => s.state)).toEqual(['done', 'done', 'done', 'failed', 'skipped']);
    expect(bad.finished()).toBe(true);
  });

  it('a failed pull marks the pull failed and the later steps skipped, although the outcome is logged under finish', () => {
    const p = new DeploymentProgress();
    p.add([line(1, 'network'), line(2, 'pull'), line(3, 'finish', 'Deployment failed: Image x could not be pulled')]);
    p.setStatus('failed');
    expect(p.steps().map((s) => `${s.name}: ${s.state}`)).toEqual(['network: done', 'pull: failed', 'service: skipped', 'wait: skipped', 'finish: skipped']);
  });

  it('a cancelled deployment shows the step it stopped in as cancelled, not done', () => {
    const p = new DeploymentProgress();
    p.add([line(1, 'network'), line(2, 'pull'), line(3, 'service'), line(4, 'wait'), line(5, 'rollback'), line(6, 'finish', 'Deployment cancelled')]);
    p.setStatus('cancelled');
    expect(p.steps().map((s) => s.state)).toEqual(['done', 'done', 'done', 'cancelled', 'skipped']);
    const queued = new DeploymentProgress();
    queued.setStatus('cancelled');
    expect(queued.steps().every((s) => s.state === 'skipped')).toBe(true);
  });
});
