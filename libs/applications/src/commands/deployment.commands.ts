import { Inject, Injectable } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DataSource, EntityManager } from 'typeorm';
import Redis from 'ioredis';
import { checkGitRef, isCommitId, type ActorRef, type DeploymentKind, type DeploymentStatus } from '@wharf/contracts';
import {
  ConflictError, encodeCursor, JobProducer, newId, NotFoundError, Page, PageRequest, REDIS, sha256, TransactionRunner, UnprocessableError, ValidationError, WHARF_CONFIG, WharfConfig,
} from '@wharf/core';
import { actorOf, Principal, TenantScope } from '@wharf/tenancy';
import { ApplicationEntity } from '../entities/application.entity';
import { DeploymentEntity, DeploymentLogEntity, DeploymentSnapshot, DeploymentSourceInfo } from '../entities/deployment.entity';
import { ApplicationSourceEntity } from '../entities/application-source.entity';
import { SourceUploadEntity } from '../entities/source-upload.entity';
import { savedVariablesOf } from '../spec/deployment-drift';
import { unknownReferences } from '../spec/env-resolution';
import { engineVolumesOf } from '../spec/volume-names';

export interface DeploymentView {
  id: string;
  applicationId: string;
  kind: DeploymentKind;
  status: DeploymentStatus;
  image: string;
  imageDigest: string | null;
  replicas: number;
  rollbackOf: string | null;
  requestedBy: ActorRef;
  error: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  cancelRequested: boolean;
  /** The Git commit it built (null for image deployments and the kinds that reuse a built image). */
  source: DeploymentSourceInfo | null;
}

export function deploymentView(d: DeploymentEntity): DeploymentView {
  return {
    id: d.id, applicationId: d.applicationId, kind: d.kind, status: d.status, image: d.snapshot.image, imageDigest: d.imageDigest,
    replicas: d.snapshot.replicas, rollbackOf: d.rollbackOf, requestedBy: d.requestedBy, error: d.error,
    queuedAt: d.queuedAt.toISOString(), startedAt: d.startedAt?.toISOString() ?? null, finishedAt: d.finishedAt?.toISOString() ?? null,
    durationMs: d.startedAt && d.finishedAt ? d.finishedAt.getTime() - d.startedAt.getTime() : null,
    cancelRequested: d.cancelRequestedAt !== null,
    source: d.source ?? null,
  };
}

export const CANCEL_CHANNEL = (prefix: string): string => `${prefix}:deployment-cancel`;

/** The install id labels every Swarm object Wharf creates, so several installs can share one engine. */
export async function installId(m: EntityManager): Promise<string> {
  const [row] = await m.query(`SELECT install_id FROM instance WHERE id = 1`);
  return row.install_id;
}

/** One overlay network per environment; the install id keeps installs apart. */
export const networkNameFor = (install: string, environmentId: string): string => `wharf-${install.replace(/-/g, '').slice(0, 8)}-env-${environmentId.replace(/-/g, '').slice(-12)}`;
/** One edge network per organization with routed applications (Traefik joins every one of them; they never shared). */
export const edgeNetworkNameFor = (install: string, organizationId: string): string => `wharf-${install.replace(/-/g, '').slice(0, 8)}-edge-${organizationId.replace(/-/g, '').slice(-12)}`;
/** The Swarm service of this install's Traefik. */
export const edgeProxyServiceNameFor = (install: string): string => `wharf-${install.replace(/-/g, '').slice(0, 8)}-edge-proxy`;

async function buildSnapshot(m: EntityManager, app: ApplicationEntity, deploymentId: string): Promise<DeploymentSnapshot> {
  const { env, refs } = await savedVariablesOf(m, app);
  const install = await installId(m);
  return {
    v: 1,
    serviceName: app.serviceName,
    networkName: networkNameFor(install, app.environmentId),
    spec: app.spec,
    env,
    refs,
    image: app.spec.image,
    replicas: app.spec.replicas,
    forceUpdate: false,
    volumes: engineVolumesOf(install, app),
    labels: {
      ...app.spec.labels,
      'wharf.install': install,
      'wharf.organization': app.organizationId,
      'wharf.project': app.projectId,
      'wharf.environment': app.environmentId,
      'wharf.service': app.id,
      'wharf.deployment': deploymentId,
    },
  };
}

