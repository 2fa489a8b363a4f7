import { Clipboard } from '@angular/cdk/clipboard';
import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, effect, inject, input, signal, untracked } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { RouterLink } from '@angular/router';
import { firstValueFrom } from 'rxjs';
import { Problem, toProblem } from '../../core/api/problem';
import { ApplicationSource, SourcesApi, WebhookDelivery } from '../../core/api/sources-api.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { shortSha, webhookUrls } from './source-form';

const PROVIDER_NAMES: Record<string, string> = { github: 'GitHub', gitlab: 'GitLab', gitea: 'Gitea / Forgejo', bitbucket: 'Bitbucket', generic: 'Generic' };

/**
 * Push to deploy for an application with a Git source: the webhook URL of each provider (with Copy), the webhook
 * secret shown on request (audited by the API; gone again when the screen is left) and rotated after a confirmation,
 * and the recorded deliveries (accepted with a link to their deployment, ignored or rejected with the reason).
 */
@Component({
  selector: 'w-source-webhooks',
  imports: [DatePipe, RouterLink, MatButtonModule, MatFormFieldModule, MatInputModule, ProblemAlertComponent],
  template: `
    <section class="w-card" aria-labelledby="webhooks-title">
      <h2 id="webhooks-title">Webhooks</h2>
      <w-problem [problem]="problem()" />
      <p class="w-muted">Add one of these URLs to the repository's webhooks (push events, JSON): a push to <code>{{ source().ref }}</code> deploys that commit. GitHub, Gitea and Bitbucket sign with the secret, GitLab sends it as its token; a generic sender signs <code>&lt;X-Wharf-Timestamp&gt;.&lt;body&gt;</code> with HMAC-SHA256 in <code>X-Wharf-Signature-256</code>.</p>
      <table class="w-table" aria-label="Webhook URLs">
        <thead><tr><th scope="col">Provider</th><th scope="col">URL</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          @for (w of urls(); track w.provider) {
            <tr [attr.data-provider]="w.provider">
              <td>{{ providerName(w.provider) }}</td>
              <td><code class="url">{{ w.url }}</code></td>
              <td class="actions"><button mat-button type="button" (click)="copy(w.url, w.provider)" [attr.aria-label]="'Copy the ' + providerName(w.provider) + ' webhook URL'">{{ copied() === w.provider ? 'Copied' : 'Copy' }}</button></td>
            </tr>
          }
        </tbody>
      </table>
      @if (canUpdate()) {
        @if (secret(); as s) {
          <div class="w-row secret">
            <mat-form-field class="grow">
              <mat-label>Webhook secret</mat-label>
              <input matInput readonly [value]="s" autocomplete="off" spellcheck="false" />
              <mat-hint>Give it to the provider; it is hidden again when you leave this screen</mat-hint>
            </mat-form-field>
            <button mat-stroked-button type="button" (click)="copy(s, 'secret')" aria-label="Copy the webhook secret">{{ copied() === 'secret' ? 'Copied' : 'Copy' }}</button>
            <button mat-button type="button" (click)="secret.set(null)">Hide secret</button>
          </div>
        }
        <div class="w-row">
          @if (!secret()) { <button mat-stroked-button type="button" (click)="reveal()" [disabled]="busy()">Show secret</button> }
          <button mat-button type="button" (click)="rotate()" [disabled]="busy()">Rotate secret</button>
        </div>
      }
    </section>

    <section class="w-card" aria-labelledby="deliveries-title">
      <div class="w-row">
        <h2 id="deliveries-title">Deliveries</h2>
        <span class="w-spacer"></span>
        <button mat-stroked-button type="button" (click)="load()" [disabled]="loading()">Refresh</button>
      </div>
      @if (deliveries(); as list) {
        @if (list.length === 0) {
          <p class="w-muted">No deliveries yet.</p>
        } @else {
          <table class="w-table" aria-label="Webhook deliveries">
            <thead><tr><th scope="col">Time</th><th scope="col">Provider</th><th scope="col">Event</th><th scope="col">Outcome</th><th scope="col">Reason</th><th scope="col">Commit</th><th scope="col">Deployment</th></tr></thead>
            <tbody>
              @for (d of list; track d.id) {
                <tr [attr.data-delivery]="d.deliveryId">
                  <td>{{ d.receivedAt | date: 'medium' }}</td>
                  <td>{{ providerName(d.provider) }}</td>
                  <td>{{ d.event ?? '—' }}</td>
                  <td><span [class]="'chip ' + d.outcome" data-testid="delivery-outcome">{{ d.outcome }}</span></td>
                  <td class="reason">{{ d.reason ?? '' }}</td>
                  <td>@if (d.commit) { <code [attr.title]="d.commit">{{ short(d.commit) }}</code> }</td>
                  <td>
                    @if (d.deploymentId; as id) {
                      <a [routerLink]="['/orgs', orgId(), 'applications', applicationId(), 'deployments']" [queryParams]="{ deployment: id }" [attr.title]="id">{{ id.slice(-8) }}</a>
                    }
                  </td>
                </tr>
              }
            </tbody>
          </table>
        }
      } @else {
        <p class="w-muted">Loading deliveries…</p>
      }
    </section>
  `,
  styles: `
    h2 { margin: 0 0 8px; }
    .url { overflow-wrap: anywhere; }
    .actions { white-space: nowrap; text-align: right; }
    .grow { flex: 1 1 360px; }
    .secret { margin-top: 12px; }
    .reason { max-width: 28em; overflow-wrap: anywhere; }
    .chip { display: inline-block; padding: 1px 8px; border-radius: 10px; font: var(--mat-sys-label-medium); border: 1px solid currentColor; }
    .accepted { color: light-dark(#146c2e, #6dd58c); } .rejected { color: var(--mat-sys-error); } .ignored { color: var(--mat-sys-on-surface-variant); }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class SourceWebhooksComponent {
  private readonly api = inject(SourcesApi);
  private readonly clipboard = inject(Clipboard);
  readonly orgId = inject(OrgContext).currentId;
  readonly applicationId = input.required<string>();
  readonly source = input.required<ApplicationSource>();
  readonly canUpdate = input(false);
  readonly urls = computed(() => webhookUrls(this.source().webhooks, globalThis.location?.origin ?? ''));
  /** The revealed secret: only in this component, so leaving the screen forgets it. */
  readonly secret = signal<string | null>(null);
  readonly deliveries = signal<WebhookDelivery[] | null>(null);
  readonly problem = signal<Problem | null>(null);
  readonly busy = signal(false);
  readonly loading = signal(false);
  /** What was copied last (a provider, or 'secret'), for the button's "Copied". */
  readonly copied = signal<string | null>(null);
  readonly short = shortSha;
  readonly providerName = (p: string) => PROVIDER_NAMES[p] ?? p;

  constructor() {
    effect(() => {
      if (this.applicationId()) untracked(() => void this.load());
    });
  }

  copy(text: string, what: string): void {
    if (this.clipboard.copy(text)) this.copied.set(what);
  }

  async load(): Promise<void> {
    this.loading.set(true);
    try {
      this.deliveries.set(await firstValueFrom(this.api.deliveries(this.applicationId())));
    } catch (e) {
      this.problem.set(toProblem(e));
    } finally {
      this.loading.set(false);
    }
  }

  async reveal(): Promise<void> {
    await this.secretCall(() => this.api.revealSecret(this.applicationId()));
  }

  async rotate(): Promise<void> {
    if (!confirm('Rotate the webhook secret? Deliveries signed with the current secret are refused until every provider has the new one.')) return;
    await this.secretCall(() => this.api.rotateSecret(this.applicationId()));
  }

  private async secretCall(call: () => ReturnType<SourcesApi['revealSecret']>): Promise<void> {
    this.busy.set(true);
    this.problem.set(null);
    try {
      this.secret.set(await firstValueFrom(call()));
      this.copied.set(null);
    } catch (e) {
      this.problem.set(toProblem(e));
    } finally {
      this.busy.set(false);
    }
  }
}
