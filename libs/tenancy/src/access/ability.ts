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
 * Builds the caller's ability from their grants (membership role or custom role, project and environment limits)
 * intersected with an API key's scopes. Every rule carries the organization (and project or environment) as a
 * condition, so the same rules filter SQL.
 */
export function buildAbility(grants: Grant[], scopes: ApiKeyScope[] | null): AppAbility {
  const { can, build } = new AbilityBuilder<AppAbility>(createMongoAbility);
  for (const g of grants) {
    const perms: Permission[] = g.blockedByTwoFactor ? ['organization:read'] : g.permissions;
    const limited = g.projectIds !== null || (g.environmentIds ?? null) !== null;
    for (const p of perms) {
      if (scopes && !scopeAllows(scopes, p)) continue;
      const [subject, action] = p.split(':') as [Subject, Action];
      const base: Record<string, unknown> = subject === 'organization' ? { id: g.organizationId } : { organizationId: g.organizationId };
      if (!limited || !PROJECT_SCOPED_SUBJECTS.includes(subject)) {
        can(action, subject, base as never);
        continue;
      }
      for (const cond of limitedConditions(g, subject, action)) can(action, subject, { ...base, ...cond } as never);
    }
  }
  return build();
}

/**
 * The conditions (one rule each, OR-ed) under which a limited grant reaches a project-scoped subject:
 * - whole projects (`projectIds`): everything inside them, except creating projects;
 * - environments (`environmentIds`): the environment itself (not creating environments) and what carries its
 *   `environmentId` (variables, applications, deployments); project-level variables are not included; the projects
 *   that contain the environments are readable, nothing more.
 */
function limitedConditions(g: Grant, subject: Subject, action: Action): Array<Record<string, unknown>> {
  const projects = g.projectIds ?? [];
  const environments = g.environmentIds ?? [];
  const out: Array<Record<string, unknown>> = [];
  if (subject === 'project') {
    if (action === 'create') return out;
    const ids = action === 'read' ? [...new Set([...projects, ...(g.environmentProjectIds ?? [])])] : projects;
    if (ids.length) out.push({ id: { $in: ids } });
    return out;
  }
  if (projects.length) out.push({ projectId: { $in: projects } });
  if (environments.length) {
    if (subject === 'environment') {
      if (action !== 'create') out.push({ id: { $in: environments } });
    } else {
      out.push({ environmentId: { $in: environments } });
    }
  }
  return out;
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
