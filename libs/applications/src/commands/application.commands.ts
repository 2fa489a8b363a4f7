import { Inject } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { effectiveOrder, type ApplicationSpec, type EffectiveOrder } from '@wharf/contracts';
import { checkVersion, ConflictError, encodeCursor, JobProducer, newId, NotFoundError, Page, PageRequest, SecretBox, slugify, TransactionRunner, ValidationError, WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { actorOf, Principal, TenantScope } from '@wharf/tenancy';
import { EnvironmentEntity } from '@wharf/projects';
import { ApplicationEntity, ApplicationVariableEntity, appVariableAad } from '../entities/application.entity';
import { ApplicationRuntimeEntity, DeploymentEntity } from '../entities/deployment.entity';
import { configurationChanges, ConfigurationDrift, savedVariablesOf } from '../spec/deployment-drift';
import { RegistryEntity } from '../entities/registry.entity';
import { SpecPolicy, validateApplicationSpec } from '../spec/application-spec';
import { reservePorts } from './port-reservations';

export interface ApplicationView {
  id: string;
  organizationId: string;
  projectId: string;
  environmentId: string;
  serverId: string;
  name: string;
  slug: string;
  serviceName: string;
  spec: ApplicationSpec;
  desiredState: 'running' | 'stopped';
  runtime: { state: string; running: number; desired: number; observedAt: string } | null;
  createdAt: string;
  updatedAt: string;
  version: number;
  /** The update and rollback order deployments really use on the application's server (single-item reads only). */
  updateOrder?: UpdateOrderView;
  /** A pull request preview: the application it previews (absent otherwise). */
  previewOf?: string;
}

export interface UpdateOrderView {
  update: EffectiveOrder;
  rollback: EffectiveOrder;
}

/** The orders the worker's host validation will use: ingress ports are host ports where there is no IPVS. */
export function updateOrderOf(spec: ApplicationSpec, host: SpecPolicy['host']): UpdateOrderView {
  const ports = spec.ports.map((p) => ({ ...p, mode: p.mode === 'ingress' && host && !host.ipvs ? ('host' as const) : p.mode }));
  const nodes = host?.nodeCount ?? 1;
  return { update: effectiveOrder(spec.update.order, ports, nodes, 'update'), rollback: effectiveOrder(spec.rollback.order, ports, nodes, 'rollback') };
}

export function applicationView(a: ApplicationEntity, rt?: ApplicationRuntimeEntity | null): ApplicationView {
  return {
    id: a.id, organizationId: a.organizationId, projectId: a.projectId, environmentId: a.environmentId, serverId: a.serverId,
    name: a.name, slug: a.slug, serviceName: a.serviceName, spec: a.spec, desiredState: a.desiredState,
    runtime: rt ? { state: rt.state, running: rt.running, desired: rt.desired, observedAt: rt.observedAt.toISOString() } : null,
    createdAt: a.createdAt.toISOString(), updatedAt: a.updatedAt.toISOString(), version: a.version,
    ...(a.previewOf ? { previewOf: a.previewOf } : {}),
  };
}

export async function specPolicyOf(m: EntityManager, organizationId: string, serverId?: string): Promise<SpecPolicy> {
  const [row] = await m.query(`SELECT container_policy FROM organizations WHERE id = $1`, [organizationId]);
  const paths = row?.container_policy?.allowedBindPaths;
  const [server] = await m.query(serverId ? `SELECT capabilities, observed_at FROM servers WHERE id = $1` : `SELECT capabilities, observed_at FROM servers WHERE kind = 'local'`, serverId ? [serverId] : []);
  const caps = server?.observed_at ? server.capabilities : null;
  return {
    allowedBindPaths: Array.isArray(paths) ? paths.filter((x: unknown) => typeof x === 'string') : [],
    host: caps && typeof caps.nodeCount === 'number' ? { nodeCount: Math.max(1, caps.nodeCount), ipvs: !!caps.ipvs } : null,
  };
}

/** A registry id inside a body is resolved through the same tenant-scoped path as any id. */
async function checkRegistry(scope: TenantScope, p: Principal, spec: ApplicationSpec, organizationId: string, m: EntityManager): Promise<void> {
  if (!spec.registryId) return;
  const r = await scope.query(p, RegistryEntity, 'registry', 'read', 'x', m).andWhere('x.id = :id', { id: spec.registryId }).getOne();
  if (!r || r.organizationId !== organizationId) throw ValidationError.field('/spec/registryId', 'unknown-registry', 'no such registry in this organization');
}

export async function localServerId(m: EntityManager): Promise<string> {
  const [row] = await m.query(`SELECT id FROM servers WHERE kind = 'local'`);
  if (row) return row.id;
  const id = newId();
  await m.query(`INSERT INTO servers (id, name, kind, status) VALUES ($1, 'local', 'local', 'unknown') ON CONFLICT DO NOTHING`, [id]);
  const [again] = await m.query(`SELECT id FROM servers WHERE kind = 'local'`);
  return again.id;
}

export class CreateApplicationCommand extends Command<ApplicationView> {
  constructor(readonly principal: Principal, readonly environmentId: string, readonly input: { name: string; spec: unknown }) {
    super();
  }
}
@CommandHandler(CreateApplicationCommand)
export class CreateApplicationHandler implements ICommandHandler<CreateApplicationCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}
  async execute({ principal: p, environmentId, input }: CreateApplicationCommand) {
    const env = await this.scope.findOne(p, EnvironmentEntity, 'environment', environmentId);
    await this.scope.assert(p, 'create', 'application', { organizationId: env.organizationId, projectId: env.projectId, environmentId: env.id, id: null, name: input.name } as object);
    return this.tx.run(async (m, stage) => {
      const spec = validateApplicationSpec(input.spec, await specPolicyOf(m, env.organizationId));
      await checkRegistry(this.scope, p, spec, env.organizationId, m);
      const base = slugify(input.name);
      let slug = base;
      for (let i = 2; (await m.query(`SELECT 1 FROM applications WHERE environment_id = $1 AND slug = $2`, [env.id, slug])).length; i++) slug = `${base}-${i}`;
      const shortId = Array.from(randomBytes(6), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
      const serviceName = `${env.slug.slice(0, 20)}-${slug.slice(0, 34)}-${shortId}`.replace(/-+/g, '-');
      const app = m.create(ApplicationEntity, {
        id: newId(), organizationId: env.organizationId, projectId: env.projectId, environmentId: env.id, serverId: await localServerId(m),
        name: input.name, slug, serviceName, spec, desiredState: 'running', deleting: false, legacyVolumes: [], createdAt: new Date(), updatedAt: new Date(), version: 1,
      });
      await m.insert(ApplicationEntity, app);
      await reservePorts(m, app, [this.config.port, this.config.edgeHttpPort, this.config.edgeHttpsPort]);
      await stage({ type: 'application.created', organizationId: app.organizationId, actor: actorOf(p), subject: { type: 'application', id: app.id, name: app.name }, payload: { projectId: app.projectId, environmentId: app.environmentId } }, { request: p.client, changes: { name: app.name, image: spec.image } });
      return applicationView(app);
    });
  }
}

