import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobHandler, TransactionRunner } from '@wharf/core';
import { SYSTEM_ACTOR } from '@wharf/tenancy';
import { lockChain } from '../chain/audit-chain.service';

export interface AuditPurgeResult {
  organizations: number;
  deleted: number;
}

/**
 * Worker job: deletes each organization's audit entries older than its `audit_retention_days`, oldest first, and
 * records the purge in that organization's chain (`audit.purged` with the count and the oldest seq kept). The newest
 * entry of a chain is never deleted, so the chain keeps its sequence and its last hash. Verification then starts at
 * the oldest remaining entry and trusts its prev_hash (see VerifyAuditChainHandler).
 */
@Injectable()
export class AuditRetention {
  private readonly logger = new Logger('AuditRetention');

  constructor(private readonly ds: DataSource, private readonly tx: TransactionRunner) {}

  @JobHandler('audit.purge-expired')
  async purgeExpired(): Promise<AuditPurgeResult> {
    const orgs: Array<{ id: string; days: number }> = await this.ds.query(`SELECT id, audit_retention_days AS days FROM organizations ORDER BY id`);
    let deleted = 0;
    let organizations = 0;
    for (const org of orgs) {
      const n = await this.purgeOrganization(org.id, org.days);
      if (n > 0) organizations++;
      deleted += n;
    }
    if (deleted) this.logger.log(`purged ${deleted} audit entries in ${organizations} organization(s)`);
    return { organizations, deleted };
  }

  async purgeOrganization(organizationId: string, retentionDays: number): Promise<number> {
    return this.tx.run(async (m, stage) => {
      await lockChain(m, organizationId);
      const [{ cutoff }] = (await m.query(`SELECT now() - make_interval(days => $1::int) AS cutoff`, [retentionDays])) as Array<{ cutoff: Date }>;
      const [r] = (await m.query(
        `WITH d AS (
           DELETE FROM audit_events
            WHERE organization_id = $1 AND occurred_at < $2
              AND seq < (SELECT max(seq) FROM audit_events WHERE organization_id = $1)
           RETURNING seq)
         SELECT count(*)::int AS n FROM d`,
        [organizationId, cutoff],
      )) as Array<{ n: number }>;
      if (!r.n) return 0;
      const [{ kept }] = (await m.query(`SELECT min(seq) AS kept FROM audit_events WHERE organization_id = $1`, [organizationId])) as Array<{ kept: string }>;
      await stage(
        { type: 'audit.purged', organizationId, actor: SYSTEM_ACTOR, subject: { type: 'audit-event', id: null, name: null }, payload: { count: r.n } },
        { changes: { count: r.n, retentionDays, before: new Date(cutoff).toISOString(), oldestKeptSeq: Number(kept) } },
      );
      return r.n;
    });
  }
}
