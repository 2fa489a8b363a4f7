import { ChangeDetectionStrategy, Component, computed, DestroyRef, effect, inject, signal, untracked } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatCheckboxModule } from '@angular/material/checkbox';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { RouterLink } from '@angular/router';
import { firstValueFrom, Subscription } from 'rxjs';
import { AcmeSettings, Certificate, CertificatesApi } from '../../core/api/certificates-api.service';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { ResourcesApi } from '../../core/api/resources-api.service';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { LiveEvents } from '../../core/live/live-events';
import { OrgContext } from '../../core/org/org-context.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { AuthService } from '../../core/auth/auth.service';
import { InstanceTlsComponent } from './instance-tls.component';
import { certificateState, expiryText, reasonText, sortByExpiry } from '../applications/certificate-view';
import { acmeErrorsToForm, AcmeFormValue, acmeFormToBody, acmeToForm, PROVIDER_LABELS, ProviderKind, providerSummary, REQUIRED_PROVIDER_FIELDS } from './acme-form';

/**
 * The organization's certificates (soonest expiry first, with application and host, state, expiry and last error;
 * refreshed on live certificate events) and its ACME settings: contact e-mail, staging, challenge and the DNS provider
 * for DNS-01. Provider secrets are write-only; a changed provider is sent whole, so its secret must be typed again.
 */
