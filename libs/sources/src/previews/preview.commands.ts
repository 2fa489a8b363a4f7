/**
 * Preview deployments of pull/merge requests. A preview is a child application in the parent's environment
 * (`applications.preview_of`): its spec is the parent's (one replica, no published ports, no bind mounts), its Git source
 * the parent's at the pull request's head commit (credentials re-encrypted for the child), its variables the parent's
 * with the preview overrides, and its domain `pr-<n>-<app>.<preview domain>`. So the whole deployment pipeline, logs,
 * domains and the durable deletion are the usual ones; listings leave children out and the parent lists them.
 *
 * A webhook's pull request opened, reopened or updated creates or redeploys the preview at its head commit (a burst
 * collapses to the newest: a newer deployment supersedes queued ones); closed or merged deletes it. A pull request from a
 * fork, or (GitHub) by an author who is not an owner, member or collaborator, does not deploy: the preview waits in
 * `awaiting-approval` until a member who may deploy the application approves it, and exactly the approved commit
 * deploys. A later push to such a pull request needs a new approval (the preview keeps running the approved commit
 * meanwhile). The previews at once are limited per application (awaiting ones count too); a pull request over the limit
 * is ignored with the reason.
 */
import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DataSource, EntityManager } from 'typeorm';
import { checkGitRef, isCommitId, type FieldError } from '@wharf/contracts';
import { checkVersion, ConflictError, DomainEventOf, newId, NotFoundError, OnDomainEvent, SecretBox, TransactionRunner, ValidationError } from '@wharf/core';
import { actorOf, buildAbility, ClientContext, Grant, Principal, SYSTEM_ACTOR, TenantScope } from '@wharf/tenancy';
import { EnvironmentEntity } from '@wharf/projects';
import {
  ApplicationEntity, ApplicationSourceEntity, ApplicationVariableEntity, appVariableAad, DeleteApplicationCommand, deployKeyAad, RequestDeploymentCommand,
  sourceTokenAad, webhookSecretAad,
} from '@wharf/applications';
import { CreateDomainCommand, DomainConflictError } from '@wharf/routing';
import type { WebhookEvent } from '../webhooks/webhook-events';
import { approvalReason, DEFAULT_MAX_PREVIEWS, previewHost, previewSettingsFrom, previewSpec, StoredPreviewEnv } from './preview-rules';

export interface PreviewSettingsView {
  applicationId: string;
  enabled: boolean;
  domain: string | null;
  port: number | null;
  https: boolean;
  /** Secret values are never returned (value null, secret true). */
  env: Array<{ key: string; value: string | null; secret: boolean }>;
  maxPreviews: number;
  updatedAt: string | null;
  version: number;
}

export interface PreviewView {
  id: string;
  number: number;
  provider: string;
  state: 'awaiting-approval' | 'active';
  /** Why it awaits an approval (null when active). */
  approvalReason: string | null;
  headRef: string;
  headSha: string;
  approvedSha: string | null;
  deployedSha: string | null;
  fromFork: boolean;
  author: string | null;
  authorAssociation: string | null;
  title: string | null;
  /** The child application that runs the preview (null until its first deployment). */
  applicationId: string | null;
  url: string | null;
  deployment: { id: string; status: string } | null;
  createdAt: string;
  updatedAt: string;
}

interface SettingsRow {
  application_id: string;
  organization_id: string;
  enabled: boolean;
  domain: string | null;
  port: number | null;
  https: boolean;
  env: StoredPreviewEnv[];
  max_previews: number;
  updated_at: Date;
  version: number;
}

interface PreviewRow {
  id: string;
  parent_id: string;
  organization_id: string;
  project_id: string;
  environment_id: string;
  number: number;
  provider: string;
  state: 'awaiting-approval' | 'active';
  head_ref: string;
  head_sha: string;
  approved_sha: string | null;
  deployed_sha: string | null;
  from_fork: boolean;
  author: string | null;
  author_association: string | null;
  title: string | null;
  application_id: string | null;
  deployment_id: string | null;
  host: string | null;
  https?: boolean | null;
  deployment_status?: string | null;
  created_at: Date;
  updated_at: Date;
}

