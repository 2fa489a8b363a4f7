import { MigrationInterface, QueryRunner } from 'typeorm';

/** Users, sessions, organizations, roles, memberships, invitations, API keys, OIDC providers. */
export class IdentityTenancy1764100001000 implements MigrationInterface {
  name = 'IdentityTenancy1764100001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE users (
      id uuid PRIMARY KEY,
      email text NOT NULL,
      name text NOT NULL,
      password_hash text,
      totp_secret_enc text,
      totp_enabled boolean NOT NULL DEFAULT false,
      recovery_code_hashes text[] NOT NULL DEFAULT '{}',
      is_instance_admin boolean NOT NULL DEFAULT false,
      password_changed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      version int NOT NULL DEFAULT 1
    )`);
    await q.query(`CREATE UNIQUE INDEX ux_users_email ON users (lower(email))`);
    await q.query(`CREATE TABLE refresh_tokens (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      family_id uuid NOT NULL,
      token_hash text NOT NULL UNIQUE,
      expires_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      used_at timestamptz,
      revoked_at timestamptz,
      revoke_reason text,
      ip text,
      user_agent text
    )`);
    await q.query(`CREATE INDEX ix_refresh_family ON refresh_tokens (family_id)`);
    await q.query(`CREATE INDEX ix_refresh_user ON refresh_tokens (user_id)`);
    await q.query(`CREATE TABLE organizations (
      id uuid PRIMARY KEY,
      name text NOT NULL,
      slug text NOT NULL UNIQUE,
      require_two_factor boolean NOT NULL DEFAULT false,
      audit_retention_days int NOT NULL DEFAULT 365,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      version int NOT NULL DEFAULT 1
    )`);
    await q.query(`CREATE TABLE roles (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      name text NOT NULL,
      description text NOT NULL DEFAULT '',
      permissions text[] NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      version int NOT NULL DEFAULT 1
    )`);
    await q.query(`CREATE UNIQUE INDEX ux_roles_name ON roles (organization_id, lower(name))`);
    await q.query(`CREATE TABLE memberships (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      role text NOT NULL,
      custom_role_id uuid REFERENCES roles(id) ON DELETE RESTRICT,
      project_ids uuid[],
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      version int NOT NULL DEFAULT 1,
      UNIQUE (organization_id, user_id)
    )`);
    await q.query(`CREATE INDEX ix_memberships_user ON memberships (user_id)`);
    await q.query(`CREATE TABLE invitations (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      email text NOT NULL,
      role text NOT NULL,
      custom_role_id uuid REFERENCES roles(id) ON DELETE CASCADE,
      project_ids uuid[],
      token_hash text NOT NULL UNIQUE,
      invited_by uuid REFERENCES users(id) ON DELETE SET NULL,
      expires_at timestamptz NOT NULL,
      accepted_at timestamptz,
      revoked_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE INDEX ix_invitations_org ON invitations (organization_id)`);
    await q.query(`CREATE TABLE api_keys (
      id uuid PRIMARY KEY,
      name text NOT NULL,
      prefix text NOT NULL UNIQUE,
      key_hash text NOT NULL,
      user_id uuid REFERENCES users(id) ON DELETE CASCADE,
      organization_id uuid REFERENCES organizations(id) ON DELETE CASCADE,
      role text,
      custom_role_id uuid REFERENCES roles(id) ON DELETE RESTRICT,
      scopes text[] NOT NULL,
      expires_at timestamptz,
      last_used_at timestamptz,
      created_by uuid REFERENCES users(id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz,
      CHECK (user_id IS NOT NULL OR (organization_id IS NOT NULL AND role IS NOT NULL))
    )`);
    await q.query(`CREATE TABLE oidc_providers (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      name text NOT NULL,
      issuer_url text NOT NULL,
      client_id text NOT NULL,
      client_secret_enc text NOT NULL,
      scopes text[] NOT NULL DEFAULT '{openid,email,profile}',
      allowed_domains text[] NOT NULL DEFAULT '{}',
      role_claim text,
      role_mapping jsonb NOT NULL DEFAULT '{}',
      default_role text NOT NULL DEFAULT 'viewer',
      enabled boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      version int NOT NULL DEFAULT 1
    )`);
    await q.query(`CREATE INDEX ix_oidc_providers_org ON oidc_providers (organization_id)`);
    await q.query(`CREATE TABLE oidc_logins (
      state_hash text PRIMARY KEY,
      provider_id uuid NOT NULL REFERENCES oidc_providers(id) ON DELETE CASCADE,
      code_verifier_enc text NOT NULL,
      nonce text NOT NULL,
      return_to text,
      expires_at timestamptz NOT NULL
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['oidc_logins', 'oidc_providers', 'api_keys', 'invitations', 'memberships', 'roles', 'organizations', 'refresh_tokens', 'users']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
