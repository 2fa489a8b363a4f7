import { Module } from '@nestjs/common';
import { TenancyModule } from '@wharf/tenancy';
import { AuditChain } from './chain/audit-chain.service';
import { AuditAccess } from './queries/audit-access';
import {
  ExportAuditEventsHandler, GetAuditEventHandler, ListAuditEventsHandler, VerifyAuditChainHandler,
} from './queries/audit.queries';
import { AuditRetention } from './retention/audit-retention';

/**
 * The audit log. Loaded in every role: its in-transaction hook appends an entry for every staged event in the same
 * transaction as the change, so no process can change state without the audit entry.
 */
@Module({
  imports: [TenancyModule],
  providers: [AuditChain, AuditAccess, AuditRetention, ListAuditEventsHandler, GetAuditEventHandler, VerifyAuditChainHandler, ExportAuditEventsHandler],
  exports: [AuditChain],
})
export class AuditModule {}
