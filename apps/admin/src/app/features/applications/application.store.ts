import { computed, DestroyRef, inject, Injectable, signal } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import { Application, ApplicationStatus } from '../../core/api/api-types';
import { Problem, toProblem } from '../../core/api/problem';
import { ResourcesApi } from '../../core/api/resources-api.service';
import { AbilitiesService } from '../../core/auth/abilities.service';

/**
 * The application the application screens show (provided by the layout, shared by its tabs): the application, its
 * status from the real Swarm tasks (refreshed every few seconds while the screen is open) and what the user may do.
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
  private timer: ReturnType<typeof setInterval> | null = null;
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

  async open(id: string, pollMs = 3000): Promise<void> {
    this.id = id;
    this.stopPolling();
    this.deleted.set(false);
    await this.reload();
    if (this.deleted() || this.id !== id) return;
    this.timer = setInterval(() => void this.refreshStatus(), pollMs);
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
  }
}
