/**
 * The one permission vocabulary (actions × subjects), shared by the API, the worker and the portal.
 * A permission is written `subject:action`, for example `project:create`.
 */
export const SUBJECTS = [
  'organization',
  'member',
  'invitation',
  'role',
  'api-key',
  'oidc-provider',
  'audit-event',
  'project',
  'environment',
  'variable',
  'registry',
  'git-provider',
  'application',
  'deployment',
] as const;
export type Subject = (typeof SUBJECTS)[number];

export const ACTIONS = ['read', 'create', 'update', 'delete', 'reveal', 'export', 'deploy'] as const;
export type Action = (typeof ACTIONS)[number];

/** Which actions make sense for which subject. Anything not listed here does not exist. */
export const SUBJECT_ACTIONS: Record<Subject, readonly Action[]> = {
  organization: ['read', 'update', 'delete'],
  member: ['read', 'create', 'update', 'delete'],
  invitation: ['read', 'create', 'delete'],
  role: ['read', 'create', 'update', 'delete'],
  'api-key': ['read', 'create', 'delete'],
  'oidc-provider': ['read', 'create', 'update', 'delete'],
  'audit-event': ['read', 'export'],
  project: ['read', 'create', 'update', 'delete'],
  environment: ['read', 'create', 'update', 'delete'],
  variable: ['read', 'create', 'update', 'delete', 'reveal'],
  registry: ['read', 'create', 'update', 'delete'],
  'git-provider': ['read', 'create', 'update', 'delete'],
  /** `deploy` covers deploy, redeploy, cancel, rollback, start, stop, restart and scale. */
  application: ['read', 'create', 'update', 'delete', 'deploy'],
  deployment: ['read'],
};

export type Permission = `${Subject}:${Action}`;

export const ALL_PERMISSIONS: readonly Permission[] = SUBJECTS.flatMap((s) =>
  SUBJECT_ACTIONS[s].map((a) => `${s}:${a}` as Permission),
);

export function isPermission(value: string): value is Permission {
  return (ALL_PERMISSIONS as readonly string[]).includes(value);
}

/** Subjects that live inside a project: a member limited to some projects sees only those. */
export const PROJECT_SCOPED_SUBJECTS: readonly Subject[] = ['project', 'environment', 'variable', 'application', 'deployment'];

export const BUILTIN_ROLES = ['owner', 'admin', 'developer', 'viewer'] as const;
export type BuiltinRole = (typeof BUILTIN_ROLES)[number];

const read = ALL_PERMISSIONS.filter((p) => p.endsWith(':read'));
const work: Permission[] = [
  'project:create', 'project:update', 'project:delete',
  'environment:create', 'environment:update', 'environment:delete',
  'variable:create', 'variable:update', 'variable:delete', 'variable:reveal',
  'application:create', 'application:update', 'application:delete', 'application:deploy',
];

export const BUILTIN_ROLE_PERMISSIONS: Record<BuiltinRole, readonly Permission[]> = {
  owner: ALL_PERMISSIONS,
  admin: ALL_PERMISSIONS.filter((p) => p !== 'organization:delete'),
  developer: [...read.filter((p) => p !== 'audit-event:read'), ...work],
  viewer: read.filter((p) => p !== 'audit-event:read'),
};

/** API key scopes. An API key's ability is its owner's ability intersected with its scopes. */
export const API_KEY_SCOPES = ['read', 'write', 'deploy', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

const ADMIN_SUBJECTS: readonly Subject[] = ['organization', 'member', 'invitation', 'role', 'api-key', 'oidc-provider', 'audit-event'];

/** Whether a permission falls inside one of the given scopes. */
export function scopeAllows(scopes: readonly ApiKeyScope[], permission: Permission): boolean {
  const [subject, action] = permission.split(':') as [Subject, Action];
  if (scopes.includes('admin')) return true;
  if (action === 'read') return scopes.includes('read') || scopes.includes('write');
  if (ADMIN_SUBJECTS.includes(subject)) return false;
  if (action === 'reveal' || action === 'export') return false;
  if (action === 'deploy') return scopes.includes('deploy') || scopes.includes('write');
  return scopes.includes('write');
}
