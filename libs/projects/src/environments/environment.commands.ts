import { Inject, Optional } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { ConflictError, newId, Page, PageRequest, TransactionRunner, VOLUME_INVENTORY, volumeAuditChanges, VolumeInventory } from '@wharf/core';
import { actorOf, Principal, TenantScope } from '@wharf/tenancy';
import { ProjectEntity } from '../entities/project.entity';
import { EnvironmentEntity } from '../entities/environment.entity';
import { chooseSlug, checkVersion, isUniqueViolation, pageOf, validateName } from '../common/helpers';
import { PROJECT_EVENTS } from '../events/project-events';

export interface EnvironmentView {
  id: string;
  organizationId: string;
  projectId: string;
  name: string;
  slug: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}
export const environmentView = (x: EnvironmentEntity): EnvironmentView => ({
  id: x.id, organizationId: x.organizationId, projectId: x.projectId, name: x.name, slug: x.slug,
  createdAt: x.createdAt.toISOString(), updatedAt: x.updatedAt.toISOString(), version: x.version,
});

export class ListEnvironmentsQuery extends Query<Page<EnvironmentView>> {
  constructor(readonly principal: Principal, readonly projectId: string, readonly page: PageRequest) {
    super();
  }
}
@QueryHandler(ListEnvironmentsQuery)
export class ListEnvironmentsHandler implements IQueryHandler<ListEnvironmentsQuery> {
  constructor(private readonly scope: TenantScope) {}
  async execute({ principal: p, projectId, page }: ListEnvironmentsQuery) {
    const project = await this.scope.findOne(p, ProjectEntity, 'project', projectId);
    const qb = this.scope.query(p, EnvironmentEntity, 'environment').andWhere('x.project_id = :projectId', { projectId: project.id });
    const res = await pageOf(qb, page, 'name', (x) => x.name);
    return { items: res.items.map(environmentView), nextCursor: res.nextCursor };
  }
}

export class GetEnvironmentQuery extends Query<EnvironmentView> {
  constructor(readonly principal: Principal, readonly environmentId: string) {
    super();
  }
}
@QueryHandler(GetEnvironmentQuery)
export class GetEnvironmentHandler implements IQueryHandler<GetEnvironmentQuery> {
  constructor(private readonly scope: TenantScope) {}
  async execute({ principal: p, environmentId }: GetEnvironmentQuery) {
    return environmentView(await this.scope.findOne(p, EnvironmentEntity, 'environment', environmentId));
  }
}

export class CreateEnvironmentCommand extends Command<EnvironmentView> {
  constructor(readonly principal: Principal, readonly projectId: string, readonly input: { name: string; slug?: string }) {
    super();
  }
}
@CommandHandler(CreateEnvironmentCommand)
export class CreateEnvironmentHandler implements ICommandHandler<CreateEnvironmentCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, projectId, input }: CreateEnvironmentCommand) {
    const project = await this.scope.findOne(p, ProjectEntity, 'project', projectId);
    const target = { organizationId: project.organizationId, projectId: project.id, id: null, name: input.name };
    await this.scope.assert(p, 'create', 'environment', target);
    const name = validateName(input.name);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.tx.run(async (m, stage) => {
          const now = new Date();
          const slug = await chooseSlug(m, 'environments', 'project_id', project.id, name, input.slug);
          const env = m.create(EnvironmentEntity, { id: newId(), organizationId: project.organizationId, projectId: project.id, name, slug, createdAt: now, updatedAt: now, version: 1 });
          await m.insert(EnvironmentEntity, env);
          await stage(
            { type: PROJECT_EVENTS.environmentCreated, organizationId: env.organizationId, actor: actorOf(p), subject: { type: 'environment', id: env.id, name: env.name }, payload: { projectId: project.id, environmentId: env.id, slug } },
            { request: p.client, changes: { name, slug } },
          );
          return environmentView(env);
        });
      } catch (e) {
        if (input.slug === undefined && attempt < 5 && isUniqueViolation(e, 'ux_environments_slug')) continue;
        if (isUniqueViolation(e, 'ux_environments_slug')) throw new ConflictError('The slug is already used in this project', 'slug-taken');
        // The project was deleted meanwhile.
        if ((e as { driverError?: { code?: string } }).driverError?.code === '23503') throw new ConflictError('The project no longer exists', 'project-gone');
        throw e;
      }
    }
  }
}

