/**
 * Git provider connections of an organization (GitHub App, GitLab, Gitea/Forgejo, Bitbucket): list, read, create,
 * change, delete, test, and the repositories and branches a connection sees. Secrets (the GitHub App private key and
 * webhook secret, tokens) are encrypted with the instance key in one box and never in a view, an event or an audit
 * entry; the view lists which are set. Provider API calls are made by the worker (RPC `git-provider.*`), which checks
 * the base URL's host against private addresses right before each request.
 */
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { GIT_PROVIDER_OAUTH_CALLBACK_PATH, type GitProviderAuth, type GitProviderInput, type GitProviderKind, type GitProviderSecretName, type GitProviderSettings, validateGitProvider } from '@wharf/contracts';
import { checkVersion, ConflictError, newId, NotFoundError, SecretBox, TransactionRunner, ValidationError, WHARF_CONFIG, WharfConfig, WorkerRpcClient } from '@wharf/core';
import { actorOf, OrganizationEntity, Principal, TenantScope } from '@wharf/tenancy';
import { GitProviderEntity, gitProviderSecretsAad } from '@wharf/applications';
import { gitProviderWebhookPath } from './provider-webhook.commands';

export interface GitProviderView {
  id: string;
  organizationId: string;
  name: string;
  kind: GitProviderKind;
  baseUrl: string;
  appId: string | null;
  installationId: string | null;
  username: string | null;
  workspace: string | null;
  /** Which secrets are stored (their values are never returned). */
  secretsSet: GitProviderSecretName[];
  /** GitHub App connections: the path of the App's webhook (append to Wharf's public URL); null for the other kinds. */
  webhookPath: string | null;
  /** GitLab: 'token' or 'oauth' (an OAuth application); 'token' for the other kinds. */
  auth: GitProviderAuth;
  /** GitLab OAuth application id. */
  clientId: string | null;
  /** OAuth connections: the authorization's state (tokens never); null for token connections. */
  oauth: GitProviderOAuthView | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}
export interface GitProviderOAuthView {
  status: 'not-authorized' | 'authorized' | 'needs-reauthorization';
  /** The provider user who authorized the application. */
  username: string | null;
  /** When the current access token expires (the worker refreshes it 5 minutes before). */
  expiresAt: string | null;
  authorizedAt: string | null;
  /** Why the connection needs re-authorization (the provider's refusal of the refresh token). */
  message: string | null;
  /** The redirect URI to register in the provider's OAuth application. */
  redirectUri: string;
}
export const gitProviderView = (r: GitProviderEntity, publicUrl: string): GitProviderView => ({
  id: r.id, organizationId: r.organizationId, name: r.name, kind: r.kind, baseUrl: r.settings.baseUrl,
  appId: r.settings.appId ?? null, installationId: r.settings.installationId ?? null, username: r.settings.username ?? null, workspace: r.settings.workspace ?? null,
  secretsSet: [...r.secretsSet].sort(), webhookPath: gitProviderWebhookPath(r.kind, r.id), auth: r.settings.auth ?? 'token', clientId: r.settings.clientId ?? null,
  oauth: r.settings.auth === 'oauth' ? {
    status: r.oauthStatus ?? 'not-authorized', username: r.oauthUsername ?? null, expiresAt: r.oauthExpiresAt?.toISOString() ?? null,
    authorizedAt: r.oauthAuthorizedAt?.toISOString() ?? null, message: r.oauthError ?? null, redirectUri: `${publicUrl}${GIT_PROVIDER_OAUTH_CALLBACK_PATH}`,
  } : null,
  createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version,
});

const subjectOf = (r: GitProviderEntity) => ({ type: 'git-provider', id: r.id, name: r.name });

