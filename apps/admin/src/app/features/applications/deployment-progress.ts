import { computed, signal } from '@angular/core';
import { DeploymentLogLine, DeploymentStatus, FINISHED } from '../../core/api/api-types';

/** The steps a deployment runs through, in order (the worker logs each line under one of them). */
export const DEPLOY_STEPS = ['network', 'pull', 'service', 'wait', 'finish'] as const;
const WORK_STEPS: readonly string[] = DEPLOY_STEPS.filter((s) => s !== 'finish');
/** `skipped`: not run because the deployment failed or was cancelled before it; `cancelled`: where a cancel stopped it. */
export type StepState = 'pending' | 'active' | 'done' | 'failed' | 'cancelled' | 'skipped';

/**
 * The live view of one deployment: its log lines (deduplicated by seq, in order), the state of each step and an
 * overall progress figure, all as signals. Fed by the log stream and by status updates.
 */
export class DeploymentProgress {
  readonly lines = signal<DeploymentLogLine[]>([]);
  readonly status = signal<DeploymentStatus>('queued');
  private lastSeq = 0;

  readonly finished = computed(() => FINISHED.includes(this.status()));
  readonly steps = computed(() => {
    const seen = new Set(this.lines().map((l) => l.step));
    // The last working step that logged a line. `finish` is excluded: the outcome line (failed, cancelled) is logged
    // under it whatever step the deployment stopped in.
    const reached = WORK_STEPS.reduce((last, s, i) => (seen.has(s) ? i : last), -1);
    const status = this.status();
    const stopped = status === 'failed' || status === 'cancelled';
    return DEPLOY_STEPS.map((name, i): { name: string; state: StepState } => {
      if (status === 'succeeded') return { name, state: 'done' };
      if (stopped) {
        if (i < reached) return { name, state: 'done' };
        if (i === reached) return { name, state: status === 'failed' ? 'failed' : 'cancelled' };
        return { name, state: 'skipped' };
      }
      if (this.finished()) return { name, state: i <= reached ? 'done' : 'skipped' };
      if (i < reached) return { name, state: 'done' };
      if (i === reached) return { name, state: 'active' };
      return { name, state: 'pending' };
    });
  });
  /** 0–100: finished steps over all steps (100 once the deployment is over). */
  readonly percent = computed(() => {
    if (this.finished()) return 100;
    const steps = this.steps();
    const done = steps.filter((s) => s.state === 'done').length + steps.filter((s) => s.state === 'active').length * 0.5;
    return Math.round((done / steps.length) * 100);
  });

  /** The seq to resume after (the `after` query parameter when reconnecting). */
  get after(): number {
    return this.lastSeq;
  }

  add(lines: DeploymentLogLine[]): void {
    const fresh = lines.filter((l) => l.seq > this.lastSeq).sort((a, b) => a.seq - b.seq);
    if (!fresh.length) return;
    this.lastSeq = fresh[fresh.length - 1].seq;
    this.lines.update((all) => [...all, ...fresh]);
  }

  setStatus(s: DeploymentStatus): void {
    this.status.set(s);
  }
}
