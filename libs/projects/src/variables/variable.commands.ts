import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { EntityManager } from 'typeorm';
import { newId, NotFoundError, Page, PageRequest, SecretBox, TransactionRunner, UnavailableError, ValidationError } from '@wharf/core';
import { actorOf, Principal, TenantScope } from '@wharf/tenancy';
import { ProjectEntity } from '../entities/project.entity';
import { EnvironmentEntity } from '../entities/environment.entity';
import { variableAad, VariableEntity } from '../entities/variable.entity';
import { pageOf } from '../common/helpers';
import { PROJECT_EVENTS, REDACTED } from '../events/project-events';

export const VARIABLE_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
export const MAX_VARIABLE_VALUE_BYTES = 64 * 1024;
export const MAX_VARIABLES_PER_REQUEST = 500;

/** Where variables live: a project (shared by its environments) or one environment. */
export interface VariableTarget {
  kind: 'project' | 'environment';
  id: string;
}

interface ResolvedTarget {
  organizationId: string;
  projectId: string;
  environmentId: string | null;
}

export interface VariableView {
  id: string;
  key: string;
  /** null for secrets: their value is only returned by the reveal call. */
  value: string | null;
  secret: boolean;
  valueSet: boolean;
  projectId: string;
  environmentId: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}
export const variableView = (x: VariableEntity): VariableView => ({
  id: x.id, key: x.key, value: x.secret ? null : x.value, secret: x.secret, valueSet: x.secret ? x.valueEncrypted !== null : x.value !== null,
  projectId: x.projectId, environmentId: x.environmentId, createdAt: x.createdAt.toISOString(), updatedAt: x.updatedAt.toISOString(), version: x.version,
});

export interface VariableInput {
  key: string;
  value: string;
  /** Omitted: a new variable is plain, an existing one keeps its kind. */
  secret?: boolean;
}

/** Validates a batch: keys, sizes, NUL, duplicates. Errors point at the offending item. */
export function validateVariableInputs(items: VariableInput[], pointerOf: (i: number) => string): void {
  if (items.length === 0) throw ValidationError.field(pointerOf(0).replace(/\/\d+$/, ''), 'required', 'give at least one variable');
  if (items.length > MAX_VARIABLES_PER_REQUEST) throw ValidationError.field('/variables', 'too-many', `at most ${MAX_VARIABLES_PER_REQUEST} variables per request`);
  const seen = new Set<string>();
  items.forEach((v, i) => {
    const at = pointerOf(i);
    if (typeof v.key !== 'string' || !VARIABLE_KEY_RE.test(v.key)) throw ValidationError.field(`${at}/key`, 'key', 'key must match ^[A-Za-z_][A-Za-z0-9_]{0,127}$');
    if (typeof v.value !== 'string') throw ValidationError.field(`${at}/value`, 'type', 'value must be a string');
    if (v.value.includes('\u0000')) throw ValidationError.field(`${at}/value`, 'nul-character', 'value must not contain NUL characters');
    if (Buffer.byteLength(v.value, 'utf8') > MAX_VARIABLE_VALUE_BYTES) throw ValidationError.field(`${at}/value`, 'too-long', 'value must be at most 64 KiB');
    if (v.secret !== undefined && typeof v.secret !== 'boolean') throw ValidationError.field(`${at}/secret`, 'type', 'secret must be a boolean');
    if (seen.has(v.key)) throw ValidationError.field(`${at}/key`, 'duplicate', `key ${v.key} appears twice`);
    seen.add(v.key);
  });
}

/** Audit `changes` name the variable and its kind (field names the audit log's safety net would not mistake for secrets). */
const kindOf = (secret: boolean): 'secret' | 'plain' => (secret ? 'secret' : 'plain');
const clip = (s: string): string => (s.length > 256 ? `${s.slice(0, 256)}…` : s);

/** Resolves the owner of the variables through the tenant scope (404 outside read scope), optionally locking it. */
async function resolveTarget(scope: TenantScope, p: Principal, target: VariableTarget, m?: EntityManager, lock = false): Promise<ResolvedTarget> {
  if (target.kind === 'project') {
    const x = await scope.findOne(p, ProjectEntity, 'project', target.id, 'read', { m, lock });
    return { organizationId: x.organizationId, projectId: x.id, environmentId: null };
  }
  const x = await scope.findOne(p, EnvironmentEntity, 'environment', target.id, 'read', { m, lock });
  return { organizationId: x.organizationId, projectId: x.projectId, environmentId: x.id };
}

