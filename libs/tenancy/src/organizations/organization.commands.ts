import { Inject, Optional } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { checkVersion, TransactionRunner, ValidationError, VOLUME_INVENTORY, volumeAuditChanges, VolumeInventory } from '@wharf/core';
import { OrganizationEntity } from '../entities/organization.entity';
import { TenantScope } from '../access/tenant-scope';
import { actorOf, Principal } from '../access/principal';
import { createOrganizationWithOwner } from '../auth/auth.commands';

export interface OrganizationView {
  id: string;
  name: string;
  slug: string;
  requireTwoFactor: boolean;
  auditRetentionDays: number;
  deploymentLogRetentionDays: number;
  containerPolicy: { allowedBindPaths: string[] };
  role: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export function organizationView(o: OrganizationEntity, p: Principal): OrganizationView {
  return {
    id: o.id, name: o.name, slug: o.slug, requireTwoFactor: o.requireTwoFactor, auditRetentionDays: o.auditRetentionDays,
    deploymentLogRetentionDays: o.deploymentLogRetentionDays, containerPolicy: { allowedBindPaths: o.containerPolicy?.allowedBindPaths ?? [] },
    role: p.grants.find((g) => g.organizationId === o.id)?.role ?? null,
    createdAt: o.createdAt.toISOString(), updatedAt: o.updatedAt.toISOString(), version: o.version,
  };
}


export class ListOrganizationsQuery extends Query<OrganizationView[]> {
  constructor(readonly principal: Principal) {
    super();
  }
}
@QueryHandler(ListOrganizationsQuery)
export class ListOrganizationsHandler implements IQueryHandler<ListOrganizationsQuery> {
  constructor(private readonly scope: TenantScope) {}
  async execute({ principal }: ListOrganizationsQuery) {
    const rows = await this.scope.query(principal, OrganizationEntity, 'organization').orderBy('x.name', 'ASC').getMany();
    return rows.map((o) => organizationView(o, principal));
  }
}

export class GetOrganizationQuery extends Query<OrganizationView> {
  constructor(readonly principal: Principal, readonly organizationId: string) {
    super();
  }
}
@QueryHandler(GetOrganizationQuery)
export class GetOrganizationHandler implements IQueryHandler<GetOrganizationQuery> {
  constructor(private readonly scope: TenantScope) {}
  async execute({ principal, organizationId }: GetOrganizationQuery) {
    return organizationView(await this.scope.findOne(principal, OrganizationEntity, 'organization', organizationId), principal);
  }
}

export class CreateOrganizationCommand extends Command<OrganizationView> {
  constructor(readonly principal: Principal, readonly name: string) {
    super();
  }
}
@CommandHandler(CreateOrganizationCommand)
export class CreateOrganizationHandler implements ICommandHandler<CreateOrganizationCommand> {
  constructor(private readonly tx: TransactionRunner) {}
  async execute({ principal: p, name }: CreateOrganizationCommand) {
    if (p.kind !== 'user' || !p.userId) throw ValidationError.field('/name', 'user-required', 'organizations are created by signed-in users');
    const org = await this.tx.run(async (m, stage) => {
      const o = await createOrganizationWithOwner(m, name, p.userId!);
      await stage({ type: 'organization.created', organizationId: o.id, actor: actorOf(p), subject: { type: 'organization', id: o.id, name: o.name }, payload: {} }, { request: p.client, changes: { name: o.name, slug: o.slug } });
      return o;
    });
    return organizationView(org, { ...p, grants: [...p.grants, { organizationId: org.id, role: 'owner', customRoleId: null, permissions: [], projectIds: null, environmentIds: null, environmentProjectIds: [], blockedByTwoFactor: false }] });
  }
}

export class UpdateOrganizationCommand extends Command<OrganizationView> {
  constructor(
    readonly principal: Principal,
    readonly organizationId: string,
    readonly patch: { name?: string; requireTwoFactor?: boolean; auditRetentionDays?: number; deploymentLogRetentionDays?: number },
    readonly expectedVersion?: number,
  ) {
    super();
  }
}
@CommandHandler(UpdateOrganizationCommand)
export class UpdateOrganizationHandler implements ICommandHandler<UpdateOrganizationCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, organizationId, patch, expectedVersion }: UpdateOrganizationCommand) {
    const org = await this.scope.findOne(p, OrganizationEntity, 'organization', organizationId, 'update');
    const updated = await this.tx.run(async (m, stage) => {
      const o = await this.scope.findOne(p, OrganizationEntity, 'organization', organizationId, 'read', { m, lock: true });
      checkVersion(o.version, expectedVersion);
      const changes: Record<string, unknown> = {};
      for (const k of ['name', 'requireTwoFactor', 'auditRetentionDays', 'deploymentLogRetentionDays'] as const) {
        if (patch[k] !== undefined && patch[k] !== o[k]) changes[k] = { from: o[k], to: patch[k] };
      }
      Object.assign(o, patch, { updatedAt: new Date(), version: o.version + 1 });
      await m.save(OrganizationEntity, o);
      await stage({ type: 'organization.updated', organizationId: o.id, actor: actorOf(p), subject: { type: 'organization', id: o.id, name: o.name }, payload: {} }, { request: p.client, changes });
      return o;
    });
    void org;
    return organizationView(updated, p);
  }
}