function validated(input: GitProviderInput, existing?: GitProviderEntity) {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw ValidationError.field('', 'type', 'must be an object');
  const r = validateGitProvider(input, existing ? { name: existing.name, kind: existing.kind, settings: existing.settings, secretsSet: existing.secretsSet } : undefined);
  if (!r.value) {
    const errors = r.errors.map((e) => ({ pointer: `/${e.field}`, code: 'invalid', detail: `${e.field} ${e.message}` }));
    throw new ValidationError(`Invalid Git provider: ${errors.map((e) => e.detail).join('; ')}`, errors);
  }
  return r.value;
}

/** Audit changes of settings (values) and secrets ('[redacted]' when given). */
function changesOf(before: GitProviderSettings | null, after: GitProviderSettings, secrets: Partial<Record<GitProviderSecretName, string>>): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const k of ['baseUrl', 'appId', 'installationId', 'username', 'workspace', 'auth', 'clientId'] as const) {
    if ((before?.[k] ?? null) !== (after[k] ?? null)) changes[k] = before ? { from: before[k] ?? null, to: after[k] ?? null } : after[k];
  }
  for (const k of Object.keys(secrets)) changes[k] = '[redacted]';
  return changes;
}

export class ListGitProvidersQuery extends Query<GitProviderView[]> {
  constructor(readonly principal: Principal, readonly organizationId: string) {
    super();
  }
}
@QueryHandler(ListGitProvidersQuery)
export class ListGitProvidersHandler implements IQueryHandler<ListGitProvidersQuery> {
  constructor(private readonly scope: TenantScope, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}
  async execute({ principal, organizationId }: ListGitProvidersQuery) {
    await this.scope.findOne(principal, OrganizationEntity, 'organization', organizationId);
    const rows = await this.scope.query(principal, GitProviderEntity, 'git-provider').andWhere('x.organization_id = :organizationId', { organizationId }).orderBy('x.name').getMany();
    return rows.map((r) => gitProviderView(r, this.config.publicUrl));
  }
}

export class GetGitProviderQuery extends Query<GitProviderView> {
  constructor(readonly principal: Principal, readonly providerId: string) {
    super();
  }
}
@QueryHandler(GetGitProviderQuery)
export class GetGitProviderHandler implements IQueryHandler<GetGitProviderQuery> {
  constructor(private readonly scope: TenantScope, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}
  async execute({ principal, providerId }: GetGitProviderQuery) {
    return gitProviderView(await this.scope.findOne(principal, GitProviderEntity, 'git-provider', providerId), this.config.publicUrl);
  }
}

export class CreateGitProviderCommand extends Command<GitProviderView> {
  constructor(readonly principal: Principal, readonly organizationId: string, readonly input: GitProviderInput) {
    super();
  }
}
@CommandHandler(CreateGitProviderCommand)
export class CreateGitProviderHandler implements ICommandHandler<CreateGitProviderCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly box: SecretBox, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}
  async execute({ principal: p, organizationId, input }: CreateGitProviderCommand) {
    await this.scope.findOne(p, OrganizationEntity, 'organization', organizationId);
    await this.scope.assert(p, 'create', 'git-provider', { organizationId, id: null, name: typeof input?.name === 'string' ? input.name : null });
    const v = validated(input);
    return this.tx.run(async (m, stage) => {
      const dup = await m.query(`SELECT 1 FROM git_providers WHERE organization_id = $1 AND lower(name) = lower($2)`, [organizationId, v.name]);
      if (dup.length) throw new ConflictError('A Git provider connection with this name exists', 'git-provider-name-taken');
      const id = newId();
      const secretsSet = Object.keys(v.secrets) as GitProviderSecretName[];
      const r = m.create(GitProviderEntity, {
        id, organizationId, name: v.name, kind: v.kind, settings: v.settings, secretsSet,
        secretsBox: secretsSet.length ? this.box.encrypt(JSON.stringify(v.secrets), gitProviderSecretsAad(id)) : null,
        createdAt: new Date(), updatedAt: new Date(), version: 1,
      });
      await m.insert(GitProviderEntity, r);
      await stage({ type: 'git-provider.created', organizationId, actor: actorOf(p), subject: subjectOf(r), payload: { kind: r.kind } }, { request: p.client, changes: { name: r.name, kind: r.kind, ...changesOf(null, v.settings, v.secrets) } });
      return gitProviderView(r, this.config.publicUrl);
    });
  }
}