const previewEnvAad = (applicationId: string, key: string) => `preview-env:${applicationId}:${key}`;

function settingsView(applicationId: string, s: SettingsRow | undefined): PreviewSettingsView {
  if (!s) return { applicationId, enabled: false, domain: null, port: null, https: true, env: [], maxPreviews: DEFAULT_MAX_PREVIEWS, updatedAt: null, version: 0 };
  return {
    applicationId, enabled: s.enabled, domain: s.domain, port: s.port, https: s.https, env: s.env.map((e) => ({ key: e.key, value: e.secret ? null : e.value, secret: e.secret })),
    maxPreviews: s.max_previews, updatedAt: s.updated_at.toISOString(), version: s.version,
  };
}

function previewView(r: PreviewRow): PreviewView {
  const https = r.https ?? true;
  return {
    id: r.id, number: r.number, provider: r.provider, state: r.state,
    approvalReason: r.state === 'awaiting-approval' ? approvalReason(r.provider, { fromFork: r.from_fork, authorAssociation: r.author_association }) ?? 'a new commit needs an approval' : null,
    headRef: r.head_ref, headSha: r.head_sha, approvedSha: r.approved_sha, deployedSha: r.deployed_sha, fromFork: r.from_fork, author: r.author,
    authorAssociation: r.author_association, title: r.title, applicationId: r.application_id, url: r.host ? `${https ? 'https' : 'http'}://${r.host}` : null,
    deployment: r.deployment_id ? { id: r.deployment_id, status: r.deployment_status ?? 'unknown' } : null,
    createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString(),
  };
}

const PREVIEW_SELECT = `SELECT p.*, s.https, d.status AS deployment_status FROM application_previews p
  LEFT JOIN application_preview_settings s ON s.application_id = p.parent_id LEFT JOIN deployments d ON d.id = p.deployment_id`;

/**
 * What the preview machinery acts as when a verified webhook (or the parent's deletion) asks: create, change, deploy
 * and delete applications in the parent's environment, nothing else; named for the audit log.
 */
export function previewPrincipal(app: ApplicationEntity, name: string, client: ClientContext): Principal {
  const grants: Grant[] = [{
    organizationId: app.organizationId, role: 'preview', customRoleId: null,
    permissions: ['application:read', 'application:create', 'application:update', 'application:deploy', 'application:delete'],
    projectIds: null, environmentIds: [app.environmentId], environmentProjectIds: [app.projectId], blockedByTwoFactor: false,
  }];
  return { kind: 'api-key', userId: null, apiKeyId: null, name: name.slice(0, 120), sessionId: null, isInstanceAdmin: false, scopes: null, grants, ability: buildAbility(grants, null), client };
}

const NO_CLIENT: ClientContext = { ip: null, userAgent: null, requestId: null };

export interface PullRequestResult {
  outcome: 'accepted' | 'ignored';
  reason: string | null;
  deploymentId: string | null;
}

/** Creates, deploys and removes previews; used by the webhook handler, the approval and the parent's deletion. */
@Injectable()
export class PreviewDeployer {
  constructor(private readonly ds: DataSource, private readonly tx: TransactionRunner, private readonly box: SecretBox, private readonly commands: CommandBus) {}

  async settingsOf(applicationId: string, m: EntityManager = this.ds.manager): Promise<SettingsRow | undefined> {
    const [row] = await m.query(`SELECT * FROM application_preview_settings WHERE application_id = $1`, [applicationId]);
    return row as SettingsRow | undefined;
  }

