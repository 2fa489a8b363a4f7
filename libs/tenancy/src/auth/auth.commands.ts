import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DataSource, EntityManager } from 'typeorm';
import {
  ConflictError, ForbiddenError, newId, NotFoundError, RateLimiter, randomToken, safeEqual, SecretBox, sha256, slugify, TransactionRunner,
  UnauthenticatedError, ValidationError, WHARF_CONFIG, WharfConfig,
} from '@wharf/core';
import {
  AccessTokenService, checkPasswordPolicy, checkTotp, hashPassword, SessionService, UserEntity, verifyPassword,
} from '@wharf/identity';
import type { ActorRef } from '@wharf/contracts';
import { OrganizationEntity } from '../entities/organization.entity';
import { MembershipEntity } from '../entities/membership.entity';
import { actorOf, ClientContext, Principal } from '../access/principal';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  tokenType: 'Bearer';
  sessionId: string;
}

/** Shared by setup, login, OIDC and invitation acceptance: a new session with its first tokens. */
export async function issueTokens(sessions: SessionService, tokens: AccessTokenService, userId: string, client: ClientContext, m?: EntityManager): Promise<TokenPair> {
  const s = await sessions.start(userId, client, m);
  const a = await tokens.issue({ userId, sessionId: s.sessionId });
  return { accessToken: a.token, refreshToken: s.refreshToken, expiresIn: a.expiresIn, tokenType: 'Bearer', sessionId: s.sessionId };
}

/** Creates an organization with a unique slug and makes `userId` its owner, inside the caller's transaction. */
export async function createOrganizationWithOwner(m: EntityManager, name: string, userId: string): Promise<OrganizationEntity> {
  const base = slugify(name);
  let slug = base;
  for (let i = 2; await m.exists(OrganizationEntity, { where: { slug } }); i++) slug = `${base}-${i}`;
  const org = m.create(OrganizationEntity, { id: newId(), name, slug });
  await m.insert(OrganizationEntity, org);
  await m.insert(MembershipEntity, { id: newId(), organizationId: org.id, userId, role: 'owner', customRoleId: null, projectIds: null });
  return (await m.findOneByOrFail(OrganizationEntity, { id: org.id }));
}

