import { ChangeDetectionStrategy, Component, effect, inject, input, signal, untracked } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { Router, RouterLink } from '@angular/router';
import { firstValueFrom } from 'rxjs';
import { Registry } from '../../core/api/api-types';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { ResourcesApi } from '../../core/api/resources-api.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { linesToArgv, parseEnvLines } from './spec-form';

/** A new application from a container image (optionally from one of the organization's registries). */
@Component({
  selector: 'w-create-application-page',
  imports: [RouterLink, ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, MatSelectModule, ProblemAlertComponent],
  template: `
    <div class="w-page">
      <p><a [routerLink]="['/orgs', orgId(), 'projects', projectId(), 'environments', environmentId()]">Back to the environment</a></p>
      <h1>New application</h1>
      <w-problem [problem]="problem()" />
      <form class="w-form wide" [formGroup]="form" (ngSubmit)="create()" novalidate>
        <mat-form-field><mat-label>Name</mat-label><input matInput formControlName="name" autocomplete="off" required /><mat-error>{{ fieldError(form.controls.name, 'Name') }}</mat-error></mat-form-field>
        <mat-form-field>
          <mat-label>Registry</mat-label>
          <mat-select formControlName="registryId">
            <mat-option value="">None (public or local image)</mat-option>
            @for (r of registries(); track r.id) {
              <mat-option [value]="r.id">{{ r.name }} ({{ r.host }})</mat-option>
            }
          </mat-select>
        </mat-form-field>
        <mat-form-field><mat-label>Image</mat-label><input matInput formControlName="image" autocomplete="off" required placeholder="registry.example.com/team/web:1.2" /><mat-error>{{ fieldError(controlFor('image'), 'Image') }}</mat-error></mat-form-field>
        <mat-form-field>
          <mat-label>Command (one argument per line)</mat-label>
          <textarea matInput formControlName="command" rows="3"></textarea>
          <mat-hint>Empty: the image's own entrypoint</mat-hint>
        </mat-form-field>
        <div class="w-row">
          <mat-form-field><mat-label>Container port</mat-label><input matInput type="number" formControlName="target" /><mat-error>{{ fieldError(form.controls.target, 'Container port') }}</mat-error></mat-form-field>
          <mat-form-field><mat-label>Published port</mat-label><input matInput type="number" formControlName="published" /><mat-error>{{ fieldError(form.controls.published, 'Published port') }}</mat-error></mat-form-field>
          <mat-form-field>
            <mat-label>Port mode</mat-label>
            <mat-select formControlName="mode"><mat-option value="host">host</mat-option><mat-option value="ingress">ingress</mat-option></mat-select>
          </mat-form-field>
          <mat-form-field><mat-label>Replicas</mat-label><input matInput type="number" formControlName="replicas" min="0" max="100" /></mat-form-field>
        </div>
        <mat-form-field>
          <mat-label>Variables (KEY=value per line)</mat-label>
          <textarea matInput formControlName="variables" rows="3"></textarea>
          <mat-error>{{ fieldError(form.controls.variables, 'Variables') }}</mat-error>
        </mat-form-field>
        <div><button mat-flat-button type="submit" [disabled]="busy()">Create application</button></div>
      </form>
    </div>
  `,
  styles: `.wide { max-width: 720px; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class CreateApplicationPage {
  private readonly api = inject(ResourcesApi);
  private readonly router = inject(Router);
  readonly orgId = inject(OrgContext).currentId;
  readonly projectId = input.required<string>();
  readonly environmentId = input.required<string>();
  readonly registries = signal<Registry[]>([]);
  readonly problem = signal<Problem | null>(null);
  readonly busy = signal(false);
  readonly fieldError = fieldError;
  readonly form = inject(NonNullableFormBuilder).group({
    name: ['', Validators.required],
    registryId: [''],
    image: ['', Validators.required],
    command: [''],
    target: [null as number | null],
    published: [null as number | null],
    mode: ['host' as 'host' | 'ingress'],
    replicas: [1],
    variables: [''],
  });

  constructor() {
    effect(() => {
      const org = this.orgId();
      if (org) untracked(() => firstValueFrom(this.api.registries(org)).then((r) => this.registries.set(r), () => this.registries.set([])));
    });
  }

  /** Server errors name /spec/<field>: they land on the matching control. */
  controlFor(name: 'image') {
    return this.form.controls[name];
  }

  async create(): Promise<void> {
    if (this.form.invalid) return this.form.markAllAsTouched();
    const v = this.form.getRawValue();
    let vars: ReturnType<typeof parseEnvLines>;
    try {
      vars = parseEnvLines(v.variables);
    } catch (e) {
      this.form.controls.variables.setErrors({ server: (e as Error).message });
      return;
    }
    this.busy.set(true);
    this.problem.set(null);
    try {
      const spec = {
        image: v.image.trim(),
        ...(v.registryId ? { registryId: v.registryId } : {}),
        command: linesToArgv(v.command),
        replicas: Number(v.replicas),
        ports: v.target ? [{ target: Number(v.target), ...(v.published ? { published: Number(v.published) } : {}), protocol: 'tcp' as const, mode: v.mode }] : [],
      };
      const app = await firstValueFrom(this.api.createApplication(this.environmentId(), { name: v.name, spec }));
      if (vars.length) await firstValueFrom(this.api.appVariables(app.id).put(vars));
      await this.router.navigate(['/orgs', this.orgId(), 'applications', app.id, 'deployments']);
    } catch (e) {
      const p = toProblem(e);
      // The form has one port row: /spec/ports/0/published is its "published" field (a taken port lands there).
      for (const err of p.errors ?? []) err.pointer = err.pointer.replace(/^\/spec\/ports\/0\/(target|published|mode)$/, '/$1').replace(/^\/spec/, '');
      this.problem.set(applyProblem(this.form, p) ?? null);
    } finally {
      this.busy.set(false);
    }
  }
}
