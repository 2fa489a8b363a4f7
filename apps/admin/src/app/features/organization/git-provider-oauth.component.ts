import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, inject, input, signal } from '@angular/core';
import { ActivatedRoute } from '@angular/router';
import { MatButtonModule } from '@angular/material/button';
import { firstValueFrom } from 'rxjs';
import { GitProvider, GitProvidersApi } from '../../core/api/git-providers-api.service';
import { toProblem } from '../../core/api/problem';

/** What the callback's `reason` codes mean, for the message after coming back from the provider. */
const REASONS: Record<string, string> = {
  'oauth-invalid-state': 'the authorization expired or was already used; start it again',
  'oauth-browser-mismatch': 'it was started in another browser; start it again here',
  'oauth-user-mismatch': 'it was started by another user',
  'oauth-denied': 'access was denied at the provider',
  'oauth-exchange-failed': 'the provider did not give tokens for the code (check the application id or key, the secret and the redirect URI)',
};

/**
 * A GitLab connection through an OAuth application (or a Bitbucket one through an OAuth consumer), in the Git providers
 * list: its authorization (who, until when, or that it needs re-authorization), the redirect URI to register at the
 * provider, "Authorize with GitLab/Bitbucket" (the browser goes to the provider and comes back to this page), and how
 * the last authorization ended (?oauth=…&provider=…).
 */
@Component({
  selector: 'w-git-provider-oauth',
  imports: [DatePipe, MatButtonModule],
  template: `
    @let o = provider().oauth;
    @if (o) {
      <div class="oauth" data-testid="git-provider-oauth">
        <div role="status">
          @switch (o.status) {
            @case ('authorized') { Authorized as {{ o.username ?? 'unknown user' }}@if (o.expiresAt) {; token renewed automatically (expires {{ o.expiresAt | date: 'short' }})} }
            @case ('needs-reauthorization') { <strong>Needs re-authorization</strong>@if (o.message) {: {{ o.message }}} }
            @default { Not authorized yet }
          }
        </div>
        @if (returned(); as r) {
          <div role="alert" [class.w-error]="!r.ok">{{ r.text }}</div>
        }
        @if (canAuthorize()) {
          <button mat-stroked-button type="button" (click)="authorize()" [disabled]="busy()" [attr.aria-label]="'Authorize with ' + label() + ': ' + provider().name">Authorize with {{ label() }}</button>
        }
        @if (error(); as e) { <div role="alert" class="w-error">{{ e }}</div> }
        <div class="w-muted">{{ provider().kind === 'bitbucket' ? 'Callback URL of the Bitbucket OAuth consumer' : 'Redirect URI to register in the GitLab application' }}: <code data-testid="oauth-redirect-uri">{{ o.redirectUri }}</code></div>
      </div>
    }
  `,
  styles: [`.oauth { display: grid; gap: 4px; margin-top: 4px; } .oauth button { justify-self: start; } code { word-break: break-all; }`],
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class GitProviderOAuthComponent {
  readonly provider = input.required<GitProvider>();
  readonly canAuthorize = input(false);
  private readonly api = inject(GitProvidersApi);
  private readonly query = inject(ActivatedRoute).snapshot.queryParamMap;
  readonly label = computed(() => (this.provider().kind === 'bitbucket' ? 'Bitbucket' : 'GitLab'));
  readonly busy = signal(false);
  readonly error = signal<string | null>(null);
  readonly returned = computed(() => {
    if (this.query.get('provider') !== this.provider().id) return null;
    const flag = this.query.get('oauth');
    if (flag === 'authorized') return { ok: true, text: `Authorized with ${this.label()}.` };
    if (flag !== 'failed') return null;
    const reason = this.query.get('reason') ?? '';
    return { ok: false, text: `Authorization failed: ${REASONS[reason] ?? reason ?? 'unknown reason'}.` };
  });

  /** Starts the authorization and sends the browser to the provider's authorize page. */
  async authorize(): Promise<void> {
    this.busy.set(true);
    this.error.set(null);
    try {
      const r = await firstValueFrom(this.api.authorize(this.provider().id));
      globalThis.location.assign(r.authorizationUrl);
    } catch (e) {
      this.error.set(toProblem(e).detail ?? 'Could not start the authorization');
      this.busy.set(false);
    }
  }
}
