import { ChangeDetectionStrategy, Component, computed, effect, inject, signal, untracked, viewChild } from '@angular/core';
import { FormGroupDirective, NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { BUILTIN_ROLES } from '@wharf/contracts';
import { firstValueFrom } from 'rxjs';
import { OidcProvider } from '../../core/api/api-types';
import { Loadable } from '../../core/api/list-state';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { ResourcesApi } from '../../core/api/resources-api.service';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ListStateComponent } from '../../shared/ui/list-state.component';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';

const list = (s: string): string[] => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);

/** OpenID Connect providers: list and create (the client secret is write-only). */
@Component({
  selector: 'w-oidc-providers-page',
  imports: [ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, MatSelectModule, ListStateComponent, ProblemAlertComponent],
  template: `
    <h2>Single sign-on</h2>
    @if (canCreate()) {
      <section class="w-card" aria-labelledby="oidc-title">
        <h3 id="oidc-title">New OpenID Connect provider</h3>
        <w-problem [problem]="problem()" />
        <form class="w-row" [formGroup]="form" (ngSubmit)="create()" novalidate>
          <mat-form-field><mat-label>Name</mat-label><input matInput formControlName="name" /><mat-error>{{ fieldError(form.controls.name, 'Name') }}</mat-error></mat-form-field>
          <mat-form-field class="grow"><mat-label>Issuer URL</mat-label><input matInput formControlName="issuerUrl" /><mat-error>{{ fieldError(form.controls.issuerUrl, 'Issuer URL') }}</mat-error></mat-form-field>
          <mat-form-field><mat-label>Client ID</mat-label><input matInput formControlName="clientId" /><mat-error>{{ fieldError(form.controls.clientId, 'Client ID') }}</mat-error></mat-form-field>
          <mat-form-field><mat-label>Client secret</mat-label><input matInput type="password" formControlName="clientSecret" autocomplete="new-password" /><mat-error>{{ fieldError(form.controls.clientSecret, 'Client secret') }}</mat-error></mat-form-field>
          <mat-form-field><mat-label>Scopes</mat-label><input matInput formControlName="scopes" /><mat-error>{{ fieldError(form.controls.scopes, 'Scopes') }}</mat-error></mat-form-field>
          <mat-form-field><mat-label>Allowed email domains</mat-label><input matInput formControlName="allowedDomains" placeholder="any" /></mat-form-field>
          <mat-form-field>
            <mat-label>Default role</mat-label>
            <mat-select formControlName="defaultRole">
              @for (r of roles; track r) {
                <mat-option [value]="r">{{ r }}</mat-option>
              }
            </mat-select>
          </mat-form-field>
          <button mat-flat-button type="submit" [disabled]="busy()">Add provider</button>
        </form>
      </section>
    }
    <w-list-state [loading]="providers.loading()" [error]="providers.error()" [count]="providers.value()?.length" emptyText="No single sign-on providers." (retry)="providers.load()">
      <table class="w-table" aria-label="Single sign-on providers">
        <thead><tr><th scope="col">Name</th><th scope="col">Issuer</th><th scope="col">Default role</th><th scope="col">Redirect URI</th><th scope="col">Enabled</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          @for (p of providers.value(); track p.id) {
            <tr>
              <td>{{ p.name }}</td><td><code>{{ p.issuerUrl }}</code></td><td>{{ p.defaultRole }}</td><td><code>{{ p.redirectUri }}</code></td><td>{{ p.enabled ? 'yes' : 'no' }}</td>
              <td>
                @if (canDelete()) {
                  <button mat-button type="button" (click)="remove(p)" [attr.aria-label]="'Delete ' + p.name">Delete</button>
                }
              </td>
            </tr>
          }
        </tbody>
      </table>
    </w-list-state>
  `,
  styles: `.grow { flex: 1 1 280px; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class OidcProvidersPage {
  private readonly api = inject(ResourcesApi);
  private readonly abilities = inject(AbilitiesService);
  readonly orgId = inject(OrgContext).currentId;
  readonly providers = new Loadable(() => this.api.oidcProviders(this.orgId()!));
  readonly canCreate = computed(() => this.abilities.can('create', 'oidc-provider', this.orgId()));
  readonly canDelete = computed(() => this.abilities.can('delete', 'oidc-provider', this.orgId()));
  readonly roles = BUILTIN_ROLES.filter((r) => r !== 'owner');
  readonly problem = signal<Problem | null>(null);
  readonly busy = signal(false);
  readonly fieldError = fieldError;
  /** resetForm() also clears the submitted state: after a save the empty form shows no "Name is required". */
  private readonly formDirective = viewChild(FormGroupDirective);
  readonly form = inject(NonNullableFormBuilder).group({
    name: ['', Validators.required],
    issuerUrl: ['', Validators.required],
    clientId: ['', Validators.required],
    clientSecret: ['', Validators.required],
    scopes: ['openid email profile'],
    allowedDomains: [''],
    defaultRole: ['viewer'],
  });

  constructor() {
    effect(() => {
      if (this.orgId()) untracked(() => void this.providers.load());
    });
  }

  async create(): Promise<void> {
    if (this.form.invalid) return this.form.markAllAsTouched();
    const v = this.form.getRawValue();
    this.busy.set(true);
    this.problem.set(null);
    try {
      await firstValueFrom(this.api.createOidcProvider(this.orgId()!, { ...v, scopes: list(v.scopes), allowedDomains: list(v.allowedDomains), enabled: true }));
      // Back to the initial values, untouched and not submitted (a bare form.reset() leaves the form submitted).
      const dir = this.formDirective();
      if (dir) dir.resetForm();
      else this.form.reset();
      await this.providers.load();
    } catch (e) {
      this.problem.set(applyProblem(this.form, toProblem(e)));
    } finally {
      this.busy.set(false);
    }
  }

  async remove(p: OidcProvider): Promise<void> {
    if (!confirm(`Delete the provider ${p.name}?`)) return;
    try {
      await firstValueFrom(this.api.deleteOidcProvider(this.orgId()!, p.id));
      await this.providers.load();
    } catch (e) {
      this.problem.set(toProblem(e));
    }
  }
}
