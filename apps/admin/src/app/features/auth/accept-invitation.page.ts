import { HttpClient } from '@angular/common/http';
import { ChangeDetectionStrategy, Component, computed, inject, input, signal } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { Router } from '@angular/router';
import { firstValueFrom } from 'rxjs';
import { AcceptedInvitation, AcceptInvitationBody, API } from '../../core/api/api-types';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { AuthService } from '../../core/auth/auth.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';

/**
 * Accepting an invitation (/invitations/accept?token=…): a signed-in user with the invited email joins directly;
 * anyone else creates an account with a name and password, then signs in.
 */
@Component({
  selector: 'w-accept-invitation-page',
  imports: [ReactiveFormsModule, MatFormFieldModule, MatInputModule, MatButtonModule, ProblemAlertComponent],
  templateUrl: './accept-invitation.page.html',
  styleUrl: './auth-layout.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AcceptInvitationPage {
  private readonly http = inject(HttpClient);
  private readonly router = inject(Router);
  private readonly auth = inject(AuthService);
  private readonly orgs = inject(OrgContext);
  readonly token = input<string>('');
  readonly busy = signal(false);
  readonly problem = signal<Problem | null>(null);
  readonly fieldError = fieldError;
  readonly user = this.auth.user;
  readonly hasToken = computed(() => this.token().length >= 10);

  readonly form = inject(NonNullableFormBuilder).group({
    name: ['', Validators.required],
    password: ['', [Validators.required, Validators.minLength(10)]],
  });

  constructor() {
    void this.auth.ensureLoaded().catch(() => null);
  }

  async accept(): Promise<void> {
    const signedIn = !!this.user();
    if (!signedIn && this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    this.busy.set(true);
    this.problem.set(null);
    const body: AcceptInvitationBody = signedIn ? { token: this.token() } : { token: this.token(), ...this.form.getRawValue() };
    try {
      const r = await firstValueFrom(this.http.post<AcceptedInvitation>(`${API}/invitations/accept`, body));
      if (signedIn) {
        await this.orgs.load();
        await this.router.navigate(['/orgs', r.organizationId]);
      } else {
        await this.router.navigate(['/login'], { queryParams: { notice: 'Your account is ready. Sign in with your email and the password you chose.' } });
      }
    } catch (e) {
      this.problem.set(applyProblem(this.form, toProblem(e)));
    } finally {
      this.busy.set(false);
    }
  }
}
