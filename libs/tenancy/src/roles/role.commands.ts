import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { BUILTIN_ROLE_PERMISSIONS, BUILTIN_ROLES, Permission } from '@wharf/contracts';
import { checkVersion, ConflictError, newId, NotFoundError, TransactionRunner } from '@wharf/core';
import { RoleEntity } from '../entities/role.entity';
import { OrganizationEntity } from '../entities/organization.entity';
import { TenantScope } from '../access/tenant-scope';
import { actorOf, Principal } from '../access/principal';
import { assertNoEscalation, validatePermissions } from '../access/grants';

export interface RoleView {
  id: string | null;
  name: string;
  description: string;
  builtin: boolean;
  permissions: Permission[];
  version: number | null;
}
const roleView = (r: RoleEntity): RoleView => ({ id: r.id, name: r.name, description: r.description, builtin: false, permissions: r.permissions, version: r.version });

export class ListRolesQuery extends Query<RoleView[]> {
  constructor(readonly principal: Principal, readonly organizationId: string) {
    super();
  }
}
@QueryHandler(ListRolesQuery)
export class ListRolesHandler implements IQueryHandler<ListRolesQuery> {
  constructor(private readonly scope: TenantScope) {}
  async execute({ principal, organizationId }: ListRolesQuery) {
    await this.scope.findOne(principal, OrganizationEntity, 'organization', organizationId);
    const custom = await this.scope.query(principal, RoleEntity, 'role').andWhere('x.organization_id = :organizationId', { organizationId }).orderBy('x.name').getMany();
    const builtin: RoleView[] = BUILTIN_ROLES.map((name) => ({ id: null, name, description: `Built-in ${name} role`, builtin: true, permissions: [...BUILTIN_ROLE_PERMISSIONS[name]], version: null }));
    return [...builtin, ...custom.map(roleView)];
  }
}

export class CreateRoleCommand extends Command<RoleView> {
  constructor(readonly principal: Principal, readonly organizationId: string, readonly input: { name: string; description?: string; permissions: string[] }) {
    super();
  }
}
@CommandHandler(CreateRoleCommand)
export class CreateRoleHandler implements ICommandHandler<CreateRoleCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, organizationId, input }: CreateRoleCommand) {
    await this.scope.findOne(p, OrganizationEntity, 'organization', organizationId);
    await this.scope.assert(p, 'create', 'role', { organizationId, id: null, name: input.name });
    const permissions = validatePermissions(input.permissions);
    assertNoEscalation(p, organizationId, { permissions, projectIds: null });
    return this.tx.run(async (m, stage) => {
      const dup = await m.query(`SELECT 1 FROM roles WHERE organization_id = $1 AND lower(name) = lower($2)`, [organizationId, input.name]);
      if (dup.length || (BUILTIN_ROLES as readonly string[]).includes(input.name.toLowerCase()) || input.name.toLowerCase() === 'custom') throw new ConflictError('A role with this name exists', 'role-name-taken');
      const role = m.create(RoleEntity, { id: newId(), organizationId, name: input.name, description: input.description ?? '', permissions, createdAt: new Date(), updatedAt: new Date(), version: 1 });
      await m.insert(RoleEntity, role);
      await stage({ type: 'role.created', organizationId, actor: actorOf(p), subject: { type: 'role', id: role.id, name: role.name }, payload: {} }, { request: p.client, changes: { name: role.name, permissions } });
      return roleView(role);
    });
  }
}

export class UpdateRoleCommand extends Command<RoleView> {
  constructor(readonly principal: Principal, readonly organizationId: string, readonly roleId: string, readonly patch: { name?: string; description?: string; permissions?: string[] }, readonly expectedVersion?: number) {
    super();
  }
}
@CommandHandler(UpdateRoleCommand)
export class UpdateRoleHandler implements ICommandHandler<UpdateRoleCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, organizationId, roleId, patch, expectedVersion }: UpdateRoleCommand) {
    return this.tx.run(async (m, stage) => {
      const role = await this.scope.findOne(p, RoleEntity, 'role', roleId, 'update', { m, lock: true });
      if (role.organizationId !== organizationId) throw new NotFoundError('Role');
      checkVersion(role.version, expectedVersion);
      const permissions = patch.permissions ? validatePermissions(patch.permissions) : role.permissions;
      // Changing a role changes what its holders may do: the editor must hold both the old and the new set.
      assertNoEscalation(p, organizationId, { permissions: [...new Set([...permissions, ...role.permissions])], projectIds: null });
      const changes: Record<string, unknown> = {};
      if (patch.name !== undefined && patch.name !== role.name) {
        // Same rule as on create: unique per organization (case-insensitive), never a built-in name (a 409, not a 500).
        const dup = await m.query(`SELECT 1 FROM roles WHERE organization_id = $1 AND lower(name) = lower($2) AND id <> $3`, [organizationId, patch.name, role.id]);
        if (dup.length || (BUILTIN_ROLES as readonly string[]).includes(patch.name.toLowerCase()) || patch.name.toLowerCase() === 'custom') throw new ConflictError('A role with this name exists', 'role-name-taken');
        changes.name = { from: role.name, to: patch.name };
      }
      if (patch.permissions) changes.permissions = { from: role.permissions, to: permissions };
      Object.assign(role, { name: patch.name ?? role.name, description: patch.description ?? role.description, permissions, updatedAt: new Date(), version: role.version + 1 });
      await m.save(RoleEntity, role);
      await stage({ type: 'role.updated', organizationId, actor: actorOf(p), subject: { type: 'role', id: role.id, name: role.name }, payload: {} }, { request: p.client, changes });
      return roleView(role);
    });
  }
}

export class DeleteRoleCommand extends Command<void> {
  constructor(readonly principal: Principal, readonly organizationId: string, readonly roleId: string) {
    super();
  }
}
@CommandHandler(DeleteRoleCommand)
export class DeleteRoleHandler implements ICommandHandler<DeleteRoleCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, organizationId, roleId }: DeleteRoleCommand) {
    await this.tx.run(async (m, stage) => {
      const role = await this.scope.findOne(p, RoleEntity, 'role', roleId, 'delete', { m, lock: true });
      if (role.organizationId !== organizationId) throw new NotFoundError('Role');
      const used = await m.query(`SELECT (SELECT count(*) FROM memberships WHERE custom_role_id = $1) + (SELECT count(*) FROM api_keys WHERE custom_role_id = $1 AND revoked_at IS NULL) AS n`, [role.id]);
      if (Number(used[0].n) > 0) throw new ConflictError('The role is still assigned; change those members first', 'role-in-use');
      await m.query(`DELETE FROM api_keys WHERE custom_role_id = $1`, [role.id]);
      await m.delete(RoleEntity, { id: role.id });
      await stage({ type: 'role.deleted', organizationId, actor: actorOf(p), subject: { type: 'role', id: role.id, name: role.name }, payload: {} }, { request: p.client });
    });
  }
}