export async function appendLog(m: EntityManager, deploymentId: string, step: string, level: 'info' | 'warn' | 'error', message: string): Promise<void> {
  await m.query(
    `INSERT INTO deployment_logs (deployment_id, step, level, message) VALUES ($1, $2, $3, $4)`,
    [deploymentId, step, level, message.slice(0, 8000)],
  );
}

/**
 * Hands queued deployments to the queue: at most one deployment per application runs; the newest queued one goes next.
 * Called after a request commits and whenever a deployment finishes; the watchdog calls it too (jobId dedupes).
 */
@Injectable()
export class DeploymentScheduler {
  constructor(private readonly ds: DataSource, private readonly jobs: JobProducer) {}

  async kick(applicationId: string): Promise<string | null> {
    const [running] = await this.ds.query(`SELECT id FROM deployments WHERE application_id = $1 AND status = 'running' LIMIT 1`, [applicationId]);
    if (running) return null;
    const [next] = await this.ds.query(`SELECT id FROM deployments WHERE application_id = $1 AND status = 'queued' ORDER BY queued_at DESC, id DESC LIMIT 1`, [applicationId]);
    if (!next) return null;
    await this.jobs.enqueue('deployment.run', { v: 1, deploymentId: next.id }, { jobId: next.id, attempts: 5, backoff: { type: 'exponential', delay: 2000 } });
    return next.id;
  }
}

export interface DeployOptions {
  kind: DeploymentKind;
  replicas?: number;
  rollbackTo?: string;
  idempotencyKey?: string;
  /** Deploy/redeploy of a Git application: build exactly this commit (a webhook's push, a chosen commit) instead of the ref's tip. */
  commit?: string;
  /** Deploy/redeploy of a Git application: this branch or tag instead of the source's ref (for this deployment only). */
  ref?: string;
}

/** Who asked for what: the route, the application, the normalised request body and the caller (user or API key). */
function idempotencyFingerprint(p: Principal, applicationId: string, o: DeployOptions): string {
  const body = { kind: o.kind, replicas: o.replicas ?? null, rollbackTo: o.rollbackTo ?? null, ...(o.commit ? { commit: o.commit } : {}), ...(o.ref ? { ref: o.ref } : {}) };
  return sha256(JSON.stringify(['POST /applications/:id/deployments', applicationId, body, p.apiKeyId ?? p.userId]));
}

/** `commit` (a full commit id) and `ref` (a branch or tag) apply to deploy/redeploy only, and are checked before any lookup. */
function checkSourceOverrides(o: DeployOptions): void {
  if (o.commit === undefined && o.ref === undefined) return;
  const field = o.commit !== undefined ? '/commit' : '/ref';
  if (o.kind !== 'deploy' && o.kind !== 'redeploy') throw ValidationError.field(field, 'not-allowed', `only a deploy or redeploy takes a ${field.slice(1)}`);
  if (o.commit !== undefined && !isCommitId(o.commit)) throw ValidationError.field('/commit', 'invalid', 'commit must be a full commit id (40 or 64 lowercase hexadecimal characters)');
  if (o.ref !== undefined) {
    const why = checkGitRef(o.ref);
    if (why) throw ValidationError.field('/ref', 'invalid', `ref ${why}`);
  }
}

