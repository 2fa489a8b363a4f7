import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Readable } from 'node:stream';
import { DataSource, SelectQueryBuilder } from 'typeorm';
import { stringify } from 'csv-stringify';
import { encodeCursor, NotFoundError, Page, parsePage, TransactionRunner, UUID_RE, ValidationError } from '@wharf/core';
import { actorOf, Principal } from '@wharf/tenancy';
import { AuditEventEntity } from '../entities/audit-event.entity';
import { AuditHashInput, computeAuditHash, msIso } from '../chain/audit-hash';
import { hashInputOf } from '../chain/audit-chain.service';
import { AuditAccess } from './audit-access';

/** What the API returns for an entry: exactly what the hash covers, plus the hash. */
export interface AuditEventView extends AuditHashInput {
  hash: string;
}

export function auditEventView(r: AuditEventEntity): AuditEventView {
  return {
    id: r.id,
    seq: Number(r.seq),
    organizationId: r.organizationId,
    occurredAt: msIso(r.occurredAt),
    actor: { type: r.actorType, id: r.actorId, name: r.actorName },
    action: r.action,
    subject: { type: r.subjectType, id: r.subjectId, name: r.subjectName },
    outcome: r.outcome,
    ip: r.ip,
    userAgent: r.userAgent,
    requestId: r.requestId,
    changes: r.changes ?? {},
    prevHash: r.prevHash,
    hash: r.hash,
  };
}

export interface AuditFilter {
  /** Actor id (exact) or a substring of the actor's name. */
  actor?: string;
  /** Exact event type, or a prefix ending in `*` (`organization.*`). */
  action?: string;
  subjectType?: string;
  subjectId?: string;
  outcome?: string;
  /** ISO-8601, inclusive. */
  from?: string;
  /** ISO-8601, exclusive. */
  to?: string;
}

const OUTCOMES: readonly string[] = ['succeeded', 'denied', 'failed'];
const likeEscape = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function parseTime(value: string | undefined, pointer: string): Date | null {
  if (value === undefined || value === '') return null;
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime())) throw ValidationError.field(pointer, 'invalid', `${pointer.slice(1)} must be an ISO-8601 date-time`);
  return d;
}

/** Adds the filters to a query on alias `a`. */
export function applyFilter(qb: SelectQueryBuilder<AuditEventEntity>, f: AuditFilter): SelectQueryBuilder<AuditEventEntity> {
  if (f.actor) {
    const like = `%${likeEscape(f.actor)}%`;
    if (UUID_RE.test(f.actor)) qb.andWhere(`(a.actor_id = :actorId OR a.actor_name ILIKE :actorLike)`, { actorId: f.actor.toLowerCase(), actorLike: like });
    else qb.andWhere(`a.actor_name ILIKE :actorLike`, { actorLike: like });
  }
  if (f.action) {
    if (f.action.endsWith('*')) qb.andWhere(`a.action LIKE :actionLike`, { actionLike: `${likeEscape(f.action.slice(0, -1))}%` });
    else qb.andWhere(`a.action = :action`, { action: f.action });
  }
  if (f.subjectType) qb.andWhere(`a.subject_type = :subjectType`, { subjectType: f.subjectType });
  if (f.subjectId) qb.andWhere(`a.subject_id = :subjectId`, { subjectId: f.subjectId });
  if (f.outcome) {
    if (!OUTCOMES.includes(f.outcome)) throw ValidationError.field('/outcome', 'invalid', 'outcome must be succeeded, denied or failed');
    qb.andWhere(`a.outcome = :outcome`, { outcome: f.outcome });
  }
  const from = parseTime(f.from, '/from');
  const to = parseTime(f.to, '/to');
  if (from) qb.andWhere(`a.occurred_at >= :from`, { from });
  if (to) qb.andWhere(`a.occurred_at < :to`, { to });
  return qb;
}

/** Newest first, `{ items, nextCursor }`; the cursor is the last seen seq. */
export class ListAuditEventsQuery extends Query<Page<AuditEventView>> {
  constructor(
    readonly principal: Principal,
    /** null = the instance chain (instance admins only). */
    readonly organizationId: string | null,
    readonly filter: AuditFilter,
    readonly limit?: unknown,
    readonly cursor?: unknown,
  ) {
    super();
  }
}
@QueryHandler(ListAuditEventsQuery)
export class ListAuditEventsHandler implements IQueryHandler<ListAuditEventsQuery> {
  constructor(private readonly access: AuditAccess) {}
  async execute({ principal: p, organizationId, filter, limit, cursor }: ListAuditEventsQuery) {
    const page = parsePage(limit, cursor);
    if (page.after && !/^\d{1,18}$/.test(page.after.k)) throw ValidationError.field('/cursor', 'invalid', 'cursor is not valid');
    await this.access.authorize(p, organizationId, 'read');
    const qb = applyFilter(this.access.rows(p, organizationId, 'read'), filter);
    if (page.after) qb.andWhere(`a.seq < :afterSeq`, { afterSeq: page.after.k });
    const rows = await qb.orderBy('a.seq', 'DESC').limit(page.limit + 1).getMany();
    const items = rows.slice(0, page.limit);
    const last = items[items.length - 1];
    return { items: items.map(auditEventView), nextCursor: rows.length > page.limit && last ? encodeCursor(String(last.seq), last.id) : null };
  }
}

