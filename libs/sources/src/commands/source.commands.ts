/**
 * An application's Git source: read it, set it, remove it, generate its deploy key, reveal or rotate its webhook
 * secret. Reading needs `application:read`, every change `application:update`, revealing the webhook secret
 * `application:update` too (it lets anyone deploy the application) and is audited. Secrets (the access token, the
 * deploy key's private half, the webhook secret) are encrypted with the instance key and never in a view, an event or
 * an audit entry; the view says only whether a token is set. The repository's host is checked against private
 * addresses by the worker right before it clones (the API cannot resolve names the way the worker's network does).
 */
import { randomBytes } from 'node:crypto';
import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DataSource, type EntityManager } from 'typeorm';
import { checkRelativePath, normaliseBuildSettings, parseGitRepository, providerGitHost, validateBuildSettings, validateGitSource } from '@wharf/contracts';
import { ConflictError, FieldError, NotFoundError, SecretBox, TransactionRunner, ValidationError, WorkerRpcClient, checkVersion } from '@wharf/core';
import { actorOf, Principal, TenantScope } from '@wharf/tenancy';
import { ApplicationEntity, ApplicationSourceEntity, BuildSettings, buildSecretsAad, deployKeyAad, GitProviderEntity, SourceUploadEntity, sourceTokenAad, webhookSecretAad } from '@wharf/applications';
import { SourceUploadView, uploadView } from '../uploads/upload-view';
import { generateDeployKey, fingerprintOf } from '../deploy-keys/deploy-key';
import { WEBHOOK_PROVIDERS } from '../webhooks/webhook-signatures';

export interface ApplicationSourceView {
  applicationId: string;
  /** `git`: built from the repository; `upload`: from the uploaded archive (repository and ref are empty). */
  kind: 'git' | 'upload';
  /** Upload sources: the archive the next deployment builds (null until one is uploaded). */
  upload: SourceUploadView | null;
  repository: string;
  ref: string;
  buildPath: string;
  watchPaths: string[];
  submodules: boolean;
  /** Globs of tag names whose push deploys the tag's commit; empty: tags never deploy. */
  deployTags: string[];
  auth: { kind: 'none' | 'token' | 'deploy-key'; username: string | null; tokenSet: boolean };
  /** The organization's Git provider connection that supplies the credentials (null: the source's own auth). */
  providerId: string | null;
  /** The application's deploy key (add it to the repository as a read-only deploy key); null until generated. */
  deployKey: { publicKey: string; fingerprint: string } | null;
  /** SSH host keys the server must present (known_hosts lines), for deploy-key sources. */
  knownHosts: string[];
  build: BuildSettings;
  /** Paths of the webhook endpoint per provider (append to Wharf's public URL); the secret is revealed separately. */
  webhooks: Record<string, string>;
  updatedAt: string;
  version: number;
}

export function sourceView(s: ApplicationSourceEntity, upload: SourceUploadEntity | null = null): ApplicationSourceView {
  return {
    applicationId: s.applicationId, kind: s.kind ?? 'git', upload: s.kind === 'upload' && upload && upload.id === s.uploadId ? uploadView(upload) : null, repository: s.repository, ref: s.ref, buildPath: s.buildPath, watchPaths: [...s.watchPaths], submodules: s.submodules, deployTags: [...(s.deployTags ?? [])],
    auth: { kind: s.authKind, username: s.authUsername, tokenSet: s.tokenBox !== null },
    providerId: s.providerId ?? null,
    deployKey: s.deployKeyPublic ? { publicKey: s.deployKeyPublic, fingerprint: fingerprintOf(s.deployKeyPublic) } : null,
    knownHosts: [...(s.knownHosts ?? [])],
    build: normaliseBuildSettings(s.build),
    webhooks: Object.fromEntries(WEBHOOK_PROVIDERS.map((p) => [p, `/api/v1/webhooks/applications/${s.applicationId}/${p}`])),
    updatedAt: s.updatedAt.toISOString(), version: s.version,
  };
}

const subjectOf = (a: ApplicationEntity) => ({ type: 'application', id: a.id, name: a.name });
const newWebhookSecret = () => randomBytes(32).toString('base64url');

/** A known_hosts line: `host[,host…] keytype base64` or `[host]:port keytype base64` (no markers, no options). */
const KNOWN_HOST_LINE = /^(?:\[[A-Za-z0-9.:-]{1,253}\]:\d{1,5}|[A-Za-z0-9.:-]{1,253})(?:,(?:\[[A-Za-z0-9.:-]{1,253}\]:\d{1,5}|[A-Za-z0-9.:-]{1,253}))* (?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]{20,8192}={0,2}$/;