export class RequestDeploymentCommand extends Command<DeploymentView> {
  constructor(readonly principal: Principal, readonly applicationId: string, readonly options: DeployOptions) {
    super();
  }
}
@CommandHandler(RequestDeploymentCommand)
export class RequestDeploymentHandler implements ICommandHandler<RequestDeploymentCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly jobs: JobProducer) {}

  async execute({ principal: p, applicationId, options }: RequestDeploymentCommand): Promise<DeploymentView> {
    await this.scope.findOne(p, ApplicationEntity, 'application', applicationId, 'deploy');
    checkSourceOverrides(options);
    const { view, superseded } = await this.tx.run(async (m, stage) => {
      // The row lock serialises requests for one application: two racing deploys queue one after the other.
      const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId, 'read', { m, lock: true });
      if (app.deleting) throw new ConflictError('The application is being deleted', 'application-deleting');
      // An Idempotency-Key answers a repeat of the same request with the original response, and refuses other requests.
      const fingerprint = options.idempotencyKey ? idempotencyFingerprint(p, app.id, options) : null;
      if (options.idempotencyKey) {
        const prior = await m.findOneBy(DeploymentEntity, { applicationId: app.id, idempotencyKey: options.idempotencyKey });
        if (prior && prior.idempotencyFingerprint && prior.idempotencyFingerprint !== fingerprint) {
          throw new UnprocessableError('This Idempotency-Key was already used with a different request', 'idempotency-key-reused');
        }
        if (prior) return { view: (prior.idempotencyResponse as DeploymentView | null) ?? deploymentView(prior), superseded: [] as string[], start: false };
      }
      const id = newId();
      let snapshot: DeploymentSnapshot;
      let rollbackOf: string | null = null;
      let imageDigest: string | null = null;
      let source: DeploymentSourceInfo | null = null;
      const last = await m.findOne(DeploymentEntity, { where: { applicationId: app.id, status: 'succeeded' }, order: { finishedAt: 'DESC' } });
      switch (options.kind) {
        case 'deploy':
        case 'redeploy': {
          snapshot = await buildSnapshot(m, app, id);
          if (options.kind === 'redeploy') snapshot.forceUpdate = true;
          if (app.desiredState === 'stopped') snapshot.replicas = app.spec.replicas;
          const src = await m.findOneBy(ApplicationSourceEntity, { applicationId: app.id });
          if ((!src || src.kind === 'upload') && (options.commit !== undefined || options.ref !== undefined)) {
            throw ValidationError.field(options.commit !== undefined ? '/commit' : '/ref', 'not-git', 'only an application built from a Git source can deploy a chosen commit or ref');
          }
          if (src?.kind === 'upload') {
            // The archive uploaded last; the snapshot names it, so a later upload does not change what this deployment builds.
            const up = src.uploadId ? await m.findOneBy(SourceUploadEntity, { id: src.uploadId, status: 'complete' }) : null;
            if (!up || !up.sha256) throw new ConflictError('The application builds from an uploaded archive and none has been uploaded yet: upload one first', 'no-upload');
            const upload = { id: up.id, fileName: up.fileName, size: Number(up.size), sha256: up.sha256 };
            snapshot.source = { kind: 'upload', upload, repository: '', ref: '', commit: null, buildPath: src.buildPath, submodules: false, build: { ...src.build, args: { ...src.build.args } } };
            source = { kind: 'upload', upload, repository: '', ref: '', commit: null, message: null, author: up.uploadedBy.name, authorEmail: null, committedAt: (up.completedAt ?? up.createdAt).toISOString() };
          } else if (src) {
            const ref = options.ref ?? src.ref;
            snapshot.source = { repository: src.repository, ref, commit: options.commit ?? null, buildPath: src.buildPath, submodules: src.submodules, build: { ...src.build, args: { ...src.build.args } } };
            source = { repository: src.repository, ref, commit: options.commit ?? null, message: null, author: null, authorEmail: null, committedAt: null };
          }
          break;
        }
        case 'rollback': {
          const target = options.rollbackTo ? await m.findOneBy(DeploymentEntity, { id: options.rollbackTo, applicationId: app.id }) : null;
          if (!target) throw new NotFoundError('Deployment');
          if (target.status !== 'succeeded') throw new ConflictError('Only a succeeded deployment can be rolled back to', 'not-succeeded');
          snapshot = { ...target.snapshot, labels: { ...target.snapshot.labels, 'wharf.deployment': id }, image: target.imageDigest ?? target.snapshot.image, forceUpdate: false, source: undefined };
          source = target.source;
          rollbackOf = target.id;
          imageDigest = target.imageDigest;
          break;
        }
        case 'stop':
        case 'start':
        case 'restart':
        case 'scale': {
          if (!last) throw new ConflictError('The application has never been deployed', 'never-deployed');
          snapshot = { ...last.snapshot, labels: { ...last.snapshot.labels, 'wharf.deployment': id }, image: last.imageDigest ?? last.snapshot.image, forceUpdate: options.kind === 'restart', source: undefined };
          source = last.source;
          imageDigest = last.imageDigest;
          if (options.kind === 'stop') snapshot.replicas = 0;
          if (options.kind === 'start') snapshot.replicas = app.spec.replicas;
          if (options.kind === 'scale') {
            if (options.replicas === undefined) throw ValidationError.field('/replicas', 'required', 'replicas is required');
            snapshot.replicas = options.replicas;
          }
          if (options.kind === 'restart' && app.desiredState === 'stopped') throw new ConflictError('The application is stopped; start it instead', 'stopped');
          break;
        }
      }
      // A newer request supersedes older queued ones.
      const [old]: [Array<{ id: string }>, number] = await m.query(
        `UPDATE deployments SET status = 'superseded', finished_at = now(), version = version + 1 WHERE application_id = $1 AND status = 'queued' RETURNING id`,
        [app.id],
      );
      for (const o of old) {
        await appendLog(m, o.id, 'queue', 'info', `Superseded by deployment ${id}`);
        await stage({ type: 'deployment.superseded', organizationId: app.organizationId, actor: actorOf(p), subject: { type: 'deployment', id: o.id }, payload: { applicationId: app.id, by: id } }, { request: p.client });
      }
      const unknown = unknownReferences(snapshot);
      const failed = unknown.length > 0;
      const d = m.create(DeploymentEntity, {
        id, organizationId: app.organizationId, projectId: app.projectId, environmentId: app.environmentId, applicationId: app.id,
        kind: options.kind, status: failed ? 'failed' : 'queued', snapshot, imageDigest, rollbackOf, source, requestedBy: actorOf(p),
        error: failed ? `Unknown variable reference${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}` : null,
        queuedAt: new Date(), startedAt: null, finishedAt: failed ? new Date() : null, cancelRequestedAt: null, leaseOwner: null, leaseExpiresAt: null,
        attempts: 0, idempotencyKey: options.idempotencyKey ?? null, idempotencyFingerprint: fingerprint, idempotencyResponse: null, version: 1,
      });
      if (fingerprint) d.idempotencyResponse = deploymentView(d);
      await m.insert(DeploymentEntity, d);
      await appendLog(m, id, 'queue', 'info', `${options.kind} requested by ${p.name}`);
      if (failed) await appendLog(m, id, 'resolve', 'error', d.error!);
      if (options.kind === 'stop') app.desiredState = 'stopped';
      else if (options.kind !== 'restart') app.desiredState = 'running';
      if (options.kind === 'scale') app.spec = { ...app.spec, replicas: options.replicas! };
      await m.save(ApplicationEntity, app);
      const subject = { type: 'deployment', id, name: app.name };
      await stage({ type: 'deployment.queued', organizationId: app.organizationId, actor: actorOf(p), subject, payload: { applicationId: app.id, kind: options.kind } }, { request: p.client, changes: { kind: options.kind, image: snapshot.image, replicas: snapshot.replicas, ...(rollbackOf ? { rollbackOf } : {}) } });
      if (failed) await stage({ type: 'deployment.failed', organizationId: app.organizationId, actor: actorOf(p), subject, payload: { applicationId: app.id, error: d.error } }, { request: p.client, outcome: 'failed' });
      return { view: deploymentView(d), superseded: old.map((o) => o.id), start: !failed };
    });
    for (const id of superseded) await this.jobs.removeWaiting('deployment.run', id).catch(() => undefined);
    // The `deployment.queued` listener (DeploymentQueueListener) starts it.
    return view;
  }
}

