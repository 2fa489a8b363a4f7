import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { API_KEY_SCOPES, ApiKeyScope } from '@wharf/contracts';
import { ForbiddenError, newId, NotFoundError, randomToken, sha256, TransactionRunner, ValidationError } from '@wharf/core';
import { ApiKeyEntity } from '../entities/api-key.entity';
import { OrganizationEntity } from '../entities/organization.entity';
import { TenantScope } from '../access/tenant-scope';
import { actorOf, Principal } from '../access/principal';
import { assertNoEscalation, resolveRole, RoleInput } from '../access/grants';

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  kind: 'personal' | 'service-account';
  organizationId: string | null;
  role: string | null;
  customRoleId: string | null;
  scopes: ApiKeyScope[];
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
  revokedAt: string | null;
}
const view = (k: ApiKeyEntity): ApiKeyView => ({
  id: k.id, name: k.name, prefix: k.prefix, kind: k.userId ? 'personal' : 'service-account', organizationId: k.organizationId,
  role: k.role, customRoleId: k.customRoleId, scopes: k.scopes, expiresAt: k.expiresAt?.toISOString() ?? null,
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null, createdAt: k.createdAt.toISOString(), revokedAt: k.revokedAt?.toISOString() ?? null,
});

function checkScopes(scopes: string[]): ApiKeyScope[] {
  if (!Array.isArray(scopes) || scopes.length === 0) throw ValidationError.field('/scopes', 'required', 'at least one scope is required');
  const bad = scopes.filter((s) => !(API_KEY_SCOPES as readonly string[]).includes(s));
  if (bad.length) throw ValidationError.field('/scopes', 'unknown-scope', `scopes must be among ${API_KEY_SCOPES.join(', ')}`);
  return [...new Set(scopes)] as ApiKeyScope[];
}

function checkExpiry(expiresAt: string | undefined | null): Date | null {
  if (!expiresAt) return null;
  const d = new Date(expiresAt);
  if (Number.isNaN(d.getTime()) || d.getTime() <= Date.now()) throw ValidationError.field('/expiresAt', 'invalid', 'expiresAt must be a future date-time');
  return d;
}

/** `wk_<8 char prefix>_<secret>`: the prefix identifies the key in lists and logs; only a hash is stored. */
function mint(): { key: string; prefix: string; hash: string } {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const prefix = Array.from(randomBytes(8), (b) => alphabet[b % alphabet.length]).join('');
  const key = `wk_${prefix}_${randomToken(32)}`;
  return { key, prefix, hash: sha256(key) };
}

/** A new key with its secret, which is shown only this once. */
export type CreatedApiKey = ApiKeyView & { key: string };
export class CreatePersonalApiKeyCommand extends Command<CreatedApiKey> {
  constructor(readonly principal: Principal, readonly input: { name: string; scopes: string[]; expiresAt?: string | null; organizationId?: string | null }) {
    super();
  }
}
@CommandHandler(CreatePersonalApiKeyCommand)
export class CreatePersonalApiKeyHandler implements ICommandHandler<CreatePersonalApiKeyCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, input }: CreatePersonalApiKeyCommand) {
    if (p.kind !== 'user' || !p.userId) throw new ForbiddenError('API keys cannot create API keys');
    const scopes = checkScopes(input.scopes);
    const expiresAt = checkExpiry(input.expiresAt);
    if (input.organizationId) await this.scope.findOne(p, OrganizationEntity, 'organization', input.organizationId);
    const { key, prefix, hash } = mint();
    const row = await this.tx.run(async (m, stage) => {
      const k = m.create(ApiKeyEntity, { id: newId(), name: input.name, prefix, keyHash: hash, userId: p.userId, organizationId: input.organizationId ?? null, role: null, customRoleId: null, scopes, expiresAt, createdBy: p.userId, createdAt: new Date(), lastUsedAt: null, revokedAt: null });
      await m.insert(ApiKeyEntity, k);
      await stage({ type: 'api-key.created', organizationId: input.organizationId ?? null, actor: actorOf(p), subject: { type: 'api-key', id: k.id, name: k.name }, payload: {} }, { request: p.client, changes: { name: k.name, prefix, scopes, expiresAt: expiresAt?.toISOString() ?? null } });
      return k;
    });
    return { ...view(row), key };
  }
}