export function knownHostsFrom(input: unknown, errors: FieldError[]): string[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input) || input.length > 20) {
    errors.push({ pointer: '/knownHosts', code: 'invalid', detail: 'must be a list of at most 20 known_hosts lines' });
    return [];
  }
  const out: string[] = [];
  input.forEach((l, i) => {
    if (typeof l !== 'string' || !KNOWN_HOST_LINE.test(l.trim())) errors.push({ pointer: `/knownHosts/${i}`, code: 'invalid', detail: 'must be a known_hosts line: host key-type base64-key' });
    else out.push(l.trim());
  });
  return out;
}

/**
 * Build settings from untrusted input (defaults: `Dockerfile` in the build path, no target, no arguments, no secrets),
 * through @wharf/contracts' validateBuildSettings. Returns the secret values given (name → value); a listed name
 * without a value keeps its stored value.
 */
export function buildSettingsFrom(input: unknown, errors: FieldError[], storedSecretNames: readonly string[] = []): { settings: BuildSettings; secretValues: Record<string, string> } {
  const r = validateBuildSettings(input, { storedSecretNames });
  for (const e of r.errors) errors.push({ pointer: `/build${e.field ? `/${e.field}` : ''}`, code: 'invalid', detail: e.message });
  return { settings: r.value, secretValues: r.secretValues };
}

/**
 * The Git provider connection a source takes its credentials from (`providerId`), resolved through the tenant scope
 * (another organization's connection is a 404). Its credentials go only to its own Git host over https, so the
 * repository must be an https URL on that host, and the source's own authentication must be `none`.
 */
async function providerFor(scope: TenantScope, p: Principal, providerId: unknown, gitInput: Record<string, unknown>): Promise<GitProviderEntity | null> {
  if (providerId === undefined || providerId === null) return null;
  if (typeof providerId !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(providerId)) {
    throw ValidationError.field('/providerId', 'invalid', 'providerId must be the id of a Git provider connection or null');
  }
  const provider = await scope.findOne(p, GitProviderEntity, 'git-provider', providerId);
  const repo = parseGitRepository(gitInput.repository);
  const host = providerGitHost(provider.kind, provider.settings.baseUrl);
  if (repo.ok && (repo.value.transport !== 'https' || repo.value.host !== host)) {
    throw ValidationError.field('/repository', 'invalid', `repository must be an https URL on ${host ?? 'the provider'}'s host when it uses the Git provider connection "${provider.name}"`);
  }
  const auth = gitInput.auth as { kind?: unknown } | undefined;
  if (auth && auth.kind !== 'none') throw ValidationError.field('/auth/kind', 'invalid', 'auth.kind must be "none" when a Git provider connection supplies the credentials');
  return provider;
}

async function changeableApp(scope: TenantScope, p: Principal, applicationId: string, m?: EntityManager): Promise<ApplicationEntity> {
  await scope.findOne(p, ApplicationEntity, 'application', applicationId, 'update');
  const app = await scope.findOne(p, ApplicationEntity, 'application', applicationId, 'read', m ? { m, lock: true } : undefined);
  if (app.deleting) throw new ConflictError('The application is being deleted', 'application-deleting');
  return app;
}

export class GetApplicationSourceQuery extends Query<ApplicationSourceView> {
  constructor(readonly principal: Principal, readonly applicationId: string) {
    super();
  }
}
@QueryHandler(GetApplicationSourceQuery)
export class GetApplicationSourceHandler implements IQueryHandler<GetApplicationSourceQuery> {
  constructor(private readonly scope: TenantScope, private readonly ds: DataSource) {}
  async execute({ principal: p, applicationId }: GetApplicationSourceQuery) {
    const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId);
    const s = await this.scope.query(p, ApplicationSourceEntity, 'application').andWhere('x.application_id = :a', { a: app.id }).getOne();
    if (!s) throw new NotFoundError('Git source');
    return sourceView(s, await currentUpload(this.ds.manager, s));
  }
}

export class SetApplicationSourceCommand extends Command<ApplicationSourceView> {
  constructor(readonly principal: Principal, readonly applicationId: string, readonly body: Record<string, unknown>, readonly expectedVersion?: number) {
    super();
  }
}
/**
 * Sets the whole source (PUT). A token may be left out to keep the stored one; choosing deploy-key authentication
 * generates the application's key pair when it has none. The webhook secret is made once, with the source.
 */
