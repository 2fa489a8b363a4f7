import { ChangeDetectionStrategy, Component, effect, inject, input, signal, untracked } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { Router, RouterLink } from '@angular/router';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { AuthService } from '../../core/auth/auth.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';

/** First run: the setup token from Wharf's log, the first user (owner) and the first organization. */
@Component({
  selector: 'w-setup-page',
  imports: [ReactiveFormsModule, MatFormFieldModule, MatInputModule, MatButtonModule, RouterLink, ProblemAlertComponent],
  templateUrl: './setup.page.html',
  styleUrl: './auth-layout.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class SetupPage {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  /** ?token=… from the link Wharf prints to its log at first start: fills in the setup token. */
  readonly token = input<string>('');
  readonly busy = signal(false);
  readonly problem = signal<Problem | null>(null);
  readonly fieldError = fieldError;

  readonly form = inject(NonNullableFormBuilder).group({
    setupToken: ['', [Validators.required, Validators.minLength(10)]],
    email: ['', [Validators.required, Validators.email]],
    name: ['', Validators.required],
    password: ['', [Validators.required, Validators.minLength(10)]],
    organizationName: ['', Validators.required],
  });

  constructor() {
    effect(() => {
      const token = this.token();
      if (token) untracked(() => this.form.controls.setupToken.setValue(token));
    });
  }

  async submit(): Promise<void> {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    this.busy.set(true);
    this.problem.set(null);
    try {
      const r = await this.auth.setup(this.form.getRawValue());
      await this.router.navigate(['/orgs', r.organizationId]);
    } catch (e) {
      this.problem.set(applyProblem(this.form, toProblem(e)));
    } finally {
      this.busy.set(false);
    }
  }
}
