import { ChangeDetectionStrategy, Component, effect, inject, input, signal, untracked } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import { ApiClient } from '../../core/api/api-client.gen';
import { PublicOidcProvider } from '../../core/api/api-types';
import { ResourcesApi } from '../../core/api/resources-api.service';
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
  private readonly api = inject(ResourcesApi);
  private readonly client = inject(ApiClient);
  readonly returnUrl = input<string>();
  readonly notice = input<string>();
  /** ?org=<slug>: the organization whose single sign-on providers to offer. */
  readonly org = input<string>();
  /** ?error=<code> after a failed single sign-on. */
  readonly error = input<string>();
  readonly orgSlug = signal('');
  readonly providers = signal<PublicOidcProvider[] | null>(null);

  readonly step = signal<'password' | 'totp'>('password');
  readonly useRecovery = signal(false);
  readonly busy = signal(false);
  readonly problem = signal<Problem | null>(null);
  readonly fieldError = fieldError;
  /** "First start?" is offered only while the install still needs its first owner. */
  readonly setupNeeded = this.auth.setupNeeded;

  readonly form = this.fb.group({
    email: ['', [Validators.required, Validators.email]],
    password: ['', Validators.required],
  });
  readonly second = this.fb.group({
    totpCode: ['', [Validators.pattern(/^\d{6}$/)]],
    recoveryCode: [''],
  });

  constructor() {
    void this.auth.checkSetup().catch(() => undefined);
    effect(() => {
      const slug = this.org();
      if (slug) untracked(() => {
        this.orgSlug.set(slug);
        void this.loadProviders();
      });
    });
    effect(() => {
      const code = this.error();
      if (code) untracked(() => this.problem.set({ type: 'about:blank', title: 'Single sign-on failed', status: 401, detail: `The identity provider sign-in did not complete (${code}).`, code, requestId: null }));
    });
  }

  async loadProviders(): Promise<void> {
    const slug = this.orgSlug().trim();
    if (!slug) return;
    try {
      this.providers.set(await firstValueFrom(this.api.publicOidcProviders(slug)));
    } catch {
      this.providers.set([]);
    }
  }

  ssoHref(p: PublicOidcProvider): string {
    return this.client.oidcAuthStartUrl({ path: { providerId: p.id }, query: { returnTo: this.safeReturnUrl() } });
  }

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
