import { ChangeDetectionStrategy, Component, computed, effect, inject, signal, untracked } from '@angular/core';
import { DatePipe } from '@angular/common';
import { MatButtonModule } from '@angular/material/button';
import { MatSelectModule } from '@angular/material/select';
import { BUILTIN_ROLES } from '@wharf/contracts';
import { firstValueFrom } from 'rxjs';
import type { Member } from '../../core/api/api-types';
import { Loadable } from '../../core/api/list-state';
import { Problem, toProblem } from '../../core/api/problem';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { AuthService } from '../../core/auth/auth.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ListStateComponent } from '../../shared/ui/list-state.component';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { accessSummary } from './member-access';
import { MemberAccessEditorComponent } from './member-access-editor.component';
import { OrganizationApi, roleBody, roleLabel, roleValue } from './organization-api.service';

@Component({
  selector: 'w-members-page',
  imports: [DatePipe, MatButtonModule, MatSelectModule, ListStateComponent, ProblemAlertComponent, MemberAccessEditorComponent],
  templateUrl: './members.page.html',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class MembersPage {
  private readonly api = inject(OrganizationApi);
  private readonly abilities = inject(AbilitiesService);
  readonly orgId = inject(OrgContext).currentId;
  readonly me = inject(AuthService).user;
  readonly members = new Loadable(() => this.api.members(this.orgId()!));
  readonly roles = new Loadable(() => this.api.roles(this.orgId()!));
  /** Projects with environments, for the access column and editor (only when the caller may read projects). */
  readonly tree = new Loadable(() => this.api.projectTree(this.orgId()!));
  /** The member whose access is being edited. */
  readonly editing = signal<string | null>(null);
  readonly editingMember = computed(() => this.members.value()?.find((m) => m.userId === this.editing()) ?? null);
  readonly actionProblem = signal<Problem | null>(null);
  readonly busy = signal<string | null>(null);

  readonly canUpdate = computed(() => this.abilities.can('update', 'member', this.orgId()));
  readonly canRemove = computed(() => this.abilities.can('delete', 'member', this.orgId()));
  readonly roleOptions = computed(() => [
    ...BUILTIN_ROLES.map((r) => ({ value: r, label: r })),
    ...(this.roles.value() ?? []).filter((r) => !r.builtin && r.id).map((r) => ({ value: `custom:${r.id}`, label: r.name })),
  ]);
  readonly roleValue = roleValue;

  constructor() {
    effect(() => {
      if (this.orgId()) untracked(() => void this.reload());
    });
  }

  reload(): Promise<unknown> {
    this.editing.set(null);
    const tree = this.abilities.can('read', 'project', this.orgId()) ? this.tree.load() : Promise.resolve();
    return Promise.all([this.members.load(), this.roles.load(), tree]);
  }

  access(m: Member): string {
    return accessSummary(m, this.tree.value());
  }

  async editorClosed(saved: boolean): Promise<void> {
    this.editing.set(null);
    if (saved) await this.members.load();
  }

  label(m: Member): string {
    return roleLabel(m.role, m.customRoleId, this.roles.value());
  }

  async changeRole(m: Member, value: string): Promise<void> {
    await this.act(m.userId, () => firstValueFrom(this.api.updateMember(this.orgId()!, m, { ...roleBody(value), projectIds: m.projectIds, environmentIds: m.environmentIds })));
  }

  async remove(m: Member): Promise<void> {
    if (!confirm(`Remove ${m.name} (${m.email}) from the organization?`)) return;
    await this.act(m.userId, () => firstValueFrom(this.api.removeMember(this.orgId()!, m.userId)));
  }

  private async act(id: string, run: () => Promise<unknown>): Promise<void> {
    this.busy.set(id);
    this.actionProblem.set(null);
    try {
      await run();
    } catch (e) {
      this.actionProblem.set(toProblem(e));
    } finally {
      this.busy.set(null);
      await this.members.load();
    }
  }
}
