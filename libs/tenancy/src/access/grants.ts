import { EntityManager } from 'typeorm';
import { isPermission, Permission } from '@wharf/contracts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '@wharf/core';
import { effectivePermissions, isBuiltinRole, permissionsOfRole } from './ability';
import { grantFor, Principal } from './principal';
import { RoleEntity } from '../entities/role.entity';
import { MembershipEntity } from '../entities/membership.entity';

export interface RoleInput {
  role: string;
  customRoleId?: string | null;
  projectIds?: string[] | null;
  environmentIds?: string[] | null;
}

export interface ResolvedRole {
  role: string;
  customRoleId: string | null;
  permissions: Permission[];
  projectIds: string[] | null;
  environmentIds: string[] | null;
  /** Granted environment id → its project (environments that no longer exist are absent). */
  environmentProjects: Map<string, string>;
}

/**
 * Resolves granted environment ids within one organization. New input must name environments of this organization
 * (400 on /environmentIds otherwise); stored grants keep whatever still exists.
 */
async function resolveEnvironments(m: EntityManager, organizationId: string, ids: string[] | null | undefined, stored: boolean): Promise<{ environmentIds: string[] | null; environmentProjects: Map<string, string> }> {
  if (ids === null || ids === undefined) return { environmentIds: null, environmentProjects: new Map() };
  const unique = [...new Set(ids)];
  // Raw SQL: the environments table belongs to the projects lib, which sits above this one.
  const rows: Array<{ id: string; project_id: string }> = unique.length
    ? await m.query(`SELECT id, project_id FROM environments WHERE organization_id = $1 AND id = ANY($2::uuid[])`, [organizationId, unique])
    : [];
  const environmentProjects = new Map(rows.map((r) => [r.id, r.project_id]));
  if (!stored) {
    const unknown = unique.findIndex((id) => !environmentProjects.has(id));
    if (unknown >= 0) throw ValidationError.field(`/environmentIds/${ids.indexOf(unique[unknown])}`, 'unknown-environment', 'no such environment in this organization');
  }
  return { environmentIds: unique, environmentProjects };
}

/** Resolves a role choice within one organization (a custom role must belong to it). */
export async function resolveRole(m: EntityManager, organizationId: string, input: RoleInput, opts: { stored?: boolean } = {}): Promise<ResolvedRole> {
  const envs = await resolveEnvironments(m, organizationId, input.environmentIds, opts.stored ?? false);
  if (input.role === 'custom') {
    if (!input.customRoleId) throw ValidationError.field('/customRoleId', 'required', 'customRoleId is required when role is "custom"');
    const role = await m.findOneBy(RoleEntity, { id: input.customRoleId, organizationId });
    if (!role) throw ValidationError.field('/customRoleId', 'unknown-role', 'no such role in this organization');
    return { role: 'custom', customRoleId: role.id, permissions: role.permissions, projectIds: input.projectIds ?? null, ...envs };
  }
  if (!isBuiltinRole(input.role)) throw ValidationError.field('/role', 'unknown-role', 'role must be owner, admin, developer, viewer or custom');
  if (input.customRoleId) throw ValidationError.field('/customRoleId', 'not-allowed', 'customRoleId is only for role "custom"');
  return { role: input.role, customRoleId: null, permissions: permissionsOfRole(input.role, null), projectIds: input.projectIds ?? null, ...envs };
}

export interface EscalationTarget {
  permissions: Permission[];
  projectIds: string[] | null;
  environmentIds?: string[] | null;
  /** Granted environment id → its project (from resolveRole). */
  environmentProjects?: Map<string, string>;
  role?: string;
}

/**
 * Nobody grants more than they hold: every permission of the target must be the caller's too, and a caller limited
 * to some projects or environments can only grant (a subset of) those: projects they hold whole, and environments
 * they hold or that lie in a project they hold whole.
 */
export function assertNoEscalation(p: Principal, organizationId: string, target: EscalationTarget): void {
  const g = grantFor(p, organizationId);
  const mine = effectivePermissions(g, p.scopes);
  const extra = target.permissions.filter((x) => !mine.has(x));
  if (extra.length) throw new ForbiddenError(`You cannot grant permissions you do not have (${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''})`, 'role-escalation');
  if (target.role === 'owner' && g?.role !== 'owner') throw new ForbiddenError('Only an owner can make someone an owner', 'role-escalation');
  if (g && (g.projectIds !== null || g.environmentIds !== null)) {
    const myProjects = g.projectIds ?? [];
    const myEnvironments = g.environmentIds ?? [];
    const targetEnvironments = target.environmentIds ?? null;
    if (target.projectIds === null && targetEnvironments === null) {
      throw new ForbiddenError('You can only grant access to projects you have access to', 'role-escalation');
    }
    if ((target.projectIds ?? []).some((id) => !myProjects.includes(id))) {
      throw new ForbiddenError('You can only grant access to projects you have access to', 'role-escalation');
    }
    const outside = (targetEnvironments ?? []).filter((id) => {
      if (myEnvironments.includes(id)) return false;
      const project = target.environmentProjects?.get(id);
      // An environment that no longer exists grants nothing.
      if (project === undefined) return target.environmentProjects === undefined;
      return !myProjects.includes(project);
    });
    if (outside.length) throw new ForbiddenError('You can only grant access to environments you have access to', 'role-escalation');
  }
}

export function validatePermissions(list: unknown, pointer = '/permissions'): Permission[] {
  if (!Array.isArray(list)) throw ValidationError.field(pointer, 'type', 'permissions must be an array');
  const bad = list.filter((x) => typeof x !== 'string' || !isPermission(x));
  if (bad.length) throw ValidationError.field(pointer, 'unknown-permission', `unknown permissions: ${bad.slice(0, 5).map(String).join(', ')}`);
  return [...new Set(list as Permission[])].sort();
}

/** Locks the organization's owner rows and refuses to remove the last owner. */
export async function assertNotLastOwner(m: EntityManager, organizationId: string, userId: string): Promise<void> {
  const owners: Array<{ user_id: string }> = await m.query(
    `SELECT user_id FROM memberships WHERE organization_id = $1 AND role = 'owner' FOR UPDATE`,
    [organizationId],
  );
  if (owners.length === 1 && owners[0].user_id === userId) throw new ConflictError('The last owner cannot leave or be demoted; make someone else an owner first', 'last-owner');
}

export async function loadMembership(m: EntityManager, organizationId: string, userId: string): Promise<MembershipEntity> {
  const row = await m.findOneBy(MembershipEntity, { organizationId, userId });
  if (!row) throw new NotFoundError('Member');
  return row;
}