  /** A verified pull request event of `app`'s provider. */
  async onPullRequest(app: ApplicationEntity, provider: string, e: Extract<WebhookEvent, { kind: 'pull-request' }>, deliveryId: string, client: ClientContext): Promise<PullRequestResult> {
    const settings = await this.settingsOf(app.id);
    const ignored = (reason: string): PullRequestResult => ({ outcome: 'ignored', reason, deploymentId: null });
    const sys = previewPrincipal(app, `preview:${provider} ${deliveryId.slice(0, 80)}`, client);
    if (e.action === 'closed') {
      const removed = await this.remove(app, e.number, sys);
      return removed ? { outcome: 'accepted', reason: `pull request #${e.number} ${e.merged ? 'merged' : 'closed'}: preview removed`, deploymentId: null } : ignored(`pull request #${e.number} closed: no preview to remove`);
    }
    if (!settings?.enabled) return ignored(`pull request #${e.number}: previews are not enabled for this application`);
    if (e.action === 'other') return ignored(`pull request #${e.number}: this action does not change the preview`);
    // Bitbucket sends a short commit id: only a same-repository branch can be deployed (at its tip).
    const exact = isCommitId(e.headSha);
    if (!exact && e.fromFork) return ignored(`pull request #${e.number}: the provider sent no full commit id, and a fork's branch cannot be fetched by name`);
    const needsApproval = approvalReason(provider, e);

    const step = await this.tx.run(async (m, stage) => {
      const parent = await m.findOne(ApplicationEntity, { where: { id: app.id }, lock: { mode: 'pessimistic_write' } });
      if (!parent || parent.deleting) return { kind: 'ignored' as const, reason: 'the application is being deleted' };
      const [existing] = (await m.query(`SELECT * FROM application_previews WHERE parent_id = $1 AND number = $2 FOR UPDATE`, [app.id, e.number])) as PreviewRow[];
      if (!existing) {
        const [{ n }] = await m.query(`SELECT count(*)::int AS n FROM application_previews WHERE parent_id = $1`, [app.id]);
        if (n >= settings.max_previews) return { kind: 'ignored' as const, reason: `pull request #${e.number}: the limit of ${settings.max_previews} previews is reached` };
      }
      const id = existing?.id ?? newId();
      const state = needsApproval ? 'awaiting-approval' : 'active';
      const headSha = exact ? e.headSha : existing?.head_sha && existing.head_ref === e.headRef ? existing.head_sha : e.headSha;
      // An update that brings no new commit (a GitHub title edit is "edited" too) changes nothing, nor asks for a new approval.
      if (existing && exact && e.action === 'updated' && existing.head_sha === headSha) return { kind: 'ignored' as const, reason: `pull request #${e.number}: no new commit` };
      if (existing) {
        await m.query(
          `UPDATE application_previews SET state = $2, head_ref = $3, head_sha = $4, approved_sha = CASE WHEN $2 = 'active' THEN $4 ELSE approved_sha END, from_fork = $5, author = $6,
             author_association = $7, title = $8, provider = $9, updated_at = now(), version = version + 1 WHERE id = $1`,
          [id, state, e.headRef.slice(0, 1024), headSha, e.fromFork, e.author, e.authorAssociation, e.title?.slice(0, 1000) ?? null, provider],
        );
      } else {
        await m.query(
          `INSERT INTO application_previews (id, parent_id, organization_id, project_id, environment_id, number, provider, state, head_ref, head_sha, approved_sha, from_fork, author, author_association, title)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
          [id, app.id, app.organizationId, app.projectId, app.environmentId, e.number, provider, state, e.headRef.slice(0, 1024), headSha, needsApproval ? null : headSha, e.fromFork, e.author, e.authorAssociation, e.title?.slice(0, 1000) ?? null],
        );
        await stage(
          { type: 'preview.created', organizationId: app.organizationId, actor: actorOf(sys), subject: { type: 'application', id: app.id, name: app.name }, payload: { applicationId: app.id, previewId: id, provider, number: e.number, commit: headSha, previewApplicationId: null, url: null } },
          { request: client, changes: { number: e.number, commit: headSha, state, fromFork: e.fromFork, author: e.author } },
        );
      }
      return { kind: needsApproval ? ('awaiting' as const) : ('deploy' as const), id, headSha };
    });
    if (step.kind === 'ignored') return ignored(step.reason);
    if (step.kind === 'awaiting') return { outcome: 'accepted', reason: `pull request #${e.number} awaits an approval: ${needsApproval}`, deploymentId: null };
    const d = await this.deploy(app.id, step.id, sys, sys, exact ? step.headSha : null);
    return { outcome: 'accepted', reason: `pull request #${e.number}: preview deploying ${step.headSha.slice(0, 12)}`, deploymentId: d };
  }

  /**
   * Makes the preview's child application match the parent (spec, source at the approved commit, variables with the
   * overrides), gives it its domain, and requests its deployment as `deployer`. Returns the deployment id.
   */
  async deploy(parentId: string, previewId: string, sys: Principal, deployer: Principal, commit: string | null): Promise<string> {
    const prepared = await this.tx.run(async (m) => {
      const parent = await m.findOne(ApplicationEntity, { where: { id: parentId }, lock: { mode: 'pessimistic_write' } });
      if (!parent || parent.deleting) throw new ConflictError('The application is being deleted', 'application-deleting');
      const [pr] = (await m.query(`SELECT * FROM application_previews WHERE id = $1 FOR UPDATE`, [previewId])) as PreviewRow[];
      if (!pr) throw new NotFoundError('Preview');
      const settings = await this.settingsOf(parentId, m);
      const src = await m.findOneBy(ApplicationSourceEntity, { applicationId: parent.id });
      if (!src || src.kind === 'upload') throw new ConflictError('The application has no Git source', 'no-source');
      let child = pr.application_id ? await m.findOne(ApplicationEntity, { where: { id: pr.application_id }, lock: { mode: 'pessimistic_write' } }) : null;
      if (child?.deleting) child = null;
      const spec = previewSpec(parent.spec);
      let host = pr.host;
      if (!child) {
        const env = await m.findOneByOrFail(EnvironmentEntity, { id: parent.environmentId });
        const base = `${parent.slug}-pr-${pr.number}`.slice(0, 50).replace(/-+$/, '');
        let slug = base;
        for (let i = 2; (await m.query(`SELECT 1 FROM applications WHERE environment_id = $1 AND slug = $2`, [env.id, slug])).length; i++) slug = `${base}-${i}`;
        const shortId = Array.from(randomBytes(6), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
        child = m.create(ApplicationEntity, {
          id: newId(), organizationId: parent.organizationId, projectId: parent.projectId, environmentId: parent.environmentId, serverId: parent.serverId,
          name: `${parent.name} PR #${pr.number}`.slice(0, 100), slug, serviceName: `${env.slug.slice(0, 20)}-${slug.slice(0, 34)}-${shortId}`.replace(/-+/g, '-'),
          spec, desiredState: 'running', deleting: false, legacyVolumes: [], previewOf: parent.id, createdAt: new Date(), updatedAt: new Date(), version: 1,
        });
        await m.insert(ApplicationEntity, child);
        await m.query(`UPDATE application_previews SET application_id = $2, host = NULL WHERE id = $1`, [pr.id, child.id]);
        host = null;
      } else {
        child.spec = spec;
        child.updatedAt = new Date();
        child.version += 1;
        await m.save(ApplicationEntity, child);
      }
      // The source: the parent's repository and build, the pull request's branch (its head commit is what builds). A
      // pull request that needs approvals (a fork's branch is not even in the repository) gets the approved commit as
      // its ref, so a manual redeploy builds exactly that again, never a newer unapproved push.
      const untrusted = approvalReason(pr.provider, { fromFork: pr.from_fork, authorAssociation: pr.author_association }) !== null;
      const ref = untrusted ? (commit && isCommitId(commit) ? commit : src.ref) : checkGitRef(pr.head_ref) === null ? pr.head_ref : src.ref;
      const existingSrc = await m.findOneBy(ApplicationSourceEntity, { applicationId: child.id });
      const reboxed = (b: string | null, aad: (id: string) => string) => (b ? this.box.encrypt(this.box.decrypt(b, aad(parent.id)), aad(child!.id)) : null);
      await m.save(ApplicationSourceEntity, m.create(ApplicationSourceEntity, {
        applicationId: child.id, organizationId: child.organizationId, projectId: child.projectId, environmentId: child.environmentId,
        repository: src.repository, ref, buildPath: src.buildPath, watchPaths: [], submodules: src.submodules, authKind: src.authKind, authUsername: src.authUsername,
        // The parent's Git provider connection: the checkout gets its credentials and the pull request's commit its
        // statuses from it.
        providerId: src.providerId,
        tokenBox: reboxed(src.tokenBox, sourceTokenAad), deployKeyPublic: src.deployKeyPublic, deployKeyBox: reboxed(src.deployKeyBox, deployKeyAad), knownHosts: [...src.knownHosts],
        build: { ...src.build, args: { ...src.build.args } },
        webhookSecretBox: existingSrc?.webhookSecretBox ?? this.box.encrypt(randomBytes(32).toString('base64url'), webhookSecretAad(child.id)),
        createdAt: existingSrc?.createdAt ?? new Date(), updatedAt: new Date(), version: (existingSrc?.version ?? 0) + 1,
      }));
      // Variables: the parent's, then the overrides (secrets re-encrypted for their new rows).
      await m.delete(ApplicationVariableEntity, { applicationId: child.id });
      const vars = new Map<string, { value: string; secret: boolean }>();
      for (const v of await m.find(ApplicationVariableEntity, { where: { applicationId: parent.id } })) {
        vars.set(v.key, { value: v.secret ? this.box.decrypt(v.valueEncrypted!, appVariableAad(v.id, v.key)) : v.value!, secret: v.secret });
      }
      for (const o of settings?.env ?? []) vars.set(o.key, { value: o.secret ? this.box.decrypt(o.box!, previewEnvAad(parent.id, o.key)) : o.value!, secret: o.secret });
      for (const [key, v] of vars) {
        const vid = newId();
        await m.insert(ApplicationVariableEntity, {
          id: vid, organizationId: child.organizationId, projectId: child.projectId, applicationId: child.id, key, secret: v.secret,
          value: v.secret ? null : v.value, valueEncrypted: v.secret ? this.box.encrypt(v.value, appVariableAad(vid, key)) : null, createdAt: new Date(), updatedAt: new Date(), version: 1,
        });
      }
      const newHost = settings?.domain && !host ? previewHost(settings.domain, pr.number, parent.slug) : null;
      const port = settings?.port ?? parent.spec.ports[0]?.target ?? 80;
      return { child, host: newHost, port, https: settings?.https ?? true, pr };
    });
    if (prepared.host) {
      try {
        await this.commands.execute(new CreateDomainCommand(sys, prepared.child.id, { host: prepared.host, port: prepared.port, https: prepared.https, redirectHttpToHttps: prepared.https }));
        await this.ds.query(`UPDATE application_previews SET host = $2 WHERE id = $1`, [previewId, prepared.host]);
      } catch (e) {
        // The host is taken (or refused): the preview runs without a domain; the deployment log does not say, the list does (url null).
        if (!(e instanceof DomainConflictError) && !(e instanceof ValidationError)) throw e;
      }
    }
    const d = await this.commands.execute(new RequestDeploymentCommand(deployer, prepared.child.id, { kind: 'deploy', ...(commit ? { commit } : {}) }));
    await this.ds.query(`UPDATE application_previews SET deployment_id = $2, deployed_sha = $3, updated_at = now() WHERE id = $1`, [previewId, d.id, commit ?? prepared.pr.head_sha]);
    return d.id;
  }

  /** Deletes the preview of pull request `number` (its child application through the durable deletion). */
  async remove(app: ApplicationEntity, number: number, sys: Principal): Promise<boolean> {
    const [pr] = (await this.ds.query(`SELECT * FROM application_previews WHERE parent_id = $1 AND number = $2`, [app.id, number])) as PreviewRow[];
    if (!pr) return false;
    if (pr.application_id) {
      const child = await this.ds.manager.findOneBy(ApplicationEntity, { id: pr.application_id });
      if (child && !child.deleting) await this.commands.execute(new DeleteApplicationCommand(sys, child.id, true));
    }
    return this.tx.run(async (m, stage) => {
      const r: [unknown[], number] = await m.query(`DELETE FROM application_previews WHERE id = $1 RETURNING id`, [pr.id]);
      if (r[1] === 0) return false;
      await stage(
        {
          type: 'preview.removed', organizationId: app.organizationId, actor: actorOf(sys), subject: { type: 'application', id: app.id, name: app.name },
          payload: { applicationId: app.id, previewId: pr.id, provider: pr.provider, number: pr.number, commit: pr.head_sha, previewApplicationId: pr.application_id, url: null },
        },
        { request: sys.client, changes: { number: pr.number } },
      );
      return true;
    });
  }
}

async function parentFor(scope: TenantScope, p: Principal, applicationId: string, action: 'read' | 'update' | 'deploy'): Promise<ApplicationEntity> {
  const app = await scope.findOne(p, ApplicationEntity, 'application', applicationId, action);
  if (app.previewOf) throw new NotFoundError('Preview settings');
  return app;
}

export class GetPreviewSettingsQuery extends Query<PreviewSettingsView> {
  constructor(readonly principal: Principal, readonly applicationId: string) {
    super();
  }
}
@QueryHandler(GetPreviewSettingsQuery)
export class GetPreviewSettingsHandler implements IQueryHandler<GetPreviewSettingsQuery> {
  constructor(private readonly scope: TenantScope, private readonly previews: PreviewDeployer) {}
  async execute({ principal: p, applicationId }: GetPreviewSettingsQuery) {
    const app = await parentFor(this.scope, p, applicationId, 'read');
    return settingsView(app.id, await this.previews.settingsOf(app.id));
  }
}

export class SetPreviewSettingsCommand extends Command<PreviewSettingsView> {
  constructor(readonly principal: Principal, readonly applicationId: string, readonly body: unknown, readonly expectedVersion?: number) {
    super();
  }
}
/** Sets the whole preview settings (PUT, If-Match); a secret override sent without a value keeps its stored value. */
@CommandHandler(SetPreviewSettingsCommand)
export class SetPreviewSettingsHandler implements ICommandHandler<SetPreviewSettingsCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly box: SecretBox, private readonly previews: PreviewDeployer) {}
  async execute({ principal: p, applicationId, body, expectedVersion }: SetPreviewSettingsCommand) {
    await parentFor(this.scope, p, applicationId, 'update');
    const errors: FieldError[] = [];
    const input = previewSettingsFrom(body, errors);
    if (errors.length) throw new ValidationError(`Invalid preview settings: ${errors.map((e) => `${e.pointer} ${e.detail}`).join('; ')}`, errors);
    return this.tx.run(async (m, stage) => {
      const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId, 'read', { m, lock: true });
      if (app.deleting) throw new ConflictError('The application is being deleted', 'application-deleting');
      const existing = await this.previews.settingsOf(app.id, m);
      checkVersion(existing?.version ?? 0, expectedVersion);
      const env: StoredPreviewEnv[] = [];
      const keyErrors: FieldError[] = [];
      input.env.forEach((e, i) => {
        if (!e.secret) return env.push({ key: e.key, value: e.value, box: null, secret: false });
        if (e.value !== null) return env.push({ key: e.key, value: null, box: this.box.encrypt(e.value, previewEnvAad(app.id, e.key)), secret: true });
        const kept = existing?.env.find((x) => x.key === e.key && x.secret && x.box);
        if (!kept) keyErrors.push({ pointer: `/env/${i}/value`, code: 'required', detail: 'is required for a new secret' });
        else env.push(kept);
      });
      if (keyErrors.length) throw new ValidationError(`Invalid preview settings: ${keyErrors.map((e) => `${e.pointer} ${e.detail}`).join('; ')}`, keyErrors);
      const [row] = await m.query(
        `INSERT INTO application_preview_settings (application_id, organization_id, enabled, domain, port, https, env, max_previews, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, now(), 1)
         ON CONFLICT (application_id) DO UPDATE SET enabled = EXCLUDED.enabled, domain = EXCLUDED.domain, port = EXCLUDED.port, https = EXCLUDED.https, env = EXCLUDED.env,
           max_previews = EXCLUDED.max_previews, updated_at = now(), version = application_preview_settings.version + 1
         RETURNING *`,
        [app.id, app.organizationId, input.enabled, input.domain, input.port, input.https, JSON.stringify(env), input.maxPreviews],
      );
      await stage(
        { type: 'preview.settings-changed', organizationId: app.organizationId, actor: actorOf(p), subject: { type: 'application', id: app.id, name: app.name }, payload: { applicationId: app.id } },
        { request: p.client, changes: { enabled: input.enabled, domain: input.domain, port: input.port, https: input.https, maxPreviews: input.maxPreviews, env: env.map((e) => (e.secret ? `${e.key} (secret)` : e.key)) } },
      );
      return settingsView(app.id, row as SettingsRow);
    });
  }
}

export class ListPreviewsQuery extends Query<PreviewView[]> {
  constructor(readonly principal: Principal, readonly applicationId: string) {
    super();
  }
}
/** The application's previews, by pull request number (newest first). */
@QueryHandler(ListPreviewsQuery)
export class ListPreviewsHandler implements IQueryHandler<ListPreviewsQuery> {
  constructor(private readonly scope: TenantScope, private readonly ds: DataSource) {}
  async execute({ principal: p, applicationId }: ListPreviewsQuery) {
    const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId);
    const rows = (await this.ds.query(`${PREVIEW_SELECT} WHERE p.parent_id = $1 ORDER BY p.number DESC LIMIT 200`, [app.id])) as PreviewRow[];
    return rows.map(previewView);
  }
}

export class ApprovePreviewCommand extends Command<PreviewView> {
  constructor(readonly principal: Principal, readonly applicationId: string, readonly number: number, readonly commit?: string) {
    super();
  }
}
/**
 * A member who may deploy the application approves a waiting preview: exactly its current head commit deploys (with
 * `commit`, only when that is still the head: 409 otherwise). Audited as `preview.approved`; the deployment is
 * requested by the approver.
 */
@CommandHandler(ApprovePreviewCommand)
export class ApprovePreviewHandler implements ICommandHandler<ApprovePreviewCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly ds: DataSource, private readonly previews: PreviewDeployer) {}
  async execute({ principal: p, applicationId, number, commit }: ApprovePreviewCommand) {
    const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId, 'deploy');
    if (!Number.isInteger(number) || number < 1 || number > 2_147_483_647) throw new NotFoundError('Preview');
    if (commit !== undefined && !isCommitId(commit)) throw ValidationError.field('/commit', 'format', 'must be a full commit id');
    const pr = await this.tx.run(async (m, stage) => {
      const [row] = (await m.query(`SELECT * FROM application_previews WHERE parent_id = $1 AND number = $2 FOR UPDATE`, [app.id, number])) as PreviewRow[];
      if (!row) throw new NotFoundError('Preview');
      if (row.state !== 'awaiting-approval') throw new ConflictError('This preview does not await an approval', 'not-awaiting-approval');
      if (commit !== undefined && commit !== row.head_sha) throw new ConflictError('The pull request has a newer commit than the one approved; review it and approve again', 'head-moved');
      await m.query(`UPDATE application_previews SET state = 'active', approved_sha = head_sha, updated_at = now(), version = version + 1 WHERE id = $1`, [row.id]);
      await stage(
        {
          type: 'preview.approved', organizationId: app.organizationId, actor: actorOf(p), subject: { type: 'application', id: app.id, name: app.name },
          payload: { applicationId: app.id, previewId: row.id, provider: row.provider, number: row.number, commit: row.head_sha, previewApplicationId: row.application_id, url: null },
        },
        { request: p.client, changes: { number: row.number, commit: row.head_sha, fromFork: row.from_fork, author: row.author } },
      );
      return row;
    });
    const sys = previewPrincipal(app, `preview approved by ${p.name}`, p.client);
    try {
      await this.previews.deploy(app.id, pr.id, sys, p, isCommitId(pr.head_sha) ? pr.head_sha : null);
    } catch (e) {
      // Nothing deployed: the preview still awaits an approval (the audit entry says who tried).
      await this.ds.query(`UPDATE application_previews SET state = 'awaiting-approval', approved_sha = $2, updated_at = now() WHERE id = $1 AND approved_sha = head_sha`, [pr.id, pr.approved_sha]);
      throw e;
    }
    const [row] = (await this.ds.query(`${PREVIEW_SELECT} WHERE p.id = $1`, [pr.id])) as PreviewRow[];
    return previewView(row);
  }
}