export class GetAuditEventQuery extends Query<AuditEventView> {
  constructor(readonly principal: Principal, readonly organizationId: string | null, readonly id: string) {
    super();
  }
}
@QueryHandler(GetAuditEventQuery)
export class GetAuditEventHandler implements IQueryHandler<GetAuditEventQuery> {
  constructor(private readonly access: AuditAccess) {}
  async execute({ principal: p, organizationId, id }: GetAuditEventQuery) {
    await this.access.authorize(p, organizationId, 'read');
    if (!UUID_RE.test(id)) throw new NotFoundError('Audit event');
    const row = await this.access.rows(p, organizationId, 'read').andWhere('a.id = :id', { id }).getOne();
    if (!row) throw new NotFoundError('Audit event');
    return auditEventView(row);
  }
}

export interface AuditVerifyResult {
  ok: boolean;
  checked: number;
  firstBrokenSeq: number | null;
  firstBrokenId: string | null;
  reason: string | null;
}

const VERIFY_BATCH = 500;

/**
 * Recomputes one chain in seq order, in batches, inside one REPEATABLE READ snapshot (so a concurrent purge or append
 * cannot look like a gap). The oldest remaining entry's prev_hash is trusted: retention deletes the oldest entries,
 * so the chain legitimately starts at a later seq. That start is itself checked against the latest `audit.purged`
 * entry (which records the oldest seq it kept): entries missing before it are reported.
 */
export class VerifyAuditChainQuery extends Query<AuditVerifyResult> {
  constructor(readonly principal: Principal, readonly organizationId: string | null) {
    super();
  }
}
@QueryHandler(VerifyAuditChainQuery)
export class VerifyAuditChainHandler implements IQueryHandler<VerifyAuditChainQuery> {
  constructor(private readonly access: AuditAccess, private readonly ds: DataSource) {}
  async execute({ principal: p, organizationId }: VerifyAuditChainQuery): Promise<AuditVerifyResult> {
    await this.access.authorize(p, organizationId, 'read');
    return this.ds.transaction('REPEATABLE READ', async (m) => {
      await m.query('SET TRANSACTION READ ONLY');
      const broken = (row: AuditEventEntity, checked: number, reason: string): AuditVerifyResult => ({ ok: false, checked, firstBrokenSeq: Number(row.seq), firstBrokenId: row.id, reason });
      let checked = 0;
      let prev: AuditEventEntity | null = null;
      for (;;) {
        const qb = this.access.rows(p, organizationId, 'read', m).orderBy('a.seq', 'ASC').limit(VERIFY_BATCH);
        if (prev) qb.andWhere('a.seq > :afterSeq', { afterSeq: prev.seq });
        const batch = await qb.getMany();
        for (const row of batch) {
          if (prev === null) {
            const expectedStart = await this.expectedStart(m, organizationId);
            if (Number(row.seq) > expectedStart) return broken(row, checked, `entries before seq ${row.seq} are missing (expected the chain to start at seq ${expectedStart})`);
          } else {
            if (Number(row.seq) !== Number(prev.seq) + 1) return broken(row, checked, `seq ${Number(prev.seq) + 1} is missing`);
            if (row.prevHash !== prev.hash) return broken(row, checked, 'prev_hash does not match the previous entry');
          }
          if (computeAuditHash(hashInputOf(row)) !== row.hash) return broken(row, checked, 'hash does not match the entry (entry was modified)');
          checked++;
          prev = row;
        }
        if (batch.length < VERIFY_BATCH) break;
      }
      return { ok: true, checked, firstBrokenSeq: null, firstBrokenId: null, reason: null };
    });
  }

  /** 1, or the oldest seq the latest retention purge kept. */
  private async expectedStart(m: import('typeorm').EntityManager, organizationId: string | null): Promise<number> {
    const rows: Array<{ kept: string | null }> = await m.query(
      `SELECT changes->>'oldestKeptSeq' AS kept FROM audit_events
        WHERE ${organizationId === null ? 'organization_id IS NULL' : 'organization_id = $1'} AND action = 'audit.purged'
        ORDER BY seq DESC LIMIT 1`,
      organizationId === null ? [] : [organizationId],
    );
    const kept = Number(rows[0]?.kept);
    return Number.isInteger(kept) && kept > 0 ? kept : 1;
  }
}

export type AuditExportFormat = 'csv' | 'ndjson';

export interface AuditExport {
  filename: string;
  contentType: string;
  /** The entries, oldest first, read in keyset batches as the consumer pulls (backpressure). */
  stream: Readable;
}

