import { afterNextRender, ChangeDetectionStrategy, Component, computed, effect, inject, Injector, signal, untracked } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { Router, RouterLink } from '@angular/router';
import { firstValueFrom, forkJoin } from 'rxjs';
import { Application, Environment, Project } from '../../core/api/api-types';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { ResourcesApi } from '../../core/api/resources-api.service';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { StatusChipComponent } from '../../shared/ui/status-chip.component';
import { TeardownProgressComponent } from '../../shared/ui/teardown-progress.component';
import { liveRefresh } from '../../core/live/live-refresh';

interface EnvView { env: Environment; apps: Application[] }
interface ProjectView { project: Project; envs: EnvView[] }

/** Marked once the dashboard's data is on screen (the browser test measures it). */
export const DASHBOARD_READY_MARK = 'wharf:dashboard-ready';

/**
 * The organization's start page: every project with its environments and each service's live state. Three kinds of
 * request: the projects, the organization's applications (GET /organizations/{id}/applications, with runtime state)
 * and one environment list per project.
 */
@Component({
  selector: 'w-dashboard-page',
  imports: [RouterLink, ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, MatProgressBarModule, ProblemAlertComponent, StatusChipComponent, TeardownProgressComponent],
  template: `
    <div class="w-page">
      <h1>{{ org()?.name }}</h1>
      <div class="w-row">
        <h2>Projects</h2>
        <span class="w-spacer"></span>
        @if (canCreate()) {
          <form class="w-row" [formGroup]="form" (ngSubmit)="create()" novalidate aria-label="New project">
            <mat-form-field subscriptSizing="dynamic"><mat-label>Project name</mat-label><input matInput formControlName="name" autocomplete="off" /><mat-error>{{ fieldError(form.controls.name, 'Name') }}</mat-error></mat-form-field>
            <button mat-flat-button type="submit" [disabled]="busy()">Create project</button>
          </form>
        }
      </div>
      <w-problem [problem]="problem()" />
      @if (canReadProjects()) {
        <w-teardown-progress [orgId]="orgId()" />
      }
      @if (!canReadProjects()) {
        <p class="w-muted">You cannot see projects in this organization.</p>
      } @else if (loading()) {
        <mat-progress-bar mode="indeterminate" aria-label="Loading" />
      } @else if (view().length === 0) {
        <section class="w-card" aria-label="No projects yet">
          <p class="lead"><strong>No projects yet.</strong></p>
          @if (canCreate()) {
            <p class="next">Next step: name your first project above and choose <strong>Create project</strong>. It starts with a production environment, where you deploy your first service.</p>
          } @else {
            <p class="w-muted next">An administrator of this organization can create the first project.</p>
          }
        </section>
      } @else {
        <p class="w-muted summary">{{ view().length }} projects · {{ appCount() }} services · {{ runningCount() }} running</p>
        <div class="projects">
          @for (p of view(); track p.project.id) {
            <section class="w-card" [attr.aria-label]="'Project ' + p.project.name">
              <h3><a [routerLink]="['/orgs', orgId(), 'projects', p.project.id]">{{ p.project.name }}</a></h3>
              @for (e of p.envs; track e.env.id) {
                <h4><a [routerLink]="['/orgs', orgId(), 'projects', p.project.id, 'environments', e.env.id]">{{ e.env.name }}</a></h4>
                @if (e.apps.length) {
                  <ul class="services" [attr.aria-label]="'Services in ' + p.project.name + ' ' + e.env.name">
                    @for (a of e.apps; track a.id) {
                      <li><a [routerLink]="['/orgs', orgId(), 'applications', a.id]">{{ a.name }}</a> <w-status [state]="a.runtime?.state ?? (a.desiredState === 'stopped' ? 'stopped' : 'not deployed')" /></li>
                    }
                  </ul>
                } @else {
                  <p class="w-muted">No services.</p>
                }
              }
            </section>
          }
        </div>
      }
    </div>
  `,
  styles: `
    .projects { display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); }
    h4 { margin: 8px 0 4px; font: var(--mat-sys-title-small); }
    .lead { margin: 0 0 8px; } .next { margin: 0; }
    .services { list-style: none; padding: 0; margin: 0; display: flex; flex-direction: column; gap: 2px; }
    .services li { display: flex; justify-content: space-between; gap: 8px; }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class DashboardPage {
  private readonly api = inject(ResourcesApi);
  private readonly abilities = inject(AbilitiesService);
  private readonly orgs = inject(OrgContext);
  private readonly router = inject(Router);
  private readonly injector = inject(Injector);
  readonly org = this.orgs.current;
  readonly orgId = this.orgs.currentId;
  readonly canReadProjects = computed(() => this.abilities.can('read', 'project', this.orgId()));
  readonly canCreate = computed(() => this.abilities.can('create', 'project', this.orgId()));
  readonly loading = signal(true);
  readonly busy = signal(false);
  readonly problem = signal<Problem | null>(null);
  readonly view = signal<ProjectView[]>([]);
  readonly appCount = computed(() => this.view().reduce((n, p) => n + p.envs.reduce((m, e) => m + e.apps.length, 0), 0));
  readonly runningCount = computed(() => this.view().reduce((n, p) => n + p.envs.reduce((m, e) => m + e.apps.filter((a) => a.runtime?.state === 'running').length, 0), 0));
  readonly fieldError = fieldError;
  readonly form = inject(NonNullableFormBuilder).group({ name: ['', Validators.required] });

  constructor() {
    effect(() => {
      if (this.orgId() && this.canReadProjects()) untracked(() => void this.load());
    });
    // Projects, environments and services change under the user's eyes: live events refresh the view in place.
    liveRefresh(this.orgId, (e) => /^(project|environment|application|deployment)\./.test(e.type), () => (this.canReadProjects() ? this.load(true) : Promise.resolve()));
  }

  /** `silent`: a live refresh keeps the current view on screen until the new one is ready (no progress bar). */
  async load(silent = false): Promise<void> {
    const orgId = this.orgId()!;
    if (!silent) this.loading.set(true);
    try {
      const [projects, apps] = await Promise.all([firstValueFrom(this.api.projects(orgId)), this.allApplications(orgId)]);
      const envLists = projects.items.length ? await firstValueFrom(forkJoin(projects.items.map((p) => this.api.environments(p.id)))) : [];
      const byEnv = new Map<string, Application[]>();
      for (const a of apps) byEnv.set(a.environmentId, [...(byEnv.get(a.environmentId) ?? []), a]);
      this.view.set(projects.items.map((project, i) => ({ project, envs: envLists[i].items.map((env) => ({ env, apps: byEnv.get(env.id) ?? [] })) })));
      afterNextRender(() => performance.mark(DASHBOARD_READY_MARK), { injector: this.injector });
    } catch (e) {
      this.problem.set(toProblem(e));
    } finally {
      this.loading.set(false);
    }
  }

  private async allApplications(orgId: string): Promise<Application[]> {
    const out: Application[] = [];
    let cursor: string | undefined;
    do {
      const page = await firstValueFrom(this.api.orgApplications(orgId, cursor));
      out.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return out;
  }

  async create(): Promise<void> {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    this.busy.set(true);
    this.problem.set(null);
    try {
      const p = await firstValueFrom(this.api.createProject(this.orgId()!, this.form.getRawValue()));
      await this.router.navigate(['/orgs', this.orgId(), 'projects', p.id]);
    } catch (e) {
      this.problem.set(applyProblem(this.form, toProblem(e)));
    } finally {
      this.busy.set(false);
    }
  }
}
