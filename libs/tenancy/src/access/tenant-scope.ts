import { Injectable } from '@nestjs/common';
import { rulesToQuery } from '@casl/ability/extra';
import { DataSource, EntityManager, EntityTarget, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { Action, Subject } from '@wharf/contracts';
import { ForbiddenError, NotFoundError, TransactionRunner, UUID_RE } from '@wharf/core';
import { actorOf, Principal } from './principal';
import { asSubject } from './ability';

/** Condition fields used in ability rules, and the column each maps to. */
const COLUMNS: Record<string, string> = { id: 'id', organizationId: 'organization_id', projectId: 'project_id', environmentId: 'environment_id' };

let paramSeq = 0;

/**
 * The one data-access path for tenant data: every read adds the caller's organization and CASL conditions to the SQL
 * itself, so rows outside the caller's scope are never loaded. Out of read scope → 404 (as for unknown ids); readable
 * but not allowed → 403, recorded in the audit log as denied.
 */
@Injectable()
export class TenantScope {
  constructor(
    private readonly ds: DataSource,
    private readonly tx: TransactionRunner,
  ) {}

  /** Adds `WHERE <caller may do action on subject>` to a query. No rule → no rows. */
  apply<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, p: Principal, action: Action, subject: Subject, alias = qb.alias): SelectQueryBuilder<T> {
    const query = rulesToQuery(p.ability, action, subject, (rule) => {
      if (rule.inverted) throw new Error('inverted rules are not supported in SQL scoping');
      return rule.conditions as Record<string, unknown>;
    });
    if (query === null) return qb.andWhere('1 = 0');
    const ors = (query.$or as Array<Record<string, unknown>> | undefined) ?? [];
    if (ors.length === 0) return qb; // unconditional rule
    const parts: string[] = [];
    const params: Record<string, unknown> = {};
    for (const cond of ors) {
      const ands: string[] = [];
      for (const [field, value] of Object.entries(cond)) {
        const column = COLUMNS[field];
        if (!column) throw new Error(`ability condition on unmapped field ${field}`);
        const name = `ts${++paramSeq % 1_000_000}`;
        if (value && typeof value === 'object' && Array.isArray((value as { $in?: unknown }).$in)) {
          ands.push(`${alias}.${column} = ANY(:${name})`);
          params[name] = (value as { $in: string[] }).$in;
        } else {
          ands.push(`${alias}.${column} = :${name}`);
          params[name] = value;
        }
      }
      parts.push(`(${ands.join(' AND ')})`);
    }
    return qb.andWhere(`(${parts.join(' OR ')})`, params);
  }

  query<T extends ObjectLiteral>(p: Principal, entity: EntityTarget<T>, subject: Subject, action: Action = 'read', alias = 'x', m?: EntityManager): SelectQueryBuilder<T> {
    return this.apply((m ?? this.ds.manager).createQueryBuilder(entity, alias), p, action, subject, alias);
  }

  /**
   * Loads one row the caller may read, then checks `action` on it. `lock` takes a row lock (inside a transaction).
   */
  async findOne<T extends ObjectLiteral>(
    p: Principal,
    entity: EntityTarget<T>,
    subject: Subject,
    id: string,
    action: Action = 'read',
    opts: { m?: EntityManager; lock?: boolean; what?: string } = {},
  ): Promise<T> {
    const what = opts.what ?? subject.replace(/^./, (c) => c.toUpperCase()).replace('-', ' ');
    if (typeof id !== 'string' || !UUID_RE.test(id)) throw new NotFoundError(what);
    const qb = this.query(p, entity, subject, 'read', 'x', opts.m).andWhere('x.id = :id', { id });
    if (opts.lock) qb.setLock('pessimistic_write');
    const row = await qb.getOne();
    if (!row) throw new NotFoundError(what);
    if (action !== 'read') await this.assert(p, action, subject, row);
    return row;
  }

  /**
   * Throws 403 (and audits the denial) unless the caller may do `action` on this object. For `read`, a denial means
   * the object is outside the caller's read scope: 404, exactly as for an unknown id (e.g. the project-level
   * variables of a project that a member limited to one of its environments can see).
   */
  async assert(p: Principal, action: Action, subject: Subject, obj: object & { id?: string | null; name?: string | null; organizationId?: string | null }): Promise<void> {
    if (p.ability.can(action, asSubject(subject, { ...obj }) as never)) return;
    await this.deny(p, action, subject, obj);
  }

  /**
   * 404 unless the caller may read the organization. Decided from the caller's grants alone: a grant exists only through
   * a membership row, which references the organization, so this is exactly what loading the row would tell.
   */
  assertOrganizationReadable(p: Principal, organizationId: string): void {
    if (typeof organizationId !== 'string' || !UUID_RE.test(organizationId) || !p.ability.can('read', asSubject('organization', { id: organizationId, organizationId }) as never)) {
      throw new NotFoundError('Organization');
    }
  }

  /** For children of a readable parent that may still lie outside the caller's read scope: 404, not 403. */
  assertVisible(p: Principal, subject: Subject, obj: object & { organizationId?: string | null }): void {
    if (!p.ability.can('read', asSubject(subject, { ...obj }) as never)) throw new NotFoundError(subject.replace(/^./, (c) => c.toUpperCase()).replace('-', ' '));
  }

  async deny(p: Principal, action: Action, subject: Subject, obj: { id?: string | null; name?: string | null; organizationId?: string | null }): Promise<never> {
    const organizationId = obj.organizationId ?? (subject === 'organization' ? obj.id ?? null : null);
    await this.tx
      .run(async (_m, stage) => {
        await stage(
          { type: `${subject}.${action}`, organizationId, actor: actorOf(p), subject: { type: subject, id: obj.id ?? null, name: obj.name ?? null }, payload: {} },
          { outcome: 'denied', request: p.client },
        );
      })
      .catch(() => undefined);
    throw new ForbiddenError(`You are not allowed to ${action} this ${subject.replace('-', ' ')}`);
  }
}