@CommandHandler(SetApplicationSourceCommand)
export class SetApplicationSourceHandler implements ICommandHandler<SetApplicationSourceCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly box: SecretBox) {}
  async execute({ principal: p, applicationId, body, expectedVersion }: SetApplicationSourceCommand) {
    await changeableApp(this.scope, p, applicationId);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ValidationError.field('', 'type', 'must be an object');
    const { build, knownHosts, providerId, kind, ...gitInput } = body;
    if (kind !== undefined && kind !== 'git' && kind !== 'upload') throw ValidationError.field('/kind', 'invalid', 'kind must be "git" (a repository) or "upload" (an uploaded archive)');
    if (kind === 'upload') return this.setUpload(p, applicationId, body, expectedVersion);
    const provider = await providerFor(this.scope, p, providerId, gitInput);
    return this.tx.run(async (m, stage) => {
      const app = await changeableApp(this.scope, p, applicationId, m);
      const existing = await m.findOne(ApplicationSourceEntity, { where: { applicationId: app.id }, lock: { mode: 'pessimistic_write' } });
      if (existing) checkVersion(existing.version, expectedVersion);
      // Token left out with token authentication: keep the stored token (validated with a stand-in, never echoed).
      const auth = (gitInput.auth ?? null) as Record<string, unknown> | null;
      const keepToken = !!auth && auth.kind === 'token' && auth.token === undefined && !!existing?.tokenBox;
      const checked = validateGitSource(keepToken ? { ...gitInput, auth: { ...auth, token: 'kept' } } : gitInput);
      const errors: FieldError[] = checked.ok ? [] : checked.errors.map((e) => ({ pointer: e.field ? `/${e.field}` : '', code: 'invalid', detail: e.message }));
      const storedSecrets: Record<string, string> = existing?.buildSecretsBox ? JSON.parse(this.box.decrypt(existing.buildSecretsBox, buildSecretsAad(app.id))) : {};
      const { settings: buildSettings, secretValues } = buildSettingsFrom(build, errors, Object.keys(storedSecrets));
      const hostKeys = knownHostsFrom(knownHosts, errors);
      if (!checked.ok || errors.length > 0) throw new ValidationError(`Invalid Git source: ${errors.map((e) => `${e.pointer} ${e.detail}`).join('; ')}`, errors);
      const v = checked.value;
      const now = new Date();
      // Secret values: the ones given, else the stored ones for names still listed; names no longer listed are dropped.
      const secrets = Object.fromEntries(buildSettings.secrets.map((n) => [n, secretValues[n] ?? storedSecrets[n]]));
      const buildSecretsBox = buildSettings.secrets.length > 0 ? this.box.encrypt(JSON.stringify(secrets), buildSecretsAad(app.id)) : null;
      let deployKeyPublic = existing?.deployKeyPublic ?? null;
      let deployKeyBox = existing?.deployKeyBox ?? null;
      if (v.auth.kind === 'deploy-key' && !deployKeyBox) {
        const pair = generateDeployKey(`wharf-${app.name}`);
        deployKeyPublic = pair.publicKey;
        deployKeyBox = this.box.encrypt(pair.privateKey, deployKeyAad(app.id));
      }
      const row = m.create(ApplicationSourceEntity, {
        applicationId: app.id, organizationId: app.organizationId, projectId: app.projectId, environmentId: app.environmentId,
        repository: v.repository, ref: v.ref, buildPath: v.buildPath, watchPaths: v.watchPaths, submodules: v.submodules, deployTags: v.deployTags,
        authKind: v.auth.kind, authUsername: v.auth.kind === 'token' ? v.auth.username ?? null : null,
        tokenBox: v.auth.kind !== 'token' ? null : keepToken ? existing!.tokenBox : this.box.encrypt(v.auth.token, sourceTokenAad(app.id)),
        deployKeyPublic, deployKeyBox, knownHosts: hostKeys, build: buildSettings, buildSecretsBox,
        webhookSecretBox: existing?.webhookSecretBox ?? this.box.encrypt(newWebhookSecret(), webhookSecretAad(app.id)),
        providerId: provider?.id ?? null, kind: 'git', uploadId: null,
        createdAt: existing?.createdAt ?? now, updatedAt: now, version: (existing?.version ?? 0) + 1,
      });
      await m.save(ApplicationSourceEntity, row);
      await stage(
        { type: 'application.source-changed', organizationId: app.organizationId, actor: actorOf(p), subject: subjectOf(app), payload: { applicationId: app.id } },
        {
          request: p.client,
          changes: {
            ...(provider ? { provider: provider.name } : {}), repository: row.repository, ref: row.ref, buildPath: row.buildPath, watchPaths: row.watchPaths, submodules: row.submodules, deployTags: row.deployTags, auth: row.authKind, knownHosts: hostKeys.length,
            ...(row.authKind === 'token' ? { token: keepToken ? 'kept' : 'set' } : {}), build: {
              kind: buildSettings.kind, dockerfile: buildSettings.dockerfile, target: buildSettings.target, args: Object.keys(buildSettings.args), publishDirectory: buildSettings.publishDirectory,
              spaFallback: buildSettings.spaFallback, secrets: buildSettings.secrets.map((n) => `${n}: ${n in secretValues ? 'set' : 'kept'}`),
            },
          },
        },
      );
      return sourceView(row);
    });
  }

  /**
   * An upload source (`kind: "upload"`): only `buildPath` and `build` apply (the archive comes with POST …/source/upload;
   * an archive uploaded before stays the source's one). Switching from Git drops the repository, its credentials and
   * deploy key; the webhook secret stays (webhooks answer 404 while the source is an upload).
   */
  private async setUpload(p: Principal, applicationId: string, body: Record<string, unknown>, expectedVersion?: number): Promise<ApplicationSourceView> {
    const { build, buildPath, ...rest } = body;
    const errors: FieldError[] = [];
    for (const [k, v] of Object.entries(rest)) {
      if (k === 'kind') continue;
      // What a form sends for an absent Git field (null, empty) is ignored; anything else is a mistake worth naming.
      const empty = v === null || v === '' || v === false || (Array.isArray(v) && v.length === 0) || (k === 'auth' && typeof v === 'object' && (v as { kind?: unknown }).kind === 'none');
      if (!empty) errors.push({ pointer: `/${k}`, code: 'not-allowed', detail: `${k} is not a field of an upload source` });
    }
    let path = '.';
    if (buildPath !== undefined) {
      const why = checkRelativePath(buildPath);
      if (why) errors.push({ pointer: '/buildPath', code: 'invalid', detail: `buildPath ${why}` });
      else path = (buildPath as string).replace(/^\.\//, '').replace(/\/$/, '') || '.';
    }
    return this.tx.run(async (m, stage) => {
      const app = await changeableApp(this.scope, p, applicationId, m);
      const existing = await m.findOne(ApplicationSourceEntity, { where: { applicationId: app.id }, lock: { mode: 'pessimistic_write' } });
      if (existing) checkVersion(existing.version, expectedVersion);
      const storedSecrets: Record<string, string> = existing?.buildSecretsBox ? JSON.parse(this.box.decrypt(existing.buildSecretsBox, buildSecretsAad(app.id))) : {};
      const { settings: buildSettings, secretValues } = buildSettingsFrom(build, errors, Object.keys(storedSecrets));
      if (errors.length > 0) throw new ValidationError(`Invalid upload source: ${errors.map((e) => `${e.pointer} ${e.detail}`).join('; ')}`, errors);
      const secrets = Object.fromEntries(buildSettings.secrets.map((n) => [n, secretValues[n] ?? storedSecrets[n]]));
      const now = new Date();
      const row = m.create(ApplicationSourceEntity, {
        applicationId: app.id, organizationId: app.organizationId, projectId: app.projectId, environmentId: app.environmentId, kind: 'upload',
        uploadId: existing?.kind === 'upload' ? existing.uploadId : null,
        repository: '', ref: '', buildPath: path, watchPaths: [], submodules: false, deployTags: [], authKind: 'none', authUsername: null, tokenBox: null,
        deployKeyPublic: null, deployKeyBox: null, knownHosts: [], build: buildSettings,
        buildSecretsBox: buildSettings.secrets.length > 0 ? this.box.encrypt(JSON.stringify(secrets), buildSecretsAad(app.id)) : null,
        webhookSecretBox: existing?.webhookSecretBox ?? this.box.encrypt(newWebhookSecret(), webhookSecretAad(app.id)), providerId: null,
        createdAt: existing?.createdAt ?? now, updatedAt: now, version: (existing?.version ?? 0) + 1,
      });
      await m.save(ApplicationSourceEntity, row);
      await stage(
        { type: 'application.source-changed', organizationId: app.organizationId, actor: actorOf(p), subject: subjectOf(app), payload: { applicationId: app.id } },
        {
          request: p.client,
          changes: {
            kind: 'upload', buildPath: row.buildPath, build: {
              kind: buildSettings.kind, dockerfile: buildSettings.dockerfile, target: buildSettings.target, args: Object.keys(buildSettings.args), publishDirectory: buildSettings.publishDirectory,
              spaFallback: buildSettings.spaFallback, secrets: buildSettings.secrets.map((n) => `${n}: ${n in secretValues ? 'set' : 'kept'}`),
            },
          },
        },
      );
      return sourceView(row, await currentUpload(m, row));
    });
  }
}

