import { ChangeDetectionStrategy, Component, inject, input, signal } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { RouterLink } from '@angular/router';
import { firstValueFrom } from 'rxjs';
import { isCommitId } from '@wharf/contracts';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { ResourcesApi } from '../../core/api/resources-api.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';

/** What the API takes as `commit` (checked here too, to answer before sending). */
const commitValidator = (c: { value: string }) => (c.value.trim() === '' || isCommitId(c.value.trim()) ? null : { commit: true });

/**
 * "Deploy commit…": a Git application's deployment of exactly the commit typed (a full id), optionally from another
 * branch or tag than the source's, for this deployment only. Shown with `application:deploy`; the server's field
 * errors land at their fields; the queued deployment is linked.
 */
@Component({
  selector: 'w-deploy-commit',
  imports: [ReactiveFormsModule, RouterLink, MatButtonModule, MatFormFieldModule, MatInputModule, ProblemAlertComponent],
  template: `
    <form class="w-card w-form" [formGroup]="form" (ngSubmit)="deploy()" novalidate aria-label="Deploy commit">
      <h2>Deploy commit…</h2>
      <p class="w-muted">Build and deploy exactly one commit (for example to go back to an older one). The source's settings stay as they are.</p>
      <w-problem [problem]="problem()" />
      <div class="w-row">
        <mat-form-field class="grow">
          <mat-label>Commit</mat-label>
          <input matInput formControlName="commit" autocomplete="off" spellcheck="false" placeholder="40 or 64 hexadecimal characters" data-testid="deploy-commit" />
          <mat-hint>The full commit id</mat-hint>
          <mat-error>{{ form.controls.commit.hasError('commit') ? 'Enter a full commit id (40 or 64 lowercase hexadecimal characters)' : fieldError(form.controls.commit, 'Commit') }}</mat-error>
        </mat-form-field>
        <mat-form-field>
          <mat-label>Branch or tag (optional)</mat-label>
          <input matInput formControlName="ref" autocomplete="off" spellcheck="false" [placeholder]="sourceRef()" />
          <mat-hint>Where the commit is, when not on {{ sourceRef() }}</mat-hint>
          <mat-error>{{ fieldError(form.controls.ref, 'Branch or tag') }}</mat-error>
        </mat-form-field>
      </div>
      <div class="w-row">
        <button mat-flat-button type="submit" [disabled]="busy()">Deploy commit</button>
        @if (queued(); as id) {
          <span role="status">Deployment queued: <a [routerLink]="['/orgs', orgId(), 'applications', applicationId(), 'deployments']" [queryParams]="{ deployment: id }">{{ id.slice(-8) }}</a></span>
        }
      </div>
    </form>
  `,
  styles: `h2 { margin: 0 0 8px; } .grow { flex: 1 1 360px; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class DeployCommitComponent {
  readonly applicationId = input.required<string>();
  readonly sourceRef = input.required<string>();
  readonly orgId = inject(OrgContext).currentId;
  private readonly api = inject(ResourcesApi);
  private readonly fb = inject(NonNullableFormBuilder);
  readonly fieldError = fieldError;
  readonly busy = signal(false);
  readonly problem = signal<Problem | null>(null);
  readonly queued = signal<string | null>(null);
  readonly form = this.fb.group({ commit: ['', [Validators.required, commitValidator]], ref: [''] });

  async deploy(): Promise<void> {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    const commit = this.form.controls.commit.value.trim();
    const ref = this.form.controls.ref.value.trim();
    this.busy.set(true);
    this.problem.set(null);
    this.queued.set(null);
    try {
      const d = await firstValueFrom(this.api.deployCommit(this.applicationId(), { commit, ...(ref ? { ref } : {}) }));
      this.queued.set(d.id);
    } catch (e) {
      this.problem.set(applyProblem(this.form, toProblem(e)));
    } finally {
      this.busy.set(false);
    }
  }
}
