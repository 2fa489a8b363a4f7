import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { checkVersion, ConflictError, ForbiddenError, newId, NotFoundError, randomToken, sha256, TransactionRunner, UnauthenticatedError, ValidationError } from '@wharf/core';
import { AccessTokenService, checkPasswordPolicy, hashPassword, SessionService, UserEntity } from '@wharf/identity';
import { MembershipEntity } from '../entities/membership.entity';
import { InvitationEntity } from '../entities/invitation.entity';
import { OrganizationEntity } from '../entities/organization.entity';
import { TenantScope } from '../access/tenant-scope';
import { actorOf, ClientContext, Principal } from '../access/principal';
import { assertNoEscalation, assertNotLastOwner, resolveRole, RoleInput } from '../access/grants';
import { issueTokens, TokenPair } from '../auth/auth.commands';

/** A stored membership's role choice (its limits as they are, for escalation checks). */
const storedRoleOf = (x: MembershipEntity): RoleInput => ({ role: x.role, customRoleId: x.customRoleId, projectIds: x.projectIds, environmentIds: x.environmentIds });

export interface MemberView {
  userId: string;
  email: string;
  name: string;
  role: string;
  customRoleId: string | null;
  projectIds: string[] | null;
  environmentIds: string[] | null;
  twoFactorEnabled: boolean;
  joinedAt: string;
  version: number;
}

export class ListMembersQuery extends Query<MemberView[]> {
  constructor(readonly principal: Principal, readonly organizationId: string) {
    super();
  }
}
@QueryHandler(ListMembersQuery)
export class ListMembersHandler implements IQueryHandler<ListMembersQuery> {
  constructor(private readonly scope: TenantScope) {}
  async execute({ principal, organizationId }: ListMembersQuery) {
    await this.scope.findOne(principal, OrganizationEntity, 'organization', organizationId);
    const rows = await this.scope
      .query(principal, MembershipEntity, 'member')
      .andWhere('x.organization_id = :organizationId', { organizationId })
      .innerJoin(UserEntity, 'u', 'u.id = x.user_id')
      .select(['x.user_id AS user_id', 'u.email AS email', 'u.name AS name', 'x.role AS role', 'x.custom_role_id AS custom_role_id', 'x.project_ids AS project_ids', 'x.environment_ids AS environment_ids', 'u.totp_enabled AS totp', 'x.created_at AS created_at', 'x.version AS version'])
      .orderBy('u.email', 'ASC')
      .getRawMany();
    return rows.map((r) => ({
      userId: r.user_id, email: r.email, name: r.name, role: r.role, customRoleId: r.custom_role_id, projectIds: r.project_ids, environmentIds: r.environment_ids,
      twoFactorEnabled: r.totp, joinedAt: new Date(r.created_at).toISOString(), version: r.version,
    }));
  }
}

export class UpdateMemberCommand extends Command<void> {
  constructor(readonly principal: Principal, readonly organizationId: string, readonly userId: string, readonly input: RoleInput, readonly expectedVersion?: number) {
    super();
  }
}
@CommandHandler(UpdateMemberCommand)
export class UpdateMemberHandler implements ICommandHandler<UpdateMemberCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, organizationId, userId, input, expectedVersion }: UpdateMemberCommand) {
    await this.tx.run(async (m, stage) => {
      // Membership changes of one organization are serialised (two owners demoting each other cannot both win).
      await m.query(`SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE`, [organizationId]);
      const member = await this.findMember(p, organizationId, userId, m);
      await this.scope.assert(p, 'update', 'member', member);
      checkVersion(member.version, expectedVersion);
      const target = await resolveRole(m, organizationId, input);
      const current = await resolveRole(m, organizationId, storedRoleOf(member), { stored: true });
      // Neither the new role nor the member's current one may exceed the caller's own.
      assertNoEscalation(p, organizationId, target);
      assertNoEscalation(p, organizationId, current);
      if (member.role === 'owner' && target.role !== 'owner') await assertNotLastOwner(m, organizationId, userId);
      await m.update(MembershipEntity, { id: member.id }, { role: target.role, customRoleId: target.customRoleId, projectIds: target.projectIds, environmentIds: target.environmentIds, updatedAt: new Date(), version: member.version + 1 });
      await stage(
        { type: 'member.updated', organizationId, actor: actorOf(p), subject: { type: 'member', id: userId }, payload: {} },
        { request: p.client, changes: { role: { from: member.role, to: target.role }, customRoleId: { from: member.customRoleId, to: target.customRoleId }, projectIds: { from: member.projectIds, to: target.projectIds }, environmentIds: { from: member.environmentIds, to: target.environmentIds } } },
      );
    });
  }

  private async findMember(p: Principal, organizationId: string, userId: string, m: import('typeorm').EntityManager): Promise<MembershipEntity> {
    const row = await this.scope.query(p, MembershipEntity, 'member', 'read', 'x', m).andWhere('x.organization_id = :organizationId AND x.user_id = :userId', { organizationId, userId }).setLock('pessimistic_write').getOne();
    if (!row) throw new NotFoundError('Member');
    return row;
  }
}

