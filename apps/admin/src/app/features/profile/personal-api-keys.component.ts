import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, inject, signal, viewChild } from '@angular/core';
import { FormGroupDirective, NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { ApiKeyScope } from '@wharf/contracts';
import { firstValueFrom } from 'rxjs';
import type { ApiKey } from '../../core/api/api-types';
import { Loadable } from '../../core/api/list-state';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { OrgContext } from '../../core/org/org-context.service';
import { ListStateComponent } from '../../shared/ui/list-state.component';
import { OneTimeSecretComponent } from '../../shared/ui/one-time-secret.component';
import { ScopePickerComponent } from '../../shared/ui/scope-picker.component';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { MeApi, personalKeyBody } from './me-api.service';

/** Personal API keys: act as the user (never more than the user may), limited to scopes; the key is shown once. */
@Component({
  selector: 'w-personal-api-keys',
  imports: [DatePipe, ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, MatSelectModule, ListStateComponent, OneTimeSecretComponent, ProblemAlertComponent, ScopePickerComponent],
  template: `
    <section class="w-card" aria-labelledby="pkeys-title">
      <h2 id="pkeys-title">Personal API keys</h2>
      <p class="w-muted">A personal key acts as you, limited to its scopes (and to one organization if you choose). Send it as <code>X-API-Key</code>.</p>
      <w-problem [problem]="problem()" />
      <form [formGroup]="form" (ngSubmit)="create()" novalidate aria-label="New personal API key">
        <div class="w-row key-form">
          <mat-form-field>
            <mat-label>Key name</mat-label>
            <input matInput formControlName="name" autocomplete="off" required />
            <mat-error>{{ fieldError(form.controls.name, 'Key name') }}</mat-error>
          </mat-form-field>
          <mat-form-field>
            <mat-label>Organization</mat-label>
            <mat-select formControlName="organizationId">
              <mat-option value="">All my organizations</mat-option>
              @for (o of orgs.organizations() ?? []; track o.id) {
                <mat-option [value]="o.id">{{ o.name }}</mat-option>
              }
            </mat-select>
          </mat-form-field>
          <mat-form-field>
            <mat-label>Expires on</mat-label>
            <input matInput type="date" formControlName="expiresOn" [min]="today" />
            <mat-hint>Leave empty for no expiry</mat-hint>
            <mat-error>{{ fieldError(form.controls.expiresOn, 'Expires on') }}</mat-error>
          </mat-form-field>
        </div>
        <w-scope-picker [control]="form.controls.scopes" />
        <button mat-flat-button type="submit" [disabled]="busy()">Create personal key</button>
      </form>
      @if (created(); as c) {
        <w-one-time-secret [label]="'Personal API key ' + c.name" [value]="c.key" (dismissed)="created.set(null)" />
      }
      <w-problem [problem]="listProblem()" />
      <w-list-state [loading]="keys.loading()" [error]="keys.error()" [count]="keys.value()?.length" emptyText="No personal API keys." (retry)="keys.load()">
        <table class="w-table" aria-label="Personal API keys">
          <thead>
            <tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Organization</th><th scope="col">Scopes</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr>
          </thead>
          <tbody>
            @for (k of keys.value(); track k.id) {
              <tr>
                <td>{{ k.name }}</td>
                <td><code>{{ k.prefix }}</code></td>
                <td>{{ orgName(k) }}</td>
                <td>{{ k.scopes.join(', ') }}</td>
                <td>{{ k.expiresAt ? (k.expiresAt | date: 'mediumDate') : 'never' }}</td>
                <td>{{ k.lastUsedAt ? (k.lastUsedAt | date: 'medium') : 'never' }}</td>
                <td><button mat-button type="button" (click)="revoke(k)" [attr.aria-label]="'Revoke ' + k.name">Revoke</button></td>
              </tr>
            }
          </tbody>
        </table>
      </w-list-state>
    </section>
  `,
  styles: `.key-form { align-items: flex-start; } .key-form mat-form-field { flex: 1 1 200px; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PersonalApiKeysComponent {
  private readonly api = inject(MeApi);
  readonly orgs = inject(OrgContext);
  readonly keys = new Loadable(() => this.api.apiKeys());
  readonly problem = signal<Problem | null>(null);
  readonly listProblem = signal<Problem | null>(null);
  readonly created = signal<{ name: string; key: string } | null>(null);
  readonly busy = signal(false);
  readonly fieldError = fieldError;
  readonly today = new Date().toISOString().slice(0, 10);
  private readonly orgNames = computed(() => new Map((this.orgs.organizations() ?? []).map((o) => [o.id, o.name])));

  private readonly formDirective = viewChild(FormGroupDirective);
  readonly form = inject(NonNullableFormBuilder).group({
    name: ['', Validators.required],
    organizationId: [''],
    expiresOn: [''],
    scopes: [['read'] as ApiKeyScope[], Validators.required],
  });

  constructor() {
    void this.keys.load();
    void this.orgs.ensureLoaded().catch(() => undefined);
  }

  orgName(k: ApiKey): string {
    return k.organizationId ? (this.orgNames().get(k.organizationId) ?? 'another organization') : 'All';
  }

  async create(): Promise<void> {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    this.busy.set(true);
    this.problem.set(null);
    const value = this.form.getRawValue();
    try {
      const r = await firstValueFrom(this.api.createApiKey(personalKeyBody(value)));
      this.created.set({ name: r.name, key: r.key });
      this.formDirective()?.resetForm({ name: '', organizationId: value.organizationId, expiresOn: '', scopes: value.scopes });
      await this.keys.load();
    } catch (e) {
      // The API names the expiry as /expiresAt; the form calls it expiresOn.
      const problem = toProblem(e);
      this.problem.set(applyProblem(this.form, { ...problem, errors: problem.errors?.map((x) => (x.pointer === '/expiresAt' ? { ...x, pointer: '/expiresOn' } : x)) }));
    } finally {
      this.busy.set(false);
    }
  }

  async revoke(k: ApiKey): Promise<void> {
    if (!confirm(`Revoke your API key ${k.name}? Clients using it stop working.`)) return;
    this.listProblem.set(null);
    try {
      await firstValueFrom(this.api.revokeApiKey(k.id));
    } catch (e) {
      this.listProblem.set(toProblem(e));
    }
    await this.keys.load();
  }
}
