import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { firstValueFrom } from 'rxjs';
import { CertificatesApi, InstanceTls } from '../../core/api/certificates-api.service';
import { Problem, toProblem } from '../../core/api/problem';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { expiryText, lastAttemptText, nextAttemptText } from '../applications/certificate-view';

/** The state line of Wharf's own certificate: what to show and in which tone. */
export function instanceTlsSummary(s: InstanceTls, now: Date = new Date()): { label: string; tone: 'ok' | 'bad' | 'busy' | 'idle'; lines: string[] } {
  if (s.mode === 'off' || !s.host) {
    return { label: 'Not behind the edge', tone: 'idle', lines: ['Set WHARF_PUBLIC_URL to https://<a domain name> to serve the portal and API through Traefik with a certificate.'] };
  }
  const source = s.mode === 'custom' ? 'from WHARF_TLS_CERT_FILE/WHARF_TLS_KEY_FILE' : 'from ACME (HTTP-01)';
  const lines = [`https://${s.host}, certificate ${source}`];
  if (s.issuer) lines.push(`Issued by ${s.issuer}, ${expiryText(s.notAfter, now).text}`);
  const last = lastAttemptText(s, now);
  if (last) lines.push(s.lastError ? `${last} — ${s.lastError}` : last);
  if (s.lastError) {
    const next = nextAttemptText(s, now);
    if (next) lines.push(next);
  }
  const label = s.status === 'valid' ? (s.lastError ? 'Valid (last attempt failed)' : 'Valid') : s.status === 'failed' ? 'Failed' : 'Pending';
  const tone = s.status === 'valid' ? (s.lastError || expiryText(s.notAfter, now).warn ? 'bad' : 'ok') : s.status === 'failed' ? 'bad' : 'busy';
  return { label, tone, lines };
}

/**
 * Wharf's own address and its certificate, for instance administrators (shown on the Certificates screen): host,
 * source, state, expiry, the last attempt and its reason, and "Renew now" (which also re-reads certificate files).
 */
@Component({
  selector: 'w-instance-tls',
  imports: [MatButtonModule, ProblemAlertComponent],
  template: `
    <section class="w-card" aria-labelledby="instance-tls-title">
      <h3 id="instance-tls-title">Wharf's own address</h3>
      <w-problem [problem]="problem()" />
      @if (summary(); as s) {
        <p><span [class]="'chip ' + s.tone" data-testid="instance-tls-state">{{ s.label }}</span></p>
        @for (l of s.lines; track $index) { <p class="line">{{ l }}</p> }
        @if (state()?.host) {
          <div class="w-row">
            <button mat-stroked-button type="button" (click)="renew()" [disabled]="busy()">Renew now</button>
            <button mat-button type="button" (click)="load()" [disabled]="busy()">Refresh</button>
          </div>
          @if (queued()) { <p role="status">Queued: the worker orders the certificate now (or re-reads its files).</p> }
        }
      } @else if (!problem()) {
        <p class="w-muted">Loading…</p>
      }
    </section>
  `,
  styles: `
    section { margin-top: 24px; max-width: 720px; }
    h3 { margin: 0 0 8px; }
    .line { margin: 4px 0; overflow-wrap: anywhere; }
    .chip { display: inline-block; padding: 0 8px; border-radius: 10px; font: var(--mat-sys-label-medium); border: 1px solid currentColor; }
    .ok { color: light-dark(#146c2e, #6dd58c); } .bad { color: var(--mat-sys-error); }
    .busy, .idle { color: var(--mat-sys-on-surface-variant); } .busy { border-style: dashed; }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class InstanceTlsComponent {
  private readonly api = inject(CertificatesApi);
  private alive = true;
  readonly state = signal<InstanceTls | null>(null);
  readonly problem = signal<Problem | null>(null);
  readonly busy = signal(false);
  readonly queued = signal(false);
  readonly summary = computed(() => {
    const s = this.state();
    return s ? instanceTlsSummary(s) : null;
  });

  constructor() {
    inject(DestroyRef).onDestroy(() => (this.alive = false));
    void this.load();
  }

  async load(): Promise<void> {
    try {
      const s = await firstValueFrom(this.api.instanceTls());
      if (!this.alive) return;
      this.state.set(s);
      this.problem.set(null);
    } catch (e) {
      if (this.alive) this.problem.set(toProblem(e));
    }
  }

  async renew(): Promise<void> {
    this.busy.set(true);
    this.queued.set(false);
    try {
      await firstValueFrom(this.api.renewInstanceTls());
      this.queued.set(true);
      this.problem.set(null);
    } catch (e) {
      this.problem.set(toProblem(e));
    } finally {
      this.busy.set(false);
    }
  }
}