export class RemoveMemberCommand extends Command<void> {
  constructor(readonly principal: Principal, readonly organizationId: string, readonly userId: string) {
    super();
  }
}
@CommandHandler(RemoveMemberCommand)
export class RemoveMemberHandler implements ICommandHandler<RemoveMemberCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, organizationId, userId }: RemoveMemberCommand) {
    await this.tx.run(async (m, stage) => {
      // Membership changes of one organization are serialised (two owners demoting each other cannot both win).
      await m.query(`SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE`, [organizationId]);
      const member = await this.scope.query(p, MembershipEntity, 'member', 'read', 'x', m).andWhere('x.organization_id = :organizationId AND x.user_id = :userId', { organizationId, userId }).setLock('pessimistic_write').getOne();
      if (!member) throw new NotFoundError('Member');
      const leaving = userId === p.userId;
      if (!leaving) {
        await this.scope.assert(p, 'delete', 'member', member);
        assertNoEscalation(p, organizationId, await resolveRole(m, organizationId, storedRoleOf(member), { stored: true }));
      }
      if (member.role === 'owner') await assertNotLastOwner(m, organizationId, userId);
      await m.delete(MembershipEntity, { id: member.id });
      await stage({ type: leaving ? 'member.left' : 'member.removed', organizationId, actor: actorOf(p), subject: { type: 'member', id: userId }, payload: {} }, { request: p.client, changes: { role: member.role } });
    });
  }
}

export interface InvitationView {
  id: string;
  email: string;
  role: string;
  customRoleId: string | null;
  projectIds: string[] | null;
  environmentIds: string[] | null;
  expiresAt: string;
  createdAt: string;
  status: 'pending' | 'accepted' | 'revoked' | 'expired';
}
const invitationView = (i: InvitationEntity): InvitationView => ({
  id: i.id, email: i.email, role: i.role, customRoleId: i.customRoleId, projectIds: i.projectIds, environmentIds: i.environmentIds ?? null,
  expiresAt: i.expiresAt.toISOString(), createdAt: i.createdAt.toISOString(),
  status: i.acceptedAt ? 'accepted' : i.revokedAt ? 'revoked' : i.expiresAt.getTime() <= Date.now() ? 'expired' : 'pending',
});

