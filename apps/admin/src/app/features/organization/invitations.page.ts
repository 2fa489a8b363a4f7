import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, effect, inject, signal, untracked, viewChild } from '@angular/core';
import { FormGroupDirective, NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { BUILTIN_ROLES } from '@wharf/contracts';
import { firstValueFrom } from 'rxjs';
import type { Invitation } from '../../core/api/api-types';
import { Loadable } from '../../core/api/list-state';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ListStateComponent } from '../../shared/ui/list-state.component';
import { OneTimeSecretComponent } from '../../shared/ui/one-time-secret.component';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { OrganizationApi, roleBody, roleLabel } from './organization-api.service';

@Component({
  selector: 'w-invitations-page',
  imports: [DatePipe, ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, MatSelectModule, ListStateComponent, ProblemAlertComponent, OneTimeSecretComponent],
  templateUrl: './invitations.page.html',
  styles: `.invite { align-items: flex-start; } .invite mat-form-field { flex: 1 1 220px; } .invite button { margin-top: 10px; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class InvitationsPage {
  private readonly api = inject(OrganizationApi);
  private readonly abilities = inject(AbilitiesService);
  readonly orgId = inject(OrgContext).currentId;
  readonly invitations = new Loadable(() => this.api.invitations(this.orgId()!));
  readonly roles = new Loadable(() => this.api.roles(this.orgId()!));
  readonly problem = signal<Problem | null>(null);
  readonly listProblem = signal<Problem | null>(null);
  readonly created = signal<{ email: string; link: string } | null>(null);
  readonly busy = signal(false);
  readonly fieldError = fieldError;

  readonly canCreate = computed(() => this.abilities.can('create', 'invitation', this.orgId()));
  readonly canRevoke = computed(() => this.abilities.can('delete', 'invitation', this.orgId()));
  readonly roleOptions = computed(() => [
    ...BUILTIN_ROLES.map((r) => ({ value: r as string, label: r as string })),
    ...(this.roles.value() ?? []).filter((r) => !r.builtin && r.id).map((r) => ({ value: `custom:${r.id}`, label: r.name })),
  ]);

  /** resetForm() also clears the submitted state, so a fresh form shows no errors. */
  private readonly formDirective = viewChild(FormGroupDirective);
  readonly form = inject(NonNullableFormBuilder).group({
    email: ['', [Validators.required, Validators.email]],
    role: ['developer', Validators.required],
  });

  constructor() {
    effect(() => {
      if (this.orgId()) untracked(() => void this.reload());
    });
  }

  reload(): Promise<unknown> {
    return Promise.all([this.invitations.load(), this.roles.load()]);
  }

  label(i: Invitation): string {
    return roleLabel(i.role, i.customRoleId, this.roles.value());
  }

  async invite(): Promise<void> {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    this.busy.set(true);
    this.problem.set(null);
    const { email, role } = this.form.getRawValue();
    try {
      const r = await firstValueFrom(this.api.invite(this.orgId()!, { email, ...roleBody(role) }));
      const link = `${location.origin}/invitations/accept?token=${encodeURIComponent(r.token)}`;
      this.created.set({ email: r.email, link });
      this.formDirective()?.resetForm({ email: '', role });
      await this.invitations.load();
    } catch (e) {
      // The role select maps `custom:<id>` to two fields: a problem on /customRoleId belongs to the role field.
      const p = toProblem(e);
      const errors = p.errors?.map((x) => (x.pointer === '/customRoleId' ? { ...x, pointer: '/role' } : x));
      this.problem.set(applyProblem(this.form, { ...p, ...(errors ? { errors } : {}) }));
    } finally {
      this.busy.set(false);
    }
  }

  async revoke(i: Invitation): Promise<void> {
    this.listProblem.set(null);
    try {
      await firstValueFrom(this.api.revokeInvitation(this.orgId()!, i.id));
    } catch (e) {
      this.listProblem.set(toProblem(e));
    }
    await this.invitations.load();
  }
}
