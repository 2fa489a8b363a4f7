import { ChangeDetectionStrategy, Component, computed, DestroyRef, effect, inject, input, signal, untracked, viewChild } from '@angular/core';
import { FormGroupDirective, NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { Router, RouterLink } from '@angular/router';
import { firstValueFrom, forkJoin } from 'rxjs';
import { Application, Environment, Project } from '../../core/api/api-types';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { ResourcesApi, VariableBackend } from '../../core/api/resources-api.service';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { StatusChipComponent } from '../../shared/ui/status-chip.component';
import { DeleteConfirmation, DeleteWithVolumesComponent } from '../../shared/ui/delete-with-volumes.component';
import { VariablesEditorComponent } from '../../shared/ui/variables-editor.component';
import { TrailNames } from '../../shared/ui/breadcrumbs.component';
import { LiveEvents, LiveMessage } from '../../core/live/live-events';
import { TeardownNavigationState, TeardownProgressComponent } from '../../shared/ui/teardown-progress.component';

/**
 * How often the project page asks for its services' live state anyway: changes arrive as live events (LiveEvents);
 * Swarm task states have none.
 */
export const PROJECT_POLL_MS = 30_000;

/**
 * A project: its services in every environment with their live state (kept current by live events), rename,
 * environments (create), shared variables, delete with its slug typed.
 */
@Component({
  selector: 'w-project-page',
  imports: [RouterLink, ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, ProblemAlertComponent, StatusChipComponent, DeleteWithVolumesComponent, VariablesEditorComponent, TeardownProgressComponent],
  template: `
    <div class="w-page">
      <w-problem [problem]="problem()" />
      @if (project(); as p) {
        <h1>{{ p.name }} <span class="w-muted slug">{{ p.slug }}</span></h1>
        <w-teardown-progress [orgId]="orgId()" [projectId]="p.id" />
        <h2>Services</h2>
        @if (services() === null) {
          <p class="w-muted">Loading services…</p>
        } @else if (services()!.length === 0) {
          <section class="w-card empty" aria-label="No services yet">
            <p><strong>No services yet.</strong></p>
            @if (canCreateApp() && envs().length) {
              <p>Next step: deploy your first service into an environment.</p>
              <div class="w-row">
                @for (e of envs(); track e.id) {
                  <a mat-flat-button [routerLink]="['/orgs', orgId(), 'projects', p.id, 'environments', e.id, 'new-application']">New application in {{ e.name }}</a>
                }
              </div>
            } @else {
              <p class="w-muted">Someone with the developer role or above can deploy the first one.</p>
            }
          </section>
        } @else {
          <div class="w-scroll">
            <table class="w-table" aria-label="Services">
              <thead><tr><th scope="col">Name</th><th scope="col">Environment</th><th scope="col">Image</th><th scope="col">Replicas</th><th scope="col">State</th></tr></thead>
              <tbody>
                @for (a of services(); track a.id) {
                  <tr>
                    <td><a [routerLink]="['/orgs', orgId(), 'applications', a.id]">{{ a.name }}</a></td>
                    <td>{{ envName(a.environmentId) }}</td>
                    <td class="image"><code [title]="a.spec.image">{{ a.spec.image }}</code></td>
                    <td>{{ a.runtime ? a.runtime.running + '/' + a.runtime.desired : a.spec.replicas }}</td>
                    <td><w-status [state]="a.runtime?.state ?? (a.desiredState === 'stopped' ? 'stopped' : 'not deployed')" /></td>
                  </tr>
                }
              </tbody>
            </table>
          </div>
        }
        @if (canUpdate()) {
          <form class="w-row" [formGroup]="rename" (ngSubmit)="saveName(p)" novalidate aria-label="Rename project">
            <mat-form-field subscriptSizing="dynamic"><mat-label>Project name</mat-label><input matInput formControlName="name" /><mat-error>{{ fieldError(rename.controls.name, 'Name') }}</mat-error></mat-form-field>
            <button mat-stroked-button type="submit">Rename project</button>
          </form>
        }
        <h2>Environments</h2>
        <ul class="envs">
          @for (e of envs(); track e.id) {
            <li class="w-row">
              <a [routerLink]="['/orgs', orgId(), 'projects', p.id, 'environments', e.id]">{{ e.name }}</a>
              <span class="w-muted">{{ e.slug }}</span>
            </li>
          }
        </ul>
        @if (canCreateEnv()) {
          <form class="w-row" #newEnvForm="ngForm" [formGroup]="newEnv" (ngSubmit)="createEnv(p)" novalidate aria-label="New environment">
            <mat-form-field subscriptSizing="dynamic"><mat-label>Environment name</mat-label><input matInput formControlName="name" autocomplete="off" /><mat-error>{{ fieldError(newEnv.controls.name, 'Name') }}</mat-error></mat-form-field>
            <button mat-flat-button type="submit">Create environment</button>
          </form>
        }
        <h2>Project variables</h2>
        <p class="w-muted">Shared by every environment; reference them as <code>{{ '$' }}{{ '{{' }}project.NAME{{ '}}' }}</code>.</p>
        <w-variables-editor label="Project variables" [backend]="vars()!" [canEdit]="canEditVars()" [canReveal]="canReveal()" />
        @if (canDelete()) {
          <h2>Danger zone</h2>
          <section class="w-card" aria-label="Delete project">
            <p>Deleting the project removes its environments and variables.</p>
            <w-delete-with-volumes [expected]="p.slug" action="Delete project" (confirmed)="remove(p, $event)" />
          </section>
        }
      }
    </div>
  `,
  styles: `.slug { font: var(--mat-sys-body-medium); } .envs { padding-left: 20px; } .empty p { margin: 0 0 8px; } .image code { display: inline-block; max-width: 28ch; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; vertical-align: bottom; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ProjectPage {
  private readonly api = inject(ResourcesApi);
  private readonly abilities = inject(AbilitiesService);
  private readonly router = inject(Router);
  private readonly trail = inject(TrailNames);
  readonly orgId = inject(OrgContext).currentId;
  readonly projectId = input.required<string>();
  readonly project = signal<Project | null>(null);
  readonly envs = signal<Environment[]>([]);
  /** Every service of the project (all environments), with its runtime state; null until the first answer. */
  readonly services = signal<Application[] | null>(null);
  readonly problem = signal<Problem | null>(null);
  readonly vars = computed<VariableBackend>(() => this.api.variables('projects', this.projectId()));
  private readonly scope = computed(() => ({ projectId: this.projectId() }));
  readonly canUpdate = computed(() => this.abilities.can('update', 'project', this.orgId(), { id: this.projectId() }));
  readonly canDelete = computed(() => this.abilities.can('delete', 'project', this.orgId(), { id: this.projectId() }));
  readonly canCreateApp = computed(() => this.abilities.can('create', 'application', this.orgId(), this.scope()));
  readonly canCreateEnv = computed(() => this.abilities.can('create', 'environment', this.orgId(), this.scope()));
  readonly canEditVars = computed(() => this.abilities.can('update', 'variable', this.orgId(), this.scope()));
  readonly canReveal = computed(() => this.abilities.can('reveal', 'variable', this.orgId(), this.scope()));
  readonly fieldError = fieldError;
  private readonly fb = inject(NonNullableFormBuilder);
  readonly rename = this.fb.group({ name: ['', Validators.required] });
  readonly newEnv = this.fb.group({ name: ['', Validators.required] });
  /** resetForm() also clears the submitted state: after a create the empty form shows no "Name is required". */
  private readonly newEnvForm = viewChild<FormGroupDirective>('newEnvForm');

  constructor() {
    effect(() => {
      this.projectId();
      untracked(() => {
        this.services.set(null);
        void this.load();
      });
    });
    // Live state: the organization's events about this project refresh it; a slow poll covers task states.
    const timer = setInterval(() => void this.refreshServices(), PROJECT_POLL_MS);
    const live = inject(LiveEvents);
    effect((onCleanup) => {
      const orgId = this.orgId();
      if (!orgId) return;
      const sub = live.watch(orgId).subscribe((m) => untracked(() => this.onLive(m)));
      onCleanup(() => sub.unsubscribe());
    });
    inject(DestroyRef).onDestroy(() => clearInterval(timer));
  }

  private onLive(m: LiveMessage): void {
    if (m.kind === 'resync') return void this.load();
    const e = m.event;
    if (e.payload.projectId !== this.projectId() && !(e.subject.type === 'project' && e.subject.id === this.projectId())) return;
    if (e.type.startsWith('deployment.') || e.type.startsWith('application.')) void this.refreshServices();
    else if (e.type.startsWith('project.') || e.type.startsWith('environment.')) void this.load();
  }

  envName(id: string): string {
    return this.envs().find((e) => e.id === id)?.name ?? '';
  }

  async refreshServices(): Promise<void> {
    const envs = this.envs();
    if (!envs.length) return;
    try {
      const pages = await firstValueFrom(forkJoin(envs.map((e) => this.api.environmentApplications(e.id))));
      this.services.set(pages.flatMap((pg) => pg.items));
    } catch {
      // A failed refresh keeps what is shown; the next one tries again.
    }
  }

  async load(): Promise<void> {
    try {
      const [p, envs] = await Promise.all([firstValueFrom(this.api.project(this.projectId())), firstValueFrom(this.api.environments(this.projectId()))]);
      this.project.set(p);
      this.envs.set(envs.items);
      this.rename.setValue({ name: p.name });
      await this.refreshServices();
    } catch (e) {
      this.problem.set(toProblem(e));
    }
  }

  async saveName(p: Project): Promise<void> {
    if (this.rename.invalid) return this.rename.markAllAsTouched();
    try {
      this.project.set(await firstValueFrom(this.api.updateProject(p, this.rename.getRawValue())));
      this.trail.changed();
      this.problem.set(null);
    } catch (e) {
      this.problem.set(applyProblem(this.rename, toProblem(e)));
    }
  }

  async createEnv(p: Project): Promise<void> {
    if (this.newEnv.invalid) return this.newEnv.markAllAsTouched();
    try {
      await firstValueFrom(this.api.createEnvironment(p.id, this.newEnv.getRawValue().name));
      const dir = this.newEnvForm();
      if (dir) dir.resetForm({ name: '' });
      else this.newEnv.reset({ name: '' });
      await this.load();
    } catch (e) {
      this.problem.set(applyProblem(this.newEnv, toProblem(e)));
    }
  }

  async remove(p: Project, c: DeleteConfirmation): Promise<void> {
    try {
      await firstValueFrom(this.api.deleteProject(p, c.typed, c.removeVolumes));
      // The dashboard shows the removal of its services and networks (the teardown of this project).
      await this.router.navigate(['/orgs', this.orgId(), 'dashboard'], { state: { teardown: p.id } satisfies TeardownNavigationState });
    } catch (e) {
      this.problem.set(toProblem(e));
    }
  }
}