const EXPORT_BATCH = 500;
const CSV_COLUMNS = [
  'id', 'seq', 'occurredAt', 'organizationId', 'actorType', 'actorId', 'actorName', 'action', 'subjectType', 'subjectId',
  'subjectName', 'outcome', 'ip', 'userAgent', 'requestId', 'changes', 'prevHash', 'hash',
] as const;

function csvRecord(v: AuditEventView): Record<(typeof CSV_COLUMNS)[number], string | number | null> {
  return {
    id: v.id, seq: v.seq, occurredAt: v.occurredAt, organizationId: v.organizationId, actorType: v.actor.type, actorId: v.actor.id,
    actorName: v.actor.name, action: v.action, subjectType: v.subject.type, subjectId: v.subject.id, subjectName: v.subject.name,
    outcome: v.outcome, ip: v.ip, userAgent: v.userAgent, requestId: v.requestId, changes: JSON.stringify(v.changes), prevHash: v.prevHash, hash: v.hash,
  };
}

/**
 * Export of one chain (oldest first) between `from` and `to`; the export itself is recorded (`audit-event.exported`)
 * before the first byte is produced. CSV cells that a spreadsheet would run as formulas are prefixed with `'`;
 * NDJSON is the exact, machine-readable form.
 */
export class ExportAuditEventsCommand extends Command<AuditExport> {
  constructor(
    readonly principal: Principal,
    readonly organizationId: string | null,
    readonly format: AuditExportFormat,
    /** The same filters as the list (the portal exports what it shows); `from`/`to` alone is a time range. */
    readonly range: AuditFilter,
  ) {
    super();
  }
}
@CommandHandler(ExportAuditEventsCommand)
export class ExportAuditEventsHandler implements ICommandHandler<ExportAuditEventsCommand> {
  constructor(private readonly access: AuditAccess, private readonly tx: TransactionRunner, private readonly ds: DataSource) {}
  async execute({ principal: p, organizationId, format, range }: ExportAuditEventsCommand): Promise<AuditExport> {
    if (format !== 'csv' && format !== 'ndjson') throw ValidationError.field('/format', 'invalid', 'format must be csv or ndjson');
    const filter: AuditFilter = { actor: range.actor, action: range.action, subjectType: range.subjectType, subjectId: range.subjectId, outcome: range.outcome, from: range.from, to: range.to };
    // The export's own entry names the filters that were set (besides the time range, always recorded).
    const narrowed = Object.fromEntries((['actor', 'action', 'subjectType', 'subjectId', 'outcome'] as const).filter((k) => filter[k]).map((k) => [k, filter[k]]));
    applyFilter(this.ds.manager.createQueryBuilder(AuditEventEntity, 'a'), filter); // validates before anything is recorded
    await this.access.authorize(p, organizationId, 'export');
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const filename = `audit-events-${organizationId ?? 'instance'}-${stamp}.${format}`;
    await this.tx.run(async (_m, stage) => {
      await stage(
        { type: 'audit-event.exported', organizationId, actor: actorOf(p), subject: { type: 'audit-event', id: null, name: filename }, payload: {} },
        { request: p.client, changes: { format, from: range.from ?? null, to: range.to ?? null, ...narrowed } },
      );
    });
    const [{ max }] = (await this.access.rows(p, organizationId, 'export').select('max(a.seq)', 'max').getRawMany()) as Array<{ max: string | null }>;
    const rows = this.batches(p, organizationId, filter, max ?? '0');
    if (format === 'ndjson') {
      const lines = Readable.from((async function* () {
        for await (const v of rows) yield `${JSON.stringify(v)}\n`;
      })());
      return { filename, contentType: 'application/x-ndjson; charset=utf-8', stream: lines };
    }
    const csv = stringify({ header: true, columns: [...CSV_COLUMNS], escape_formulas: true, cast: { number: (n) => String(n) } });
    const source = Readable.from((async function* () {
      for await (const v of rows) yield csvRecord(v);
    })());
    source.on('error', (e) => csv.destroy(e));
    source.pipe(csv);
    return { filename, contentType: 'text/csv; charset=utf-8', stream: csv };
  }

  /** Keyset batches of ~500 rows up to the seq that was the newest when the export started. */
  private async *batches(p: Principal, organizationId: string | null, filter: AuditFilter, maxSeq: string): AsyncGenerator<AuditEventView> {
    let after = '0';
    for (;;) {
      const qb = applyFilter(this.access.rows(p, organizationId, 'export'), filter)
        .andWhere('a.seq > :afterSeq AND a.seq <= :maxSeq', { afterSeq: after, maxSeq })
        .orderBy('a.seq', 'ASC')
        .limit(EXPORT_BATCH);
      const batch = await qb.getMany();
      for (const row of batch) yield auditEventView(row);
      if (batch.length < EXPORT_BATCH) return;
      after = batch[batch.length - 1].seq;
    }
  }
}
