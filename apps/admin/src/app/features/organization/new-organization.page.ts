import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { Router, RouterLink } from '@angular/router';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';

/** Creates an organization; the user becomes its owner and lands on its dashboard. */
@Component({
  selector: 'w-new-organization-page',
  imports: [ReactiveFormsModule, RouterLink, MatButtonModule, MatFormFieldModule, MatInputModule, ProblemAlertComponent],
  template: `
    <div class="w-page">
      <h1>New organization</h1>
      <p class="w-muted">Organizations hold projects, members and settings of their own. You become the owner.</p>
      <section class="w-card">
        <w-problem [problem]="problem()" />
        <form class="w-form" [formGroup]="form" (ngSubmit)="create()" novalidate>
          <mat-form-field>
            <mat-label>Organization name</mat-label>
            <input matInput formControlName="name" autocomplete="organization" maxlength="100" required />
            <mat-error>{{ fieldError(form.controls.name, 'Organization name') }}</mat-error>
          </mat-form-field>
          <div class="w-row">
            <button mat-flat-button type="submit" [disabled]="busy()">Create organization</button>
            <a mat-button routerLink="/">Cancel</a>
          </div>
        </form>
      </section>
    </div>
  `,
  styles: `mat-form-field { width: 100%; max-width: 400px; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class NewOrganizationPage {
  private readonly orgs = inject(OrgContext);
  private readonly abilities = inject(AbilitiesService);
  private readonly router = inject(Router);
  readonly fieldError = fieldError;
  readonly problem = signal<Problem | null>(null);
  readonly busy = signal(false);
  readonly form = inject(NonNullableFormBuilder).group({ name: ['', [Validators.required, Validators.maxLength(100)]] });

  async create(): Promise<void> {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    this.busy.set(true);
    this.problem.set(null);
    try {
      const o = await this.orgs.create({ name: this.form.getRawValue().name.trim() });
      // The new ownership brings new rules.
      await this.abilities.load();
      await this.router.navigate(['/orgs', o.id, 'dashboard']);
    } catch (e) {
      this.problem.set(applyProblem(this.form, toProblem(e)));
    } finally {
      this.busy.set(false);
    }
  }
}