export class UpdateGitProviderCommand extends Command<GitProviderView> {
  constructor(readonly principal: Principal, readonly providerId: string, readonly patch: GitProviderInput, readonly expectedVersion?: number) {
    super();
  }
}
@CommandHandler(UpdateGitProviderCommand)
export class UpdateGitProviderHandler implements ICommandHandler<UpdateGitProviderCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly box: SecretBox, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}
  async execute({ principal: p, providerId, patch, expectedVersion }: UpdateGitProviderCommand) {
    await this.scope.findOne(p, GitProviderEntity, 'git-provider', providerId, 'update');
    return this.tx.run(async (m, stage) => {
      const r = await this.scope.findOne(p, GitProviderEntity, 'git-provider', providerId, 'read', { m, lock: true });
      checkVersion(r.version, expectedVersion);
      const v = validated(patch, r);
      const changes: Record<string, unknown> = changesOf(r.settings, v.settings, v.secrets);
      if (v.name !== r.name) {
        const dup = await m.query(`SELECT 1 FROM git_providers WHERE organization_id = $1 AND lower(name) = lower($2) AND id <> $3`, [r.organizationId, v.name, r.id]);
        if (dup.length) throw new ConflictError('A Git provider connection with this name exists', 'git-provider-name-taken');
        changes.name = { from: r.name, to: v.name };
      }
      if (Object.keys(v.secrets).length) {
        const stored = r.secretsBox ? (JSON.parse(this.box.decrypt(r.secretsBox, gitProviderSecretsAad(r.id))) as Record<string, string>) : {};
        const merged = { ...stored, ...v.secrets };
        r.secretsBox = this.box.encrypt(JSON.stringify(merged), gitProviderSecretsAad(r.id));
        r.secretsSet = Object.keys(merged) as GitProviderSecretName[];
      }
      if (v.settings.auth === 'oauth' && (v.settings.baseUrl !== r.settings.baseUrl || v.settings.clientId !== r.settings.clientId) && (r.oauthBox || r.oauthStatus)) {
        // Tokens of another server or application: the connection must be authorized again.
        Object.assign(r, { oauthBox: null, oauthStatus: null, oauthExpiresAt: null, oauthUsername: null, oauthAuthorizedAt: null, oauthError: null });
        changes.oauth = 'authorization cleared';
      }
      Object.assign(r, { name: v.name, settings: v.settings, updatedAt: new Date(), version: r.version + 1 });
      await m.save(GitProviderEntity, r);
      await stage({ type: 'git-provider.updated', organizationId: r.organizationId, actor: actorOf(p), subject: subjectOf(r), payload: {} }, { request: p.client, changes });
      return gitProviderView(r, this.config.publicUrl);
    });
  }
}

export class DeleteGitProviderCommand extends Command<void> {
  constructor(readonly principal: Principal, readonly providerId: string) {
    super();
  }
}
@CommandHandler(DeleteGitProviderCommand)
export class DeleteGitProviderHandler implements ICommandHandler<DeleteGitProviderCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, providerId }: DeleteGitProviderCommand) {
    const r = await this.scope.findOne(p, GitProviderEntity, 'git-provider', providerId, 'delete');
    await this.tx.run(async (m, stage) => {
      const used = await m.query(`SELECT a.name FROM application_sources s JOIN applications a ON a.id = s.application_id WHERE s.provider_id = $1 LIMIT 1`, [r.id]);
      if (used.length) throw new ConflictError(`The Git provider connection is used by application "${used[0].name}"`, 'git-provider-in-use');
      const n = await m.delete(GitProviderEntity, { id: r.id });
      if (!n.affected) throw new NotFoundError('Git provider');
      await stage({ type: 'git-provider.deleted', organizationId: r.organizationId, actor: actorOf(p), subject: subjectOf(r), payload: {} }, { request: p.client });
    });
  }
}

