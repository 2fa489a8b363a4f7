import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { firstValueFrom } from 'rxjs';
import { ApiClient } from '../../core/api/api-client.gen';
import { RecoveryCodes, Session, TwoFactorSetup } from '../../core/api/api-types';
import { Loadable } from '../../core/api/list-state';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { AuthService } from '../../core/auth/auth.service';
import { ListStateComponent } from '../../shared/ui/list-state.component';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { PersonalApiKeysComponent } from './personal-api-keys.component';

/** Password, two-factor authentication, active sessions and personal API keys of the signed-in user. */
@Component({
  selector: 'w-profile-page',
  imports: [DatePipe, ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, ListStateComponent, ProblemAlertComponent, PersonalApiKeysComponent],
  templateUrl: './profile.page.html',
  styles: `
    mat-form-field { width: 100%; max-width: 400px; }
    .qr { background: #fff; padding: 8px; border-radius: 8px; width: 200px; height: 200px; }
    .codes { columns: 2; font-family: ui-monospace, Menlo, Consolas, monospace; max-width: 400px; }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ProfilePage {
  private readonly api = inject(ApiClient);
  private readonly auth = inject(AuthService);
  private readonly fb = inject(NonNullableFormBuilder);
  readonly user = this.auth.user;
  readonly fieldError = fieldError;

  readonly passwordForm = this.fb.group({
    currentPassword: ['', Validators.required],
    newPassword: ['', [Validators.required, Validators.minLength(10)]],
  });
  readonly passwordProblem = signal<Problem | null>(null);
  readonly passwordDone = signal(false);

  readonly sessions = new Loadable<Session[]>(() => this.api.meSessionsList());
  readonly sessionProblem = signal<Problem | null>(null);

  readonly enrolment = signal<{ secret: string; otpauthUri: string; qr: string } | null>(null);
  readonly recoveryCodes = signal<string[] | null>(null);
  readonly totpProblem = signal<Problem | null>(null);
  readonly totpForm = this.fb.group({ code: ['', [Validators.required, Validators.pattern(/^\d{6}$/)]] });
  readonly disableForm = this.fb.group({ password: ['', Validators.required] });
  readonly busy = signal(false);

  constructor() {
    void this.sessions.load();
  }

  async changePassword(): Promise<void> {
    if (this.passwordForm.invalid) {
      this.passwordForm.markAllAsTouched();
      return;
    }
    this.passwordProblem.set(null);
    this.passwordDone.set(false);
    try {
      await firstValueFrom(this.api.meChangePassword({ body: this.passwordForm.getRawValue() }));
      this.passwordForm.reset();
      this.passwordDone.set(true);
      await this.sessions.load();
    } catch (e) {
      this.passwordProblem.set(applyProblem(this.passwordForm, toProblem(e)));
    }
  }

  async revokeSession(s: Session): Promise<void> {
    this.sessionProblem.set(null);
    try {
      await firstValueFrom(this.api.meRevokeSession({ path: { sessionId: s.id } }));
    } catch (e) {
      this.sessionProblem.set(toProblem(e));
    }
    await this.sessions.load();
  }

  async beginTwoFactor(): Promise<void> {
    this.totpProblem.set(null);
    this.busy.set(true);
    try {
      const r: TwoFactorSetup = await firstValueFrom(this.api.meBeginTwoFactor());
      // qrcode is CommonJS: its functions sit on the module's default export once bundled.
      const mod = await import('qrcode');
      const qrcode = (mod as unknown as { default?: typeof mod }).default ?? mod;
      const qr = await qrcode.toDataURL(r.otpauthUri, { margin: 1, width: 200, errorCorrectionLevel: 'M' });
      this.enrolment.set({ ...r, qr });
    } catch (e) {
      this.totpProblem.set(toProblem(e));
    } finally {
      this.busy.set(false);
    }
  }

  async confirmTwoFactor(): Promise<void> {
    if (this.totpForm.invalid) {
      this.totpForm.markAllAsTouched();
      return;
    }
    this.totpProblem.set(null);
    try {
      const r: RecoveryCodes = await firstValueFrom(this.api.meEnableTwoFactor({ body: this.totpForm.getRawValue() }));
      this.recoveryCodes.set(r.recoveryCodes);
      this.enrolment.set(null);
      this.totpForm.reset();
      await this.auth.reload();
    } catch (e) {
      this.totpProblem.set(applyProblem(this.totpForm, toProblem(e)));
    }
  }

  async disableTwoFactor(): Promise<void> {
    if (this.disableForm.invalid) {
      this.disableForm.markAllAsTouched();
      return;
    }
    this.totpProblem.set(null);
    try {
      await firstValueFrom(this.api.meDisableTwoFactor({ body: this.disableForm.getRawValue() }));
      this.disableForm.reset();
      this.recoveryCodes.set(null);
      await this.auth.reload();
    } catch (e) {
      this.totpProblem.set(applyProblem(this.disableForm, toProblem(e)));
    }
  }
}