export class DeleteOrganizationCommand extends Command<void> {
  /** `removeVolumes`: the teardown also removes the named volumes Wharf created in the organization (data is lost). */
  constructor(readonly principal: Principal, readonly organizationId: string, readonly removeVolumes = false) {
    super();
  }
}
@CommandHandler(DeleteOrganizationCommand)
export class DeleteOrganizationHandler implements ICommandHandler<DeleteOrganizationCommand> {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly scope: TenantScope,
    private readonly ds: DataSource,
    @Optional() @Inject(VOLUME_INVENTORY) private readonly volumes?: VolumeInventory,
  ) {}
  async execute({ principal: p, organizationId, removeVolumes }: DeleteOrganizationCommand) {
    const org = await this.scope.findOne(p, OrganizationEntity, 'organization', organizationId, 'delete');
    await this.tx.run(async (m, stage) => {
      const volumes = await volumeAuditChanges(this.volumes, m, 'organization', org.id, removeVolumes);
      // Recorded in the instance chain: the organization's own log goes with it.
      await stage({ type: 'organization.deleted', organizationId: null, actor: actorOf(p), subject: { type: 'organization', id: org.id, name: org.name }, payload: { removeVolumes } }, { request: p.client, changes: volumes });
      await m.delete(OrganizationEntity, { id: org.id });
    });
    void this.ds;
  }
}

export class SetContainerPolicyCommand extends Command<OrganizationView> {
  constructor(readonly principal: Principal, readonly organizationId: string, readonly policy: { allowedBindPaths: string[] }) {
    super();
  }
}
/**
 * Host paths an organization's services may bind-mount. The local Swarm is shared by every organization, so only
 * instance admins relax this policy; privileged mode, host network/PID, capabilities and devices cannot be asked for.
 */
@CommandHandler(SetContainerPolicyCommand)
export class SetContainerPolicyHandler implements ICommandHandler<SetContainerPolicyCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, organizationId, policy }: SetContainerPolicyCommand) {
    const org = await this.scope.findOne(p, OrganizationEntity, 'organization', organizationId);
    if (!p.isInstanceAdmin || p.kind !== 'user') await this.scope.deny(p, 'update', 'organization', org);
    const paths = [...new Set(policy.allowedBindPaths)];
    paths.forEach((x, i) => {
      if (!/^\/(?!.*(^|\/)\.\.(\/|$))[^\0]{0,1023}$/.test(x) || x === '/') throw ValidationError.field(`/allowedBindPaths/${i}`, 'format', 'an absolute host path other than "/", without ".."');
    });
    return this.tx.run(async (m, stage) => {
      const o = await this.scope.findOne(p, OrganizationEntity, 'organization', organizationId, 'read', { m, lock: true });
      const before = o.containerPolicy?.allowedBindPaths ?? [];
      Object.assign(o, { containerPolicy: { ...o.containerPolicy, allowedBindPaths: paths }, updatedAt: new Date(), version: o.version + 1 });
      await m.save(OrganizationEntity, o);
      await stage({ type: 'organization.container-policy-changed', organizationId: o.id, actor: actorOf(p), subject: { type: 'organization', id: o.id, name: o.name }, payload: {} }, { request: p.client, changes: { allowedBindPaths: { from: before, to: paths } } });
      return organizationView(o, p);
    });
  }
}