/** The archive an upload source builds now (null for Git sources and before the first upload). */
async function currentUpload(m: EntityManager, s: ApplicationSourceEntity): Promise<SourceUploadEntity | null> {
  if (s.kind !== 'upload' || !s.uploadId) return null;
  return m.findOneBy(SourceUploadEntity, { id: s.uploadId, applicationId: s.applicationId, status: 'complete' });
}

export class RemoveApplicationSourceCommand extends Command<void> {
  constructor(readonly principal: Principal, readonly applicationId: string) {
    super();
  }
}
/** The application goes back to running its image; its deploy key and webhook secret go with the source. */
@CommandHandler(RemoveApplicationSourceCommand)
export class RemoveApplicationSourceHandler implements ICommandHandler<RemoveApplicationSourceCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, applicationId }: RemoveApplicationSourceCommand) {
    await changeableApp(this.scope, p, applicationId);
    await this.tx.run(async (m, stage) => {
      const app = await changeableApp(this.scope, p, applicationId, m);
      const r = await m.delete(ApplicationSourceEntity, { applicationId: app.id });
      if (!r.affected) throw new NotFoundError('Git source');
      await stage({ type: 'application.source-removed', organizationId: app.organizationId, actor: actorOf(p), subject: subjectOf(app), payload: { applicationId: app.id } }, { request: p.client });
    });
  }
}

