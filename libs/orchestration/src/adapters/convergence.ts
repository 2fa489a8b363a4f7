import type { TaskInfo } from '../ports/swarm.port';

/** Task states that end a task for good (a replica that ran to completion counts as failed for a long-running service). */
export const FAILED_STATES = new Set(['failed', 'rejected', 'complete', 'orphaned']);
/**
 * What a task is rejected with when the node's swarm agent is not up yet right after a dockerd restart. Swarm replaces
 * such a task by itself (the restart policy), so it does not count as a failure of the deployment.
 */
export const ENGINE_RESTART_REJECTION = /swarm is not active|not a swarm manager|node is not part of a swarm/i;
/** A rollback someone asked for (`docker service rollback`, or Wharf restoring a spec): not Swarm's own failure action. */
export const MANUAL_ROLLBACK = /manually requested rollback/i;

export interface UpdateStatusSeen {
  state?: string;
  message?: string;
  startedAt?: string;
}

/** One look at the service: what the adapter observed (no engine calls happen in the judgement). */
export interface ConvergenceObservation {
  now: number;
  /** When the wait gives up. */
  deadline: number;
  /** Replicas the service asks for. */
  desired: number;
  /** The service's UpdateStatus now, and as it was when the wait began (a stale status belongs to an earlier update). */
  update?: UpdateStatusSeen;
  initialUpdate: UpdateStatusSeen;
  /** Tasks of the current spec (`_up-to-date`). */
  tasks: TaskInfo[];
  /** How long the same running tasks must stay running before they count (0 when a health check proves them). */
  stableMs: number;
  /** Failed tasks tolerated before the wait fails. */
  maxFailedTasks: number;
}

/** What the judgement remembers between looks (failures already counted, since when the running set is stable). */
export interface ConvergenceMemory {
  failedIds: Set<string>;
  restartRejects: Set<string>;
  stableSince?: { key: string; at: number };
}

export const newConvergenceMemory = (): ConvergenceMemory => ({ failedIds: new Set(), restartRejects: new Set() });

export type ConvergenceVerdict =
  | { verdict: 'ok'; running: number }
  | { verdict: 'failed'; reason: 'task-failed' | 'unhealthy'; task: TaskInfo; running: number }
  | { verdict: 'paused'; what: 'update' | 'rollback'; running: number }
  | { verdict: 'rolled-back'; running: number }
  | { verdict: 'timeout'; converged: boolean; pending: TaskInfo[]; running: number }
  | { verdict: 'pending'; running: number; rejectedWhileEngineStarting: TaskInfo[] };

/**
 * The convergence judgement, a pure function of one observation and what earlier looks remembered (`memory` is
 * updated): ok, failed (a task failed or went unhealthy), paused (Swarm paused the update or its rollback), rolled back
 * (Swarm's own failure action), timeout, or pending (look again). The adapter only observes and reports.
 */
export function judgeConvergence(o: ConvergenceObservation, memory: ConvergenceMemory): ConvergenceVerdict {
  const us = o.update;
  const running = new Set(o.tasks.filter((t) => t.desiredState === 'running' && t.state === 'running').map((t) => t.slot ?? t.id)).size;
  // Only an update status that appeared during this wait counts; a rollback already under way when the wait began
  // (e.g. after a manual rollback) is what the caller waits for.
  const changed = !!us && (us.state !== o.initialUpdate.state || us.startedAt !== o.initialUpdate.startedAt);
  const newRun = !!us && us.startedAt !== o.initialUpdate.startedAt;
  if (changed && (us!.state === 'paused' || us!.state === 'rollback_paused')) return { verdict: 'paused', what: us!.state === 'paused' ? 'update' : 'rollback', running };
  const rollingBack = us?.state === 'rollback_started' || us?.state === 'rollback_completed';
  const rollbackUnderWayAtStart = !!o.initialUpdate.state?.startsWith('rollback') && !newRun;
  if (changed && rollingBack && !rollbackUnderWayAtStart && !MANUAL_ROLLBACK.test(us!.message ?? '')) return { verdict: 'rolled-back', running };

  const rejectedWhileEngineStarting: TaskInfo[] = [];
  for (const t of o.tasks) {
    if (!FAILED_STATES.has(t.state) || memory.failedIds.has(t.id) || memory.restartRejects.has(t.id)) continue;
    if (t.state === 'rejected' && ENGINE_RESTART_REJECTION.test(t.error ?? '')) {
      memory.restartRejects.add(t.id);
      rejectedWhileEngineStarting.push(t);
      continue;
    }
    memory.failedIds.add(t.id);
    if (memory.failedIds.size > o.maxFailedTasks) {
      const unhealthy = /unhealthy/i.test(t.error ?? '') || t.health?.status === 'unhealthy';
      return { verdict: 'failed', reason: unhealthy ? 'unhealthy' : 'task-failed', task: t, running };
    }
  }

  const updating = us?.state === 'updating' || us?.state === 'rollback_started';
  const allRunning = running >= o.desired && o.tasks.filter((t) => t.desiredState === 'running').length <= o.desired;
  const converged = allRunning && !updating;
  if (allRunning) {
    // A task is "running" the moment its process starts, even one that exits right away: the same running tasks must
    // stay so for `stableMs` before the wait says yes. The time counts from when they all ran, also while Swarm's
    // update monitor still watches them (the two checks overlap instead of adding up).
    const key = o.tasks.filter((t) => t.state === 'running').map((t) => t.id).sort().join(',');
    if (!memory.stableSince || memory.stableSince.key !== key) memory.stableSince = { key, at: o.now };
    if (converged && o.now - memory.stableSince.at >= o.stableMs) return { verdict: 'ok', running };
  } else {
    memory.stableSince = undefined;
  }
  if (o.now >= o.deadline) {
    const pending = o.tasks.filter((t) => t.state !== 'running' && !['shutdown', 'remove'].includes(t.desiredState) && !FAILED_STATES.has(t.state));
    return { verdict: 'timeout', converged, pending, running };
  }
  return { verdict: 'pending', running, rejectedWhileEngineStarting };
}
