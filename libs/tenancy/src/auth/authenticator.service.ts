import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ApiKeyScope, Permission } from '@wharf/contracts';
import { sha256, UnauthenticatedError } from '@wharf/core';
import { AccessTokenService, SessionService } from '@wharf/identity';
import { AppAbility, buildAbility, permissionsOfRole } from '../access/ability';
import type { ClientContext, Grant, Principal } from '../access/principal';

interface GrantRow {
  organization_id: string;
  role: string;
  custom_role_id: string | null;
  project_ids: string[] | null;
  environment_ids: string[] | null;
  environment_project_ids: string[] | null;
  custom_permissions: Permission[] | null;
  require_two_factor: boolean;
}

export const API_KEY_PREFIX = 'wk_';

/** How many distinct grant sets (with their built abilities) the authenticator keeps. */
const COMPILED_GRANTS_CACHE_SIZE = 1000;

/**
 * A user's grants, one row per membership. The projects that contain granted environments are read here (raw SQL: the
 * environments table belongs to a lib above this one); an environment of another organization or one since deleted
 * grants nothing.
 */
const GRANTS_SQL = (userExpr: string) => `
  SELECT m.organization_id, m.role, m.custom_role_id, m.project_ids, m.environment_ids, r.permissions AS custom_permissions, o.require_two_factor,
         (SELECT array_agg(DISTINCT e.project_id) FROM environments e
           WHERE m.environment_ids IS NOT NULL AND e.id = ANY(m.environment_ids) AND e.organization_id = m.organization_id) AS environment_project_ids
    FROM memberships m JOIN organizations o ON o.id = m.organization_id LEFT JOIN roles r ON r.id = m.custom_role_id
   WHERE m.user_id = ${userExpr}`;

/**
 * Turns a credential (access token or API key) into a Principal with its ability. The user, the session and the grants
 * are read from the database on every request, so a revoked session, a removed member or a changed role takes effect
 * on the next request. Only the work of turning the grants read into an ability is shared: it is keyed by the exact
 * text the database returned (and the caller's 2FA state), so any change to them is a new key, never a stale answer.
 */
@Injectable()
export class Authenticator {
  private readonly compiled = new Map<string, { grants: Grant[]; ability: AppAbility }>();

  constructor(
    private readonly ds: DataSource,
    private readonly tokens: AccessTokenService,
    private readonly sessions: SessionService,
  ) {}

  async fromAccessToken(token: string, client: ClientContext): Promise<Principal> {
    const claims = await this.tokens.verify(token);
    // One round trip per request: the user, whether the session is alive, and every grant.
    const [user] = await this.ds.query(
      `SELECT u.id, u.email, u.is_instance_admin, u.totp_enabled,
              EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = $2 AND r.user_id = u.id AND r.revoked_at IS NULL AND r.expires_at > now()) AS active,
              COALESCE((SELECT json_agg(g) FROM (${GRANTS_SQL('u.id')}) g), '[]'::json)::text AS grants
         FROM users u WHERE u.id = $1`,
      [claims.userId, claims.sessionId],
    );
    if (!user || !user.active) throw new UnauthenticatedError('The session has ended; sign in again', 'session-ended');
    const { grants, ability } = this.compile(user.grants as string, user.totp_enabled === true);
    return {
      kind: 'user', userId: user.id, apiKeyId: null, name: user.email, sessionId: claims.sessionId,
      isInstanceAdmin: user.is_instance_admin, scopes: null, grants, ability, client,
    };
  }

  /** The grants and ability of a user's grant rows (as JSON text), built once per distinct text and shared, frozen. */
  private compile(grantsJson: string, hasTwoFactor: boolean): { grants: Grant[]; ability: AppAbility } {
    const key = `${hasTwoFactor ? 1 : 0}${grantsJson}`;
    const known = this.compiled.get(key);
    if (known) return known;
    const grants = Object.freeze((JSON.parse(grantsJson) as GrantRow[]).map((r) => freezeGrant(toGrant(r, hasTwoFactor)))) as Grant[];
    const entry = Object.freeze({ grants, ability: buildAbility(grants, null) });
    if (this.compiled.size >= COMPILED_GRANTS_CACHE_SIZE) this.compiled.delete(this.compiled.keys().next().value!);
    this.compiled.set(key, entry);
    return entry;
  }

