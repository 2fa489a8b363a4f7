import { Inject } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DataSource, EntityManager } from 'typeorm';
import { checkVersion, FieldError, newId, NotFoundError, SecretBox, TransactionRunner, UUID_RE, ValidationError, WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { OidcProviderEntity } from '../entities/oidc-provider.entity';
import { OrganizationEntity } from '../entities/organization.entity';
import { TenantScope } from '../access/tenant-scope';
import { actorOf, Principal } from '../access/principal';
import { assertNoEscalation, resolveRole, ResolvedRole, RoleInput } from '../access/grants';
import { isBuiltinRole } from '../access/ability';
import { insecureIssuerAllowed, OidcClientFactory } from './oidc-client';

export interface OidcProviderView {
  id: string;
  organizationId: string;
  name: string;
  issuerUrl: string;
  clientId: string;
  /** The secret itself is never returned. */
  clientSecretSet: boolean;
  scopes: string[];
  allowedDomains: string[];
  roleClaim: string | null;
  roleMapping: Record<string, string>;
  defaultRole: string;
  enabled: boolean;
  /** The redirect URI to register at the identity provider. */
  redirectUri: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface OidcProviderInput {
  name?: string;
  issuerUrl?: string;
  clientId?: string;
  clientSecret?: string;
  scopes?: string[];
  allowedDomains?: string[];
  roleClaim?: string | null;
  roleMapping?: Record<string, string>;
  defaultRole?: string;
  enabled?: boolean;
}

export const secretAad = (providerId: string): string => `oidc-provider:${providerId}:client-secret`;

const view = (r: OidcProviderEntity, redirectUri: string): OidcProviderView => ({
  id: r.id, organizationId: r.organizationId, name: r.name, issuerUrl: r.issuerUrl, clientId: r.clientId, clientSecretSet: !!r.clientSecretEnc,
  scopes: r.scopes, allowedDomains: r.allowedDomains, roleClaim: r.roleClaim, roleMapping: r.roleMapping, defaultRole: r.defaultRole,
  enabled: r.enabled, redirectUri, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version,
});

/** A mapping target is a built-in role name or the id of one of the organization's custom roles. */
export const roleInputOf = (value: string): RoleInput => (isBuiltinRole(value) ? { role: value } : { role: 'custom', customRoleId: value });

const SCOPE_RE = /^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/;
const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CLAIM_RE = /^[A-Za-z0-9_:/.-]{1,200}$/;

/** Validates and normalizes the fields present in `input` (create passes every field). */
export function validateProviderInput(input: OidcProviderInput, nodeEnv: WharfConfig['nodeEnv']): OidcProviderInput {
  const errors: FieldError[] = [];
  const out: OidcProviderInput = { ...input };
  if (input.name !== undefined) {
    out.name = input.name.trim();
    if (!out.name || out.name.length > 100) errors.push({ pointer: '/name', code: 'length', detail: 'name must be 1-100 characters' });
  }
  if (input.issuerUrl !== undefined) {
    out.issuerUrl = input.issuerUrl.trim();
    let u: URL | null = null;
    try {
      u = new URL(out.issuerUrl);
    } catch {
      errors.push({ pointer: '/issuerUrl', code: 'url', detail: 'issuerUrl must be an absolute URL' });
    }
    if (u) {
      if (u.protocol !== 'https:' && u.protocol !== 'http:') errors.push({ pointer: '/issuerUrl', code: 'url-protocol', detail: 'issuerUrl must use https (or http for development)' });
      else if (u.username || u.password || u.search || u.hash) errors.push({ pointer: '/issuerUrl', code: 'url', detail: 'issuerUrl must not contain credentials, a query or a fragment' });
      else if (u.protocol === 'http:' && !insecureIssuerAllowed(out.issuerUrl, nodeEnv)) errors.push({ pointer: '/issuerUrl', code: 'url-protocol', detail: 'issuerUrl must use https in production' });
    }
  }
  if (input.clientId !== undefined && (!input.clientId.trim() || input.clientId.length > 500)) errors.push({ pointer: '/clientId', code: 'length', detail: 'clientId must be 1-500 characters' });
  if (input.clientSecret !== undefined && (!input.clientSecret || input.clientSecret.length > 2000)) errors.push({ pointer: '/clientSecret', code: 'length', detail: 'clientSecret must be 1-2000 characters' });
  if (input.scopes !== undefined) {
    out.scopes = [...new Set(input.scopes.map((s) => s.trim()))];
    if (out.scopes.some((s) => !SCOPE_RE.test(s))) errors.push({ pointer: '/scopes', code: 'scope', detail: 'scopes must be OAuth scope tokens' });
    if (!out.scopes.includes('openid')) errors.push({ pointer: '/scopes', code: 'openid-required', detail: 'scopes must include openid' });
  }
  if (input.allowedDomains !== undefined) {
    out.allowedDomains = [...new Set(input.allowedDomains.map((d) => d.trim().toLowerCase().replace(/^@/, '')))];
    const bad = out.allowedDomains.filter((d) => !DOMAIN_RE.test(d));
    if (bad.length) errors.push({ pointer: '/allowedDomains', code: 'domain', detail: `not a domain name: ${bad.slice(0, 3).join(', ')}` });
  }
  if (input.roleClaim !== undefined && input.roleClaim !== null) {
    out.roleClaim = input.roleClaim.trim() || null;
    if (out.roleClaim && !CLAIM_RE.test(out.roleClaim)) errors.push({ pointer: '/roleClaim', code: 'claim', detail: 'roleClaim must be a claim name (letters, digits, _ : / . -); dots address nested claims' });
  }
  if (input.roleMapping !== undefined) {
    const entries = input.roleMapping && typeof input.roleMapping === 'object' && !Array.isArray(input.roleMapping) ? Object.entries(input.roleMapping) : null;
    if (!entries) errors.push({ pointer: '/roleMapping', code: 'type', detail: 'roleMapping must be an object {claimValue: role}' });
    else {
      if (entries.length > 100) errors.push({ pointer: '/roleMapping', code: 'size', detail: 'at most 100 mappings' });
      for (const [k, v] of entries) {
        const pointer = `/roleMapping/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        if (!k || k.length > 200) errors.push({ pointer, code: 'length', detail: 'claim values must be 1-200 characters' });
        if (typeof v !== 'string' || !(isBuiltinRole(v) || UUID_RE.test(v))) errors.push({ pointer, code: 'unknown-role', detail: 'a mapping target is a built-in role (owner, admin, developer, viewer) or a custom role id' });
      }
    }
  }
  if (input.defaultRole !== undefined && !(isBuiltinRole(input.defaultRole) || UUID_RE.test(input.defaultRole))) {
    errors.push({ pointer: '/defaultRole', code: 'unknown-role', detail: 'defaultRole is a built-in role (owner, admin, developer, viewer) or a custom role id' });
  }
  if (errors.length) throw new ValidationError(errors.map((e) => `${e.pointer}: ${e.detail}`).join('; '), errors);
  return out;
}

/** Resolves every role a configuration can hand out and refuses any above the caller's own. */
async function assertMappingAllowed(m: EntityManager, p: Principal, organizationId: string, roleMapping: Record<string, string>, defaultRole: string): Promise<void> {
  const targets: Array<[string, string]> = [['/defaultRole', defaultRole], ...Object.entries(roleMapping).map(([k, v]): [string, string] => [`/roleMapping/${k}`, v])];
  const seen = new Map<string, ResolvedRole>();
  for (const [pointer, value] of targets) {
    let resolved = seen.get(value);
    if (!resolved) {
      try {
        resolved = await resolveRole(m, organizationId, roleInputOf(value));
      } catch (e) {
        if (e instanceof ValidationError) throw ValidationError.field(pointer, 'unknown-role', `no such role in this organization: ${value}`);
        throw e;
      }
      seen.set(value, resolved);
    }
    assertNoEscalation(p, organizationId, resolved);
  }
}

function auditable(r: Pick<OidcProviderEntity, 'name' | 'issuerUrl' | 'clientId' | 'scopes' | 'allowedDomains' | 'roleClaim' | 'roleMapping' | 'defaultRole' | 'enabled'>): Record<string, unknown> {
  return {
    name: r.name, issuerUrl: r.issuerUrl, clientId: r.clientId, clientSecret: '[redacted]', scopes: r.scopes, allowedDomains: r.allowedDomains,
    roleClaim: r.roleClaim, roleMapping: r.roleMapping, defaultRole: r.defaultRole, enabled: r.enabled,
  };
}

const definedOnly = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

async function loadProvider(scope: TenantScope, p: Principal, organizationId: string, id: string, action: 'read' | 'update' | 'delete', m?: EntityManager): Promise<OidcProviderEntity> {
  const row = await scope.findOne(p, OidcProviderEntity, 'oidc-provider', id, action, { m, lock: !!m, what: 'OIDC provider' });
  if (row.organizationId !== organizationId) throw new NotFoundError('OIDC provider');
  return row;
}

export class ListOidcProvidersQuery extends Query<OidcProviderView[]> {
  constructor(readonly principal: Principal, readonly organizationId: string) {
    super();
  }
}
@QueryHandler(ListOidcProvidersQuery)
export class ListOidcProvidersHandler implements IQueryHandler<ListOidcProvidersQuery> {
  constructor(private readonly scope: TenantScope, private readonly clients: OidcClientFactory) {}
  async execute({ principal, organizationId }: ListOidcProvidersQuery) {
    await this.scope.findOne(principal, OrganizationEntity, 'organization', organizationId);
    const rows = await this.scope.query(principal, OidcProviderEntity, 'oidc-provider').andWhere('x.organization_id = :organizationId', { organizationId }).orderBy('x.name').addOrderBy('x.id').getMany();
    return rows.map((r) => view(r, this.clients.redirectUri));
  }
}

export class GetOidcProviderQuery extends Query<OidcProviderView> {
  constructor(readonly principal: Principal, readonly organizationId: string, readonly providerId: string) {
    super();
  }
}
@QueryHandler(GetOidcProviderQuery)
export class GetOidcProviderHandler implements IQueryHandler<GetOidcProviderQuery> {
  constructor(private readonly scope: TenantScope, private readonly clients: OidcClientFactory) {}
  async execute({ principal, organizationId, providerId }: GetOidcProviderQuery) {
    return view(await loadProvider(this.scope, principal, organizationId, providerId, 'read'), this.clients.redirectUri);
  }
}

export class CreateOidcProviderCommand extends Command<OidcProviderView> {
  constructor(
    readonly principal: Principal,
    readonly organizationId: string,
    readonly input: OidcProviderInput & { name: string; issuerUrl: string; clientId: string; clientSecret: string },
  ) {
    super();
  }
}
@CommandHandler(CreateOidcProviderCommand)
export class CreateOidcProviderHandler implements ICommandHandler<CreateOidcProviderCommand> {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly scope: TenantScope,
    private readonly box: SecretBox,
    private readonly clients: OidcClientFactory,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}
  async execute({ principal: p, organizationId, input }: CreateOidcProviderCommand) {
    const org = await this.scope.findOne(p, OrganizationEntity, 'organization', organizationId);
    await this.scope.assert(p, 'create', 'oidc-provider', { organizationId: org.id, id: null, name: input.name });
    const v = validateProviderInput(
      { scopes: ['openid', 'email', 'profile'], allowedDomains: [], roleClaim: null, roleMapping: {}, defaultRole: 'viewer', enabled: true, ...definedOnly(input) },
      this.config.nodeEnv,
    );
    return this.tx.run(async (m, stage) => {
      await assertMappingAllowed(m, p, organizationId, v.roleMapping!, v.defaultRole!);
      const id = newId();
      const now = new Date();
      const row = m.create(OidcProviderEntity, {
        id, organizationId, name: v.name!, issuerUrl: v.issuerUrl!, clientId: v.clientId!, clientSecretEnc: this.box.encrypt(v.clientSecret!, secretAad(id)),
        scopes: v.scopes!, allowedDomains: v.allowedDomains!, roleClaim: v.roleClaim ?? null, roleMapping: v.roleMapping!, defaultRole: v.defaultRole!,
        enabled: v.enabled!, createdAt: now, updatedAt: now, version: 1,
      });
      await m.insert(OidcProviderEntity, row);
      await stage(
        { type: 'oidc-provider.created', organizationId, actor: actorOf(p), subject: { type: 'oidc-provider', id, name: row.name }, payload: {} },
        { request: p.client, changes: auditable(row) },
      );
      return view(row, this.clients.redirectUri);
    });
  }
}

export class UpdateOidcProviderCommand extends Command<OidcProviderView> {
  constructor(readonly principal: Principal, readonly organizationId: string, readonly providerId: string, readonly patch: OidcProviderInput, readonly expectedVersion?: number) {
    super();
  }
}
@CommandHandler(UpdateOidcProviderCommand)
export class UpdateOidcProviderHandler implements ICommandHandler<UpdateOidcProviderCommand> {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly scope: TenantScope,
    private readonly box: SecretBox,
    private readonly clients: OidcClientFactory,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}
  async execute({ principal: p, organizationId, providerId, patch, expectedVersion }: UpdateOidcProviderCommand) {
    const v = validateProviderInput(patch, this.config.nodeEnv);
    const row = await this.tx.run(async (m, stage) => {
      const row = await loadProvider(this.scope, p, organizationId, providerId, 'update', m);
      checkVersion(row.version, expectedVersion);
      const before = auditable(row);
      const oldIssuer = row.issuerUrl;
      Object.assign(row, {
        name: v.name ?? row.name, issuerUrl: v.issuerUrl ?? row.issuerUrl, clientId: v.clientId ?? row.clientId, scopes: v.scopes ?? row.scopes,
        allowedDomains: v.allowedDomains ?? row.allowedDomains, roleClaim: v.roleClaim !== undefined ? v.roleClaim : row.roleClaim,
        roleMapping: v.roleMapping ?? row.roleMapping, defaultRole: v.defaultRole ?? row.defaultRole, enabled: v.enabled ?? row.enabled,
      });
      // Any change (issuer, client, claim, domains) decides who receives the mapped roles: the editor must hold every
      // role the resulting configuration can hand out.
      await assertMappingAllowed(m, p, organizationId, row.roleMapping, row.defaultRole);
      const after = auditable(row);
      const changes: Record<string, unknown> = {};
      for (const k of Object.keys(after)) {
        if (k !== 'clientSecret' && JSON.stringify(before[k]) !== JSON.stringify(after[k])) changes[k] = { from: before[k], to: after[k] };
      }
      if (v.clientSecret !== undefined) {
        row.clientSecretEnc = this.box.encrypt(v.clientSecret, secretAad(row.id));
        changes.clientSecret = '[redacted]';
      }
      row.updatedAt = new Date();
      row.version += 1;
      await m.save(OidcProviderEntity, row);
      await stage(
        { type: 'oidc-provider.updated', organizationId, actor: actorOf(p), subject: { type: 'oidc-provider', id: row.id, name: row.name }, payload: {} },
        { request: p.client, changes },
      );
      if (oldIssuer !== row.issuerUrl) this.clients.forget(oldIssuer);
      return row;
    });
    return view(row, this.clients.redirectUri);
  }
}

export class DeleteOidcProviderCommand extends Command<void> {
  constructor(readonly principal: Principal, readonly organizationId: string, readonly providerId: string) {
    super();
  }
}
@CommandHandler(DeleteOidcProviderCommand)
export class DeleteOidcProviderHandler implements ICommandHandler<DeleteOidcProviderCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, organizationId, providerId }: DeleteOidcProviderCommand) {
    await this.tx.run(async (m, stage) => {
      const row = await loadProvider(this.scope, p, organizationId, providerId, 'delete', m);
      await m.delete(OidcProviderEntity, { id: row.id });
      await stage({ type: 'oidc-provider.deleted', organizationId, actor: actorOf(p), subject: { type: 'oidc-provider', id: row.id, name: row.name }, payload: {} }, { request: p.client });
    });
  }
}

export interface PublicOidcProvider {
  id: string;
  name: string;
}

/** For the sign-in page: enabled providers of an organization by slug (id and name only; unknown slug → empty). */
export class ListPublicOidcProvidersQuery extends Query<PublicOidcProvider[]> {
  constructor(readonly organizationSlug: string) {
    super();
  }
}
@QueryHandler(ListPublicOidcProvidersQuery)
export class ListPublicOidcProvidersHandler implements IQueryHandler<ListPublicOidcProvidersQuery> {
  constructor(private readonly ds: DataSource) {}
  async execute({ organizationSlug }: ListPublicOidcProvidersQuery) {
    const rows: PublicOidcProvider[] = await this.ds.query(
      `SELECT p.id, p.name FROM oidc_providers p JOIN organizations o ON o.id = p.organization_id
        WHERE o.slug = $1 AND p.enabled ORDER BY p.name, p.id`,
      [organizationSlug],
    );
    return rows.map((r) => ({ id: r.id, name: r.name }));
  }
}
