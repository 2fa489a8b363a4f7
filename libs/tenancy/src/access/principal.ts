import type { ActorRef, ApiKeyScope, Permission } from '@wharf/contracts';
import type { AppAbility } from './ability';

export interface ClientContext {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/** What one organization grants the caller. */
export interface Grant {
  organizationId: string;
  role: string;
  customRoleId: string | null;
  permissions: Permission[];
  /** null (and environmentIds null) = every project of the organization. */
  projectIds: string[] | null;
  /**
   * When set, the caller also has these environments (their variables, applications and deployments) and may read the
   * projects that contain them. A grant with environmentIds but no projectIds is limited to those environments.
   */
  environmentIds: string[] | null;
  /** The projects that contain `environmentIds` (resolved at authentication): readable, nothing more. */
  environmentProjectIds: string[];
  /** The organization requires 2FA and the caller has none: only `organization:read` remains. */
  blockedByTwoFactor: boolean;
}

/** The authenticated caller, handed explicitly to every command and query (never request-scoped). */
export interface Principal {
  kind: 'user' | 'api-key';
  userId: string | null;
  apiKeyId: string | null;
  name: string;
  sessionId: string | null;
  isInstanceAdmin: boolean;
  scopes: ApiKeyScope[] | null;
  grants: Grant[];
  ability: AppAbility;
  client: ClientContext;
}

export function actorOf(p: Principal): ActorRef {
  return p.kind === 'user' ? { type: 'user', id: p.userId, name: p.name } : { type: 'api-key', id: p.apiKeyId, name: p.name };
}

export const SYSTEM_ACTOR: ActorRef = { type: 'system', id: null, name: 'system' };

export function grantFor(p: Principal, organizationId: string): Grant | undefined {
  return p.grants.find((g) => g.organizationId === organizationId);
}
