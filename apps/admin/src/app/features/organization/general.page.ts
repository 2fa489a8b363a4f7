import { ChangeDetectionStrategy, Component, computed, effect, inject, signal, untracked } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import type { Organization } from '../../core/api/api-types';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';

/**
 * Name and retention of the organization. Saves with If-Match (the ETag of the last read): when someone else changed
 * the organization meanwhile the API answers 412 and the form shows the current values.
 */
@Component({
  selector: 'w-organization-general-page',
  imports: [ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, ProblemAlertComponent],
  template: `
    <h2>General</h2>
    <w-problem [problem]="problem()" />
    @if (saved()) {
      <p role="status">Saved.</p>
    }
    @if (org(); as o) {
      <form class="w-form" [formGroup]="form" (ngSubmit)="save()" novalidate aria-label="Organization settings">
        <fieldset [disabled]="!canUpdate()" class="plain">
          <mat-form-field>
            <mat-label>Organization name</mat-label>
            <input matInput formControlName="name" autocomplete="organization" maxlength="100" required />
            <mat-hint>Slug: {{ o.slug }} (does not change)</mat-hint>
            <mat-error>{{ fieldError(form.controls.name, 'Organization name') }}</mat-error>
          </mat-form-field>
          <mat-form-field>
            <mat-label>Audit log retention (days)</mat-label>
            <input matInput type="number" formControlName="auditRetentionDays" min="1" max="3650" />
            <mat-error>{{ fieldError(form.controls.auditRetentionDays, 'Audit log retention') }}</mat-error>
          </mat-form-field>
          <mat-form-field>
            <mat-label>Deployment log retention (days)</mat-label>
            <input matInput type="number" formControlName="deploymentLogRetentionDays" min="1" max="3650" />
            <mat-error>{{ fieldError(form.controls.deploymentLogRetentionDays, 'Deployment log retention') }}</mat-error>
          </mat-form-field>
        </fieldset>
        @if (canUpdate()) {
          <div><button mat-flat-button type="submit" [disabled]="busy()">Save</button></div>
        }
      </form>
    }
  `,
  styles: `mat-form-field { width: 100%; max-width: 400px; } .plain { border: 0; padding: 0; margin: 0; display: flex; flex-direction: column; gap: 8px; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class OrganizationGeneralPage {
  private readonly orgs = inject(OrgContext);
  private readonly abilities = inject(AbilitiesService);
  readonly fieldError = fieldError;
  readonly org = signal<Organization | null>(null);
  readonly problem = signal<Problem | null>(null);
  readonly saved = signal(false);
  readonly busy = signal(false);
  readonly canUpdate = computed(() => this.abilities.can('update', 'organization', this.orgs.currentId()));
  private etag = '';
  readonly form = inject(NonNullableFormBuilder).group({
    name: ['', [Validators.required, Validators.maxLength(100)]],
    auditRetentionDays: [365, [Validators.required, Validators.min(1), Validators.max(3650)]],
    deploymentLogRetentionDays: [30, [Validators.required, Validators.min(1), Validators.max(3650)]],
  });

  constructor() {
    effect(() => {
      const id = this.orgs.currentId();
      if (id) untracked(() => void this.load(id));
    });
  }

  async load(id: string): Promise<void> {
    try {
      const { organization, etag } = await this.orgs.fetch(id);
      // A switch to another organization while this request was in flight: its own load shows that one.
      if (this.orgs.currentId() !== id) return;
      this.show(organization, etag);
    } catch (e) {
      this.problem.set(toProblem(e));
    }
  }

  async save(): Promise<void> {
    const o = this.org();
    if (!o) return;
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    this.busy.set(true);
    this.problem.set(null);
    this.saved.set(false);
    const v = this.form.getRawValue();
    const patch = {
      ...(v.name.trim() !== o.name ? { name: v.name.trim() } : {}),
      ...(Number(v.auditRetentionDays) !== o.auditRetentionDays ? { auditRetentionDays: Number(v.auditRetentionDays) } : {}),
      ...(Number(v.deploymentLogRetentionDays) !== o.deploymentLogRetentionDays ? { deploymentLogRetentionDays: Number(v.deploymentLogRetentionDays) } : {}),
    };
    try {
      const { organization, etag } = await this.orgs.update(o.id, this.etag, patch);
      this.show(organization, etag);
      this.saved.set(true);
    } catch (e) {
      const problem = toProblem(e);
      if (problem.status === 412) {
        await this.load(o.id);
        this.problem.set({ ...problem, detail: 'Someone else changed this organization meanwhile. The form now shows the current values; make your change again.' });
      } else {
        this.problem.set(applyProblem(this.form, problem));
      }
    } finally {
      this.busy.set(false);
    }
  }

  private show(o: Organization, etag: string): void {
    this.org.set(o);
    this.etag = etag;
    this.form.reset({ name: o.name, auditRetentionDays: o.auditRetentionDays, deploymentLogRetentionDays: o.deploymentLogRetentionDays });
  }
}