function variablesOf(scope: TenantScope, p: Principal, t: ResolvedTarget, m?: EntityManager) {
  const qb = scope.query(p, VariableEntity, 'variable', 'read', 'x', m).andWhere('x.project_id = :projectId', { projectId: t.projectId });
  return t.environmentId ? qb.andWhere('x.environment_id = :environmentId', { environmentId: t.environmentId }) : qb.andWhere('x.environment_id IS NULL');
}

async function findVariable(scope: TenantScope, p: Principal, t: ResolvedTarget, key: string, m?: EntityManager, lock = false): Promise<VariableEntity> {
  if (!VARIABLE_KEY_RE.test(key)) throw new NotFoundError('Variable');
  const qb = variablesOf(scope, p, t, m).andWhere('x.key = :key', { key });
  if (lock) qb.setLock('pessimistic_write');
  const row = await qb.getOne();
  if (!row) throw new NotFoundError('Variable');
  return row;
}

const payloadOf = (x: VariableEntity) => ({ projectId: x.projectId, environmentId: x.environmentId, key: x.key, secret: x.secret });

export class ListVariablesQuery extends Query<Page<VariableView>> {
  constructor(readonly principal: Principal, readonly target: VariableTarget, readonly page: PageRequest) {
    super();
  }
}
@QueryHandler(ListVariablesQuery)
export class ListVariablesHandler implements IQueryHandler<ListVariablesQuery> {
  constructor(private readonly scope: TenantScope) {}
  async execute({ principal: p, target, page }: ListVariablesQuery) {
    const t = await resolveTarget(this.scope, p, target);
    const cond = { organizationId: t.organizationId, projectId: t.projectId, environmentId: t.environmentId, id: null };
    this.scope.assertVisible(p, 'variable', cond);
    const res = await pageOf(variablesOf(this.scope, p, t), page, 'key', (x) => x.key);
    return { items: res.items.map(variableView), nextCursor: res.nextCursor };
  }
}

export interface UpsertedVariables {
  items: VariableView[];
}
export class UpsertVariablesCommand extends Command<UpsertedVariables> {
  constructor(readonly principal: Principal, readonly target: VariableTarget, readonly items: VariableInput[], readonly pointerOf: (i: number) => string = (i) => `/variables/${i}`) {
    super();
  }
}
@CommandHandler(UpsertVariablesCommand)
export class UpsertVariablesHandler implements ICommandHandler<UpsertVariablesCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly box: SecretBox) {}
  async execute({ principal: p, target, items, pointerOf }: UpsertVariablesCommand) {
    validateVariableInputs(items, pointerOf);
    return this.tx.run(async (m, stage) => {
      // Locking the owner serializes writers of the same variable set (no lost update, no duplicate insert).
      const t = await resolveTarget(this.scope, p, target, m, true);
      const cond = { organizationId: t.organizationId, projectId: t.projectId, environmentId: t.environmentId, id: null };
      this.scope.assertVisible(p, 'variable', cond);
      const existing = await variablesOf(this.scope, p, t, m).andWhere('x.key IN (:...keys)', { keys: items.map((v) => v.key) }).getMany();
      const byKey = new Map(existing.map((x) => [x.key, x]));
      if (items.some((v) => !byKey.has(v.key))) await this.scope.assert(p, 'create', 'variable', cond);
      if (items.some((v) => byKey.has(v.key))) await this.scope.assert(p, 'update', 'variable', cond);
      const actor = actorOf(p);
      const now = new Date();
      const out: VariableView[] = [];
      for (const v of items) {
        const old = byKey.get(v.key);
        if (!old) {
          const secret = v.secret ?? false;
          const x = m.create(VariableEntity, { id: newId(), organizationId: t.organizationId, projectId: t.projectId, environmentId: t.environmentId, key: v.key, secret, createdAt: now, updatedAt: now, version: 1 });
          this.setValue(x, v.value, secret);
          await m.insert(VariableEntity, x);
          await stage(
            { type: PROJECT_EVENTS.variableCreated, organizationId: t.organizationId, actor, subject: { type: 'variable', id: x.id, name: x.key }, payload: payloadOf(x) },
            { request: p.client, changes: { variable: x.key, kind: kindOf(secret), value: secret ? REDACTED : clip(v.value) } },
          );
          out.push(variableView(x));
          continue;
        }
        const secret = v.secret ?? old.secret;
        const changes: Record<string, unknown> = { variable: old.key };
        if (secret !== old.secret) changes.kind = { from: kindOf(old.secret), to: kindOf(secret) };
        if (secret || old.secret) changes.value = REDACTED;
        else if (old.value !== v.value) changes.value = { from: clip(old.value ?? ''), to: clip(v.value) };
        const x = Object.assign(old, { secret, updatedAt: now, version: old.version + 1 });
        this.setValue(x, v.value, secret);
        await m.update(VariableEntity, { id: x.id }, { value: x.value, valueEncrypted: x.valueEncrypted, secret: x.secret, updatedAt: x.updatedAt, version: x.version });
        await stage(
          { type: PROJECT_EVENTS.variableUpdated, organizationId: t.organizationId, actor, subject: { type: 'variable', id: x.id, name: x.key }, payload: payloadOf(x) },
          { request: p.client, changes },
        );
        out.push(variableView(x));
      }
      return { items: out };
    });
  }

  private setValue(x: VariableEntity, value: string, secret: boolean): void {
    x.value = secret ? null : value;
    x.valueEncrypted = secret ? this.box.encrypt(value, variableAad(x.id, x.key)) : null;
  }
}

