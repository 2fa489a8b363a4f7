import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, effect, inject, signal, untracked, viewChild } from '@angular/core';
import { FormGroupDirective, NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { ApiKeyScope, BUILTIN_ROLES } from '@wharf/contracts';
import { firstValueFrom } from 'rxjs';
import type { ApiKey } from '../../core/api/api-types';
import { Loadable } from '../../core/api/list-state';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ListStateComponent } from '../../shared/ui/list-state.component';
import { OneTimeSecretComponent } from '../../shared/ui/one-time-secret.component';
import { ScopePickerComponent } from '../../shared/ui/scope-picker.component';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { OrganizationApi, roleBody, roleLabel } from './organization-api.service';

/** Service-account API keys: created with a role and scopes, the key is shown once. */
@Component({
  selector: 'w-api-keys-page',
  imports: [DatePipe, ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, MatSelectModule, ListStateComponent, ProblemAlertComponent, OneTimeSecretComponent, ScopePickerComponent],
  templateUrl: './api-keys.page.html',
  styles: `.key-form { align-items: flex-start; } .key-form mat-form-field { flex: 1 1 200px; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ApiKeysPage {
  private readonly api = inject(OrganizationApi);
  private readonly abilities = inject(AbilitiesService);
  readonly orgId = inject(OrgContext).currentId;
  readonly keys = new Loadable(() => this.api.apiKeys(this.orgId()!));
  readonly roles = new Loadable(() => this.api.roles(this.orgId()!));
  readonly problem = signal<Problem | null>(null);
  readonly listProblem = signal<Problem | null>(null);
  readonly created = signal<{ name: string; key: string } | null>(null);
  readonly busy = signal(false);
  readonly fieldError = fieldError;
  readonly active = computed(() => (this.keys.value() ?? []).filter((k) => !k.revokedAt));

  readonly canCreate = computed(() => this.abilities.can('create', 'api-key', this.orgId()));
  readonly canRevoke = computed(() => this.abilities.can('delete', 'api-key', this.orgId()));
  readonly roleOptions = computed(() => [
    ...BUILTIN_ROLES.map((r) => ({ value: r as string, label: r as string })),
    ...(this.roles.value() ?? []).filter((r) => !r.builtin && r.id).map((r) => ({ value: `custom:${r.id}`, label: r.name })),
  ]);

  /** resetForm() also clears the submitted state, so a fresh form shows no errors. */
  private readonly formDirective = viewChild(FormGroupDirective);
  readonly form = inject(NonNullableFormBuilder).group({
    name: ['', Validators.required],
    role: ['viewer', Validators.required],
    scopes: [['read'] as ApiKeyScope[]],
  });

  constructor() {
    effect(() => {
      if (this.orgId()) untracked(() => void this.reload());
    });
  }

  reload(): Promise<unknown> {
    return Promise.all([this.keys.load(), this.roles.load()]);
  }

  label(k: ApiKey): string {
    return roleLabel(k.role ?? '', k.customRoleId, this.roles.value());
  }

  async create(): Promise<void> {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    this.busy.set(true);
    this.problem.set(null);
    const { name, role, scopes } = this.form.getRawValue();
    try {
      const r = await firstValueFrom(this.api.createApiKey(this.orgId()!, { name, scopes, ...roleBody(role) }));
      this.created.set({ name: r.name, key: r.key });
      this.formDirective()?.resetForm({ name: '', role, scopes });
      await this.keys.load();
    } catch (e) {
      this.problem.set(applyProblem(this.form, toProblem(e)));
    } finally {
      this.busy.set(false);
    }
  }

  async revoke(k: ApiKey): Promise<void> {
    if (!confirm(`Revoke the API key ${k.name}? Clients using it stop working.`)) return;
    this.listProblem.set(null);
    try {
      await firstValueFrom(this.api.revokeApiKey(this.orgId()!, k.id));
    } catch (e) {
      this.listProblem.set(toProblem(e));
    }
    await this.keys.load();
  }
}
