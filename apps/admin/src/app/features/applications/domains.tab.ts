import { ChangeDetectionStrategy, Component, computed, inject, signal, viewChild } from '@angular/core';
import { AbstractControl, FormArray, FormControl, FormGroup, FormGroupDirective, NonNullableFormBuilder, ReactiveFormsModule, ValidationErrors, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatCheckboxModule } from '@angular/material/checkbox';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSnackBar } from '@angular/material/snack-bar';
import { firstValueFrom } from 'rxjs';
import { Domain, DomainsApi } from '../../core/api/domains-api.service';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { ApplicationStore } from './application.store';
import { CertificateUploadComponent } from './certificate-upload.component';
import { CertificatesStore } from './certificates.store';
import { DomainCertificateComponent } from './domain-certificate.component';
import {
  BasicAuthRow, DomainFormValue, domainErrorsToForm, domainLabel, domainSummary, domainToForm, domainUrl, EMPTY_DOMAIN, formToBody, HeaderRow, isWildcardHost, RedirectRow, WILDCARD_HINT,
} from './domain-form';
import { DomainsStore } from './domains.store';

type Controls<T> = { [K in keyof T]: FormControl<T[K]> };
type RedirectGroup = FormGroup<Controls<RedirectRow>>;
type UserGroup = FormGroup<Controls<BasicAuthRow>>;
type HeaderGroup = FormGroup<Controls<HeaderRow>>;

/** RFC 7230 token: what a header name may be (the server says the same; checked here to answer before sending). */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A password is needed for a user the server does not know yet (new, or renamed): a known user keeps theirs. */
function passwordForNewUser(c: AbstractControl): ValidationErrors | null {
  const row = c.parent;
  if (!row || c.value !== '') return null;
  const existing = row.get('existing')?.value as string | null;
  return existing !== null && existing === (row.get('username')?.value as string).trim() ? null : { required: true };
}

/**
 * The application's domains: a list (address as a link, HTTPS, a summary of the options) and one form for adding and
 * changing a domain with every option the API has. Server field errors appear at the field they name; write controls
 * are only there with `application:update`. Domains take effect at the next deployment.
 */