export interface GitProviderTestResult {
  ok: boolean;
  message: string;
}
export interface ProviderRepositoryView {
  fullName: string;
  cloneUrl: string;
  defaultBranch: string | null;
  private: boolean;
}
export interface ProviderBranchView {
  name: string;
  commit: string;
}

export class TestGitProviderCommand extends Command<GitProviderTestResult> {
  constructor(readonly principal: Principal, readonly providerId: string) {
    super();
  }
}
/** "Test connection": the worker calls the provider's API with the stored credentials (a GitHub App mints a token). */
@CommandHandler(TestGitProviderCommand)
export class TestGitProviderHandler implements ICommandHandler<TestGitProviderCommand> {
  constructor(private readonly scope: TenantScope, private readonly rpc: WorkerRpcClient, private readonly tx: TransactionRunner) {}
  async execute({ principal: p, providerId }: TestGitProviderCommand) {
    const r = await this.scope.findOne(p, GitProviderEntity, 'git-provider', providerId, 'update');
    const result = await this.rpc.call<GitProviderTestResult>('git-provider.test', { providerId: r.id }, 40_000);
    await this.tx.run(async (_m, stage) => {
      await stage({ type: 'git-provider.tested', organizationId: r.organizationId, actor: actorOf(p), subject: subjectOf(r), payload: { ok: result.ok } }, { request: p.client, outcome: result.ok ? 'succeeded' : 'failed' });
    });
    return result;
  }
}

const REPO_NAME_RE = /^[A-Za-z0-9._-]{1,100}(?:\/[A-Za-z0-9._-]{1,100}){1,20}$/;

export class ListProviderRepositoriesQuery extends Query<ProviderRepositoryView[]> {
  constructor(readonly principal: Principal, readonly providerId: string, readonly search?: string) {
    super();
  }
}
/** Repositories the connection can read (the worker asks the provider; at most 100, optionally filtered by name). */
@QueryHandler(ListProviderRepositoriesQuery)
export class ListProviderRepositoriesHandler implements IQueryHandler<ListProviderRepositoriesQuery> {
  constructor(private readonly scope: TenantScope, private readonly rpc: WorkerRpcClient) {}
  async execute({ principal: p, providerId, search }: ListProviderRepositoriesQuery) {
    const r = await this.scope.findOne(p, GitProviderEntity, 'git-provider', providerId);
    if (search !== undefined && !/^[A-Za-z0-9._/ -]{0,100}$/.test(search)) throw ValidationError.field('/search', 'invalid', 'search must be up to 100 letters, digits and . _ / - characters');
    return this.rpc.call<ProviderRepositoryView[]>('git-provider.repositories', { providerId: r.id, search: search ?? '' }, 40_000);
  }
}

export class ListProviderBranchesQuery extends Query<ProviderBranchView[]> {
  constructor(readonly principal: Principal, readonly providerId: string, readonly repository: string) {
    super();
  }
}
@QueryHandler(ListProviderBranchesQuery)
export class ListProviderBranchesHandler implements IQueryHandler<ListProviderBranchesQuery> {
  constructor(private readonly scope: TenantScope, private readonly rpc: WorkerRpcClient) {}
  async execute({ principal: p, providerId, repository }: ListProviderBranchesQuery) {
    const r = await this.scope.findOne(p, GitProviderEntity, 'git-provider', providerId);
    if (typeof repository !== 'string' || !REPO_NAME_RE.test(repository) || repository.split('/').some((s) => s === '.' || s === '..')) {
      throw ValidationError.field('/repository', 'invalid', 'repository must be a full name such as "owner/name"');
    }
    return this.rpc.call<ProviderBranchView[]>('git-provider.branches', { providerId: r.id, repository }, 40_000);
  }
}