@Component({
  selector: 'w-certificates-page',
  imports: [ReactiveFormsModule, RouterLink, MatButtonModule, MatCheckboxModule, MatFormFieldModule, MatInputModule, ProblemAlertComponent, InstanceTlsComponent],
  template: `
    <h2>Certificates</h2>
    <w-problem [problem]="listProblem()" />
    @if (rows(); as list) {
      @if (list.length === 0) {
        <p class="w-muted">No certificates yet. Domains with HTTPS get one from ACME, or you upload one on the application's Domains tab.</p>
      } @else {
        <div class="w-scroll">
          <table class="w-table" aria-label="Certificates">
            <thead><tr><th scope="col">Application / host</th><th scope="col">State</th><th scope="col">Expiry</th><th scope="col">Last error</th></tr></thead>
            <tbody>
              @for (r of list; track r.c.id) {
                <tr [attr.data-certificate]="r.c.id">
                  <td>
                    <a [routerLink]="['/orgs', orgId(), 'applications', r.c.applicationId, 'domains']">{{ r.app }}</a>
                    <div class="w-muted hosts">{{ r.c.hosts.join(', ') }}</div>
                  </td>
                  <td><span [class]="'chip ' + r.state.tone" [attr.data-state]="r.state.state">{{ r.state.label }}</span>@if (r.c.issuer) {<div class="w-muted">{{ r.c.issuer }}</div>}</td>
                  <td [class.warn]="r.expiry.warn">{{ r.expiry.text }}</td>
                  <td>
                    @if (r.c.lastError) {
                      <span class="error">{{ r.reason ? r.reason + ': ' : '' }}{{ r.c.lastError }}</span>
                    } @else {
                      <span class="w-muted">none</span>
                    }
                  </td>
                </tr>
              }
            </tbody>
          </table>
        </div>
      }
    } @else {
      <p class="w-muted">Loading certificates…</p>
    }

    <section class="w-card acme" aria-labelledby="acme-title">
      <h3 id="acme-title">ACME settings</h3>
      @if (settings(); as s) {
        <p class="w-muted">Certificates are ordered from <code>{{ s.directoryUrl }}</code>.</p>
        <w-problem [problem]="problem()" />
        @if (saved()) { <p role="status">Saved.</p> }
        <form class="w-form" [formGroup]="form" (ngSubmit)="save()" novalidate aria-label="ACME settings">
          <fieldset [disabled]="!canUpdate()" class="plain">
            <mat-form-field>
              <mat-label>Contact e-mail</mat-label>
              <input matInput type="email" formControlName="email" autocomplete="email" />
              <mat-hint>The certificate authority sends expiry notices here; empty: no contact</mat-hint>
              <mat-error>{{ fieldError(form.controls.email, 'Contact e-mail') }}</mat-error>
            </mat-form-field>
            <mat-checkbox formControlName="staging">Use the staging directory (untrusted test certificates, generous rate limits)</mat-checkbox>
            <mat-form-field>
              <mat-label>Challenge</mat-label>
              <select matNativeControl formControlName="challenge">
                <option value="http-01">HTTP-01 (the host must point at this server)</option>
                <option value="dns-01">DNS-01 (a TXT record through the DNS provider)</option>
              </select>
              <mat-error>{{ fieldError(form.controls.challenge, 'Challenge') }}</mat-error>
            </mat-form-field>

            <fieldset class="provider">
              <legend>DNS provider (for DNS-01)</legend>
              @switch (mode()) {
                @case ('keep') {
                  <p data-testid="dns-provider">{{ s.dnsProvider ? 'Current: ' + summary() : 'No DNS provider.' }}</p>
                  @if (canUpdate()) {
                    <div class="w-row">
                      <button mat-stroked-button type="button" (click)="setMode('edit')">{{ s.dnsProvider ? 'Change DNS provider' : 'Add DNS provider' }}</button>
                      @if (s.dnsProvider) { <button mat-button type="button" (click)="setMode('remove')">Remove DNS provider</button> }
                    </div>
                  }
                }
                @case ('remove') {
                  <p>The DNS provider is removed when you save.</p>
                  <button mat-button type="button" (click)="setMode('keep')">Keep the DNS provider</button>
                }
                @case ('edit') {
                  @if (s.dnsProvider) {
                    <p class="note">Saving replaces the whole provider: type its secret again (the stored secret is never shown or sent back).</p>
                  }
                  <div formGroupName="provider" class="w-form">
                    <mat-form-field>
                      <mat-label>Provider</mat-label>
                      <select matNativeControl formControlName="kind">
                        @for (k of kinds(); track k) { <option [value]="k">{{ labels[k] }}</option> }
                      </select>
                      <mat-error>{{ fieldError(p.kind, 'Provider') }}</mat-error>
                    </mat-form-field>
                    @switch (kind()) {
                      @case ('rfc2136') {
                        <div class="w-row">
                          <mat-form-field class="grow"><mat-label>Server</mat-label><input matInput formControlName="server" autocomplete="off" placeholder="ns1.example.com" /><mat-error>{{ fieldError(p.server, 'Server') }}</mat-error></mat-form-field>
                          <mat-form-field><mat-label>Port</mat-label><input matInput type="number" min="1" max="65535" formControlName="port" placeholder="53" /><mat-error>{{ fieldError(p.port, 'Port') }}</mat-error></mat-form-field>
                          <mat-form-field><mat-label>Transport</mat-label><select matNativeControl formControlName="transport"><option value="tcp">TCP</option><option value="udp">UDP</option></select></mat-form-field>
                        </div>
                        <mat-form-field><mat-label>Zone</mat-label><input matInput formControlName="zone" autocomplete="off" placeholder="example.com" /><mat-error>{{ fieldError(p.zone, 'Zone') }}</mat-error></mat-form-field>
                        <div class="w-row">
                          <mat-form-field class="grow"><mat-label>TSIG key name</mat-label><input matInput formControlName="tsigKeyName" autocomplete="off" /><mat-error>{{ fieldError(p.tsigKeyName, 'TSIG key name') }}</mat-error></mat-form-field>
                          <mat-form-field><mat-label>TSIG algorithm</mat-label><select matNativeControl formControlName="tsigAlgorithm"><option value="hmac-sha256">hmac-sha256</option><option value="hmac-sha512">hmac-sha512</option></select><mat-error>{{ fieldError(p.tsigAlgorithm, 'TSIG algorithm') }}</mat-error></mat-form-field>
                        </div>
                        <mat-form-field>
                          <mat-label>TSIG secret (base64)</mat-label><input matInput type="password" formControlName="tsigSecret" autocomplete="new-password" />
                          <mat-hint>{{ secretHint('tsigSecret') }}</mat-hint><mat-error>{{ fieldError(p.tsigSecret, 'TSIG secret') }}</mat-error>
                        </mat-form-field>
                      }
                      @case ('cloudflare') {
                        <mat-form-field>
                          <mat-label>API token</mat-label><input matInput type="password" formControlName="apiToken" autocomplete="new-password" />
                          <mat-hint>{{ secretHint('apiToken') }}</mat-hint><mat-error>{{ fieldError(p.apiToken, 'API token') }}</mat-error>
                        </mat-form-field>
                        <mat-form-field><mat-label>Zone id (optional)</mat-label><input matInput formControlName="zoneId" autocomplete="off" /><mat-hint>Empty: looked up by name (the token then needs Zone:Read)</mat-hint><mat-error>{{ fieldError(p.zoneId, 'Zone id') }}</mat-error></mat-form-field>
                      }
                      @case ('route53') {
                        <mat-form-field><mat-label>Access key id</mat-label><input matInput formControlName="accessKeyId" autocomplete="off" /><mat-error>{{ fieldError(p.accessKeyId, 'Access key id') }}</mat-error></mat-form-field>
                        <mat-form-field>
                          <mat-label>Secret access key</mat-label><input matInput type="password" formControlName="secretAccessKey" autocomplete="new-password" />
                          <mat-hint>{{ secretHint('secretAccessKey') }}</mat-hint><mat-error>{{ fieldError(p.secretAccessKey, 'Secret access key') }}</mat-error>
                        </mat-form-field>
                        <div class="w-row">
                          <mat-form-field class="grow"><mat-label>Hosted zone id</mat-label><input matInput formControlName="hostedZoneId" autocomplete="off" /><mat-error>{{ fieldError(p.hostedZoneId, 'Hosted zone id') }}</mat-error></mat-form-field>
                          <mat-form-field><mat-label>Region (optional)</mat-label><input matInput formControlName="region" autocomplete="off" placeholder="us-east-1" /><mat-error>{{ fieldError(p.region, 'Region') }}</mat-error></mat-form-field>
                        </div>
                      }
                      @case ('challtestsrv') {
                        <mat-form-field><mat-label>Management URL</mat-label><input matInput formControlName="managementUrl" autocomplete="off" /><mat-error>{{ fieldError(p.managementUrl, 'Management URL') }}</mat-error></mat-form-field>
                      }
                    }
                  </div>
                  <div><button mat-button type="button" (click)="setMode('keep')">{{ s.dnsProvider ? 'Keep the current provider' : 'Do not add a provider' }}</button></div>
                }
              }
            </fieldset>
          </fieldset>
          @if (canUpdate()) {
            <div><button mat-flat-button type="submit" [disabled]="busy()">Save ACME settings</button></div>
          }
        </form>
      } @else {
        <w-problem [problem]="problem()" />
        @if (!problem()) { <p class="w-muted">Loading…</p> }
      }
    </section>
    @if (instanceAdmin()) { <w-instance-tls /> }
  `,
  styles: `
    .acme { margin-top: 24px; max-width: 720px; }
    h3 { margin: 0 0 8px; }
    .plain { border: 0; padding: 0; margin: 0; display: flex; flex-direction: column; gap: 8px; }
    .provider { border: 1px solid var(--mat-sys-outline-variant); border-radius: 8px; margin: 8px 0; padding: 8px 16px; }
    legend { padding: 0 4px; }
    .grow { flex: 1 1 260px; }
    .note { font-weight: 500; }
    .hosts { overflow-wrap: anywhere; }
    .chip { display: inline-block; padding: 0 8px; border-radius: 10px; font: var(--mat-sys-label-medium); border: 1px solid currentColor; }
    .ok { color: light-dark(#146c2e, #6dd58c); } .bad, .error { color: var(--mat-sys-error); }
    .busy, .idle { color: var(--mat-sys-on-surface-variant); } .busy { border-style: dashed; }
    .warn { color: light-dark(#8a4b00, #ffb870); font-weight: 500; }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class CertificatesPage {
  private readonly api = inject(CertificatesApi);
  private readonly resources = inject(ResourcesApi);
  private readonly abilities = inject(AbilitiesService);
  private readonly live = inject(LiveEvents);
  readonly orgId = inject(OrgContext).currentId;
  /** Wharf's own certificate is shown to instance administrators only (the API answers others 403). */
  private readonly auth = inject(AuthService);
  readonly instanceAdmin = computed(() => this.auth.user()?.isInstanceAdmin === true);
  readonly fieldError = fieldError;
  readonly labels = PROVIDER_LABELS;
  readonly certificates = signal<Certificate[] | null>(null);
  /** Application names by id (the first page of the organization's applications; an unknown one shows its id). */
  readonly appNames = signal<Map<string, string>>(new Map());
  readonly listProblem = signal<Problem | null>(null);
  readonly settings = signal<AcmeSettings | null>(null);
  readonly problem = signal<Problem | null>(null);
  readonly saved = signal(false);
  readonly busy = signal(false);
  readonly canUpdate = computed(() => this.abilities.can('update', 'organization', this.orgId()));
  readonly rows = computed(() => {
    const list = this.certificates();
    if (!list) return null;
    const names = this.appNames();
    const now = new Date();
    return sortByExpiry(list).map((c) => ({ c, app: names.get(c.applicationId) ?? c.applicationId, state: certificateState(c), expiry: expiryText(c.notAfter, now), reason: reasonText(c.lastErrorReason) }));
  });
  readonly summary = computed(() => providerSummary(this.settings()?.dnsProvider ?? null));

  private readonly fb = inject(NonNullableFormBuilder);
  readonly form = this.fb.group({
    email: ['', [Validators.email, Validators.maxLength(254)]],
    staging: [false],
    challenge: this.fb.control<'http-01' | 'dns-01'>('http-01'),
    providerMode: this.fb.control<'keep' | 'edit' | 'remove'>('keep'),
    provider: this.fb.group({
      kind: this.fb.control<ProviderKind>('rfc2136'),
      server: [''], port: this.fb.control<number | null>(null, [Validators.min(1), Validators.max(65535)]), transport: this.fb.control<'tcp' | 'udp'>('tcp'), zone: [''], tsigKeyName: [''],
      tsigAlgorithm: this.fb.control<'hmac-sha256' | 'hmac-sha512'>('hmac-sha256'), tsigSecret: [''],
      apiToken: [''], zoneId: [''],
      accessKeyId: [''], secretAccessKey: [''], hostedZoneId: [''], region: [''],
      managementUrl: [''],
    }),
  });
  readonly p = this.form.controls.provider.controls;
  readonly mode = signal<'keep' | 'edit' | 'remove'>('keep');
  readonly kind = signal<ProviderKind>('rfc2136');
  /** The kinds offered: the three real providers, and the stored one if it is the test server. */
  readonly kinds = computed<ProviderKind[]>(() => (this.settings()?.dnsProvider?.['kind'] === 'challtestsrv' ? ['rfc2136', 'cloudflare', 'route53', 'challtestsrv'] : ['rfc2136', 'cloudflare', 'route53']));
  private events: Subscription | null = null;

  constructor() {
    this.form.controls.providerMode.valueChanges.subscribe((m) => this.mode.set(m));
    this.p.kind.valueChanges.subscribe((k) => this.kind.set(k));
    effect(() => {
      const id = this.orgId();
      if (id) untracked(() => this.open(id));
    });
    inject(DestroyRef).onDestroy(() => this.events?.unsubscribe());
  }

  private open(orgId: string): void {
    this.certificates.set(null);
    this.settings.set(null);
    this.events?.unsubscribe();
    this.events = this.live.watch(orgId).subscribe((m) => {
      if (m.kind === 'resync' || m.event.type.startsWith('certificate.') || m.event.type.startsWith('domain.')) void this.loadList(orgId);
    });
    void this.loadList(orgId);
    void this.loadSettings(orgId);
    void firstValueFrom(this.resources.orgApplications(orgId)).then(
      (page) => this.orgId() === orgId && this.appNames.set(new Map(page.items.map((a) => [a.id, a.name]))),
      () => undefined,
    );
  }

  async loadList(orgId: string): Promise<void> {
    try {
      const list = await firstValueFrom(this.api.forOrganization(orgId));
      if (this.orgId() !== orgId) return;
      this.certificates.set(list);
      this.listProblem.set(null);
    } catch (e) {
      if (this.orgId() !== orgId) return;
      this.listProblem.set(toProblem(e));
      this.certificates.update((c) => c ?? []);
    }
  }

  private async loadSettings(orgId: string): Promise<void> {
    try {
      const s = await firstValueFrom(this.api.acme(orgId));
      if (this.orgId() !== orgId) return;
      this.show(s);
    } catch (e) {
      this.problem.set(toProblem(e));
    }
  }

  private show(s: AcmeSettings): void {
    this.settings.set(s);
    const v = acmeToForm(s);
    this.form.reset(v);
    this.mode.set(v.providerMode);
    this.kind.set(v.provider.kind);
  }

  setMode(m: 'keep' | 'edit' | 'remove'): void {
    const s = this.settings();
    // Back to what is stored whenever the provider form opens or closes: no half-typed secret lingers.
    if (s) this.form.controls.provider.reset(acmeToForm(s).provider);
    this.form.controls.providerMode.setValue(m);
  }

  /** Under a secret field: whether one is stored for this kind, and that it must be typed again to change the provider. */
  secretHint(field: 'tsigSecret' | 'apiToken' | 'secretAccessKey'): string {
    const stored = this.settings()?.dnsProvider;
    const set = !!stored && stored['kind'] === this.kind() && !!(stored[field] as { set?: boolean } | undefined)?.set;
    return set ? 'Stored: set. Type it again: a changed provider is saved whole' : 'Write-only: never shown again after saving';
  }

  /** Required provider fields of the chosen kind, checked here (they depend on the kind and the mode). */
  private markMissing(v: AcmeFormValue): boolean {
    if (v.providerMode !== 'edit') return false;
    let missing = false;
    for (const f of REQUIRED_PROVIDER_FIELDS[v.provider.kind]) {
      if (String(v.provider[f] ?? '').trim() === '') {
        const c = this.p[f];
        c.setErrors({ required: true });
        c.markAsTouched();
        missing = true;
      }
    }
    return missing;
  }

  async save(): Promise<void> {
    const orgId = this.orgId();
    if (!orgId) return;
    const v = this.form.getRawValue() as AcmeFormValue;
    if (this.markMissing(v) || this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    this.busy.set(true);
    this.problem.set(null);
    this.saved.set(false);
    try {
      this.show(await firstValueFrom(this.api.setAcme(orgId, acmeFormToBody(v))));
      this.saved.set(true);
    } catch (e) {
      this.problem.set(applyProblem(this.form, acmeErrorsToForm(toProblem(e), v)));
    } finally {
      this.busy.set(false);
    }
  }
}