/** A new invitation with its token, which is shown only this once. */
export type CreatedInvitation = InvitationView & { token: string };
export class CreateInvitationCommand extends Command<CreatedInvitation> {
  constructor(readonly principal: Principal, readonly organizationId: string, readonly email: string, readonly input: RoleInput, readonly ttlHours = 72) {
    super();
  }
}
@CommandHandler(CreateInvitationCommand)
export class CreateInvitationHandler implements ICommandHandler<CreateInvitationCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, organizationId, email, input, ttlHours }: CreateInvitationCommand) {
    const org = await this.scope.findOne(p, OrganizationEntity, 'organization', organizationId);
    await this.scope.assert(p, 'create', 'invitation', { organizationId: org.id, id: null, name: email });
    const token = `winv_${randomToken(32)}`;
    const inv = await this.tx.run(async (m, stage) => {
      const target = await resolveRole(m, organizationId, input);
      assertNoEscalation(p, organizationId, target);
      const existing = await m.query(`SELECT 1 FROM memberships ms JOIN users u ON u.id = ms.user_id WHERE ms.organization_id = $1 AND lower(u.email) = lower($2)`, [organizationId, email]);
      if (existing.length) throw new ConflictError('This person is already a member', 'already-member');
      const row = m.create(InvitationEntity, {
        id: newId(), organizationId, email: email.toLowerCase(), role: target.role, customRoleId: target.customRoleId, projectIds: target.projectIds, environmentIds: target.environmentIds,
        tokenHash: sha256(token), invitedBy: p.userId, expiresAt: new Date(Date.now() + ttlHours * 3600_000), createdAt: new Date(),
      });
      await m.insert(InvitationEntity, row);
      await stage({ type: 'invitation.created', organizationId, actor: actorOf(p), subject: { type: 'invitation', id: row.id, name: row.email }, payload: {} }, { request: p.client, changes: { email: row.email, role: row.role } });
      return row;
    });
    return { ...invitationView(inv), token };
  }
}

export class ListInvitationsQuery extends Query<InvitationView[]> {
  constructor(readonly principal: Principal, readonly organizationId: string) {
    super();
  }
}
@QueryHandler(ListInvitationsQuery)
export class ListInvitationsHandler implements IQueryHandler<ListInvitationsQuery> {
  constructor(private readonly scope: TenantScope) {}
  async execute({ principal, organizationId }: ListInvitationsQuery) {
    await this.scope.findOne(principal, OrganizationEntity, 'organization', organizationId);
    const rows = await this.scope.query(principal, InvitationEntity, 'invitation').andWhere('x.organization_id = :organizationId', { organizationId }).orderBy('x.created_at', 'DESC').getMany();
    return rows.map(invitationView);
  }
}

export class RevokeInvitationCommand extends Command<void> {
  constructor(readonly principal: Principal, readonly organizationId: string, readonly invitationId: string) {
    super();
  }
}
@CommandHandler(RevokeInvitationCommand)
export class RevokeInvitationHandler implements ICommandHandler<RevokeInvitationCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, organizationId, invitationId }: RevokeInvitationCommand) {
    const inv = await this.scope.findOne(p, InvitationEntity, 'invitation', invitationId, 'delete');
    if (inv.organizationId !== organizationId) throw new NotFoundError('Invitation');
    await this.tx.run(async (m, stage) => {
      await m.update(InvitationEntity, { id: inv.id }, { revokedAt: new Date() });
      await stage({ type: 'invitation.revoked', organizationId, actor: actorOf(p), subject: { type: 'invitation', id: inv.id, name: inv.email }, payload: {} }, { request: p.client });
    });
  }
}

/**
 * Accepts an invitation: single use, unexpired, bound to the invited email. A signed-in user with that email joins;
 * without a session, a new account is created with the given name and password.
 */