export class ListApplicationsQuery extends Query<Page<ApplicationView>> {
  constructor(readonly principal: Principal, readonly filter: { environmentId?: string; projectId?: string; organizationId?: string }, readonly page: PageRequest) {
    super();
  }
}
@QueryHandler(ListApplicationsQuery)
export class ListApplicationsHandler implements IQueryHandler<ListApplicationsQuery> {
  constructor(private readonly scope: TenantScope) {}
  async execute({ principal: p, filter, page }: ListApplicationsQuery) {
    // The parent is resolved through the scoped path first: outside your scope it is a 404, not an empty list.
    if (filter.environmentId) await this.scope.findOne(p, EnvironmentEntity, 'environment', filter.environmentId);
    const qb = this.scope.query(p, ApplicationEntity, 'application').leftJoinAndMapOne('x.runtime', ApplicationRuntimeEntity, 'rt', 'rt.application_id = x.id');
    // Previews of pull requests are listed on their application (GET /applications/{id}/previews), not here.
    qb.andWhere('x.preview_of IS NULL');
    if (filter.environmentId) qb.andWhere('x.environment_id = :e', { e: filter.environmentId });
    if (filter.projectId) qb.andWhere('x.project_id = :pr', { pr: filter.projectId });
    if (filter.organizationId) qb.andWhere('x.organization_id = :o', { o: filter.organizationId });
    if (page.after) qb.andWhere('(x.name, x.id) > (:k, :id)', { k: page.after.k, id: page.after.id });
    const rows = await qb.orderBy('x.name', 'ASC').addOrderBy('x.id', 'ASC').take(page.limit + 1).getMany();
    const items = rows.slice(0, page.limit);
    return {
      items: items.map((a) => applicationView(a, (a as ApplicationEntity & { runtime?: ApplicationRuntimeEntity }).runtime)),
      nextCursor: rows.length > page.limit ? encodeCursor(items[items.length - 1].name, items[items.length - 1].id) : null,
    };
  }
}

