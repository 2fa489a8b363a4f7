import { AbilityBuilder, createMongoAbility, MongoAbility, MongoQuery, subject as caslSubject } from '@casl/ability';
import {
  Action,
  ApiKeyScope,
  BUILTIN_ROLE_PERMISSIONS,
  BuiltinRole,
  BUILTIN_ROLES,
  Permission,
  PROJECT_SCOPED_SUBJECTS,
  scopeAllows,
  Subject,
} from '@wharf/contracts';
import type { Grant } from './principal';

export type AppAbility = MongoAbility<[Action, Subject], MongoQuery>;

export const isBuiltinRole = (r: string): r is BuiltinRole => (BUILTIN_ROLES as readonly string[]).includes(r);

export function permissionsOfRole(role: string, customPermissions: Permission[] | null): Permission[] {
  if (isBuiltinRole(role)) return [...BUILTIN_ROLE_PERMISSIONS[role]];
  return customPermissions ?? [];
}

/**
 * Builds the caller's ability from their grants (membership role or custom role, project limits) intersected with an
 * API key's scopes. Every rule carries the organization (and project) as a condition, so the same rules filter SQL.
 */
export function buildAbility(grants: Grant[], scopes: ApiKeyScope[] | null): AppAbility {
  const { can, build } = new AbilityBuilder<AppAbility>(createMongoAbility);
  for (const g of grants) {
    const perms: Permission[] = g.blockedByTwoFactor ? ['organization:read'] : g.permissions;
    for (const p of perms) {
      if (scopes && !scopeAllows(scopes, p)) continue;
      const [subject, action] = p.split(':') as [Subject, Action];
      const cond: Record<string, unknown> = subject === 'organization' ? { id: g.organizationId } : { organizationId: g.organizationId };
      if (g.projectIds && PROJECT_SCOPED_SUBJECTS.includes(subject)) {
        if (subject === 'project') {
          if (action === 'create') continue;
          cond.id = { $in: g.projectIds };
        } else {
          cond.projectId = { $in: g.projectIds };
        }
      }
      can(action, subject, cond as never);
    }
  }
  return build();
}

/** Tags a plain object or entity with its CASL subject type. */
export function asSubject<T extends object>(type: Subject, obj: T): T {
  return caslSubject(type, obj as T & Record<PropertyKey, unknown>) as T;
}

/** The permissions a grant holds, as a set (for "no escalation" checks). */
export function effectivePermissions(g: Grant | undefined, scopes: ApiKeyScope[] | null): Set<Permission> {
  if (!g || g.blockedByTwoFactor) return new Set();
  return new Set(g.permissions.filter((p) => !scopes || scopeAllows(scopes, p)));
}
