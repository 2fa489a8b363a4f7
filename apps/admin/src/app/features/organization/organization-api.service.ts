import { inject, Injectable } from '@angular/core';
import { forkJoin, map, Observable, of, switchMap, throwError } from 'rxjs';
import { ApiClient } from '../../core/api/api-client.gen';
import {
  ApiKey, CreatedApiKey, CreatedInvitation, CreateInvitationBody, CreateRoleBody, CreateServiceAccountKeyBody, Invitation, Member,
  OkDto, Role, RoleChoice, UpdateMemberBody, UpdateRoleBody,
} from '../../core/api/api-types';
import { ifMatch } from '../../core/api/resources-api.service';
import type { ProjectNode } from './member-access';

/** The organization settings endpoints (members, invitations, roles, service-account API keys). */
@Injectable({ providedIn: 'root' })
export class OrganizationApi {
  private readonly api = inject(ApiClient);

  members(orgId: string): Observable<Member[]> {
    return this.api.organizationsMembers({ path: { orgId } });
  }
  updateMember(orgId: string, m: Member, body: UpdateMemberBody): Observable<OkDto> {
    return this.api.organizationsUpdateMember({ path: { orgId, userId: m.userId }, body, headers: ifMatch(m.version) });
  }
  /** The organization's projects (those the caller reads) with their environments, for access limits. */
  projectTree(orgId: string): Observable<ProjectNode[]> {
    return this.api.projectsList({ path: { orgId }, query: { limit: '200' } }).pipe(
      switchMap((page) => (page.items.length
        ? forkJoin(page.items.map((project) => this.api.projectsEnvironments({ path: { id: project.id }, query: { limit: '200' } }).pipe(map((e) => ({ project, environments: e.items })))))
        : of([]))),
    );
  }
  removeMember(orgId: string, userId: string): Observable<unknown> {
    return this.api.organizationsRemoveMember({ path: { orgId, userId } });
  }

  invitations(orgId: string): Observable<Invitation[]> {
    return this.api.organizationsInvitations({ path: { orgId } });
  }
  invite(orgId: string, body: CreateInvitationBody): Observable<CreatedInvitation> {
    return this.api.organizationsInvite({ path: { orgId }, body });
  }
  revokeInvitation(orgId: string, id: string): Observable<unknown> {
    return this.api.organizationsRevokeInvitation({ path: { orgId, invitationId: id } });
  }

  roles(orgId: string): Observable<Role[]> {
    return this.api.organizationsRoles({ path: { orgId } });
  }
  createRole(orgId: string, body: CreateRoleBody): Observable<Role> {
    return this.api.organizationsCreateRole({ path: { orgId }, body });
  }
  updateRole(orgId: string, role: Role, body: UpdateRoleBody): Observable<Role> {
    // Built-in roles have no id and cannot be changed (the page offers editing for custom roles only).
    if (!role.id) return throwError(() => new Error(`The built-in role ${role.name} cannot be changed`));
    return this.api.organizationsUpdateRole({ path: { orgId, roleId: role.id }, body, headers: ifMatch(role.version) });
  }
  deleteRole(orgId: string, id: string): Observable<unknown> {
    return this.api.organizationsDeleteRole({ path: { orgId, roleId: id } });
  }

  apiKeys(orgId: string): Observable<ApiKey[]> {
    return this.api.organizationsApiKeys({ path: { orgId } });
  }
  createApiKey(orgId: string, body: CreateServiceAccountKeyBody): Observable<CreatedApiKey> {
    return this.api.organizationsCreateApiKey({ path: { orgId }, body });
  }
  revokeApiKey(orgId: string, id: string): Observable<unknown> {
    return this.api.organizationsRevokeApiKey({ path: { orgId, keyId: id } });
  }
}

/** A role choice as one select value: a built-in role name, or `custom:<roleId>`. */
export function roleValue(role: string, customRoleId: string | null | undefined): string {
  return role === 'custom' && customRoleId ? `custom:${customRoleId}` : role;
}
export function roleBody(value: string): { role: RoleChoice; customRoleId?: string } {
  return value.startsWith('custom:') ? { role: 'custom', customRoleId: value.slice(7) } : { role: value as RoleChoice };
}
export function roleLabel(role: string, customRoleId: string | null | undefined, roles: Role[] | null): string {
  if (role !== 'custom') return role;
  return roles?.find((r) => r.id === customRoleId)?.name ?? 'custom role';
}