export class DeleteVariableCommand extends Command<void> {
  constructor(readonly principal: Principal, readonly target: VariableTarget, readonly key: string) {
    super();
  }
}
@CommandHandler(DeleteVariableCommand)
export class DeleteVariableHandler implements ICommandHandler<DeleteVariableCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, target, key }: DeleteVariableCommand) {
    await this.tx.run(async (m, stage) => {
      const t = await resolveTarget(this.scope, p, target, m, true);
      const x = await findVariable(this.scope, p, t, key, m, true);
      await this.scope.assert(p, 'delete', 'variable', { ...x, name: x.key });
      await m.delete(VariableEntity, { id: x.id });
      await stage(
        { type: PROJECT_EVENTS.variableDeleted, organizationId: t.organizationId, actor: actorOf(p), subject: { type: 'variable', id: x.id, name: x.key }, payload: payloadOf(x) },
        { request: p.client, changes: { variable: x.key, kind: kindOf(x.secret) } },
      );
    });
  }
}

/** Returns a variable's clear value; permission `variable:reveal`; audited as `variable.revealed` (never with the value). */
export interface RevealedVariable {
  key: string;
  value: string;
  secret: boolean;
}
export class RevealVariableCommand extends Command<RevealedVariable> {
  constructor(readonly principal: Principal, readonly target: VariableTarget, readonly key: string) {
    super();
  }
}
@CommandHandler(RevealVariableCommand)
export class RevealVariableHandler implements ICommandHandler<RevealVariableCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly box: SecretBox) {}
  async execute({ principal: p, target, key }: RevealVariableCommand) {
    const t = await resolveTarget(this.scope, p, target);
    const found = await findVariable(this.scope, p, t, key);
    await this.scope.assert(p, 'reveal', 'variable', { ...found, name: found.key });
    return this.tx.run(async (m, stage) => {
      const x = await findVariable(this.scope, p, t, key, m);
      let value: string;
      if (x.secret) {
        try {
          value = this.box.decrypt(x.valueEncrypted!, variableAad(x.id, x.key));
        } catch {
          throw new UnavailableError('The secret cannot be decrypted with the configured keys');
        }
      } else {
        value = x.value ?? '';
      }
      await stage(
        { type: PROJECT_EVENTS.variableRevealed, organizationId: t.organizationId, actor: actorOf(p), subject: { type: 'variable', id: x.id, name: x.key }, payload: payloadOf(x) },
        { request: p.client, changes: { variable: x.key, kind: kindOf(x.secret) } },
      );
      return { key: x.key, value, secret: x.secret };
    });
  }
}
