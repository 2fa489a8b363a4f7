import { ChangeDetectionStrategy, Component, inject, input, signal } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { Router, RouterLink } from '@angular/router';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { AuthService, TotpRequired } from '../../core/auth/auth.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';

/** Sign-in: email and password, then (when the API answers `totp-required`) the authenticator code. */
@Component({
  selector: 'w-login-page',
  imports: [ReactiveFormsModule, MatFormFieldModule, MatInputModule, MatButtonModule, RouterLink, ProblemAlertComponent],
  templateUrl: './login.page.html',
  styleUrl: './auth-layout.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class LoginPage {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  private readonly fb = inject(NonNullableFormBuilder);
  readonly returnUrl = input<string>();
  readonly notice = input<string>();

  readonly step = signal<'password' | 'totp'>('password');
  readonly useRecovery = signal(false);
  readonly busy = signal(false);
  readonly problem = signal<Problem | null>(null);
  readonly fieldError = fieldError;

  readonly form = this.fb.group({
    email: ['', [Validators.required, Validators.email]],
    password: ['', Validators.required],
  });
  readonly second = this.fb.group({
    totpCode: ['', [Validators.pattern(/^\d{6}$/)]],
    recoveryCode: [''],
  });

  async submit(): Promise<void> {
    const form = this.step() === 'password' ? this.form : this.second;
    if (form.invalid) {
      form.markAllAsTouched();
      return;
    }
    this.busy.set(true);
    this.problem.set(null);
    const { totpCode, recoveryCode } = this.second.getRawValue();
    try {
      await this.auth.login({
        ...this.form.getRawValue(),
        ...(this.step() === 'totp' && !this.useRecovery() && totpCode ? { totpCode } : {}),
        ...(this.step() === 'totp' && this.useRecovery() && recoveryCode ? { recoveryCode } : {}),
      });
      await this.router.navigateByUrl(this.safeReturnUrl());
    } catch (e) {
      if (e instanceof TotpRequired) {
        if (this.step() === 'totp') this.problem.set({ type: 'about:blank', title: 'Code required', status: 401, detail: 'Enter the code from your authenticator app.', code: 'totp-required', requestId: null });
        this.step.set('totp');
      } else {
        this.problem.set(applyProblem(form, toProblem(e)));
      }
    } finally {
      this.busy.set(false);
    }
  }

  back(): void {
    this.step.set('password');
    this.second.reset();
    this.problem.set(null);
  }

  private safeReturnUrl(): string {
    const u = this.returnUrl();
    return u && u.startsWith('/') && !u.startsWith('//') ? u : '/';
  }
}