  async fromApiKey(key: string, client: ClientContext): Promise<Principal> {
    const m = /^wk_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{20,100})$/.exec(key);
    if (!m) throw new UnauthenticatedError('The API key is invalid', 'invalid-api-key');
    const [row] = await this.ds.query(
      `SELECT k.id, k.name, k.key_hash, k.user_id, k.organization_id, k.role, k.custom_role_id, k.scopes, k.expires_at, k.revoked_at,
              u.email, u.is_instance_admin, u.totp_enabled, r.permissions AS custom_permissions
         FROM api_keys k LEFT JOIN users u ON u.id = k.user_id LEFT JOIN roles r ON r.id = k.custom_role_id
        WHERE k.prefix = $1`,
      [m[1]],
    );
    if (!row || row.key_hash !== sha256(key) || row.revoked_at || (row.expires_at && new Date(row.expires_at).getTime() <= Date.now())) {
      throw new UnauthenticatedError('The API key is invalid, expired or revoked', 'invalid-api-key');
    }
    void this.ds.query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [row.id]).catch(() => undefined);
    const scopes = row.scopes as ApiKeyScope[];
    let grants: Grant[];
    if (row.user_id) {
      // A personal key acts with its owner's current grants (optionally limited to one organization); 2FA applies to
      // interactive sign-in, not to keys.
      grants = (await this.grantsOfUser(row.user_id, true)).filter((g) => !row.organization_id || g.organizationId === row.organization_id);
    } else {
      grants = [{
        organizationId: row.organization_id, role: row.role, customRoleId: row.custom_role_id,
        permissions: permissionsOfRole(row.role, row.custom_permissions), projectIds: null, environmentIds: null, environmentProjectIds: [], blockedByTwoFactor: false,
      }];
    }
    return {
      kind: 'api-key', userId: row.user_id, apiKeyId: row.id, name: row.user_id ? `${row.name} (${row.email})` : row.name, sessionId: null,
      isInstanceAdmin: false, scopes, grants, ability: buildAbility(grants, scopes), client,
    };
  }

  /**
   * The same caller with their grants read again (for long-lived streams: a changed role, a removal, a revoked key or
   * an ended session take effect without a new request). Null when the credential no longer authenticates.
   */
  async refresh(p: Principal): Promise<Principal | null> {
    if (p.kind === 'user') {
      if (!p.userId) return null;
      const [user] = await this.ds.query(
        `SELECT u.totp_enabled,
                ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = $2 AND r.user_id = u.id AND r.revoked_at IS NULL AND r.expires_at > now())) AS active
           FROM users u WHERE u.id = $1`,
        [p.userId, p.sessionId],
      );
      if (!user || !user.active) return null;
      const grants = await this.grantsOfUser(p.userId, user.totp_enabled);
      return { ...p, grants, ability: buildAbility(grants, p.scopes) };
    }
    const [row] = await this.ds.query(
      `SELECT k.user_id, k.organization_id, k.role, k.expires_at, k.revoked_at, r.permissions AS custom_permissions
         FROM api_keys k LEFT JOIN roles r ON r.id = k.custom_role_id WHERE k.id = $1`,
      [p.apiKeyId],
    );
    if (!row || row.revoked_at || (row.expires_at && new Date(row.expires_at).getTime() <= Date.now())) return null;
    const grants: Grant[] = row.user_id
      ? (await this.grantsOfUser(row.user_id, true)).filter((g) => !row.organization_id || g.organizationId === row.organization_id)
      : p.grants.map((g) => ({ ...g, permissions: permissionsOfRole(row.role, row.custom_permissions) }));
    return { ...p, grants, ability: buildAbility(grants, p.scopes) };
  }

  async grantsOfUser(userId: string, hasTwoFactor: boolean): Promise<Grant[]> {
    const rows: GrantRow[] = await this.ds.query(GRANTS_SQL('$1'), [userId]);
    return rows.map((r) => toGrant(r, hasTwoFactor));
  }
}

/** Grants shared between requests must not be changed by one of them. */
function freezeGrant(g: Grant): Grant {
  for (const v of Object.values(g)) if (Array.isArray(v)) Object.freeze(v);
  return Object.freeze(g);
}

function toGrant(r: GrantRow, hasTwoFactor: boolean): Grant {
  return {
    organizationId: r.organization_id,
    role: r.role,
    customRoleId: r.custom_role_id,
    permissions: permissionsOfRole(r.role, r.custom_permissions),
    projectIds: r.project_ids,
    environmentIds: r.environment_ids,
    environmentProjectIds: r.environment_project_ids ?? [],
    blockedByTwoFactor: r.require_two_factor && !hasTwoFactor,
  };
}
