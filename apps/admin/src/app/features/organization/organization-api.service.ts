import { HttpClient } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { forkJoin, map, Observable, of, switchMap } from 'rxjs';
import {
  API, ApiKey, CreatedApiKey, CreatedInvitation, CreateInvitationBody, CreateRoleBody, CreateServiceAccountKeyBody, EnvironmentPage, Invitation, Member,
  OkDto, ProjectPage, Role, RoleChoice, UpdateMemberBody, UpdateRoleBody,
} from '../../core/api/api-types';
import type { ProjectNode } from './member-access';

const ifMatch = (version: number | null | undefined) => (version == null ? {} : { headers: { 'If-Match': `"${version}"` } });

/** The organization settings endpoints (members, invitations, roles, service-account API keys). */
@Injectable({ providedIn: 'root' })
export class OrganizationApi {
  private readonly http = inject(HttpClient);
  private base(orgId: string): string {
    return `${API}/organizations/${encodeURIComponent(orgId)}`;
  }

  members(orgId: string): Observable<Member[]> {
    return this.http.get<Member[]>(`${this.base(orgId)}/members`);
  }
  updateMember(orgId: string, m: Member, body: UpdateMemberBody): Observable<OkDto> {
    return this.http.patch<OkDto>(`${this.base(orgId)}/members/${m.userId}`, body, ifMatch(m.version));
  }
  /** The organization's projects (those the caller reads) with their environments, for access limits. */
  projectTree(orgId: string): Observable<ProjectNode[]> {
    return this.http.get<ProjectPage>(`${this.base(orgId)}/projects`, { params: { limit: 200 } }).pipe(
      switchMap((page) => (page.items.length
        ? forkJoin(page.items.map((project) => this.http.get<EnvironmentPage>(`${API}/projects/${project.id}/environments`, { params: { limit: 200 } }).pipe(map((e) => ({ project, environments: e.items })))))
        : of([]))),
    );
  }
  removeMember(orgId: string, userId: string): Observable<unknown> {
    return this.http.delete(`${this.base(orgId)}/members/${userId}`);
  }

  invitations(orgId: string): Observable<Invitation[]> {
    return this.http.get<Invitation[]>(`${this.base(orgId)}/invitations`);
  }
  invite(orgId: string, body: CreateInvitationBody): Observable<CreatedInvitation> {
    return this.http.post<CreatedInvitation>(`${this.base(orgId)}/invitations`, body);
  }
  revokeInvitation(orgId: string, id: string): Observable<unknown> {
    return this.http.delete(`${this.base(orgId)}/invitations/${id}`);
  }

  roles(orgId: string): Observable<Role[]> {
    return this.http.get<Role[]>(`${this.base(orgId)}/roles`);
  }
  createRole(orgId: string, body: CreateRoleBody): Observable<Role> {
    return this.http.post<Role>(`${this.base(orgId)}/roles`, body);
  }
  updateRole(orgId: string, role: Role, body: UpdateRoleBody): Observable<Role> {
    return this.http.patch<Role>(`${this.base(orgId)}/roles/${role.id}`, body, ifMatch(role.version));
  }
  deleteRole(orgId: string, id: string): Observable<unknown> {
    return this.http.delete(`${this.base(orgId)}/roles/${id}`);
  }

  apiKeys(orgId: string): Observable<ApiKey[]> {
    return this.http.get<ApiKey[]>(`${this.base(orgId)}/api-keys`);
  }
  createApiKey(orgId: string, body: CreateServiceAccountKeyBody): Observable<CreatedApiKey> {
    return this.http.post<CreatedApiKey>(`${this.base(orgId)}/api-keys`, body);
  }
  revokeApiKey(orgId: string, id: string): Observable<unknown> {
    return this.http.delete(`${this.base(orgId)}/api-keys/${id}`);
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
