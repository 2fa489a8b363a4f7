import { ChangeDetectionStrategy, Component, computed, effect, inject, input, signal, untracked } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { Router, RouterLink } from '@angular/router';
import { firstValueFrom } from 'rxjs';
import { Application, Environment } from '../../core/api/api-types';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { ResourcesApi, VariableBackend } from '../../core/api/resources-api.service';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { StatusChipComponent } from '../../shared/ui/status-chip.component';
import { DeleteConfirmation, DeleteWithVolumesComponent } from '../../shared/ui/delete-with-volumes.component';
import { VariablesEditorComponent } from '../../shared/ui/variables-editor.component';
import { TrailNames } from '../../shared/ui/breadcrumbs.component';
import { TeardownNavigationState } from '../../shared/ui/teardown-progress.component';
import { liveRefresh } from '../../core/live/live-refresh';

/** An environment: its services with their live state, its variables, rename and delete. */
@Component({
  selector: 'w-environment-page',
  imports: [RouterLink, ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, ProblemAlertComponent, StatusChipComponent, DeleteWithVolumesComponent, VariablesEditorComponent],
  template: `
    <div class="w-page">
      <w-problem [problem]="problem()" />
      @if (env(); as e) {
        <h1>{{ e.name }} <span class="w-muted slug">{{ e.slug }}</span></h1>
        <div class="w-row">
          <h2>Services</h2>
          <span class="w-spacer"></span>
          @if (canCreateApp()) {
            <a mat-flat-button [routerLink]="['/orgs', orgId(), 'projects', projectId(), 'environments', e.id, 'new-application']">New application</a>
          }
        </div>
        @if (apps() === null) {
          <p class="w-muted">Loading services…</p>
        } @else if (apps()!.length === 0) {
          <section class="w-card" aria-label="No services yet">
            <p><strong>No services yet.</strong></p>
            @if (canCreateApp()) {
              <p class="next">Next step: choose <strong>New application</strong> to deploy your first service from an image.</p>
            } @else {
              <p class="w-muted next">Someone with the developer role or above can deploy the first one.</p>
            }
          </section>
        } @else {
          <div class="w-scroll">
          <table class="w-table" aria-label="Services">
            <thead><tr><th scope="col">Name</th><th scope="col">Image</th><th scope="col">Replicas</th><th scope="col">State</th></tr></thead>
            <tbody>
              @for (a of apps(); track a.id) {
                <tr>
                  <td><a [routerLink]="['/orgs', orgId(), 'applications', a.id]">{{ a.name }}</a></td>
                  <td><code>{{ a.spec.image }}</code></td>
                  <td>{{ a.runtime ? a.runtime.running + '/' + a.runtime.desired : a.spec.replicas }}</td>
                  <td><w-status [state]="a.runtime?.state ?? 'not deployed'" /></td>
                </tr>
              }
            </tbody>
          </table>
          </div>
        }
        <h2>Environment variables</h2>
        <p class="w-muted">They override project variables of the same name.</p>
        <w-variables-editor label="Environment variables" [backend]="vars()" [canEdit]="canEditVars()" [canReveal]="canReveal()" />
        @if (canUpdate()) {
          <h2>Settings</h2>
          <form class="w-row" [formGroup]="rename" (ngSubmit)="saveName(e)" novalidate aria-label="Rename environment">
            <mat-form-field subscriptSizing="dynamic"><mat-label>Environment name</mat-label><input matInput formControlName="name" /><mat-error>{{ fieldError(rename.controls.name, 'Name') }}</mat-error></mat-form-field>
            <button mat-stroked-button type="submit">Rename environment</button>
          </form>
        }
        @if (canDelete()) {
          <h2>Danger zone</h2>
          <section class="w-card" aria-label="Delete environment">
            <p>Deleting the environment removes its variables. The last environment of a project cannot be deleted.</p>
            <w-delete-with-volumes [expected]="e.slug" action="Delete environment" (confirmed)="remove(e, $event)" />
          </section>
        }
      }
    </div>
  `,
  styles: `.slug { font: var(--mat-sys-body-medium); } .w-card p { margin: 0 0 8px; } .w-card .next { margin: 0; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class EnvironmentPage {
  private readonly api = inject(ResourcesApi);
  private readonly abilities = inject(AbilitiesService);
  private readonly router = inject(Router);
  private readonly trail = inject(TrailNames);
  readonly orgId = inject(OrgContext).currentId;
  readonly projectId = input.required<string>();
  readonly environmentId = input.required<string>();
  readonly env = signal<Environment | null>(null);
  readonly apps = signal<Application[] | null>(null);
  readonly problem = signal<Problem | null>(null);
  readonly vars = computed<VariableBackend>(() => this.api.variables('environments', this.environmentId()));
  private readonly scope = computed(() => ({ projectId: this.projectId() }));
  readonly canCreateApp = computed(() => this.abilities.can('create', 'application', this.orgId(), this.scope()));
  readonly canUpdate = computed(() => this.abilities.can('update', 'environment', this.orgId(), this.scope()));
  readonly canDelete = computed(() => this.abilities.can('delete', 'environment', this.orgId(), this.scope()));
  readonly canEditVars = computed(() => this.abilities.can('update', 'variable', this.orgId(), this.scope()));
  readonly canReveal = computed(() => this.abilities.can('reveal', 'variable', this.orgId(), this.scope()));
  readonly fieldError = fieldError;
  readonly rename = inject(NonNullableFormBuilder).group({ name: ['', Validators.required] });

  constructor() {
    effect(() => {
      this.environmentId();
      untracked(() => void this.load());
    });
    // The services' states follow the organization's live events about this environment (no polling).
    liveRefresh(this.orgId, (e) => e.payload.environmentId === this.environmentId() && /^(application|deployment)\./.test(e.type), () => this.refreshApps());
  }

  /** Only the list of services: a live refresh must not reset the rename form while someone types in it. */
  async refreshApps(): Promise<void> {
    const id = this.environmentId();
    const apps = await firstValueFrom(this.api.environmentApplications(id));
    if (id === this.environmentId()) this.apps.set(apps.items);
  }

  async load(): Promise<void> {
    try {
      const [e, apps] = await Promise.all([firstValueFrom(this.api.environment(this.environmentId())), firstValueFrom(this.api.environmentApplications(this.environmentId()))]);
      this.env.set(e);
      this.apps.set(apps.items);
      this.rename.setValue({ name: e.name });
    } catch (err) {
      this.problem.set(toProblem(err));
    }
  }

  async saveName(e: Environment): Promise<void> {
    if (this.rename.invalid) return this.rename.markAllAsTouched();
    try {
      this.env.set(await firstValueFrom(this.api.renameEnvironment(e, this.rename.getRawValue().name)));
      this.trail.changed();
      this.problem.set(null);
    } catch (err) {
      this.problem.set(applyProblem(this.rename, toProblem(err)));
    }
  }

  async remove(e: Environment, c: DeleteConfirmation): Promise<void> {
    try {
      await firstValueFrom(this.api.deleteEnvironment(e.id, c.removeVolumes));
      // The project page shows the removal of the environment's services and network (its teardown).
      await this.router.navigate(['/orgs', this.orgId(), 'projects', this.projectId()], { state: { teardown: e.id } satisfies TeardownNavigationState });
    } catch (err) {
      this.problem.set(toProblem(err));
    }
  }
}