export class UpdateEnvironmentCommand extends Command<EnvironmentView> {
  constructor(readonly principal: Principal, readonly environmentId: string, readonly patch: { name?: string }, readonly expectedVersion?: number) {
    super();
  }
}
@CommandHandler(UpdateEnvironmentCommand)
export class UpdateEnvironmentHandler implements ICommandHandler<UpdateEnvironmentCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, environmentId, patch, expectedVersion }: UpdateEnvironmentCommand) {
    if (patch.name !== undefined) validateName(patch.name);
    return this.tx.run(async (m, stage) => {
      const x = await this.scope.findOne(p, EnvironmentEntity, 'environment', environmentId, 'update', { m, lock: true });
      checkVersion(x.version, expectedVersion);
      if (patch.name === undefined || patch.name === x.name) return environmentView(x);
      const changes = { name: { from: x.name, to: patch.name } };
      Object.assign(x, { name: patch.name, updatedAt: new Date(), version: x.version + 1 });
      await m.update(EnvironmentEntity, { id: x.id }, { name: x.name, updatedAt: x.updatedAt, version: x.version });
      await stage(
        { type: PROJECT_EVENTS.environmentUpdated, organizationId: x.organizationId, actor: actorOf(p), subject: { type: 'environment', id: x.id, name: x.name }, payload: { projectId: x.projectId, environmentId: x.id, slug: x.slug } },
        { request: p.client, changes },
      );
      return environmentView(x);
    });
  }
}

export class DeleteEnvironmentCommand extends Command<void> {
  /** `removeVolumes`: the teardown also removes the named volumes Wharf created in the environment (data is lost). */
  constructor(readonly principal: Principal, readonly environmentId: string, readonly removeVolumes = false) {
    super();
  }
}
@CommandHandler(DeleteEnvironmentCommand)
export class DeleteEnvironmentHandler implements ICommandHandler<DeleteEnvironmentCommand> {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly scope: TenantScope,
    @Optional() @Inject(VOLUME_INVENTORY) private readonly volumes?: VolumeInventory,
  ) {}
  async execute({ principal: p, environmentId, removeVolumes }: DeleteEnvironmentCommand) {
    await this.tx.run(async (m, stage) => {
      const found = await this.scope.findOne(p, EnvironmentEntity, 'environment', environmentId, 'delete', { m });
      // Serialize deletions within the project (lock its row), so two concurrent deletes cannot remove the last two.
      await m.query(`SELECT 1 FROM projects WHERE id = $1 FOR UPDATE`, [found.projectId]);
      const x = await this.scope.findOne(p, EnvironmentEntity, 'environment', environmentId, 'delete', { m, lock: true });
      const count: Array<{ n: string }> = await m.query(`SELECT count(*) AS n FROM environments WHERE project_id = $1`, [x.projectId]);
      if (Number(count[0].n) <= 1) throw new ConflictError('A project needs at least one environment; this is its last one', 'last-environment');
      const vars: Array<{ n: string }> = await m.query(`SELECT count(*) AS n FROM variables WHERE environment_id = $1`, [x.id]);
      const volumes = await volumeAuditChanges(this.volumes, m, 'environment', x.id, removeVolumes);
      await stage(
        { type: PROJECT_EVENTS.environmentDeleted, organizationId: x.organizationId, actor: actorOf(p), subject: { type: 'environment', id: x.id, name: x.name }, payload: { projectId: x.projectId, environmentId: x.id, slug: x.slug, removeVolumes } },
        { request: p.client, changes: { name: x.name, slug: x.slug, variables: Number(vars[0].n), ...volumes } },
      );
      await m.delete(EnvironmentEntity, { id: x.id });
    });
  }
}