export class GenerateDeployKeyCommand extends Command<ApplicationSourceView> {
  constructor(readonly principal: Principal, readonly applicationId: string) {
    super();
  }
}
/** A new ed25519 pair replaces the application's deploy key (the old public key stops working once removed upstream). */
@CommandHandler(GenerateDeployKeyCommand)
export class GenerateDeployKeyHandler implements ICommandHandler<GenerateDeployKeyCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly box: SecretBox) {}
  async execute({ principal: p, applicationId }: GenerateDeployKeyCommand) {
    await changeableApp(this.scope, p, applicationId);
    return this.tx.run(async (m, stage) => {
      const app = await changeableApp(this.scope, p, applicationId, m);
      const s = await m.findOne(ApplicationSourceEntity, { where: { applicationId: app.id }, lock: { mode: 'pessimistic_write' } });
      if (!s) throw new NotFoundError('Git source');
      if (s.kind === 'upload') throw new ConflictError('The source is an uploaded archive: deploy keys are for Git sources', 'not-git');
      const pair = generateDeployKey(`wharf-${app.name}`);
      Object.assign(s, { deployKeyPublic: pair.publicKey, deployKeyBox: this.box.encrypt(pair.privateKey, deployKeyAad(app.id)), updatedAt: new Date(), version: s.version + 1 });
      await m.save(ApplicationSourceEntity, s);
      await stage(
        { type: 'application.deploy-key-generated', organizationId: app.organizationId, actor: actorOf(p), subject: subjectOf(app), payload: { applicationId: app.id } },
        { request: p.client, changes: { fingerprint: pair.fingerprint } },
      );
      return sourceView(s);
    });
  }
}

