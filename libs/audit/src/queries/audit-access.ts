import { Injectable } from '@nestjs/common';
import type { EntityManager, SelectQueryBuilder } from 'typeorm';
import { DataSource } from 'typeorm';
import type { Action } from '@wharf/contracts';
import { OrganizationEntity, Principal, TenantScope } from '@wharf/tenancy';
import { AuditEventEntity } from '../entities/audit-event.entity';
import { chainWhere } from '../chain/audit-chain.service';

/**
 * The one way audit queries reach rows. An organization's chain: the organization must be readable (else 404), the
 * caller must hold `audit-event:<action>` in it (else 403, itself audited as denied), and rows are loaded through
 * TenantScope so the CASL conditions are part of the SQL. The instance chain (organization null): instance admins only.
 */
@Injectable()
export class AuditAccess {
  constructor(private readonly scope: TenantScope, private readonly ds: DataSource) {}

  async authorize(p: Principal, organizationId: string | null, action: Action): Promise<void> {
    if (organizationId === null) {
      if (!p.isInstanceAdmin) await this.scope.deny(p, action, 'audit-event', { organizationId: null });
      return;
    }
    await this.scope.findOne(p, OrganizationEntity, 'organization', organizationId);
    await this.scope.assert(p, action, 'audit-event', { organizationId });
  }

  /** Rows of one chain the caller may `action` (call `authorize` first). */
  rows(p: Principal, organizationId: string | null, action: Action, m?: EntityManager): SelectQueryBuilder<AuditEventEntity> {
    const qb =
      organizationId === null
        ? (m ?? this.ds.manager).createQueryBuilder(AuditEventEntity, 'a')
        : this.scope.query(p, AuditEventEntity, 'audit-event', action, 'a', m);
    const [where, params] = chainWhere('a', organizationId);
    return qb.andWhere(where, params);
  }
}