/** Prints the one-time setup token at boot while no user exists (API roles only). Stored hashed. */
export class SetupTokenAnnouncer implements OnApplicationBootstrap {
  private readonly logger = new Logger('Setup');
  constructor(
    private readonly ds: DataSource,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ds.query(`INSERT INTO instance (id, install_id) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, [newId()]);
    if (this.config.role === 'worker') return;
    const [row] = await this.ds.query(`SELECT setup_completed_at, (SELECT count(*)::int FROM users) AS users FROM instance WHERE id = 1`);
    if (row.setup_completed_at || row.users > 0) return;
    const token = this.config.setupToken ?? randomToken(24);
    await this.ds.query(`UPDATE instance SET setup_token_hash = $1 WHERE id = 1 AND setup_completed_at IS NULL`, [sha256(token)]);
    // The link opens the portal's setup form with the token filled in (a preset token stays out of the log).
    if (this.config.setupToken) this.logger.warn(`First run: open ${this.config.publicUrl}/setup and enter the token from WHARF_SETUP_TOKEN (or POST /api/v1/auth/setup)`);
    else this.logger.warn(`First run: open ${this.config.publicUrl}/setup?token=${token} to create the first owner (one-time setup token: ${token}; or POST /api/v1/auth/setup)`);
  }
}

export interface SetupStatus {
  needed: boolean;
}
export class SetupStatusQuery extends Query<SetupStatus> {}
@QueryHandler(SetupStatusQuery)
export class SetupStatusHandler implements IQueryHandler<SetupStatusQuery> {
  constructor(private readonly ds: DataSource) {}
  async execute(): Promise<SetupStatus> {
    const [row] = await this.ds.query(`SELECT (SELECT setup_completed_at FROM instance WHERE id = 1) IS NULL AND NOT EXISTS (SELECT 1 FROM users) AS needed`);
    return { needed: row.needed };
  }
}

/** The first owner's first session, their user and the organization created with them. */
export type SetupResult = TokenPair & { organizationId: string; userId: string };
export class SetupCommand extends Command<SetupResult> {
  constructor(
    readonly input: { setupToken: string; email: string; name: string; password: string; organizationName: string },
    readonly client: ClientContext,
  ) {
    super();
  }
}

@CommandHandler(SetupCommand)
export class SetupHandler implements ICommandHandler<SetupCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly sessions: SessionService, private readonly tokens: AccessTokenService) {}

  async execute({ input, client }: SetupCommand) {
    checkPasswordPolicy(input.password);
    const passwordHash = await hashPassword(input.password);
    return this.tx.run(async (m, stage) => {
      // The row lock makes concurrent setups queue; only the first finds setup open.
      const [inst] = await m.query(`SELECT setup_token_hash, setup_completed_at FROM instance WHERE id = 1 FOR UPDATE`);
      const [{ users }] = await m.query(`SELECT count(*)::int AS users FROM users`);
      if (!inst || inst.setup_completed_at || users > 0) throw new ConflictError('Wharf is already set up', 'setup-completed');
      if (!inst.setup_token_hash || !safeEqual(sha256(input.setupToken), inst.setup_token_hash)) {
        throw new ForbiddenError('The setup token is not valid (it is printed in the log at first start)', 'invalid-setup-token');
      }
      const user = m.create(UserEntity, { id: newId(), email: input.email.toLowerCase(), name: input.name, passwordHash, isInstanceAdmin: true, passwordChangedAt: new Date() });
      await m.insert(UserEntity, user);
      const org = await createOrganizationWithOwner(m, input.organizationName, user.id);
      await m.query(`UPDATE instance SET setup_completed_at = now(), setup_token_hash = NULL WHERE id = 1`);
      const actor: ActorRef = { type: 'user', id: user.id, name: user.email };
      await stage({ type: 'instance.setup-completed', organizationId: null, actor, subject: { type: 'user', id: user.id, name: user.email }, payload: {} }, { request: client });
      await stage({ type: 'organization.created', organizationId: org.id, actor, subject: { type: 'organization', id: org.id, name: org.name }, payload: {} }, { request: client, changes: { name: org.name, slug: org.slug } });
      await stage({ type: 'member.created', organizationId: org.id, actor, subject: { type: 'member', id: user.id, name: user.email }, payload: { role: 'owner' } }, { request: client, changes: { role: 'owner' } });
      const pair = await issueTokens(this.sessions, this.tokens, user.id, client, m);
      return { ...pair, organizationId: org.id, userId: user.id };
    });
  }
}

export class LoginCommand extends Command<TokenPair> {
  constructor(
    readonly input: { email: string; password: string; totpCode?: string; recoveryCode?: string },
    readonly client: ClientContext,
  ) {
    super();
  }
}

@CommandHandler(LoginCommand)
export class LoginHandler implements ICommandHandler<LoginCommand> {
  constructor(
    private readonly ds: DataSource,
    private readonly tx: TransactionRunner,
    private readonly sessions: SessionService,
    private readonly tokens: AccessTokenService,
    private readonly limiter: RateLimiter,
    private readonly box: SecretBox,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  async execute({ input, client }: LoginCommand): Promise<TokenPair> {
    const email = input.email.toLowerCase();
    const { perAccount, perAccountTotal, perIp, windowSeconds } = this.config.loginRateLimit;
    const acct = sha256(email);
    const ip = client.ip ?? 'unknown';
    // A stranger's failures lock out only that stranger (account + address); the account-wide cap is much higher and
    // only bounds guessing from many addresses. Each attempt is counted atomically before the password is verified,
    // so concurrent guesses cannot pass the limit; a correct password gives its attempt back.
    const keys = { client: `login:acct-ip:${acct}:${ip}`, acct: `login:acct:${acct}`, ip: `login:ip:${ip}` };
    await this.limiter.consume([
      { key: keys.client, limit: perAccount, windowSeconds },
      { key: keys.acct, limit: perAccountTotal, windowSeconds },
      { key: keys.ip, limit: perIp, windowSeconds },
    ]);
    const user = await this.ds.getRepository(UserEntity).createQueryBuilder('u').where('lower(u.email) = :email', { email }).getOne();
    const fail = async (code: string, message: string): Promise<never> => {
      await this.audit('auth.login', user, email, client, 'failed', { reason: code });
      throw new UnauthenticatedError(message, code);
    };
    const succeeded = async (): Promise<void> => {
      await this.limiter.reset(keys.client);
      await this.limiter.release(keys.acct);
      await this.limiter.release(keys.ip);
    };
    if (!(await verifyPassword(user?.passwordHash ?? null, input.password))) return fail('invalid-credentials', 'Email or password is wrong');
    if (user!.totpEnabled) {
      if (!input.totpCode && !input.recoveryCode) {
        await succeeded();
        throw new UnauthenticatedError('Enter the code from your authenticator app', 'totp-required');
      }
      if (input.totpCode) {
        const secret = this.box.decrypt(user!.totpSecretEnc!, `user:${user!.id}:totp`);
        if (!checkTotp(input.totpCode, secret)) return fail('invalid-totp', 'The authenticator code is wrong');
        // A code is accepted once: a replay inside its 30-second window is refused.
        if (!(await this.limiter.claimOnce(`totp:${user!.id}:${input.totpCode}`, 120))) return fail('totp-replayed', 'This code was already used; wait for the next one');
      } else {
        const h = sha256(input.recoveryCode!.trim().toLowerCase());
        const r = await this.ds.query(`UPDATE users SET recovery_code_hashes = array_remove(recovery_code_hashes, $2) WHERE id = $1 AND $2 = ANY(recovery_code_hashes) RETURNING id`, [user!.id, h]);
        if (r[0].length === 0) return fail('invalid-recovery-code', 'The recovery code is wrong or was used');
      }
    }
    await succeeded();
    return this.tx.run(async (m, stage) => {
      const pair = await issueTokens(this.sessions, this.tokens, user!.id, client, m);
      await stage({ type: 'auth.login', organizationId: null, actor: { type: 'user', id: user!.id, name: user!.email }, subject: { type: 'user', id: user!.id, name: user!.email }, payload: {} }, { request: client });
      return pair;
    });
  }

  private async audit(type: 'auth.login', user: UserEntity | null, email: string, client: ClientContext, outcome: 'failed', changes: Record<string, unknown>): Promise<void> {
    await this.tx.run(async (_m, stage) => {
      await stage({ type, organizationId: null, actor: { type: 'user', id: user?.id ?? null, name: email.slice(0, 200) }, subject: { type: 'user', id: user?.id ?? null, name: email.slice(0, 200) }, payload: {} }, { request: client, outcome, changes });
    });
  }
}

export class RefreshCommand extends Command<TokenPair> {
  constructor(readonly refreshToken: string, readonly client: ClientContext) {
    super();
  }
}

@CommandHandler(RefreshCommand)
export class RefreshHandler implements ICommandHandler<RefreshCommand> {
  constructor(private readonly sessions: SessionService, private readonly tokens: AccessTokenService, private readonly tx: TransactionRunner) {}

  async execute({ refreshToken, client }: RefreshCommand): Promise<TokenPair> {
    try {
      return await this.sessions.rotate(refreshToken, client, async (s): Promise<TokenPair> => {
        const a = await this.tokens.issue({ userId: s.userId, sessionId: s.sessionId });
        return { accessToken: a.token, refreshToken: s.refreshToken, expiresIn: a.expiresIn, tokenType: 'Bearer', sessionId: s.sessionId };
      });
    } catch (e) {
      if (e instanceof UnauthenticatedError && e.code === 'refresh-token-reused') {
        await this.tx.run(async (_m, stage) => {
          await stage({ type: 'auth.refresh-token-reused', organizationId: null, actor: { type: 'system', id: null, name: 'system' }, subject: { type: 'session', id: null }, payload: {} }, { request: client, outcome: 'denied' });
        });
      }
      throw e;
    }
  }
}

export class LogoutCommand extends Command<void> {
  constructor(readonly principal: Principal) {
    super();
  }
}

@CommandHandler(LogoutCommand)
export class LogoutHandler implements ICommandHandler<LogoutCommand> {
  constructor(private readonly sessions: SessionService, private readonly tx: TransactionRunner) {}
  async execute({ principal: p }: LogoutCommand): Promise<void> {
    if (!p.sessionId || !p.userId) return;
    await this.tx.run(async (m, stage) => {
      await this.sessions.revoke(p.userId!, p.sessionId!, 'logout', m);
      await stage({ type: 'auth.logout', organizationId: null, actor: actorOf(p), subject: { type: 'session', id: p.sessionId }, payload: {} }, { request: p.client });
    });
  }
}

export class ChangePasswordCommand extends Command<void> {
  constructor(readonly principal: Principal, readonly currentPassword: string, readonly newPassword: string) {
    super();
  }
}

@CommandHandler(ChangePasswordCommand)
export class ChangePasswordHandler implements ICommandHandler<ChangePasswordCommand> {
  constructor(private readonly ds: DataSource, private readonly tx: TransactionRunner, private readonly sessions: SessionService) {}

  async execute({ principal: p, currentPassword, newPassword }: ChangePasswordCommand): Promise<void> {
    if (p.kind !== 'user' || !p.userId) throw new ForbiddenError('Only a signed-in user can change their password');
    checkPasswordPolicy(newPassword, '/newPassword');
    const user = await this.ds.getRepository(UserEntity).findOneByOrFail({ id: p.userId });
    if (!(await verifyPassword(user.passwordHash, currentPassword))) throw ValidationError.field('/currentPassword', 'wrong-password', 'the current password is wrong');
    const hash = await hashPassword(newPassword);
    await this.tx.run(async (m, stage) => {
      await m.update(UserEntity, { id: user.id }, { passwordHash: hash, passwordChangedAt: new Date(), updatedAt: new Date(), version: () => 'version + 1' });
      await this.sessions.revokeAllExcept(user.id, p.sessionId, 'password-changed', m);
      await stage({ type: 'user.password-changed', organizationId: null, actor: actorOf(p), subject: { type: 'user', id: user.id, name: user.email }, payload: {} }, { request: p.client, changes: { password: '[redacted]' } });
    });
  }
}

export class RevokeSessionCommand extends Command<void> {
  constructor(readonly principal: Principal, readonly sessionId: string) {
    super();
  }
}

@CommandHandler(RevokeSessionCommand)
export class RevokeSessionHandler implements ICommandHandler<RevokeSessionCommand> {
  constructor(private readonly sessions: SessionService, private readonly tx: TransactionRunner) {}
  async execute({ principal: p, sessionId }: RevokeSessionCommand): Promise<void> {
    if (!p.userId || p.kind !== 'user') throw new ForbiddenError('Only a signed-in user can revoke sessions');
    await this.tx.run(async (m, stage) => {
      const ok = /^[0-9a-f-]{36}$/i.test(sessionId) && (await this.sessions.revoke(p.userId!, sessionId, 'revoked-by-user', m));
      if (!ok) throw new NotFoundError('Session');
      await stage({ type: 'session.revoked', organizationId: null, actor: actorOf(p), subject: { type: 'session', id: sessionId }, payload: {} }, { request: p.client });
    });
  }
}