export class RevealWebhookSecretCommand extends Command<{ secret: string }> {
  constructor(readonly principal: Principal, readonly applicationId: string, readonly rotate: boolean) {
    super();
  }
}
/** The webhook secret, shown on request (audited); with `rotate`, a new one first (deliveries signed with the old one stop). */
@CommandHandler(RevealWebhookSecretCommand)
export class RevealWebhookSecretHandler implements ICommandHandler<RevealWebhookSecretCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly box: SecretBox) {}
  async execute({ principal: p, applicationId, rotate }: RevealWebhookSecretCommand) {
    await changeableApp(this.scope, p, applicationId);
    return this.tx.run(async (m, stage) => {
      const app = await changeableApp(this.scope, p, applicationId, m);
      const s = await m.findOne(ApplicationSourceEntity, { where: { applicationId: app.id }, lock: { mode: 'pessimistic_write' } });
      if (!s) throw new NotFoundError('Git source');
      let secret: string;
      if (rotate) {
        secret = newWebhookSecret();
        Object.assign(s, { webhookSecretBox: this.box.encrypt(secret, webhookSecretAad(app.id)), updatedAt: new Date(), version: s.version + 1 });
        await m.save(ApplicationSourceEntity, s);
      } else {
        secret = this.box.decrypt(s.webhookSecretBox, webhookSecretAad(app.id));
      }
      await stage(
        { type: rotate ? 'application.webhook-secret-rotated' : 'application.webhook-secret-revealed', organizationId: app.organizationId, actor: actorOf(p), subject: subjectOf(app), payload: { applicationId: app.id } },
        { request: p.client },
      );
      return { secret };
    });
  }
}

export interface WebhookDeliveryView {
  id: string;
  provider: string;
  deliveryId: string;
  event: string | null;
  outcome: 'accepted' | 'ignored' | 'rejected';
  reason: string | null;
  ref: string | null;
  commit: string | null;
  deploymentId: string | null;
  /** The Git provider connection whose webhook (a GitHub App's) the delivery came through; null: the application's own. */
  gitProviderId: string | null;
  receivedAt: string;
}

export class ListWebhookDeliveriesQuery extends Query<WebhookDeliveryView[]> {
  constructor(readonly principal: Principal, readonly applicationId: string) {
    super();
  }
}
/** The application's last 100 webhook deliveries, newest first. */
@QueryHandler(ListWebhookDeliveriesQuery)
export class ListWebhookDeliveriesHandler implements IQueryHandler<ListWebhookDeliveriesQuery> {
  constructor(private readonly scope: TenantScope, private readonly ds: DataSource) {}
  async execute({ principal: p, applicationId }: ListWebhookDeliveriesQuery): Promise<WebhookDeliveryView[]> {
    const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId);
    const rows: Array<Record<string, unknown>> = await this.ds.query(
      `SELECT id, provider, delivery_id, event, outcome, reason, ref, commit, deployment_id, git_provider_id, received_at FROM webhook_deliveries
        WHERE application_id = $1 ORDER BY received_at DESC, id DESC LIMIT 100`,
      [app.id],
    );
    return rows.map((r) => ({
      id: String(r.id), provider: String(r.provider), deliveryId: String(r.delivery_id), event: (r.event as string | null) ?? null, outcome: r.outcome as WebhookDeliveryView['outcome'],
      reason: (r.reason as string | null) ?? null, ref: (r.ref as string | null) ?? null, commit: (r.commit as string | null) ?? null, deploymentId: (r.deployment_id as string | null) ?? null,
      gitProviderId: (r.git_provider_id as string | null) ?? null, receivedAt: (r.received_at as Date).toISOString(),
    }));
  }
}

export class ScanHostKeysQuery extends Query<{ ok: boolean; lines: string[]; message: string }> {
  constructor(readonly principal: Principal, readonly applicationId: string) {
    super();
  }
}
/** The source server's SSH host keys as the worker sees them (to review and save as known hosts); needs application:update. */
@QueryHandler(ScanHostKeysQuery)
export class ScanHostKeysHandler implements IQueryHandler<ScanHostKeysQuery> {
  constructor(private readonly scope: TenantScope, private readonly rpc: WorkerRpcClient) {}
  async execute({ principal: p, applicationId }: ScanHostKeysQuery) {
    const app = await changeableApp(this.scope, p, applicationId);
    const s = await this.scope.query(p, ApplicationSourceEntity, 'application').andWhere('x.application_id = :a', { a: app.id }).getOne();
    if (!s) throw new NotFoundError('Git source');
    if (s.kind === 'upload') throw new ConflictError('The source is an uploaded archive: host keys are for SSH Git sources', 'not-ssh');
    if (s.repository.startsWith('https://')) throw new ConflictError('The repository is reached over HTTPS: host keys are for SSH sources', 'not-ssh');
    return this.rpc.call<{ ok: boolean; lines: string[]; message: string }>('source.scan-host-keys', { applicationId: app.id }, 30_000);
  }
}
