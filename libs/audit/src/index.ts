import { AuditEventEntity } from './entities/audit-event.entity';

export * from './entities/audit-event.entity';
export * from './chain/audit-hash';
export * from './chain/audit-chain.service';
export * from './queries/audit.queries';
export * from './retention/audit-retention';
export * from './audit.module';

export const AUDIT_ENTITIES = [AuditEventEntity];
