import type { TaskInfo } from '../ports/swarm.port';
import { ConvergenceObservation, judgeConvergence, newConvergenceMemory } from './convergence';

const task = (id: string, state: string, extra: Partial<TaskInfo> = {}): TaskInfo => ({ id, serviceId: 'svc', slot: Number(id.replace(/\D/g, '')) || 1, state, desiredState: 'running', ports: [], ...extra });
const look = (o: Partial<ConvergenceObservation>): ConvergenceObservation => ({
  now: 1000, deadline: 60_000, desired: 1, initialUpdate: {}, tasks: [], stableMs: 0, maxFailedTasks: 0, ...o,
});
const UPDATED = { state: 'completed', startedAt: 't1' };

describe('judgeConvergence (one look)', () => {
  const table: Array<[string, Partial<ConvergenceObservation>, Record<string, unknown>]> = [
    ['ok: the desired tasks run (health check proved them)', { tasks: [task('t1', 'running')] }, { verdict: 'ok', running: 1 }],
    ['ok: zero replicas asked, none running (stop)', { desired: 0, tasks: [] }, { verdict: 'ok', running: 0 }],
    ['pending: tasks still starting', { tasks: [task('t1', 'starting')] }, { verdict: 'pending', running: 0 }],
    ['pending: Swarm still updating although enough run', { update: { state: 'updating', startedAt: 't1' }, tasks: [task('t1', 'running')] }, { verdict: 'pending' }],
    ['pending: an old and a new task both run for one replica', { tasks: [task('t1', 'running'), task('t2', 'running', { slot: 1 })] }, { verdict: 'pending' }],
    ['failed: a task failed', { tasks: [task('t1', 'failed', { error: 'task: non-zero exit (3)', exitCode: 3 })] }, { verdict: 'failed', reason: 'task-failed' }],
    ['failed: a task exited (complete) — a service must keep running', { tasks: [task('t1', 'complete')] }, { verdict: 'failed', reason: 'task-failed' }],
    ['failed: unhealthy', { tasks: [task('t1', 'failed', { error: 'Container is unhealthy' })] }, { verdict: 'failed', reason: 'unhealthy' }],
    ['failed: unhealthy by its health status', { tasks: [task('t1', 'failed', { health: { status: 'unhealthy', failingStreak: 3 } })] }, { verdict: 'failed', reason: 'unhealthy' }],
    ['pending: one failure tolerated (maxFailedTasks 1)', { maxFailedTasks: 1, tasks: [task('t1', 'failed')] }, { verdict: 'pending' }],
    ['pending: rejected while the engine\'s swarm was starting (Swarm replaces it)', { tasks: [task('t1', 'rejected', { error: 'swarm is not active' })] }, { verdict: 'pending' }],
    ['paused: Swarm paused the update during this wait', { update: { state: 'paused', startedAt: 't1', message: 'update paused due to failure' }, tasks: [task('t1', 'failed')] }, { verdict: 'paused', what: 'update' }],
    ['paused: Swarm paused its rollback', { update: { state: 'rollback_paused', startedAt: 't1' } }, { verdict: 'paused', what: 'rollback' }],
    ['not paused: the pause was there before the wait began (an earlier update)', { initialUpdate: { state: 'paused', startedAt: 't0' }, update: { state: 'paused', startedAt: 't0' }, tasks: [task('t1', 'running')] }, { verdict: 'ok' }],
    ['rolled back: Swarm\'s own failure action', { update: { state: 'rollback_started', startedAt: 't1', message: 'update rolled back due to failure' } }, { verdict: 'rolled-back' }],
    ['rolled back: completed during the wait', { update: { state: 'rollback_completed', startedAt: 't1', message: 'rollback completed' }, tasks: [task('t1', 'running')] }, { verdict: 'rolled-back' }],
    ['not rolled back: a manually requested rollback is what the caller waits for', { update: { state: 'rollback_completed', startedAt: 't1', message: 'manually requested rollback' }, tasks: [task('t1', 'running')] }, { verdict: 'ok' }],
    ['not rolled back: a rollback under way when the wait began', { initialUpdate: { state: 'rollback_started', startedAt: 't0' }, update: { state: 'rollback_completed', startedAt: 't0' }, tasks: [task('t1', 'running')] }, { verdict: 'ok' }],
    ['timeout: past the deadline, not converged', { now: 60_000, tasks: [task('t1', 'pending', { message: 'no suitable node' })] }, { verdict: 'timeout', converged: false, pending: [expect.objectContaining({ id: 't1' })] }],
    ['timeout: past the deadline, running but not yet stable', { now: 60_000, stableMs: 500, tasks: [task('t1', 'running')] }, { verdict: 'timeout', converged: true }],
    ['ok beats the deadline: converged on the last look', { now: 60_000, tasks: [task('t1', 'running')] }, { verdict: 'ok' }],
    ['failure beats convergence: a failed task among running ones', { desired: 2, update: UPDATED, tasks: [task('t1', 'running'), task('t2', 'failed', { slot: 2 })] }, { verdict: 'failed' }],
  ];

  it.each(table)('%s', (_name, observation, expected) => {
    expect(judgeConvergence(look(observation), newConvergenceMemory())).toMatchObject(expected);
  });
});