/**
 * The preview's deployment ended: `preview.deployed` (once per deployment) with the commit and URL, for a commit status
 * back to the provider. The parent's deletion deletes its previews (their child applications, durably).
 */
@Injectable()
export class PreviewEventsListener {
  constructor(private readonly ds: DataSource, private readonly tx: TransactionRunner, private readonly previews: PreviewDeployer, private readonly commands: CommandBus) {}

  @OnDomainEvent('deployment.succeeded', 'deployment.failed')
  async deploymentEnded(e: DomainEventOf<'deployment.succeeded' | 'deployment.failed'>): Promise<void> {
    const deploymentId = e.subject.id;
    if (!deploymentId) return;
    await this.tx.run(async (m, stage) => {
      const rows = (await m.query(
        `UPDATE application_previews p SET reported_deployment_id = $2 FROM applications a
          WHERE p.application_id = $1 AND a.id = p.parent_id AND p.reported_deployment_id IS DISTINCT FROM $2 RETURNING p.*, a.name AS parent_name`,
        [e.payload.applicationId, deploymentId],
      ))[0] as Array<PreviewRow & { parent_name: string }>;
      const pr = rows[0];
      if (!pr) return;
      const [d] = await m.query(`SELECT source->>'commit' AS commit FROM deployments WHERE id = $1`, [deploymentId]);
      const [s] = await m.query(`SELECT https FROM application_preview_settings WHERE application_id = $1`, [pr.parent_id]);
      await stage({
        type: 'preview.deployed', organizationId: pr.organization_id, actor: SYSTEM_ACTOR, subject: { type: 'application', id: pr.parent_id, name: pr.parent_name },
        payload: {
          applicationId: pr.parent_id, previewId: pr.id, provider: pr.provider, number: pr.number, commit: d?.commit ?? pr.deployed_sha ?? pr.head_sha, previewApplicationId: pr.application_id,
          url: pr.host ? `${s?.https === false ? 'http' : 'https'}://${pr.host}` : null, deploymentId, status: e.type === 'deployment.succeeded' ? 'succeeded' : 'failed',
        },
      });
    });
  }

  @OnDomainEvent('application.delete-requested')
  async parentDeleted(e: DomainEventOf<'application.delete-requested'>): Promise<void> {
    if (!e.subject.id) return;
    const parent = await this.ds.manager.findOneBy(ApplicationEntity, { id: e.subject.id });
    if (!parent || parent.previewOf) return;
    const rows: Array<{ number: number }> = await this.ds.query(`SELECT number FROM application_previews WHERE parent_id = $1`, [parent.id]);
    const sys = previewPrincipal(parent, `preview cleanup of ${parent.name}`, NO_CLIENT);
    for (const r of rows) await this.previews.remove(parent, r.number, sys);
    // Children whose preview row is already gone (a crash between the two steps).
    const orphans = await this.ds.manager.find(ApplicationEntity, { where: { previewOf: parent.id, deleting: false } });
    for (const c of orphans) await this.commands.execute(new DeleteApplicationCommand(sys, c.id, true));
  }
}
