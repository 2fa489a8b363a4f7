import { Injectable } from '@nestjs/common';
import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DataSource, EntityManager } from 'typeorm';
import type { JobPayloads, TeardownEventPayload } from '@wharf/contracts';
import { newId, TransactionRunner, UUID_RE, ValidationError } from '@wharf/core';
import { Principal, SYSTEM_ACTOR, TenantScope } from '@wharf/tenancy';

export type TeardownScope = JobPayloads['engine.teardown']['scope'];
export type TeardownStatus = 'queued' | 'running' | 'succeeded' | 'failed';
/** A failed teardown's error is kept (and sent) cut to this many characters. */
export const TEARDOWN_ERROR_MAX = 1000;

export interface TeardownView {
  id: string;
  organizationId: string;
  projectId: string | null;
  scope: TeardownScope;
  subjectId: string;
  subjectName: string;
  status: TeardownStatus;
  removeVolumes: boolean;
  removed: { services: string[]; networks: string[]; volumes: string[] };
  attempts: number;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

interface TeardownRow {
  id: string;
  organization_id: string;
  project_id: string | null;
  scope: TeardownScope;
  subject_id: string;
  subject_name: string;
  status: TeardownStatus;
  remove_volumes: boolean;
  removed_services: string[];
  removed_networks: string[];
  removed_volumes: string[];
  attempts: number;
  error: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, organization_id, project_id, scope, subject_id, subject_name, status, remove_volumes, removed_services, removed_networks, removed_volumes, attempts, error, created_at, updated_at`;

const teardownView = (r: TeardownRow): TeardownView => ({
  id: r.id, organizationId: r.organization_id, projectId: r.project_id, scope: r.scope, subjectId: r.subject_id, subjectName: r.subject_name,
  status: r.status, removeVolumes: r.remove_volumes, removed: { services: r.removed_services, networks: r.removed_networks, volumes: r.removed_volumes },
  attempts: r.attempts, error: r.error, createdAt: new Date(r.created_at).toISOString(), updatedAt: new Date(r.updated_at).toISOString(),
});

export interface QueuedTeardown {
  organizationId: string;
  projectId: string | null;
  scope: TeardownScope;
  subjectId: string;
  subjectName: string;
  removeVolumes: boolean;
}

/**
 * Writes the `queued` row of a teardown about to be enqueued. Idempotent: one row per (scope, subject), so a
 * re-dispatched `*.deleted` event leaves the row as it is.
 */
export async function recordTeardownQueued(m: EntityManager | DataSource, t: QueuedTeardown): Promise<void> {
  await m.query(
    `INSERT INTO teardowns (id, organization_id, project_id, scope, subject_id, subject_name, remove_volumes) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (scope, subject_id) DO NOTHING`,
    [newId(), t.organizationId, t.projectId, t.scope, t.subjectId, t.subjectName.slice(0, 200), t.removeVolumes],
  );
}

/** Names removed by earlier passes or attempts and by this one, each once, as a JSON array. */
const union = (a: string[], b: string[]): string => JSON.stringify([...new Set([...a, ...b])]);
const cut = (s: string): string => (s.length > TEARDOWN_ERROR_MAX ? `${s.slice(0, TEARDOWN_ERROR_MAX - 1)}…` : s);

/**
 * The worker's side of a teardown's row: `running` when a pass starts, then `succeeded` with what it removed (staging
 * `teardown.completed`), or the error: while Bull will try again the row is `queued` again with the last error; after
 * the last attempt it is `failed` (staging `teardown.failed`). A later pass over a teardown that already succeeded (the
 * delayed second pass) adds what it removed without changing the status or staging anything.
 */
@Injectable()
export class TeardownProgress {
  constructor(private readonly tx: TransactionRunner) {}

  /** Returns whether this is a later pass over a teardown that already succeeded (null: no row, nothing to record). */
  async started(scope: TeardownScope, subjectId: string): Promise<{ laterPass: boolean } | null> {
    return this.tx.run(async (m) => {
      const rows: TeardownRow[] = await m.query(`SELECT ${COLUMNS} FROM teardowns WHERE scope = $1 AND subject_id = $2 FOR UPDATE`, [scope, subjectId]);
      if (!rows.length) return null;
      if (rows[0].status === 'succeeded') return { laterPass: true };
      await m.query(`UPDATE teardowns SET status = 'running', attempts = attempts + 1, updated_at = now() WHERE id = $1`, [rows[0].id]);
      return { laterPass: false };
    });
  }

  /** What a running pass removed so far (the portal counts it up while the teardown runs). */
  async removedSoFar(scope: TeardownScope, subjectId: string, removed: { services: string[]; networks: string[]; volumes: string[] }): Promise<void> {
    await this.tx.dataSource.transaction(async (m) => {
      const rows: TeardownRow[] = await m.query(`SELECT ${COLUMNS} FROM teardowns WHERE scope = $1 AND subject_id = $2 AND status = 'running' FOR UPDATE`, [scope, subjectId]);
      const r = rows[0];
      if (!r) return;
      await m.query(
        `UPDATE teardowns SET removed_services = $2::jsonb, removed_networks = $3::jsonb, removed_volumes = $4::jsonb, updated_at = now() WHERE id = $1`,
        [r.id, union(r.removed_services, removed.services), union(r.removed_networks, removed.networks), union(r.removed_volumes, removed.volumes)],
      );
    });
  }

  async succeeded(scope: TeardownScope, subjectId: string, removed: { services: string[]; networks: string[]; volumes: string[] }): Promise<void> {
    await this.tx.run(async (m, stage) => {
      const rows: TeardownRow[] = await m.query(`SELECT ${COLUMNS} FROM teardowns WHERE scope = $1 AND subject_id = $2 FOR UPDATE`, [scope, subjectId]);
      const r = rows[0];
      if (!r) return;
      await m.query(
        `UPDATE teardowns SET status = 'succeeded', error = NULL, removed_services = $2::jsonb, removed_networks = $3::jsonb, removed_volumes = $4::jsonb, updated_at = now() WHERE id = $1`,
        [r.id, union(r.removed_services, removed.services), union(r.removed_networks, removed.networks), union(r.removed_volumes, removed.volumes)],
      );
      if (r.status === 'succeeded') return; // a later pass: already reported
      await stage(
        { type: 'teardown.completed', organizationId: r.scope === 'organization' ? null : r.organization_id, actor: SYSTEM_ACTOR, subject: { type: r.scope, id: r.subject_id, name: r.subject_name }, payload: { ...this.payload(r, 'succeeded'), ...removed } },
        { changes: removed },
      );
    });
  }

  async failed(scope: TeardownScope, subjectId: string, error: string, final: boolean): Promise<void> {
    await this.tx.run(async (m, stage) => {
      const rows: TeardownRow[] = await m.query(`SELECT ${COLUMNS} FROM teardowns WHERE scope = $1 AND subject_id = $2 FOR UPDATE`, [scope, subjectId]);
      const r = rows[0];
      // A later pass that fails keeps the success of the first one (Bull tries it again).
      if (!r || r.status === 'succeeded') return;
      const message = cut(error);
      await m.query(`UPDATE teardowns SET status = $2, error = $3, updated_at = now() WHERE id = $1`, [r.id, final ? 'failed' : 'queued', message]);
      if (!final) return;
      await stage(
        { type: 'teardown.failed', organizationId: r.scope === 'organization' ? null : r.organization_id, actor: SYSTEM_ACTOR, subject: { type: r.scope, id: r.subject_id, name: r.subject_name }, payload: { ...this.payload(r, 'failed'), error: message } },
        { outcome: 'failed', changes: { error: message } },
      );
    });
  }

  private payload(r: TeardownRow, status: 'succeeded' | 'failed'): TeardownEventPayload {
    return {
      teardownId: r.id,
      scope: r.scope,
      status,
      ...(r.project_id ? { projectId: r.project_id } : {}),
      ...(r.scope === 'environment' ? { environmentId: r.subject_id } : {}),
    };
  }
}

export class ListTeardownsQuery extends Query<{ items: TeardownView[] }> {
  constructor(readonly principal: Principal, readonly organizationId: string, readonly filter: { projectId?: string; limit?: number } = {}) {
    super();
  }
}

/** `?limit=` of the teardowns list: 1–100, default 20; anything else is a 400 naming the field. */
export function parseTeardownFilter(limitRaw: unknown, projectIdRaw: unknown): { projectId?: string; limit: number } {
  let limit = 20;
  if (limitRaw !== undefined) {
    const n = Number(limitRaw);
    if (!Number.isInteger(n) || n < 1 || n > 100) throw ValidationError.field('/limit', 'range', 'limit must be an integer between 1 and 100');
    limit = n;
  }
  if (projectIdRaw === undefined) return { limit };
  if (typeof projectIdRaw !== 'string' || !UUID_RE.test(projectIdRaw)) throw ValidationError.field('/projectId', 'format', 'projectId must be a UUID');
  return { limit, projectId: projectIdRaw.toLowerCase() };
}

/**
 * The organization's recent teardowns, newest first, scoped like projects: the organization must be readable (404
 * otherwise, as for another organization), and a row shows only when the caller may read its project (a teardown of
 * an environment or a project carries the project's id; an organization's teardown has none, so only members who may
 * read every project see it). The rule's conditions go into the SQL through TenantScope, with the row's project_id in
 * the place of the project's id.
 */
@QueryHandler(ListTeardownsQuery)
export class ListTeardownsHandler implements IQueryHandler<ListTeardownsQuery> {
  constructor(private readonly scope: TenantScope, private readonly ds: DataSource) {}
  async execute({ principal: p, organizationId, filter }: ListTeardownsQuery): Promise<{ items: TeardownView[] }> {
    this.scope.assertOrganizationReadable(p, organizationId);
    const qb = this.ds
      .createQueryBuilder()
      .select('x.*')
      .from(`(SELECT ${COLUMNS.replace('id, organization_id, project_id,', 'id AS teardown_id, organization_id, project_id, project_id AS id,')} FROM teardowns)`, 'x')
      .where('x.organization_id = :organizationId', { organizationId });
    this.scope.apply(qb, p, 'read', 'project', 'x');
    if (filter.projectId) qb.andWhere('x.project_id = :projectId', { projectId: filter.projectId });
    qb.orderBy('x.created_at', 'DESC').addOrderBy('x.teardown_id', 'DESC').limit(filter.limit ?? 20);
    const rows: Array<TeardownRow & { teardown_id: string }> = await qb.getRawMany();
    return { items: rows.map((r) => teardownView({ ...r, id: r.teardown_id })) };
  }
}
