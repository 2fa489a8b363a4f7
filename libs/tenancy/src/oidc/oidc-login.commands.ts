import { Logger } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError, newId, SecretBox, sha256, TransactionRunner, UUID_RE } from '@wharf/core';
import { AccessTokenService, SessionService, UserEntity } from '@wharf/identity';
import type { ActorRef } from '@wharf/contracts';
import { OidcProviderEntity } from '../entities/oidc-provider.entity';
import { MembershipEntity } from '../entities/membership.entity';
import type { ClientContext } from '../access/principal';
import { resolveRole, ResolvedRole } from '../access/grants';
import { issueTokens, TokenPair } from '../auth/auth.commands';
import { OidcClientFactory } from './oidc-client';
import { roleInputOf, secretAad } from './oidc-provider.commands';

const LOGIN_TTL_MS = 10 * 60_000;

/**
 * A failed OIDC sign-in. The API turns it into a redirect to `/login?error=<code>` (never a token in a URL).
 * Codes: oidc-provider-unavailable, oidc-invalid-state, oidc-browser-mismatch, oidc-denied, oidc-exchange-failed, oidc-email-missing,
 * oidc-email-unverified, oidc-email-domain, oidc-account-exists, oidc-role-invalid, oidc-failed.
 */
export class OidcLoginError extends DomainError {
  readonly status = 400;
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** Only same-origin relative paths: one leading '/', no '//' or backslash tricks, no control characters. */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || value.length > 2000) return '/';
  if (!/^\/(?![/\\])[^\\\s\u0000-\u001f\u007f]*$/.test(value)) return '/';
  return value;
}

const loginAad = (stateHash: string): string => `oidc-login:${stateHash}:code-verifier`;

async function loadEnabledProvider(ds: DataSource | EntityManager, id: string): Promise<OidcProviderEntity> {
  const row = UUID_RE.test(id) ? await ds.getRepository(OidcProviderEntity).findOneBy({ id }) : null;
  if (!row || !row.enabled) throw new OidcLoginError('oidc-provider-unavailable', 'This sign-in provider does not exist or is disabled');
  return row;
}

/** Where to send the browser to sign in at the identity provider. */
export interface OidcLoginStart {
  authorizationUrl: string;
}
export class StartOidcLoginCommand extends Command<OidcLoginStart> {
  /**
   * `linkUserId`: the signed-in user who asked to link this identity to their account (explicit `link` request).
   * `binder`: the random value of the browser's short-lived binding cookie; only a callback presenting it completes.
   */
  constructor(readonly providerId: string, readonly returnTo: string | undefined, readonly linkUserId: string | null, readonly binder: string) {
    super();
  }
}

/** Authorization code flow with PKCE (S256), state and nonce; the login state lives 10 minutes, hashed. */
@CommandHandler(StartOidcLoginCommand)
export class StartOidcLoginHandler implements ICommandHandler<StartOidcLoginCommand> {
  private readonly logger = new Logger('Oidc');
  constructor(private readonly ds: DataSource, private readonly box: SecretBox, private readonly clients: OidcClientFactory) {}