describe('judgeConvergence (successive looks)', () => {
  it('counts the stable time from when the tasks ran, also while Swarm\'s update monitor runs (the checks overlap)', () => {
    const memory = newConvergenceMemory();
    const tasks = [task('t1', 'running')];
    const updating = { state: 'updating', startedAt: 'u1' };
    expect(judgeConvergence(look({ now: 1000, stableMs: 500, tasks, update: updating }), memory)).toMatchObject({ verdict: 'pending' });
    expect(judgeConvergence(look({ now: 3000, stableMs: 500, tasks, update: updating }), memory)).toMatchObject({ verdict: 'pending' });
    // The monitor ends: the same task has run for 2 s already.
    expect(judgeConvergence(look({ now: 3100, stableMs: 500, tasks, update: { state: 'completed', startedAt: 'u1' } }), memory)).toMatchObject({ verdict: 'ok' });
    // Another task replacing it while the update runs starts the count again.
    const m2 = newConvergenceMemory();
    expect(judgeConvergence(look({ now: 1000, stableMs: 500, tasks, update: updating }), m2)).toMatchObject({ verdict: 'pending' });
    expect(judgeConvergence(look({ now: 3000, stableMs: 500, tasks: [task('t2', 'running')], update: { state: 'completed', startedAt: 'u1' } }), m2)).toMatchObject({ verdict: 'pending' });
    expect(judgeConvergence(look({ now: 3500, stableMs: 500, tasks: [task('t2', 'running')], update: { state: 'completed', startedAt: 'u1' } }), m2)).toMatchObject({ verdict: 'ok' });
  });

  it('asks the same running tasks to stay running for stableMs', () => {
    const memory = newConvergenceMemory();
    const tasks = [task('t1', 'running')];
    expect(judgeConvergence(look({ now: 1000, stableMs: 500, tasks }), memory)).toMatchObject({ verdict: 'pending' });
    expect(judgeConvergence(look({ now: 1400, stableMs: 500, tasks }), memory)).toMatchObject({ verdict: 'pending' });
    expect(judgeConvergence(look({ now: 1500, stableMs: 500, tasks }), memory)).toMatchObject({ verdict: 'ok' });
  });

  it('starts the stable period again when the running task changes (a process that exits at once and restarts)', () => {
    const memory = newConvergenceMemory();
    expect(judgeConvergence(look({ now: 1000, stableMs: 500, tasks: [task('t1', 'running')] }), memory)).toMatchObject({ verdict: 'pending' });
    expect(judgeConvergence(look({ now: 1600, stableMs: 500, tasks: [task('t2', 'running', { slot: 1 })] }), memory)).toMatchObject({ verdict: 'pending' });
    expect(judgeConvergence(look({ now: 2100, stableMs: 500, tasks: [task('t2', 'running', { slot: 1 })] }), memory)).toMatchObject({ verdict: 'ok' });
  });

  it('counts each failed task once, and the second beyond the tolerance ends the wait', () => {
    const memory = newConvergenceMemory();
    const first = task('t1', 'failed');
    expect(judgeConvergence(look({ maxFailedTasks: 1, tasks: [first] }), memory)).toMatchObject({ verdict: 'pending' });
    expect(judgeConvergence(look({ maxFailedTasks: 1, tasks: [first] }), memory)).toMatchObject({ verdict: 'pending' });
    expect(judgeConvergence(look({ maxFailedTasks: 1, tasks: [first, task('t2', 'failed', { slot: 1 })] }), memory)).toMatchObject({ verdict: 'failed', task: { id: 't2' } });
  });

  it('reports a task rejected while the engine started once, never as a failure', () => {
    const memory = newConvergenceMemory();
    const rejected = task('t1', 'rejected', { error: 'node is not part of a swarm', desiredState: 'shutdown' });
    expect(judgeConvergence(look({ tasks: [rejected] }), memory)).toMatchObject({ verdict: 'pending', rejectedWhileEngineStarting: [{ id: 't1' }] });
    expect(judgeConvergence(look({ tasks: [rejected, task('t2', 'running', { slot: 1 })] }), memory)).toMatchObject({ verdict: 'ok' });
  });
});
