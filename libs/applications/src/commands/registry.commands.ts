import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { checkVersion, ConflictError, newId, NotFoundError, SecretBox, TransactionRunner, ValidationError, WorkerRpcClient } from '@wharf/core';
import { actorOf, OrganizationEntity, Principal, TenantScope } from '@wharf/tenancy';
import { DataSource } from 'typeorm';
import { RegistryEntity } from '../entities/registry.entity';
import { ServerEntity } from '../entities/server.entity';

export interface RegistryView {
  id: string;
  name: string;
  host: string;
  username: string;
  passwordSet: true;
  createdAt: string;
  updatedAt: string;
  version: number;
}
export const registryView = (r: RegistryEntity): RegistryView => ({
  id: r.id, name: r.name, host: r.host, username: r.username, passwordSet: true, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version,
});
export const registryAad = (id: string): string => `registry:${id}:password`;

const HOST_RE = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/;

export function normaliseRegistryHost(input: string): string {
  const host = input.trim().replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (!HOST_RE.test(host)) throw ValidationError.field('/host', 'format', 'host must be a registry host such as "registry.example.com" or "127.0.0.1:5000"');
  return host.toLowerCase();
}

export class ListRegistriesQuery extends Query<RegistryView[]> {
  constructor(readonly principal: Principal, readonly organizationId: string) {
    super();
  }
}
@QueryHandler(ListRegistriesQuery)
export class ListRegistriesHandler implements IQueryHandler<ListRegistriesQuery> {
  constructor(private readonly scope: TenantScope) {}
  async execute({ principal, organizationId }: ListRegistriesQuery) {
    await this.scope.findOne(principal, OrganizationEntity, 'organization', organizationId);
    const rows = await this.scope.query(principal, RegistryEntity, 'registry').andWhere('x.organization_id = :organizationId', { organizationId }).orderBy('x.name').getMany();
    return rows.map(registryView);
  }
}

export class CreateRegistryCommand extends Command<RegistryView> {
  constructor(readonly principal: Principal, readonly organizationId: string, readonly input: { name: string; host: string; username: string; password: string }) {
    super();
  }
}
@CommandHandler(CreateRegistryCommand)
export class CreateRegistryHandler implements ICommandHandler<CreateRegistryCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly box: SecretBox) {}
  async execute({ principal: p, organizationId, input }: CreateRegistryCommand) {
    await this.scope.findOne(p, OrganizationEntity, 'organization', organizationId);
    await this.scope.assert(p, 'create', 'registry', { organizationId, id: null, name: input.name });
    const host = normaliseRegistryHost(input.host);
    return this.tx.run(async (m, stage) => {
      const dup = await m.query(`SELECT 1 FROM registries WHERE organization_id = $1 AND lower(name) = lower($2)`, [organizationId, input.name]);
      if (dup.length) throw new ConflictError('A registry with this name exists', 'registry-name-taken');
      const id = newId();
      const r = m.create(RegistryEntity, { id, organizationId, name: input.name, host, username: input.username, passwordEnc: this.box.encrypt(input.password, registryAad(id)), createdAt: new Date(), updatedAt: new Date(), version: 1 });
      await m.insert(RegistryEntity, r);
      await stage({ type: 'registry.created', organizationId, actor: actorOf(p), subject: { type: 'registry', id, name: r.name }, payload: {} }, { request: p.client, changes: { name: r.name, host, username: r.username, password: '[redacted]' } });
      return registryView(r);
    });
  }
}

export class UpdateRegistryCommand extends Command<RegistryView> {
  constructor(readonly principal: Principal, readonly registryId: string, readonly patch: { name?: string; host?: string; username?: string; password?: string }, readonly expectedVersion?: number) {
    super();
  }
}
@CommandHandler(UpdateRegistryCommand)
export class UpdateRegistryHandler implements ICommandHandler<UpdateRegistryCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly box: SecretBox) {}
  async execute({ principal: p, registryId, patch, expectedVersion }: UpdateRegistryCommand) {
    await this.scope.findOne(p, RegistryEntity, 'registry', registryId, 'update');
    return this.tx.run(async (m, stage) => {
      const r = await this.scope.findOne(p, RegistryEntity, 'registry', registryId, 'read', { m, lock: true });
      checkVersion(r.version, expectedVersion);
      const changes: Record<string, unknown> = {};
      if (patch.name !== undefined && patch.name !== r.name) {
        const dup = await m.query(`SELECT 1 FROM registries WHERE organization_id = $1 AND lower(name) = lower($2) AND id <> $3`, [r.organizationId, patch.name, r.id]);
        if (dup.length) throw new ConflictError('A registry with this name exists', 'registry-name-taken');
        changes.name = { from: r.name, to: patch.name };
      }
      if (patch.host !== undefined) {
        const host = normaliseRegistryHost(patch.host);
        if (host !== r.host) changes.host = { from: r.host, to: host };
        r.host = host;
      }
      if (patch.username !== undefined && patch.username !== r.username) changes.username = { from: r.username, to: patch.username };
      if (patch.password !== undefined) {
        r.passwordEnc = this.box.encrypt(patch.password, registryAad(r.id));
        changes.password = '[redacted]';
      }
      Object.assign(r, { name: patch.name ?? r.name, username: patch.username ?? r.username, updatedAt: new Date(), version: r.version + 1 });
      await m.save(RegistryEntity, r);
      await stage({ type: 'registry.updated', organizationId: r.organizationId, actor: actorOf(p), subject: { type: 'registry', id: r.id, name: r.name }, payload: {} }, { request: p.client, changes });
      return registryView(r);
    });
  }
}

