import { computed, DestroyRef, inject, Injectable, signal } from '@angular/core';
import { firstValueFrom, Subscription } from 'rxjs';
import { Application, ApplicationStatus } from '../../core/api/api-types';
import { Problem, toProblem } from '../../core/api/problem';
import { ResourcesApi } from '../../core/api/resources-api.service';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { LiveEvent, LiveEvents } from '../../core/live/live-events';

/** Without events (Swarm task states have none): how often the status is read anyway. */
export const FALLBACK_POLL_MS = 30_000;
/** While a deployment of the application is queued or running: its tasks change by the second. */
export const ACTIVE_POLL_MS = 3_000;
/** After a deployment ended the worker records the tasks' state a moment later: the short poll runs this much longer. */
export const SETTLE_MS = 10_000;
const ACTIVE = new Set(['deployment.queued', 'deployment.started', 'deployment.resumed', 'deployment.cancel-requested']);

/**
 * The application the application screens show (provided by the layout, shared by its tabs): the application, its
 * status from the real Swarm tasks and what the user may do. Refreshed by the organization's live events about the
 * application (LiveEvents); a slow poll covers what has no event (task states), a short one runs while a deployment
 * is queued or running.
 */
@Injectable()
export class ApplicationStore {
  private readonly api = inject(ResourcesApi);
  private readonly abilities = inject(AbilitiesService);
  readonly app = signal<Application | null>(null);
  readonly status = signal<ApplicationStatus | null>(null);
  readonly problem = signal<Problem | null>(null);
  /** The application went away while the screen was open (the API answers 404): polling has stopped. */
  readonly deleted = signal(false);
  /** Bumped on every live event about the application's deployments (and after a stream resync): lists reload. */
  readonly deploymentsChanged = signal(0);
  /** A deployment is queued or running (from the live events): the status is polled often meanwhile. */
  readonly deploying = signal(false);
  private readonly live = inject(LiveEvents);
  private timer: ReturnType<typeof setInterval> | null = null;
  private fastTimer: ReturnType<typeof setInterval> | null = null;
  private settleTimer: ReturnType<typeof setTimeout> | null = null;
  private events: Subscription | null = null;
  private id: string | null = null;

  private readonly fields = computed(() => ({ projectId: this.app()?.projectId }));
  private can(action: 'update' | 'delete' | 'deploy'): boolean {
    const a = this.app();
    return !!a && this.abilities.can(action, 'application', a.organizationId, this.fields());
  }
  readonly canUpdate = computed(() => this.can('update'));
  readonly canDelete = computed(() => this.can('delete'));
  readonly canDeploy = computed(() => this.can('deploy'));
  readonly canEditVars = computed(() => !!this.app() && this.abilities.can('update', 'variable', this.app()!.organizationId, this.fields()));
  readonly canReveal = computed(() => !!this.app() && this.abilities.can('reveal', 'variable', this.app()!.organizationId, this.fields()));

  constructor() {
    inject(DestroyRef).onDestroy(() => this.stopPolling());
  }

  async open(id: string, pollMs = FALLBACK_POLL_MS): Promise<void> {
    this.id = id;
    this.stopPolling();
    this.deleted.set(false);
    this.deploying.set(false);
    await this.reload();
    const app = this.app();
    if (this.deleted() || this.id !== id || !app) return;
    this.timer = setInterval(() => void this.refreshStatus(), pollMs);
    // A screen opened while a deployment is already queued or running polls often from the start, not from the next event.
    void firstValueFrom(this.api.deployments(id)).then(
      (page) => this.id === id && page.items.some((d) => d.status === 'queued' || d.status === 'running') && this.setDeploying(true),
      () => undefined,
    );
    this.events = this.live.watch(app.organizationId).subscribe((m) => {
      if (m.kind === 'resync') {
        this.deploymentsChanged.update((n) => n + 1);
        void this.reload();
      } else if (this.concerns(m.event)) this.onEvent(m.event);
    });
  }

  private concerns(e: LiveEvent): boolean {
    return !!this.id && (e.payload.applicationId === this.id || (e.subject.type === 'application' && e.subject.id === this.id));
  }

  private onEvent(e: LiveEvent): void {
    if (e.type.startsWith('deployment.')) {
      this.setDeploying(ACTIVE.has(e.type));
      this.deploymentsChanged.update((n) => n + 1);
      // The finished deployment changed the spec the service runs: the application too (its live state).
      void (ACTIVE.has(e.type) ? this.refreshStatus() : this.reload());
    } else if (e.type.startsWith('application.')) {
      void this.reload();
    }
  }

  private setDeploying(on: boolean): void {
    this.deploying.set(on);
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = null;
    if (on) {
      this.fastTimer ??= setInterval(() => void this.refreshStatus(), ACTIVE_POLL_MS);
    } else if (this.fastTimer) {
      this.settleTimer = setTimeout(() => this.stopFastPoll(), SETTLE_MS);
    }
  }

  private stopFastPoll(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    if (this.fastTimer) clearInterval(this.fastTimer);
    this.settleTimer = null;
    this.fastTimer = null;
  }

  async reload(): Promise<void> {
    if (!this.id) return;
    try {
      this.app.set(await firstValueFrom(this.api.application(this.id)));
      this.problem.set(null);
    } catch (e) {
      const p = toProblem(e);
      if (p.status === 404 && this.app()) this.markDeleted();
      else this.problem.set(p);
      return;
    }
    await this.refreshStatus();
  }

  async refreshStatus(): Promise<void> {
    if (!this.id) return;
    try {
      this.status.set(await firstValueFrom(this.api.status(this.id)));
    } catch (e) {
      // Gone (deleted here or elsewhere): say so and stop asking. Anything else: the next poll tries again.
      if (toProblem(e).status === 404) this.markDeleted();
    }
  }

  private markDeleted(): void {
    this.stopPolling();
    this.deleted.set(true);
    this.problem.set(null);
  }

  stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.deploying.set(false);
    this.stopFastPoll();
    this.events?.unsubscribe();
    this.events = null;
  }
}
