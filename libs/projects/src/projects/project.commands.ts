import { Inject, Optional } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { EntityManager } from 'typeorm';
import { ConflictError, newId, Page, PageRequest, TransactionRunner, ValidationError, VOLUME_INVENTORY, volumeAuditChanges, VolumeInventory } from '@wharf/core';
import { actorOf, OrganizationEntity, Principal, TenantScope } from '@wharf/tenancy';
import { ProjectEntity } from '../entities/project.entity';
import { EnvironmentEntity } from '../entities/environment.entity';
import { chooseSlug, checkVersion, isUniqueViolation, pageOf, Stage, validateName } from '../common/helpers';
import { PROJECT_EVENTS } from '../events/project-events';
import { environmentView, EnvironmentView } from '../environments/environment.commands';

export interface ProjectView {
  id: string;
  organizationId: string;
  name: string;
  slug: string;
  description: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}
export const projectView = (x: ProjectEntity): ProjectView => ({
  id: x.id, organizationId: x.organizationId, name: x.name, slug: x.slug, description: x.description,
  createdAt: x.createdAt.toISOString(), updatedAt: x.updatedAt.toISOString(), version: x.version,
});

/** The environment every new project starts with. */
export const DEFAULT_ENVIRONMENT = { name: 'Production', slug: 'production' } as const;

export class ListProjectsQuery extends Query<Page<ProjectView>> {
  constructor(readonly principal: Principal, readonly organizationId: string, readonly page: PageRequest) {
    super();
  }
}
@QueryHandler(ListProjectsQuery)
export class ListProjectsHandler implements IQueryHandler<ListProjectsQuery> {
  constructor(private readonly scope: TenantScope) {}
  async execute({ principal: p, organizationId, page }: ListProjectsQuery) {
    this.scope.assertOrganizationReadable(p, organizationId);
    const qb = this.scope.query(p, ProjectEntity, 'project').andWhere('x.organization_id = :organizationId', { organizationId });
    const res = await pageOf(qb, page, 'name', (x) => x.name);
    return { items: res.items.map(projectView), nextCursor: res.nextCursor };
  }
}

export class GetProjectQuery extends Query<ProjectView> {
  constructor(readonly principal: Principal, readonly projectId: string) {
    super();
  }
}
@QueryHandler(GetProjectQuery)
export class GetProjectHandler implements IQueryHandler<GetProjectQuery> {
  constructor(private readonly scope: TenantScope) {}
  async execute({ principal: p, projectId }: GetProjectQuery) {
    return projectView(await this.scope.findOne(p, ProjectEntity, 'project', projectId));
  }
}

export interface CreateProjectInput {
  name: string;
  slug?: string;
  description?: string;
}
/** A new project with the environments created with it. */
export type CreatedProject = ProjectView & { environments: EnvironmentView[] };
export class CreateProjectCommand extends Command<CreatedProject> {
  constructor(readonly principal: Principal, readonly organizationId: string, readonly input: CreateProjectInput) {
    super();
  }
}
@CommandHandler(CreateProjectCommand)
export class CreateProjectHandler implements ICommandHandler<CreateProjectCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, organizationId, input }: CreateProjectCommand) {
    await this.scope.findOne(p, OrganizationEntity, 'organization', organizationId);
    await this.scope.assert(p, 'create', 'project', { organizationId, id: null, name: input.name });
    const name = validateName(input.name);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.tx.run((m, stage) => this.create(m, stage, p, organizationId, { ...input, name }));
      } catch (e) {
        // Two creations raced for the same derived slug: the loser picks the next free one.
        if (input.slug === undefined && attempt < 5 && isUniqueViolation(e, 'ux_projects_slug')) continue;
        if (isUniqueViolation(e, 'ux_projects_slug')) throw new ConflictError('The slug is already used in this organization', 'slug-taken');
        throw e;
      }
    }
  }

  private async create(m: EntityManager, stage: Stage, p: Principal, organizationId: string, input: CreateProjectInput) {
    const now = new Date();
    const slug = await chooseSlug(m, 'projects', 'organization_id', organizationId, input.name, input.slug);
    const project = m.create(ProjectEntity, { id: newId(), organizationId, name: input.name, slug, description: input.description ?? '', createdAt: now, updatedAt: now, version: 1 });
    await m.insert(ProjectEntity, project);
    const env = m.create(EnvironmentEntity, { id: newId(), organizationId, projectId: project.id, ...DEFAULT_ENVIRONMENT, createdAt: now, updatedAt: now, version: 1 });
    await m.insert(EnvironmentEntity, env);
    const actor = actorOf(p);
    await stage(
      { type: PROJECT_EVENTS.projectCreated, organizationId, actor, subject: { type: 'project', id: project.id, name: project.name }, payload: { projectId: project.id, slug } },
      { request: p.client, changes: { name: project.name, slug, description: project.description } },
    );
    await stage(
      { type: PROJECT_EVENTS.environmentCreated, organizationId, actor, subject: { type: 'environment', id: env.id, name: env.name }, payload: { projectId: project.id, environmentId: env.id, slug: env.slug } },
      { request: p.client, changes: { name: env.name, slug: env.slug } },
    );
    return { ...projectView(project), environments: [environmentView(env)] };
  }
}