  async execute({ providerId, returnTo, linkUserId, binder }: StartOidcLoginCommand) {
    const provider = await loadEnabledProvider(this.ds, providerId);
    const oidc = await this.clients.lib();
    let cfg;
    try {
      cfg = await this.clients.configuration(provider.issuerUrl, provider.clientId, this.box.decrypt(provider.clientSecretEnc, secretAad(provider.id)));
    } catch (e) {
      this.logger.warn(`OIDC discovery failed for provider ${provider.id}: ${(e as Error).message}`);
      throw new OidcLoginError('oidc-provider-unavailable', 'The identity provider cannot be reached');
    }
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const stateHash = sha256(state);
    await this.ds.query(
      `INSERT INTO oidc_logins (state_hash, provider_id, code_verifier_enc, nonce, return_to, expires_at, link_user_id, binder_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [stateHash, provider.id, this.box.encrypt(codeVerifier, loginAad(stateHash)), nonce, safeReturnTo(returnTo), new Date(Date.now() + LOGIN_TTL_MS), linkUserId, sha256(binder)],
    );
    const url = oidc.buildAuthorizationUrl(cfg, {
      redirect_uri: this.clients.redirectUri,
      scope: provider.scopes.join(' '),
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { authorizationUrl: url.href };
  }
}

interface LoginRow {
  provider_id: string;
  code_verifier_enc: string;
  nonce: string;
  return_to: string | null;
  expires_at: Date;
  link_user_id: string | null;
}

export interface OidcLoginResult {
  tokens: TokenPair;
  returnTo: string;
  userId: string;
  created: boolean;
}

/** Reads a claim by name, or by dotted path for nested claims (e.g. `realm_access.roles`). */
function claimAt(claims: Record<string, unknown>, name: string): unknown {
  if (name in claims) return claims[name];
  let cur: unknown = claims;
  for (const part of name.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export class CompleteOidcLoginCommand extends Command<OidcLoginResult> {
  /** `params`: the callback's query parameters as received; `binder`: the browser's binding cookie, if it sent one. */
  constructor(readonly params: Record<string, string>, readonly client: ClientContext, readonly binder: string | null) {
    super();
  }
}

/**
 * The callback: consumes the login state (single use), exchanges the code, checks the email (verified, allowed
 * domain), finds or provisions the user and membership, and starts a session like password sign-in.
 *
 * Accounts are matched by the provider's subject, never by email alone: an existing Wharf account with the same email
 * is only used after its owner linked it (signed in, `link=true`), so one organization's identity provider cannot sign
 * in as another organization's user.
 */
@CommandHandler(CompleteOidcLoginCommand)
export class CompleteOidcLoginHandler implements ICommandHandler<CompleteOidcLoginCommand> {
  private readonly logger = new Logger('Oidc');
  constructor(
    private readonly ds: DataSource,
    private readonly tx: TransactionRunner,
    private readonly box: SecretBox,
    private readonly clients: OidcClientFactory,
    private readonly sessions: SessionService,
    private readonly tokens: AccessTokenService,
  ) {}

  async execute({ params, client, binder }: CompleteOidcLoginCommand): Promise<OidcLoginResult> {
    const state = params.state;
    if (typeof state !== 'string' || !state || state.length > 500) throw new OidcLoginError('oidc-invalid-state', 'The sign-in request is missing or has expired');
    const stateHash = sha256(state);
    // Single use: the row is deleted by whoever reads it first, and only by the browser that started the sign-in (the
    // binding cookie): a callback URL opened in another browser (login CSRF, a leaked link) is refused.
    const [deleted] = await this.ds.query(
      `DELETE FROM oidc_logins WHERE state_hash = $1 AND binder_hash = $2 RETURNING provider_id, code_verifier_enc, nonce, return_to, expires_at, link_user_id`,
      [stateHash, sha256(binder ?? '')],
    );
    const login = (deleted as LoginRow[] | undefined)?.[0];
    if (!login) {
      const [other] = await this.ds.query(`SELECT provider_id FROM oidc_logins WHERE state_hash = $1 AND expires_at > now()`, [stateHash]);
      if (other) {
        const provider = await loadEnabledProvider(this.ds, other.provider_id).catch(() => null);
        if (provider) await this.auditFailure(provider, null, 'oidc-browser-mismatch', client).catch(() => undefined);
        throw new OidcLoginError('oidc-browser-mismatch', 'This sign-in was started in another browser; start it again here');
      }
    }
    if (!login || new Date(login.expires_at).getTime() <= Date.now()) throw new OidcLoginError('oidc-invalid-state', 'The sign-in request is missing or has expired');
    const provider = await loadEnabledProvider(this.ds, login.provider_id);
    let email: string | null = null;
    try {
      return await this.complete(provider, login, params, state, client, (e) => (email = e));
    } catch (e) {
      const err = e instanceof OidcLoginError ? e : new OidcLoginError('oidc-failed', 'Sign-in failed');
      if (!(e instanceof OidcLoginError)) this.logger.warn(`OIDC sign-in failed for provider ${provider.id}: ${(e as Error).message}`);
      await this.auditFailure(provider, email, err.code, client).catch(() => undefined);
      throw err;
    }
  }

  private async complete(provider: OidcProviderEntity, login: LoginRow, params: Record<string, string>, state: string, client: ClientContext, noteEmail: (e: string) => void): Promise<OidcLoginResult> {
    if (params.error) throw new OidcLoginError('oidc-denied', 'The identity provider refused the sign-in');
    const oidc = await this.clients.lib();
    const cfg = await this.clients.configuration(provider.issuerUrl, provider.clientId, this.box.decrypt(provider.clientSecretEnc, secretAad(provider.id)));
    const currentUrl = new URL(this.clients.redirectUri);
    for (const [k, v] of Object.entries(params)) if (typeof v === 'string') currentUrl.searchParams.set(k, v);
    let claims: Record<string, unknown>;
    let accessToken: string;
    try {
      const res = await oidc.authorizationCodeGrant(cfg, currentUrl, {
        pkceCodeVerifier: this.box.decrypt(login.code_verifier_enc, loginAad(sha256(state))),
        expectedState: state,
        expectedNonce: login.nonce,
      });
      claims = { ...(res.claims() ?? {}) } as Record<string, unknown>;
      accessToken = res.access_token;
      await this.clients.remember(provider.issuerUrl, cfg);
    } catch (e) {
      this.logger.warn(`OIDC code exchange failed for provider ${provider.id}: ${(e as Error).message}`);
      throw new OidcLoginError('oidc-exchange-failed', 'The identity provider did not confirm the sign-in');
    }
    const sub = claims.sub as string;
    const needsUserinfo = claims.email === undefined || claims.email_verified === undefined || (provider.roleClaim && claimAt(claims, provider.roleClaim) === undefined);
    if (needsUserinfo && cfg.serverMetadata().userinfo_endpoint) {
      try {
        const info = await oidc.fetchUserInfo(cfg, accessToken, sub);
        claims = { ...info, ...claims };
        for (const k of ['email', 'email_verified', 'name']) if (claims[k] === undefined && info[k] !== undefined) claims[k] = info[k];
      } catch (e) {
        this.logger.warn(`OIDC userinfo failed for provider ${provider.id}: ${(e as Error).message}`);
      }
    }
    const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
    if (!email || !/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) throw new OidcLoginError('oidc-email-missing', 'The identity provider did not share an email address');
    noteEmail(email);
    if (claims.email_verified !== true && claims.email_verified !== 'true') throw new OidcLoginError('oidc-email-unverified', 'The email address is not verified at the identity provider');
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (provider.allowedDomains.length && !provider.allowedDomains.includes(domain)) throw new OidcLoginError('oidc-email-domain', 'Sign-in with this email domain is not allowed');
    const name = (typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim() : email.split('@')[0]).slice(0, 200);

    return this.tx.run(async (m, stage) => {
      let created = false;
      let userId: string;
      const [identity] = await m.query(`SELECT user_id FROM oidc_identities WHERE provider_id = $1 AND subject = $2 FOR UPDATE`, [provider.id, sub]);
      if (identity) {
        userId = identity.user_id;
        await m.query(`UPDATE oidc_identities SET last_login_at = now(), email = $3 WHERE provider_id = $1 AND subject = $2`, [provider.id, sub, email]);
      } else {
        if (login.link_user_id) {
          userId = login.link_user_id;
        } else {
          const existing = await m.createQueryBuilder(UserEntity, 'u').where('lower(u.email) = :email', { email }).getOne();
          if (existing) throw new OidcLoginError('oidc-account-exists', 'A Wharf account with this email exists: sign in with it and link this provider first');
          userId = newId();
          await m.insert(UserEntity, { id: userId, email, name, passwordHash: null, isInstanceAdmin: false });
          created = true;
        }
        await m.query(`INSERT INTO oidc_identities (provider_id, subject, user_id, email, last_login_at) VALUES ($1, $2, $3, $4, now())`, [provider.id, sub, userId, email]);
      }
      const user = await m.findOneByOrFail(UserEntity, { id: userId });
      const actor: ActorRef = { type: 'user', id: user.id, name: user.email };
      const member = await m.findOneBy(MembershipEntity, { organizationId: provider.organizationId, userId });
      if (!member) {
        const role = await this.mappedRole(m, provider, claims);
        await m.insert(MembershipEntity, { id: newId(), organizationId: provider.organizationId, userId, role: role.role, customRoleId: role.customRoleId, projectIds: null });
        await stage(
          { type: 'member.created', organizationId: provider.organizationId, actor, subject: { type: 'member', id: userId, name: user.email }, payload: { role: role.role, via: 'oidc', providerId: provider.id } },
          { request: client, changes: { role: role.role, customRoleId: role.customRoleId, via: 'oidc', providerId: provider.id } },
        );
      }
      const tokens = await issueTokens(this.sessions, this.tokens, userId, client, m);
      await stage(
        { type: 'auth.login', organizationId: provider.organizationId, actor, subject: { type: 'user', id: userId, name: user.email }, payload: { method: 'oidc', providerId: provider.id } },
        { request: client, changes: { method: 'oidc', providerId: provider.id, ...(created ? { userCreated: true } : {}) } },
      );
      return { tokens, returnTo: safeReturnTo(login.return_to ?? '/'), userId, created };
    });
  }

  /** The role for a new member: the highest mapped role among the claim's values, else the default role. */
  private async mappedRole(m: EntityManager, provider: OidcProviderEntity, claims: Record<string, unknown>): Promise<ResolvedRole> {
    const raw = provider.roleClaim ? claimAt(claims, provider.roleClaim) : undefined;
    const values = (Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw]).map(String);
    let best: ResolvedRole | null = null;
    for (const v of values) {
      const target = Object.prototype.hasOwnProperty.call(provider.roleMapping, v) ? provider.roleMapping[v] : undefined;
      if (!target) continue;
      const r = await resolveRole(m, provider.organizationId, roleInputOf(target)).catch(() => null);
      if (!r) continue;
      if (!best || rank(r) > rank(best)) best = r;
    }
    if (best) return best;
    try {
      return await resolveRole(m, provider.organizationId, roleInputOf(provider.defaultRole));
    } catch {
      throw new OidcLoginError('oidc-role-invalid', 'The provider maps to a role that no longer exists; ask an administrator');
    }
  }

  private async auditFailure(provider: OidcProviderEntity, email: string | null, reason: string, client: ClientContext): Promise<void> {
    const name = (email ?? 'unknown').slice(0, 200);
    await this.tx.run(async (_m, stage) => {
      await stage(
        { type: 'auth.login', organizationId: provider.organizationId, actor: { type: 'user', id: null, name }, subject: { type: 'user', id: null, name }, payload: { method: 'oidc', providerId: provider.id } },
        { request: client, outcome: 'failed', changes: { method: 'oidc', providerId: provider.id, reason } },
      );
    });
  }
}

const rank = (r: ResolvedRole): number => (r.role === 'owner' ? 1_000_000 : r.permissions.length);