/** The organization joined; `tokens`: a new account's first session (null when the caller was signed in). */
export interface AcceptedInvitation {
  organizationId: string;
  tokens: TokenPair | null;
}
export class AcceptInvitationCommand extends Command<AcceptedInvitation> {
  constructor(readonly token: string, readonly principal: Principal | null, readonly newAccount: { name?: string; password?: string }, readonly client: ClientContext) {
    super();
  }
}
@CommandHandler(AcceptInvitationCommand)
export class AcceptInvitationHandler implements ICommandHandler<AcceptInvitationCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly ds: DataSource, private readonly sessions: SessionService, private readonly tokens: AccessTokenService) {}
  async execute({ token, principal: p, newAccount, client }: AcceptInvitationCommand) {
    if (p && p.kind !== 'user') throw new ForbiddenError('Invitations are accepted by people, not API keys');
    let passwordHash: string | null = null;
    if (!p) {
      if (!newAccount.password || !newAccount.name) throw ValidationError.field('/password', 'required', 'name and password are required to create your account');
      checkPasswordPolicy(newAccount.password);
      passwordHash = await hashPassword(newAccount.password);
    }
    return this.tx.run(async (m, stage) => {
      const inv = await m.createQueryBuilder(InvitationEntity, 'i').setLock('pessimistic_write').where('i.token_hash = :h', { h: sha256(token) }).getOne();
      if (!inv || inv.acceptedAt || inv.revokedAt || inv.expiresAt.getTime() <= Date.now()) throw new NotFoundError('Invitation');
      let userId: string;
      let email: string;
      if (p) {
        const user = await m.findOneByOrFail(UserEntity, { id: p.userId! });
        if (user.email.toLowerCase() !== inv.email) throw new ForbiddenError('This invitation was sent to another email address', 'invitation-email-mismatch');
        userId = user.id;
        email = user.email;
      } else {
        const exists = await m.query(`SELECT 1 FROM users WHERE lower(email) = $1`, [inv.email]);
        if (exists.length) throw new UnauthenticatedError('An account with this email exists: sign in, then accept the invitation', 'sign-in-required');
        userId = newId();
        email = inv.email;
        await m.insert(UserEntity, { id: userId, email, name: newAccount.name!, passwordHash, passwordChangedAt: new Date() });
      }
      const already = await m.findOneBy(MembershipEntity, { organizationId: inv.organizationId, userId });
      if (already) throw new ConflictError('You are already a member', 'already-member');
      await m.insert(MembershipEntity, { id: newId(), organizationId: inv.organizationId, userId, role: inv.role, customRoleId: inv.customRoleId, projectIds: inv.projectIds, environmentIds: inv.environmentIds ?? null });
      await m.update(InvitationEntity, { id: inv.id }, { acceptedAt: new Date() });
      await stage({ type: 'invitation.accepted', organizationId: inv.organizationId, actor: { type: 'user', id: userId, name: email }, subject: { type: 'member', id: userId, name: email }, payload: {} }, { request: client, changes: { role: inv.role } });
      return { organizationId: inv.organizationId, tokens: p ? null : await issueTokens(this.sessions, this.tokens, userId, client, m) };
    });
  }
}

/**
 * What an invitation link offers, for the acceptance page: the organization's name, the invited email and the role.
 * Only the holder of the (unguessable) token learns it; an unknown, used, revoked or expired token is a plain 404.
 */
export interface InvitationPreview {
  organizationName: string;
  email: string;
  role: string;
  expiresAt: string;
}
export class PreviewInvitationQuery extends Query<InvitationPreview> {
  constructor(readonly token: string) {
    super();
  }
}
@QueryHandler(PreviewInvitationQuery)
export class PreviewInvitationHandler implements IQueryHandler<PreviewInvitationQuery> {
  constructor(private readonly ds: DataSource) {}
  async execute({ token }: PreviewInvitationQuery): Promise<InvitationPreview> {
    const [row] = await this.ds.query(
      `SELECT o.name AS organization_name, i.email, i.role, r.name AS custom_role_name, i.expires_at
         FROM invitations i JOIN organizations o ON o.id = i.organization_id LEFT JOIN roles r ON r.id = i.custom_role_id
        WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now()`,
      [sha256(token)],
    );
    if (!row) throw new NotFoundError('Invitation');
    return { organizationName: row.organization_name, email: row.email, role: row.custom_role_name ?? row.role, expiresAt: new Date(row.expires_at).toISOString() };
  }
}

/** Deletes invitations that expired more than 30 days ago. */
export async function purgeExpiredInvitations(ds: DataSource): Promise<number> {
  const r = await ds.query(`DELETE FROM invitations WHERE (expires_at < now() - interval '30 days') OR (revoked_at < now() - interval '30 days')`);
  return Number(r[1] ?? 0);
}
