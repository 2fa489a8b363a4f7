import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ActorRef, UploadFormat } from '@wharf/contracts';

/**
 * An uploaded source archive (see the SourceUploads migration): its bytes are rows of `source_upload_chunks`
 * (read and written with SQL, 1 MiB at a time, never through this entity).
 */
@Entity('source_uploads')
export class SourceUploadEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId: string;
  @Column({ name: 'application_id', type: 'uuid' }) applicationId: string;
  @Column('text') status: 'receiving' | 'complete';
  @Column({ name: 'file_name', type: 'text' }) fileName: string;
  @Column('text') format: UploadFormat;
  /** bigint: read as a string by pg. */
  @Column({ type: 'bigint' }) size: string;
  @Column({ type: 'text', nullable: true }) sha256: string | null;
  @Column({ type: 'int' }) entries: number;
  @Column({ type: 'int' }) chunks: number;
  @Column({ name: 'uploaded_by', type: 'jsonb' }) uploadedBy: ActorRef;
  @Column({ name: 'idempotency_key', type: 'text', nullable: true }) idempotencyKey: string | null;
  @Column({ name: 'idempotency_fingerprint', type: 'text', nullable: true }) idempotencyFingerprint: string | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true }) completedAt: Date | null;
}

/** An upload as a deployment records it (snapshot and `source`) and the API shows it. */
export interface UploadRef {
  id: string;
  fileName: string;
  size: number;
  sha256: string;
}

/** The bytes of each chunk row of `source_upload_chunks`. */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;