export class CancelDeploymentCommand extends Command<DeploymentView> {
  constructor(readonly principal: Principal, readonly deploymentId: string) {
    super();
  }
}
@CommandHandler(CancelDeploymentCommand)
export class CancelDeploymentHandler implements ICommandHandler<CancelDeploymentCommand> {
  constructor(
    private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly jobs: JobProducer,
    @Inject(REDIS) private readonly redis: Redis, @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}
  async execute({ principal: p, deploymentId }: CancelDeploymentCommand) {
    const d0 = await this.scope.findOne(p, DeploymentEntity, 'deployment', deploymentId);
    await this.scope.assert(p, 'deploy', 'application', { organizationId: d0.organizationId, projectId: d0.projectId, environmentId: d0.environmentId, id: d0.applicationId } as object);
    const d = await this.tx.run(async (m, stage) => {
      const d = await this.scope.findOne(p, DeploymentEntity, 'deployment', deploymentId, 'read', { m, lock: true });
      if (d.status === 'queued') {
        Object.assign(d, { status: 'cancelled', finishedAt: new Date(), cancelRequestedAt: new Date(), version: d.version + 1 });
        await appendLog(m, d.id, 'cancel', 'warn', `Cancelled by ${p.name} before it started`);
        await stage({ type: 'deployment.cancelled', organizationId: d.organizationId, actor: actorOf(p), subject: { type: 'deployment', id: d.id }, payload: { applicationId: d.applicationId } }, { request: p.client });
      } else if (d.status === 'running') {
        if (!d.cancelRequestedAt) {
          Object.assign(d, { cancelRequestedAt: new Date(), version: d.version + 1 });
          await appendLog(m, d.id, 'cancel', 'warn', `Cancel requested by ${p.name}`);
          await stage({ type: 'deployment.cancel-requested', organizationId: d.organizationId, actor: actorOf(p), subject: { type: 'deployment', id: d.id }, payload: { applicationId: d.applicationId } }, { request: p.client });
        }
      } else {
        throw new ConflictError(`The deployment already ended (${d.status})`, 'deployment-finished');
      }
      await m.save(DeploymentEntity, d);
      return d;
    });
    if (d.status === 'cancelled') {
      // The next queued one is started by the `deployment.cancelled` listener (DeploymentQueueListener).
      await this.jobs.removeWaiting('deployment.run', d.id).catch(() => undefined);
    } else {
      // Only makes the cancel faster: the worker reads the flag at its next lease renewal even if Redis is down.
      await this.redis.publish(CANCEL_CHANNEL(this.config.queuePrefix), d.id).catch(() => undefined);
    }
    return deploymentView(d);
  }
}

