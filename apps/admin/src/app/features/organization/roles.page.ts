import { ChangeDetectionStrategy, Component, computed, effect, inject, signal, untracked } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import type { Permission } from '@wharf/contracts';
import { firstValueFrom } from 'rxjs';
import type { GrantablePermission, Role } from '../../core/api/api-types';
import { Loadable } from '../../core/api/list-state';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ListStateComponent } from '../../shared/ui/list-state.component';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { OrganizationApi } from './organization-api.service';
import { PermissionMatrixComponent } from './permission-matrix.component';

/** Built-in roles (read-only) and custom roles with the permission-matrix editor. */
@Component({
  selector: 'w-roles-page',
  imports: [ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, ListStateComponent, ProblemAlertComponent, PermissionMatrixComponent],
  templateUrl: './roles.page.html',
  styles: `.role-form mat-form-field { width: 100%; max-width: 480px; } .perm-list { font-size: 0.875rem; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RolesPage {
  private readonly api = inject(OrganizationApi);
  private readonly abilities = inject(AbilitiesService);
  readonly orgId = inject(OrgContext).currentId;
  readonly roles = new Loadable(() => this.api.roles(this.orgId()!));
  readonly fieldError = fieldError;

  readonly canCreate = computed(() => this.abilities.can('create', 'role', this.orgId()));
  readonly canUpdate = computed(() => this.abilities.can('update', 'role', this.orgId()));
  readonly canDelete = computed(() => this.abilities.can('delete', 'role', this.orgId()));

  /** The role being edited (`new` for a new one), with its permissions while editing. */
  readonly editing = signal<Role | 'new' | null>(null);
  readonly permissions = signal<Permission[]>([]);
  readonly problem = signal<Problem | null>(null);
  readonly listProblem = signal<Problem | null>(null);
  readonly busy = signal(false);

  readonly form = inject(NonNullableFormBuilder).group({
    name: ['', Validators.required],
    description: [''],
  });

  constructor() {
    effect(() => {
      if (this.orgId()) {
        untracked(() => {
          this.editing.set(null);
          void this.roles.load();
        });
      }
    });
  }

  startNew(): void {
    this.form.reset({ name: '', description: '' });
    this.permissions.set([]);
    this.problem.set(null);
    this.editing.set('new');
  }

  edit(r: Role): void {
    this.form.reset({ name: r.name, description: r.description });
    this.permissions.set([...r.permissions]);
    this.problem.set(null);
    this.editing.set(r);
  }

  async save(): Promise<void> {
    const target = this.editing();
    if (!target) return;
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    this.busy.set(true);
    this.problem.set(null);
    // The matrix offers exactly ALL_PERMISSIONS (the document's enum); `Permission` is the wider template-literal type.
    const body = { ...this.form.getRawValue(), permissions: this.permissions() as GrantablePermission[] };
    try {
      if (target === 'new') await firstValueFrom(this.api.createRole(this.orgId()!, body));
      else await firstValueFrom(this.api.updateRole(this.orgId()!, target, body));
      this.editing.set(null);
      await this.roles.load();
    } catch (e) {
      this.problem.set(applyProblem(this.form, toProblem(e)));
    } finally {
      this.busy.set(false);
    }
  }

  async remove(r: Role): Promise<void> {
    if (!r.id || !confirm(`Delete the role ${r.name}?`)) return;
    this.listProblem.set(null);
    try {
      await firstValueFrom(this.api.deleteRole(this.orgId()!, r.id));
    } catch (e) {
      this.listProblem.set(toProblem(e));
    }
    await this.roles.load();
  }
}
