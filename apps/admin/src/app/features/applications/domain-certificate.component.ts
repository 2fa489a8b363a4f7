import { ChangeDetectionStrategy, Component, computed, inject, input, output, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatSnackBar } from '@angular/material/snack-bar';
import { firstValueFrom } from 'rxjs';
import { Certificate, CertificatesApi, DnsCheck } from '../../core/api/certificates-api.service';
import type { Domain } from '../../core/api/domains-api.service';
import { Problem, toProblem } from '../../core/api/problem';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { certificateState, dnsCheckLines, expiryText, lastAttemptText, nextAttemptText } from './certificate-view';
import { CertificatesStore } from './certificates.store';
import { domainLabel } from './domain-form';

/**
 * A domain's certificate in its row of the Domains tab: a state badge, issuer and expiry, the last attempt with its
 * error, the next attempt; "Renew now" (ACME; disabled without application:update), "Upload certificate" (the tab
 * shows the form), "Remove uploaded certificate" (confirmed) and "Check DNS" with its result.
 */
@Component({
  selector: 'w-domain-certificate',
  imports: [MatButtonModule, ProblemAlertComponent],
  template: `
    @let c = certificate();
    @let s = state();
    <span class="line" data-testid="certificate-state">
      Certificate: <span [class]="'chip ' + s.tone" [attr.data-state]="s.state">{{ s.label }}</span>
      @if (c?.issuer) { <span> · issued by {{ c!.issuer }}</span> }
      @if (c?.notAfter) { <span [class.warn]="expiry().warn" data-testid="certificate-expiry"> · {{ expiry().text }}</span> }
    </span>
    @if (c && attempt()) {
      <span class="line" [class.error]="!!c.lastError" data-testid="certificate-attempt">{{ attempt() }}</span>
      @if (c.lastError) { <span class="line error">{{ c.lastError }}</span> }
    }
    @if (c && next()) { <span class="line w-muted">{{ next() }}</span> }
    @if (domain().https) {
      <span class="line buttons">
        @if (s.state !== 'custom') {
          <button mat-button type="button" (click)="renew()" [disabled]="!canUpdate() || busy()" [attr.aria-label]="'Renew now: ' + label()"
            [attr.title]="canUpdate() ? null : 'Needs permission to change the application'">Renew now</button>
        }
        @if (canUpdate()) {
          <button mat-button type="button" (click)="upload.emit(domain())" [attr.aria-label]="'Upload certificate: ' + label()">Upload certificate</button>
          @if (s.state === 'custom') {
            <button mat-button type="button" (click)="remove()" [disabled]="busy()" [attr.aria-label]="'Remove uploaded certificate: ' + label()">Remove uploaded certificate</button>
          }
        }
        <button mat-button type="button" (click)="checkDns()" [disabled]="checking()" [attr.aria-label]="'Check DNS: ' + label()">Check DNS</button>
      </span>
    }
    @if (dns(); as d) {
      <span class="dns" role="status" data-testid="dns-check" [attr.aria-label]="'DNS check of ' + d.host">
        @for (l of dnsLines(); track $index) { <span class="line" [class.error]="$last && !!d.problem">{{ l }}</span> }
      </span>
    }
    <w-problem [problem]="problem()" />
  `,
  styles: `
    :host { display: contents; }
    .line { display: block; }
    .chip { display: inline-block; padding: 0 8px; border-radius: 10px; font: var(--mat-sys-label-medium); border: 1px solid currentColor; }
    .ok { color: light-dark(#146c2e, #6dd58c); } .bad { color: var(--mat-sys-error); }
    .busy, .idle { color: var(--mat-sys-on-surface-variant); } .busy { border-style: dashed; }
    .warn { color: light-dark(#8a4b00, #ffb870); font-weight: 500; }
    .error { color: var(--mat-sys-error); }
    .buttons { margin-left: -12px; }
    .dns { display: block; padding: 4px 8px; border-left: 3px solid var(--mat-sys-outline-variant); }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class DomainCertificateComponent {
  readonly domain = input.required<Domain>();
  readonly certificate = input<Certificate | undefined>(undefined);
  readonly canUpdate = input(false);
  /** The tab opens its upload form for this domain. */
  readonly upload = output<Domain>();
  private readonly api = inject(CertificatesApi);
  private readonly store = inject(CertificatesStore);
  private readonly snack = inject(MatSnackBar);
  readonly busy = signal(false);
  readonly checking = signal(false);
  readonly problem = signal<Problem | null>(null);
  readonly dns = signal<DnsCheck | null>(null);
  readonly label = computed(() => domainLabel(this.domain()));
  readonly state = computed(() => certificateState(this.certificate(), this.domain().https));
  readonly expiry = computed(() => expiryText(this.certificate()?.notAfter ?? null));
  readonly attempt = computed(() => {
    const c = this.certificate();
    // An uploaded certificate has no ACME attempt to report.
    return c && c.source !== 'custom' ? lastAttemptText(c) : null;
  });
  readonly next = computed(() => {
    const c = this.certificate();
    return c && c.status === 'failed' ? nextAttemptText(c) : null;
  });
  readonly dnsLines = computed(() => {
    const d = this.dns();
    return d ? dnsCheckLines(d) : [];
  });

  async renew(): Promise<void> {
    this.busy.set(true);
    this.problem.set(null);
    try {
      await firstValueFrom(this.api.renew(this.domain().id));
      this.snack.open(`A certificate for ${this.label()} is being ordered`, 'Dismiss', { duration: 4000 });
      await this.store.load();
    } catch (e) {
      this.problem.set(toProblem(e));
    } finally {
      this.busy.set(false);
    }
  }

  async remove(): Promise<void> {
    if (!confirm(`Remove the uploaded certificate of ${this.label()}? With HTTPS on, a certificate is then ordered from ACME.`)) return;
    this.busy.set(true);
    this.problem.set(null);
    try {
      await firstValueFrom(this.api.remove(this.domain().id));
      await this.store.load();
    } catch (e) {
      this.problem.set(toProblem(e));
    } finally {
      this.busy.set(false);
    }
  }

  async checkDns(): Promise<void> {
    this.checking.set(true);
    this.problem.set(null);
    try {
      this.dns.set(await firstValueFrom(this.api.dnsCheck(this.domain().id)));
    } catch (e) {
      this.problem.set(toProblem(e));
    } finally {
      this.checking.set(false);
    }
  }
}