export class ListDeploymentsQuery extends Query<Page<DeploymentView>> {
  constructor(readonly principal: Principal, readonly applicationId: string, readonly page: PageRequest) {
    super();
  }
}
@QueryHandler(ListDeploymentsQuery)
export class ListDeploymentsHandler implements IQueryHandler<ListDeploymentsQuery> {
  constructor(private readonly scope: TenantScope) {}
  async execute({ principal: p, applicationId, page }: ListDeploymentsQuery) {
    const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId);
    const qb = this.scope.query(p, DeploymentEntity, 'deployment').andWhere('x.application_id = :a', { a: app.id });
    if (page.after) qb.andWhere('(x.queued_at, x.id) < (:k::timestamptz, :id)', { k: page.after.k, id: page.after.id });
    const rows = await qb.orderBy('x.queued_at', 'DESC').addOrderBy('x.id', 'DESC').take(page.limit + 1).getMany();
    const items = rows.slice(0, page.limit);
    const last = items[items.length - 1];
    return { items: items.map(deploymentView), nextCursor: rows.length > page.limit ? encodeCursor(last.queuedAt.toISOString(), last.id) : null };
  }
}

export class GetDeploymentQuery extends Query<DeploymentView> {
  constructor(readonly principal: Principal, readonly deploymentId: string) {
    super();
  }
}
@QueryHandler(GetDeploymentQuery)
export class GetDeploymentHandler implements IQueryHandler<GetDeploymentQuery> {
  constructor(private readonly scope: TenantScope) {}
  async execute({ principal: p, deploymentId }: GetDeploymentQuery) {
    return deploymentView(await this.scope.findOne(p, DeploymentEntity, 'deployment', deploymentId));
  }
}

export interface DeploymentLogLine {
  seq: number;
  time: string;
  step: string;
  level: string;
  message: string;
}
/** The deployment's status and up to 1000 log lines after a sequence number. */
export interface DeploymentLogBatch {
  status: DeploymentStatus;
  lines: DeploymentLogLine[];
}
export class GetDeploymentLogQuery extends Query<DeploymentLogBatch> {
  constructor(readonly principal: Principal, readonly deploymentId: string, readonly afterSeq: number) {
    super();
  }
}
@QueryHandler(GetDeploymentLogQuery)
export class GetDeploymentLogHandler implements IQueryHandler<GetDeploymentLogQuery> {
  constructor(private readonly scope: TenantScope, private readonly ds: DataSource) {}
  async execute({ principal: p, deploymentId, afterSeq }: GetDeploymentLogQuery) {
    const d = await this.scope.findOne(p, DeploymentEntity, 'deployment', deploymentId);
    const rows = await this.ds.getRepository(DeploymentLogEntity).createQueryBuilder('l').where('l.deployment_id = :id AND l.seq > :after', { id: d.id, after: afterSeq }).orderBy('l.seq').limit(1000).getMany();
    return { status: d.status, lines: rows.map((r) => ({ seq: Number(r.seq), time: r.time.toISOString(), step: r.step, level: r.level, message: r.message })) };
  }
}