export class DeleteRegistryCommand extends Command<void> {
  constructor(readonly principal: Principal, readonly registryId: string) {
    super();
  }
}
@CommandHandler(DeleteRegistryCommand)
export class DeleteRegistryHandler implements ICommandHandler<DeleteRegistryCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, registryId }: DeleteRegistryCommand) {
    const r = await this.scope.findOne(p, RegistryEntity, 'registry', registryId, 'delete');
    await this.tx.run(async (m, stage) => {
      const used = await m.query(`SELECT name FROM applications WHERE spec->>'registryId' = $1 LIMIT 1`, [r.id]);
      if (used.length) throw new ConflictError(`The registry is used by application "${used[0].name}"`, 'registry-in-use');
      const n = await m.delete(RegistryEntity, { id: r.id });
      if (!n.affected) throw new NotFoundError('Registry');
      await stage({ type: 'registry.deleted', organizationId: r.organizationId, actor: actorOf(p), subject: { type: 'registry', id: r.id, name: r.name }, payload: {} }, { request: p.client });
    });
  }
}

/** Whether signing in to the registry with the stored credentials worked, and what it answered. */
export interface RegistryTestResult {
  ok: boolean;
  message: string;
}
export class TestRegistryCommand extends Command<RegistryTestResult> {
  constructor(readonly principal: Principal, readonly registryId: string) {
    super();
  }
}
/** "Test connection": the worker logs in through the Engine API with the stored credentials. */
@CommandHandler(TestRegistryCommand)
export class TestRegistryHandler implements ICommandHandler<TestRegistryCommand> {
  constructor(private readonly scope: TenantScope, private readonly rpc: WorkerRpcClient, private readonly tx: TransactionRunner) {}
  async execute({ principal: p, registryId }: TestRegistryCommand) {
    const r = await this.scope.findOne(p, RegistryEntity, 'registry', registryId, 'update');
    const result = await this.rpc.call<{ ok: boolean; message: string }>('registry.test', { registryId: r.id }, 30_000);
    await this.tx.run(async (_m, stage) => {
      await stage({ type: 'registry.tested', organizationId: r.organizationId, actor: actorOf(p), subject: { type: 'registry', id: r.id, name: r.name }, payload: { ok: result.ok } }, { request: p.client, outcome: result.ok ? 'succeeded' : 'failed' });
    });
    return result;
  }
}

export interface ServerView {
  id: string;
  name: string;
  kind: 'local' | 'ssh';
  organizationId: string | null;
  status: string;
  statusMessage: string | null;
  capabilities: Record<string, unknown>;
  observedAt: string | null;
}

export class ListServersQuery extends Query<ServerView[]> {
  constructor(readonly principal: Principal) {
    super();
  }
}
/**
 * Servers the caller can see: the shared local Swarm (its status tells, for example, that the kernel has no IPVS and
 * Wharf uses dnsrr endpoints and host-mode ports) and servers of the caller's organizations.
 */
@QueryHandler(ListServersQuery)
export class ListServersHandler implements IQueryHandler<ListServersQuery> {
  constructor(private readonly ds: DataSource) {}
  async execute({ principal: p }: ListServersQuery) {
    const orgs = p.grants.map((g) => g.organizationId);
    const rows = await this.ds
      .getRepository(ServerEntity)
      .createQueryBuilder('s')
      .where('s.organization_id IS NULL OR s.organization_id = ANY(:orgs)', { orgs })
      .orderBy('s.created_at')
      .getMany();
    return rows.map((s) => ({
      id: s.id, name: s.name, kind: s.kind, organizationId: s.organizationId, status: s.status, statusMessage: s.statusMessage,
      capabilities: s.capabilities, observedAt: s.observedAt?.toISOString() ?? null,
    }));
  }
}
