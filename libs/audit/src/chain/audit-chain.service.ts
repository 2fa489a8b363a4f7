import { Injectable, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { EventEnvelope } from '@wharf/contracts';
import { StageExtra, TransactionRunner } from '@wharf/core';
import { AuditEventEntity } from '../entities/audit-event.entity';
import { AuditHashInput, computeAuditHash, msIso, normalizeChanges } from './audit-hash';

/** First key of the two-key advisory lock: keeps audit chain locks apart from every other advisory lock. */
const AUDIT_LOCK_CLASS = 0x41554454; // "AUDT"

/** Serializes appends to one chain until the transaction ends (re-entrant within the same transaction). */
export async function lockChain(m: EntityManager, organizationId: string | null): Promise<void> {
  await m.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [AUDIT_LOCK_CLASS, organizationId ?? 'instance']);
}

/** `organization_id = $n` or `organization_id IS NULL`, for the chain of one organization or the instance chain. */
export function chainWhere(alias: string, organizationId: string | null, param = 'chainOrg'): [string, Record<string, unknown>] {
  return organizationId === null ? [`${alias}.organization_id IS NULL`, {}] : [`${alias}.organization_id = :${param}`, { [param]: organizationId }];
}

/** The hashed fields of a stored row. */
export function hashInputOf(row: AuditEventEntity): AuditHashInput {
  return {
    id: row.id,
    seq: Number(row.seq),
    organizationId: row.organizationId,
    occurredAt: msIso(row.occurredAt),
    actor: { type: row.actorType, id: row.actorId, name: row.actorName },
    action: row.action,
    subject: { type: row.subjectType, id: row.subjectId, name: row.subjectName },
    outcome: row.outcome,
    ip: row.ip,
    userAgent: row.userAgent,
    requestId: row.requestId,
    changes: row.changes ?? {},
    prevHash: row.prevHash,
  };
}

/**
 * Appends one audit entry per staged event, inside the transaction of the change itself (registered as an
 * in-transaction hook of the unit of work), so a change and its audit entry commit or roll back together.
 */
@Injectable()
export class AuditChain implements OnModuleInit {
  constructor(private readonly tx: TransactionRunner) {}

  onModuleInit(): void {
    this.tx.addInTransactionHook((m, event, extra) => this.append(m, event, extra).then(() => undefined));
  }

  async append(m: EntityManager, event: EventEnvelope, extra: StageExtra = {}): Promise<AuditEventEntity> {
    const organizationId = event.organizationId ?? null;
    await lockChain(m, organizationId);
    const [head] = (await m.query(
      organizationId === null
        ? `SELECT seq, hash FROM audit_events WHERE organization_id IS NULL ORDER BY seq DESC LIMIT 1`
        : `SELECT seq, hash FROM audit_events WHERE organization_id = $1 ORDER BY seq DESC LIMIT 1`,
      organizationId === null ? [] : [organizationId],
    )) as Array<{ seq: string; hash: string }>;
    const input: AuditHashInput = {
      id: event.id,
      seq: head ? Number(head.seq) + 1 : 1,
      organizationId,
      occurredAt: msIso(event.occurredAt),
      actor: { type: event.actor.type, id: event.actor.id ?? null, name: event.actor.name },
      action: event.type,
      subject: { type: event.subject.type, id: event.subject.id ?? null, name: event.subject.name ?? null },
      outcome: extra.outcome ?? 'succeeded',
      ip: extra.request?.ip ?? null,
      userAgent: extra.request?.userAgent ?? null,
      requestId: extra.request?.requestId ?? null,
      changes: normalizeChanges(extra.changes),
      prevHash: head?.hash ?? null,
    };
    const row = m.create(AuditEventEntity, {
      id: input.id,
      organizationId,
      seq: String(input.seq),
      occurredAt: new Date(input.occurredAt),
      actorType: input.actor.type,
      actorId: input.actor.id,
      actorName: input.actor.name,
      action: input.action,
      subjectType: input.subject.type,
      subjectId: input.subject.id,
      subjectName: input.subject.name,
      outcome: input.outcome,
      ip: input.ip,
      userAgent: input.userAgent,
      requestId: input.requestId,
      changes: input.changes,
      prevHash: input.prevHash,
      hash: computeAuditHash(input),
    });
    await m.insert(AuditEventEntity, row as QueryDeepPartialEntity<AuditEventEntity>);
    return row;
  }
}