export class UpdateProjectCommand extends Command<ProjectView> {
  constructor(readonly principal: Principal, readonly projectId: string, readonly patch: { name?: string; description?: string }, readonly expectedVersion?: number) {
    super();
  }
}
@CommandHandler(UpdateProjectCommand)
export class UpdateProjectHandler implements ICommandHandler<UpdateProjectCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, projectId, patch, expectedVersion }: UpdateProjectCommand) {
    if (patch.name !== undefined) validateName(patch.name);
    return this.tx.run(async (m, stage) => {
      const x = await this.scope.findOne(p, ProjectEntity, 'project', projectId, 'update', { m, lock: true });
      checkVersion(x.version, expectedVersion);
      const changes: Record<string, unknown> = {};
      for (const k of ['name', 'description'] as const) {
        if (patch[k] !== undefined && patch[k] !== x[k]) changes[k] = { from: x[k], to: patch[k] };
      }
      if (Object.keys(changes).length === 0) return projectView(x);
      Object.assign(x, { name: patch.name ?? x.name, description: patch.description ?? x.description, updatedAt: new Date(), version: x.version + 1 });
      await m.update(ProjectEntity, { id: x.id }, { name: x.name, description: x.description, updatedAt: x.updatedAt, version: x.version });
      await stage(
        { type: PROJECT_EVENTS.projectUpdated, organizationId: x.organizationId, actor: actorOf(p), subject: { type: 'project', id: x.id, name: x.name }, payload: { projectId: x.id, slug: x.slug } },
        { request: p.client, changes },
      );
      return projectView(x);
    });
  }
}

export class DeleteProjectCommand extends Command<void> {
  /**
   * `confirm` must be the project's slug (typed confirmation). `removeVolumes`: the teardown also removes the named
   * volumes Wharf created in its environments (data is lost).
   */
  constructor(readonly principal: Principal, readonly projectId: string, readonly confirm: string | undefined, readonly removeVolumes = false) {
    super();
  }
}
@CommandHandler(DeleteProjectCommand)
export class DeleteProjectHandler implements ICommandHandler<DeleteProjectCommand> {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly scope: TenantScope,
    @Optional() @Inject(VOLUME_INVENTORY) private readonly volumes?: VolumeInventory,
  ) {}
  async execute({ principal: p, projectId, confirm, removeVolumes }: DeleteProjectCommand) {
    await this.tx.run(async (m, stage) => {
      const x = await this.scope.findOne(p, ProjectEntity, 'project', projectId, 'delete', { m, lock: true });
      if (confirm === undefined || confirm === '') {
        throw ValidationError.field('/headers/x-confirm', 'confirmation-required', `Deleting a project needs the header X-Confirm with its slug ("${x.slug}")`);
      }
      if (confirm !== x.slug) throw ValidationError.field('/headers/x-confirm', 'confirmation-mismatch', 'X-Confirm does not match the project slug');
      const envs: Array<{ id: string; name: string; slug: string }> = await m.query(`SELECT id, name, slug FROM environments WHERE project_id = $1 ORDER BY id`, [x.id]);
      const vars: Array<{ n: string }> = await m.query(`SELECT count(*) AS n FROM variables WHERE project_id = $1`, [x.id]);
      const actor = actorOf(p);
      for (const e of envs) {
        await stage(
          { type: PROJECT_EVENTS.environmentDeleted, organizationId: x.organizationId, actor, subject: { type: 'environment', id: e.id, name: e.name }, payload: { projectId: x.id, environmentId: e.id, slug: e.slug, removeVolumes } },
          { request: p.client, changes: { reason: 'project deleted', removeVolumes } },
        );
      }
      const volumes = await volumeAuditChanges(this.volumes, m, 'project', x.id, removeVolumes);
      await stage(
        { type: PROJECT_EVENTS.projectDeleted, organizationId: x.organizationId, actor, subject: { type: 'project', id: x.id, name: x.name }, payload: { projectId: x.id, slug: x.slug, environmentIds: envs.map((e) => e.id), removeVolumes } },
        { request: p.client, changes: { name: x.name, slug: x.slug, environments: envs.length, variables: Number(vars[0]?.n ?? 0), ...volumes } },
      );
      // Environments and variables go with the project (ON DELETE CASCADE).
      await m.delete(ProjectEntity, { id: x.id });
    });
  }
}