export class GetApplicationQuery extends Query<ApplicationView> {
  constructor(readonly principal: Principal, readonly applicationId: string) {
    super();
  }
}
@QueryHandler(GetApplicationQuery)
export class GetApplicationHandler implements IQueryHandler<GetApplicationQuery> {
  constructor(private readonly scope: TenantScope, private readonly ds: DataSource) {}
  async execute({ principal: p, applicationId }: GetApplicationQuery) {
    const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId);
    const rt = await this.ds.getRepository(ApplicationRuntimeEntity).findOneBy({ applicationId: app.id });
    const policy = await specPolicyOf(this.ds.manager, app.organizationId, app.serverId);
    return { ...applicationView(app, rt), updateOrder: updateOrderOf(app.spec, policy.host) };
  }
}

export class UpdateApplicationCommand extends Command<ApplicationView> {
  constructor(readonly principal: Principal, readonly applicationId: string, readonly patch: { name?: string; spec?: unknown }, readonly expectedVersion?: number) {
    super();
  }
}
@CommandHandler(UpdateApplicationCommand)
export class UpdateApplicationHandler implements ICommandHandler<UpdateApplicationCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}
  async execute({ principal: p, applicationId, patch, expectedVersion }: UpdateApplicationCommand) {
    await this.scope.findOne(p, ApplicationEntity, 'application', applicationId, 'update');
    return this.tx.run(async (m, stage) => {
      const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId, 'read', { m, lock: true });
      checkVersion(app.version, expectedVersion);
      if (app.deleting) throw new ConflictError('The application is being deleted', 'application-deleting');
      let policy: SpecPolicy | null = null;
      const changes: Record<string, unknown> = {};
      if (patch.spec !== undefined) {
        policy = await specPolicyOf(m, app.organizationId, app.serverId);
        const spec = validateApplicationSpec(patch.spec, policy, app.spec);
        await checkRegistry(this.scope, p, spec, app.organizationId, m);
        for (const k of Object.keys(spec) as Array<keyof ApplicationSpec>) {
          if (JSON.stringify(spec[k]) !== JSON.stringify(app.spec[k])) changes[`spec.${k}`] = { from: app.spec[k], to: spec[k] };
        }
        app.spec = spec;
        await reservePorts(m, app, [this.config.port, this.config.edgeHttpPort, this.config.edgeHttpsPort]);
      }
      if (patch.name !== undefined && patch.name !== app.name) {
        changes.name = { from: app.name, to: patch.name };
        app.name = patch.name;
      }
      app.updatedAt = new Date();
      app.version += 1;
      await m.save(ApplicationEntity, app);
      await stage({ type: 'application.updated', organizationId: app.organizationId, actor: actorOf(p), subject: { type: 'application', id: app.id, name: app.name }, payload: {} }, { request: p.client, changes });
      policy ??= await specPolicyOf(m, app.organizationId, app.serverId);
      return { ...applicationView(app), updateOrder: updateOrderOf(app.spec, policy.host) };
    });
  }
}


export interface AppVariableView {
  key: string;
  value: string | null;
  secret: boolean;
  updatedAt: string;
}

