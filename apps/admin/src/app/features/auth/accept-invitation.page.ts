import { ChangeDetectionStrategy, Component, computed, effect, inject, input, signal, untracked } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { Router, RouterLink } from '@angular/router';
import { firstValueFrom } from 'rxjs';
import { ApiClient } from '../../core/api/api-client.gen';
import { AcceptInvitationBody, InvitationPreview } from '../../core/api/api-types';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { AuthService } from '../../core/auth/auth.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';

/**
 * Accepting an invitation (/invitations/accept?token=…): a signed-in user with the invited email joins directly;
 * anyone else creates an account with a name and password and is signed in with it. The page first names the
 * organization, the invited email and the role (the token travels in a header, never in an API URL).
 */
@Component({
  selector: 'w-accept-invitation-page',
  imports: [ReactiveFormsModule, MatFormFieldModule, MatInputModule, MatButtonModule, RouterLink, ProblemAlertComponent],
  templateUrl: './accept-invitation.page.html',
  styleUrl: './auth-layout.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AcceptInvitationPage {
  private readonly api = inject(ApiClient);
  private readonly router = inject(Router);
  private readonly auth = inject(AuthService);
  private readonly orgs = inject(OrgContext);
  readonly token = input<string>('');
  readonly busy = signal(false);
  readonly problem = signal<Problem | null>(null);
  readonly fieldError = fieldError;
  readonly user = this.auth.user;
  readonly hasToken = computed(() => this.token().length >= 10);
  /** What the invitation offers; null while loading or when the link is no longer valid (then `problem` says why). */
  readonly preview = signal<InvitationPreview | null>(null);
  readonly returnUrl = computed(() => `/invitations/accept?token=${encodeURIComponent(this.token())}`);
  readonly otherAccount = computed(() => {
    const u = this.user();
    const p = this.preview();
    return !!u && !!p && u.email.toLowerCase() !== p.email.toLowerCase();
  });

  readonly form = inject(NonNullableFormBuilder).group({
    name: ['', Validators.required],
    password: ['', [Validators.required, Validators.minLength(10)]],
  });

  constructor() {
    void this.auth.ensureLoaded().catch(() => null);
    effect(() => {
      const token = this.token();
      if (this.hasToken()) untracked(() => void this.loadPreview(token));
    });
  }

  async loadPreview(token: string): Promise<void> {
    try {
      this.preview.set(await firstValueFrom(this.api.invitationsPreview({ headers: { 'x-invitation-token': token } })));
    } catch (e) {
      const p = toProblem(e);
      this.problem.set(p.status === 404 ? { ...p, title: 'Invitation not valid', detail: 'This invitation was already used, revoked, or has expired. Ask for a new invitation.' } : p);
    }
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
      const r = await firstValueFrom(this.api.invitationsAccept({ body }));
      // A new account's session came back as cookies: the invitee is signed in either way.
      if (!signedIn) await this.auth.reload();
      await this.orgs.load();
      await this.router.navigate(['/orgs', r.organizationId]);
    } catch (e) {
      this.problem.set(applyProblem(this.form, toProblem(e)));
    } finally {
      this.busy.set(false);
    }
  }
}