@Component({
  selector: 'w-app-domains',
  imports: [ReactiveFormsModule, MatButtonModule, MatCheckboxModule, MatFormFieldModule, MatInputModule, ProblemAlertComponent, DomainCertificateComponent, CertificateUploadComponent],
  providers: [CertificatesStore],
  template: `
    <w-problem [problem]="problem() ?? domains.problem() ?? certificates.problem()" />
    <div class="w-row head">
      <p class="w-muted">Domains route to the application through the proxy; changes take effect at the next deployment.</p>
      @if (store.canUpdate() && editing() === null) {
        <button mat-flat-button type="button" (click)="add()">Add domain</button>
      }
    </div>
    @if (domains.domains(); as list) {
      @if (list.length === 0) {
        <p class="w-muted">No domains yet.</p>
      } @else {
        <table class="w-table" aria-label="Domains">
          <thead><tr><th scope="col">Address</th><th scope="col">HTTPS</th><th scope="col">Options</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            @for (d of list; track d.id) {
              <tr [attr.data-domain]="d.id">
                <td><div class="lines">
                  @if (isWildcard(d.host)) {
                    <span>{{ url(d) }}</span>
                  } @else {
                    <a [href]="url(d)" target="_blank" rel="noopener">{{ url(d) }}</a>
                  }
                  <w-domain-certificate [domain]="d" [certificate]="certificates.byDomain().get(d.id)" [canUpdate]="store.canUpdate()" (upload)="uploading.set($event)" />
                </div></td>
                <td>{{ d.https ? 'on' : 'off' }}</td>
                <td class="w-muted">{{ summary(d) }}</td>
                <td class="actions">
                  @if (store.canUpdate()) {
                    <button mat-button type="button" (click)="edit(d)" [attr.aria-label]="'Edit ' + label(d)">Edit</button>
                    <button mat-button type="button" (click)="remove(d)" [attr.aria-label]="'Delete ' + label(d)">Delete</button>
                  }
                </td>
              </tr>
            }
          </tbody>
        </table>
      }
    } @else {
      <p class="w-muted">Loading domains…</p>
    }

    @if (uploading(); as d) {
      @if (store.canUpdate()) {
        <w-certificate-upload [domain]="d" (closed)="uploading.set(null)" />
      }
    }

    @if (editing() !== null && store.canUpdate()) {
      <form class="w-card w-form" [formGroup]="form" (ngSubmit)="save()" novalidate [attr.aria-label]="formTitle()">
        <h2>{{ formTitle() }}</h2>
        <div class="w-row">
          <mat-form-field class="grow"><mat-label>Host</mat-label><input matInput formControlName="host" autocomplete="off" placeholder="app.example.com" /><mat-hint>{{ wildcardHint }}</mat-hint><mat-error>{{ fieldError(form.controls.host, 'Host') }}</mat-error></mat-form-field>
          <mat-form-field><mat-label>Path prefix</mat-label><input matInput formControlName="pathPrefix" autocomplete="off" /><mat-error>{{ fieldError(form.controls.pathPrefix, 'Path prefix') }}</mat-error></mat-form-field>
          <mat-form-field><mat-label>Container port</mat-label><input matInput type="number" min="1" max="65535" formControlName="port" /><mat-error>{{ fieldError(form.controls.port, 'Container port') }}</mat-error></mat-form-field>
        </div>
        <div class="w-row">
          <mat-checkbox formControlName="stripPrefix">Strip the path prefix</mat-checkbox>
          <mat-checkbox formControlName="https">HTTPS</mat-checkbox>
          <mat-checkbox formControlName="redirectHttpToHttps">Redirect HTTP to HTTPS</mat-checkbox>
          <mat-checkbox formControlName="wwwRedirect">Redirect the www/apex form to this host{{ wildcardHost() ? ' (not for a wildcard)' : '' }}</mat-checkbox>
        </div>

        <fieldset>
          <legend>Redirects (regular expression on the full URL → replacement)</legend>
          @for (r of redirects.controls; track r; let i = $index) {
            <div class="w-row" [formGroup]="r">
              <mat-form-field class="grow"><mat-label>Regex {{ i + 1 }}</mat-label><input matInput formControlName="regex" autocomplete="off" /><mat-error>{{ fieldError(r.controls.regex, 'Regex') }}</mat-error></mat-form-field>
              <mat-form-field class="grow"><mat-label>Replacement {{ i + 1 }}</mat-label><input matInput formControlName="replacement" autocomplete="off" /><mat-error>{{ fieldError(r.controls.replacement, 'Replacement') }}</mat-error></mat-form-field>
              <mat-checkbox formControlName="permanent">Permanent {{ i + 1 }}</mat-checkbox>
              <button mat-button type="button" (click)="redirects.removeAt(i)">Remove redirect {{ i + 1 }}</button>
            </div>
          }
          <button mat-stroked-button type="button" (click)="addRedirect()">Add redirect</button>
        </fieldset>

        <fieldset>
          <legend>Basic authentication</legend>
          @for (u of users.controls; track u; let i = $index) {
            <div class="w-row" [formGroup]="u">
              <mat-form-field><mat-label>Username {{ i + 1 }}</mat-label><input matInput formControlName="username" autocomplete="off" /><mat-error>{{ fieldError(u.controls.username, 'Username') }}</mat-error></mat-form-field>
              <mat-form-field>
                <mat-label>{{ u.controls.existing.value === null ? 'Password' : 'New password' }} {{ i + 1 }}</mat-label>
                <input matInput type="password" formControlName="password" autocomplete="new-password" />
                @if (u.controls.existing.value !== null) { <mat-hint>Empty keeps the current password</mat-hint> }
                <mat-error>{{ fieldError(u.controls.password, 'Password') }}</mat-error>
              </mat-form-field>
              <button mat-button type="button" (click)="users.removeAt(i)">Remove user {{ i + 1 }}</button>
            </div>
          }
          <button mat-stroked-button type="button" (click)="addUser()">Add user</button>
        </fieldset>

        <fieldset>
          <legend>Response headers (an empty value removes the header)</legend>
          @for (h of headers.controls; track h; let i = $index) {
            <div class="w-row" [formGroup]="h">
              <mat-form-field><mat-label>Header name {{ i + 1 }}</mat-label><input matInput formControlName="name" autocomplete="off" /><mat-error>{{ fieldError(h.controls.name, 'Header name') }}</mat-error></mat-form-field>
              <mat-form-field class="grow"><mat-label>Header value {{ i + 1 }}</mat-label><input matInput formControlName="value" autocomplete="off" /><mat-error>{{ fieldError(h.controls.value, 'Header value') }}</mat-error></mat-form-field>
              <button mat-button type="button" (click)="headers.removeAt(i)">Remove header {{ i + 1 }}</button>
            </div>
          }
          <button mat-stroked-button type="button" (click)="addHeader()">Add header</button>
        </fieldset>

        <fieldset>
          <legend>Access</legend>
          <mat-form-field class="full">
            <mat-label>IP allow-list (one address or CIDR per line; empty allows everyone)</mat-label>
            <textarea matInput formControlName="ipAllowList" rows="3"></textarea>
            <mat-error>{{ fieldError(form.controls.ipAllowList, 'IP allow-list') }}</mat-error>
          </mat-form-field>
          <div class="w-row" formGroupName="rateLimit">
            <mat-checkbox formControlName="enabled">Rate limit (per client IP)</mat-checkbox>
            @if (form.controls.rateLimit.controls.enabled.value) {
              <mat-form-field><mat-label>Average requests</mat-label><input matInput type="number" min="1" formControlName="average" /><mat-error>{{ fieldError(form.controls.rateLimit.controls.average, 'Average') }}</mat-error></mat-form-field>
              <mat-form-field><mat-label>Burst</mat-label><input matInput type="number" min="1" formControlName="burst" /><mat-error>{{ fieldError(form.controls.rateLimit.controls.burst, 'Burst') }}</mat-error></mat-form-field>
              <mat-form-field><mat-label>Period (seconds)</mat-label><input matInput type="number" min="1" formControlName="periodSeconds" placeholder="1" /><mat-error>{{ fieldError(form.controls.rateLimit.controls.periodSeconds, 'Period') }}</mat-error></mat-form-field>
            }
          </div>
        </fieldset>

        <div class="w-row">
          <button mat-flat-button type="submit" [disabled]="busy()">Save domain</button>
          <button mat-button type="button" (click)="cancel()">Cancel</button>
        </div>
      </form>
    }
  `,
  styles: `
    .head { justify-content: space-between; }
    .lines { display: flex; flex-direction: column; gap: 2px; min-width: 14em; overflow-wrap: anywhere; }
    .actions { white-space: nowrap; text-align: right; }
    h2 { margin: 0 0 8px; }
    fieldset { border: 1px solid var(--mat-sys-outline-variant); border-radius: 8px; margin: 0 0 12px; padding: 8px 16px; }
    legend { padding: 0 4px; }
    .grow, .full { flex: 1 1 260px; }
    .full { width: 100%; }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class DomainsTab {
  readonly store = inject(ApplicationStore);
  readonly domains = inject(DomainsStore);
  readonly certificates = inject(CertificatesStore);
  /** The domain whose certificate upload form is open. */
  readonly uploading = signal<Domain | null>(null);
  private readonly api = inject(DomainsApi);
  private readonly snack = inject(MatSnackBar);
  private readonly fb = inject(NonNullableFormBuilder);
  readonly problem = signal<Problem | null>(null);
  readonly busy = signal(false);
  /** null: no form; 'new': adding; a domain: changing it. */
  readonly editing = signal<Domain | 'new' | null>(null);
  readonly formTitle = computed(() => {
    const e = this.editing();
    return e === 'new' || e === null ? 'Add a domain' : `Edit ${domainLabel(e)}`;
  });
  readonly fieldError = fieldError;
  readonly url = domainUrl;
  readonly label = domainLabel;
  readonly summary = (d: Domain) => domainSummary(d).join(' · ');
  readonly isWildcard = isWildcardHost;
  readonly wildcardHint = WILDCARD_HINT;
  /** Whether the host typed is a wildcard: it has no www form, so that option is off and disabled. */
  readonly wildcardHost = signal(false);
  /** resetForm() also clears the submitted state: a reset form shows no "Host is required" (see the variables editor). */
  private readonly formDirective = viewChild(FormGroupDirective);

  readonly redirects = this.fb.array<RedirectGroup>([]);
  readonly users = this.fb.array<UserGroup>([]);
  readonly headers = this.fb.array<HeaderGroup>([]);
  readonly form = this.fb.group({
    host: ['', Validators.required],
    pathPrefix: ['/'],
    stripPrefix: [false],
    port: this.fb.control<number | null>(null, [Validators.required, Validators.min(1), Validators.max(65535)]),
    https: [true],
    redirectHttpToHttps: [true],
    wwwRedirect: [false],
    redirects: this.redirects as FormArray<RedirectGroup>,
    basicAuth: this.users as FormArray<UserGroup>,
    responseHeaders: this.headers as FormArray<HeaderGroup>,
    ipAllowList: [''],
    rateLimit: this.fb.group({
      enabled: [false],
      average: this.fb.control<number | null>(null),
      burst: this.fb.control<number | null>(null),
      periodSeconds: this.fb.control<number | null>(null),
    }),
  });

  constructor() {
    // HTTP → HTTPS only makes sense with HTTPS.
    this.form.controls.https.valueChanges.subscribe((on) => {
      const c = this.form.controls.redirectHttpToHttps;
      if (on) c.enable({ emitEvent: false });
      else c.disable({ emitEvent: false });
    });
    // A wildcard has no www form: the server refuses the redirect option on one.
    this.form.controls.host.valueChanges.subscribe((host) => {
      const wildcard = isWildcardHost(host ?? '');
      this.wildcardHost.set(wildcard);
      const c = this.form.controls.wwwRedirect;
      if (wildcard && c.enabled) {
        c.setValue(false, { emitEvent: false });
        c.disable({ emitEvent: false });
      } else if (!wildcard && c.disabled) {
        c.enable({ emitEvent: false });
      }
    });
  }

  private redirectGroup(r: RedirectRow = { regex: '', replacement: '', permanent: true }): RedirectGroup {
    return this.fb.group({ regex: [r.regex, Validators.required], replacement: [r.replacement, Validators.required], permanent: [r.permanent] });
  }
  private userGroup(u: BasicAuthRow = { username: '', password: '', existing: null }): UserGroup {
    const g = this.fb.group({
      username: [u.username, [Validators.required, Validators.pattern(/^[A-Za-z0-9._@-]{1,64}$/)]],
      password: [u.password, passwordForNewUser],
      existing: this.fb.control<string | null>(u.existing),
    });
    g.controls.password.updateValueAndValidity();
    g.controls.username.valueChanges.subscribe(() => g.controls.password.updateValueAndValidity());
    return g;
  }
  private headerGroup(h: HeaderRow = { name: '', value: '' }): HeaderGroup {
    return this.fb.group({ name: [h.name, [Validators.required, Validators.pattern(HEADER_NAME)]], value: [h.value] });
  }
  addRedirect(): void {
    this.redirects.push(this.redirectGroup());
  }
  addUser(): void {
    this.users.push(this.userGroup());
  }
  addHeader(): void {
    this.headers.push(this.headerGroup());
  }

  /** Puts a value in the form: rows rebuilt, no field touched, no submitted state, no error shown. */
  private fill(v: DomainFormValue): void {
    this.redirects.clear({ emitEvent: false });
    for (const r of v.redirects) this.redirects.push(this.redirectGroup(r), { emitEvent: false });
    this.users.clear({ emitEvent: false });
    for (const u of v.basicAuth) this.users.push(this.userGroup(u), { emitEvent: false });
    this.headers.clear({ emitEvent: false });
    for (const h of v.responseHeaders) this.headers.push(this.headerGroup(h), { emitEvent: false });
    const dir = this.formDirective();
    if (dir) dir.resetForm(v);
    else this.form.reset(v);
  }

  add(): void {
    this.problem.set(null);
    this.fill(EMPTY_DOMAIN);
    this.editing.set('new');
  }
  edit(d: Domain): void {
    this.problem.set(null);
    this.fill(domainToForm(d));
    this.editing.set(d);
  }
  cancel(): void {
    this.problem.set(null);
    this.fill(EMPTY_DOMAIN);
    this.editing.set(null);
  }

  /** Header names given twice (case-insensitive) would collapse into one in the body: the later rows say so. */
  private markDuplicateHeaders(): boolean {
    const seen = new Set<string>();
    let dup = false;
    for (const h of this.headers.controls) {
      const name = h.controls.name.value.trim().toLowerCase();
      if (name && seen.has(name)) {
        h.controls.name.setErrors({ server: 'is set twice (header names are case-insensitive)' });
        h.controls.name.markAsTouched();
        dup = true;
      }
      seen.add(name);
    }
    return dup;
  }

  async save(): Promise<void> {
    const a = this.store.app();
    const target = this.editing();
    if (!a || target === null) return;
    for (const u of this.users.controls) u.controls.password.updateValueAndValidity();
    if (this.form.invalid || this.markDuplicateHeaders()) {
      this.form.markAllAsTouched();
      return;
    }
    const value = this.form.getRawValue() as DomainFormValue;
    const body = formToBody(value);
    this.busy.set(true);
    this.problem.set(null);
    try {
      const saved = await firstValueFrom(target === 'new' ? this.api.create(a.id, body) : this.api.update(target, body));
      this.fill(EMPTY_DOMAIN);
      this.editing.set(null);
      this.snack.open(`${domainLabel(saved)} saved; deploy to apply it`, 'Dismiss', { duration: 4000 });
      await this.domains.load();
    } catch (e) {
      this.problem.set(applyProblem(this.form, domainErrorsToForm(toProblem(e), value)));
    } finally {
      this.busy.set(false);
    }
  }

  async remove(d: Domain): Promise<void> {
    if (!confirm(`Delete the domain ${domainLabel(d)}? It stops routing to this application at the next deployment.`)) return;
    this.problem.set(null);
    try {
      await firstValueFrom(this.api.remove(d.id));
      const e = this.editing();
      if (e !== null && e !== 'new' && e.id === d.id) this.cancel();
      await this.domains.load();
    } catch (e) {
      this.problem.set(toProblem(e));
    }
  }
}