export class ListApplicationVariablesQuery extends Query<AppVariableView[]> {
  constructor(readonly principal: Principal, readonly applicationId: string) {
    super();
  }
}
@QueryHandler(ListApplicationVariablesQuery)
export class ListApplicationVariablesHandler implements IQueryHandler<ListApplicationVariablesQuery> {
  constructor(private readonly scope: TenantScope, private readonly ds: DataSource) {}
  async execute({ principal: p, applicationId }: ListApplicationVariablesQuery) {
    const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId);
    const rows = await this.ds.getRepository(ApplicationVariableEntity).find({ where: { applicationId: app.id }, order: { key: 'ASC' } });
    return rows.map((v) => ({ key: v.key, value: v.secret ? null : v.value, secret: v.secret, updatedAt: v.updatedAt.toISOString() }));
  }
}

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export class SetApplicationVariablesCommand extends Command<AppVariableView[]> {
  constructor(readonly principal: Principal, readonly applicationId: string, readonly variables: Array<{ key: string; value: string; secret?: boolean }>, readonly remove: string[] = []) {
    super();
  }
}
@CommandHandler(SetApplicationVariablesCommand)
export class SetApplicationVariablesHandler implements ICommandHandler<SetApplicationVariablesCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly box: SecretBox, private readonly ds: DataSource) {}
  async execute({ principal: p, applicationId, variables, remove }: SetApplicationVariablesCommand) {
    const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId, 'update');
    variables.forEach((v, i) => {
      if (!KEY_RE.test(v.key)) throw ValidationError.field(`/variables/${i}/key`, 'format', 'keys are letters, digits and "_", not starting with a digit');
      if (typeof v.value !== 'string' || v.value.length > 65536) throw ValidationError.field(`/variables/${i}/value`, 'too-long', 'values are strings of at most 64 KiB');
    });
    if (new Set(variables.map((v) => v.key)).size !== variables.length) throw ValidationError.field('/variables', 'duplicate', 'a key appears twice');
    await this.tx.run(async (m, stage) => {
      const changes: Record<string, unknown> = {};
      for (const v of variables) {
        const existing = await m.findOneBy(ApplicationVariableEntity, { applicationId: app.id, key: v.key });
        // The value before the change, read before the row (the same object) is updated.
        const before = existing && !existing.secret ? existing.value : null;
        const row = existing ?? m.create(ApplicationVariableEntity, { id: newId(), organizationId: app.organizationId, projectId: app.projectId, applicationId: app.id, key: v.key, createdAt: new Date(), version: 0 });
        const secret = v.secret ?? existing?.secret ?? false;
        row.secret = secret;
        row.value = secret ? null : v.value;
        row.valueEncrypted = secret ? this.box.encrypt(v.value, appVariableAad(row.id, row.key)) : null;
        row.updatedAt = new Date();
        row.version += 1;
        await m.save(ApplicationVariableEntity, row);
        changes[v.key] = secret ? '[redacted]' : { from: before, to: v.value };
      }
      for (const key of remove) {
        const r = await m.delete(ApplicationVariableEntity, { applicationId: app.id, key });
        if (!r.affected) throw new NotFoundError('Variable');
        changes[key] = { removed: true };
      }
      await stage({ type: 'application.variables-changed', organizationId: app.organizationId, actor: actorOf(p), subject: { type: 'application', id: app.id, name: app.name }, payload: { keys: Object.keys(changes) } }, { request: p.client, changes });
    });
    return new ListApplicationVariablesHandler(this.scope, this.ds).execute(new ListApplicationVariablesQuery(p, applicationId));
  }
}

export interface RevealedAppVariable {
  key: string;
  value: string;
}
export class RevealApplicationVariableCommand extends Command<RevealedAppVariable> {
  constructor(readonly principal: Principal, readonly applicationId: string, readonly key: string) {
    super();
  }
}
@CommandHandler(RevealApplicationVariableCommand)
export class RevealApplicationVariableHandler implements ICommandHandler<RevealApplicationVariableCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly box: SecretBox) {}
  async execute({ principal: p, applicationId, key }: RevealApplicationVariableCommand) {
    const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId);
    await this.scope.assert(p, 'reveal', 'variable', { organizationId: app.organizationId, projectId: app.projectId, environmentId: app.environmentId, id: app.id, name: key } as object);
    return this.tx.run(async (m, stage) => {
      const v = await m.findOneBy(ApplicationVariableEntity, { applicationId: app.id, key });
      if (!v) throw new NotFoundError('Variable');
      const value = v.secret ? this.box.decrypt(v.valueEncrypted!, appVariableAad(v.id, v.key)) : v.value!;
      await stage({ type: 'variable.revealed', organizationId: app.organizationId, actor: actorOf(p), subject: { type: 'variable', id: v.id, name: key }, payload: { applicationId: app.id } }, { request: p.client });
      return { key, value };
    });
  }
}