export class CreateServiceAccountKeyCommand extends Command<CreatedApiKey> {
  constructor(readonly principal: Principal, readonly organizationId: string, readonly input: { name: string; scopes: string[]; expiresAt?: string | null } & RoleInput) {
    super();
  }
}
@CommandHandler(CreateServiceAccountKeyCommand)
export class CreateServiceAccountKeyHandler implements ICommandHandler<CreateServiceAccountKeyCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, organizationId, input }: CreateServiceAccountKeyCommand) {
    await this.scope.findOne(p, OrganizationEntity, 'organization', organizationId);
    await this.scope.assert(p, 'create', 'api-key', { organizationId, id: null, name: input.name });
    const scopes = checkScopes(input.scopes);
    const expiresAt = checkExpiry(input.expiresAt);
    const { key, prefix, hash } = mint();
    const row = await this.tx.run(async (m, stage) => {
      const target = await resolveRole(m, organizationId, { role: input.role, customRoleId: input.customRoleId, projectIds: null });
      assertNoEscalation(p, organizationId, target);
      const k = m.create(ApiKeyEntity, { id: newId(), name: input.name, prefix, keyHash: hash, userId: null, organizationId, role: target.role, customRoleId: target.customRoleId, scopes, expiresAt, createdBy: p.userId, createdAt: new Date(), lastUsedAt: null, revokedAt: null });
      await m.insert(ApiKeyEntity, k);
      await stage({ type: 'api-key.created', organizationId, actor: actorOf(p), subject: { type: 'api-key', id: k.id, name: k.name }, payload: {} }, { request: p.client, changes: { name: k.name, prefix, role: target.role, scopes } });
      return k;
    });
    return { ...view(row), key };
  }
}

export class ListApiKeysQuery extends Query<ApiKeyView[]> {
  constructor(readonly principal: Principal, readonly organizationId: string | null) {
    super();
  }
}
@QueryHandler(ListApiKeysQuery)
export class ListApiKeysHandler implements IQueryHandler<ListApiKeysQuery> {
  constructor(private readonly scope: TenantScope, private readonly ds: DataSource) {}
  async execute({ principal: p, organizationId }: ListApiKeysQuery) {
    if (organizationId === null) {
      if (!p.userId) return [];
      const rows = await this.ds.getRepository(ApiKeyEntity).find({ where: { userId: p.userId }, order: { createdAt: 'DESC' } });
      return rows.map(view);
    }
    await this.scope.findOne(p, OrganizationEntity, 'organization', organizationId);
    const rows = await this.scope.query(p, ApiKeyEntity, 'api-key').andWhere('x.organization_id = :organizationId AND x.user_id IS NULL', { organizationId }).orderBy('x.created_at', 'DESC').getMany();
    return rows.map(view);
  }
}

export class RevokeApiKeyCommand extends Command<void> {
  constructor(readonly principal: Principal, readonly organizationId: string | null, readonly keyId: string) {
    super();
  }
}
@CommandHandler(RevokeApiKeyCommand)
export class RevokeApiKeyHandler implements ICommandHandler<RevokeApiKeyCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, organizationId, keyId }: RevokeApiKeyCommand) {
    await this.tx.run(async (m, stage) => {
      let key: ApiKeyEntity | null;
      if (organizationId === null) {
        key = p.userId ? await m.findOneBy(ApiKeyEntity, { id: keyId, userId: p.userId }) : null;
        if (!key) throw new NotFoundError('API key');
      } else {
        key = await this.scope.findOne(p, ApiKeyEntity, 'api-key', keyId, 'delete', { m, lock: true });
        if (key.organizationId !== organizationId || key.userId) throw new NotFoundError('API key');
      }
      if (key.revokedAt) return;
      await m.update(ApiKeyEntity, { id: key.id }, { revokedAt: new Date() });
      await stage({ type: 'api-key.revoked', organizationId: key.organizationId, actor: actorOf(p), subject: { type: 'api-key', id: key.id, name: key.name }, payload: {} }, { request: p.client });
    });
  }
}