export class DeleteApplicationCommand extends Command<void> {
  constructor(readonly principal: Principal, readonly applicationId: string, readonly removeVolumes: boolean) {
    super();
  }
}
/** Marks the application for deletion; the worker removes its Swarm service (and volumes when asked), then the row. */
@CommandHandler(DeleteApplicationCommand)
export class DeleteApplicationHandler implements ICommandHandler<DeleteApplicationCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly jobs: JobProducer) {}
  async execute({ principal: p, applicationId, removeVolumes }: DeleteApplicationCommand) {
    await this.scope.findOne(p, ApplicationEntity, 'application', applicationId, 'delete');
    await this.tx.run(async (m, stage) => {
      const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId, 'read', { m, lock: true });
      if (app.deleting) return;
      await m.query(`UPDATE deployments SET status = 'cancelled', finished_at = now(), version = version + 1 WHERE application_id = $1 AND status = 'queued'`, [app.id]);
      await m.query(`UPDATE deployments SET cancel_requested_at = now() WHERE application_id = $1 AND status = 'running'`, [app.id]);
      await m.update(ApplicationEntity, { id: app.id }, { deleting: true, deleteVolumes: removeVolumes, updatedAt: new Date(), version: app.version + 1 });
      await stage({ type: 'application.delete-requested', organizationId: app.organizationId, actor: actorOf(p), subject: { type: 'application', id: app.id, name: app.name }, payload: { removeVolumes } }, { request: p.client, changes: { removeVolumes } });
    });
    await this.jobs.enqueue('application.remove', { v: 1, applicationId, removeVolumes }, { jobId: `remove:${applicationId}`, attempts: 10, backoff: { type: 'exponential', delay: 3000 } });
  }
}

/** Desired against observed state (the runtime-state table the worker keeps) and the server the application runs on. */
export interface ApplicationStatusView {
  applicationId: string;
  desiredState: ApplicationEntity['desiredState'];
  state: string;
  running: number;
  desired: number;
  tasks: unknown[];
  drift: unknown[];
  observedAt: string | null;
  server: { id: string; name: string; status: string; message: string | null; ipvs: boolean | null; observedAt: Date | null } | null;
  /** The running deployment against the saved configuration; null before the first succeeded deployment. */
  configuration: ConfigurationDrift | null;
}
export class GetApplicationStatusQuery extends Query<ApplicationStatusView> {
  constructor(readonly principal: Principal, readonly applicationId: string) {
    super();
  }
}
@QueryHandler(GetApplicationStatusQuery)
export class GetApplicationStatusHandler implements IQueryHandler<GetApplicationStatusQuery> {
  constructor(private readonly scope: TenantScope, private readonly ds: DataSource, private readonly box: SecretBox) {}
  async execute({ principal: p, applicationId }: GetApplicationStatusQuery) {
    const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId);
    const rt = await this.ds.getRepository(ApplicationRuntimeEntity).findOneBy({ applicationId: app.id });
    const [server] = await this.ds.query(`SELECT id, name, status, status_message, capabilities, observed_at FROM servers WHERE id = $1`, [app.serverId]);
    return {
      applicationId: app.id,
      desiredState: app.desiredState,
      state: rt?.state ?? 'unknown',
      running: rt?.running ?? 0,
      desired: rt?.desired ?? 0,
      tasks: rt?.tasks ?? [],
      drift: rt?.drift ?? [],
      observedAt: rt?.observedAt.toISOString() ?? null,
      server: server ? { id: server.id, name: server.name, status: server.status, message: server.status_message, ipvs: server.capabilities?.ipvs ?? null, observedAt: server.observed_at } : null,
      configuration: await this.configurationOf(app),
    };
  }

  /** Compares the last succeeded deployment (what runs) with what a deployment requested now would run. */
  private async configurationOf(app: ApplicationEntity): Promise<ConfigurationDrift | null> {
    const live = await this.ds.getRepository(DeploymentEntity).findOne({ where: { applicationId: app.id, status: 'succeeded' }, order: { finishedAt: 'DESC' } });
    if (!live) return null;
    const saved = await savedVariablesOf(this.ds.manager, app);
    const changed = configurationChanges(live.snapshot, { spec: app.spec, desiredState: app.desiredState, ...saved }, (box, aad) => this.box.decrypt(box, aad));
    return { differs: changed.length > 0, changed, deploymentId: live.id, deploymentKind: live.kind };
  }
}
