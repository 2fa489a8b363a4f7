import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ActorRef, ApplicationSpec, BuildSettings, DeploymentKind, DeploymentStatus } from '@wharf/contracts';
import type { UploadRef } from './source-upload.entity';

/** What a deployment freezes at request time: the resolved spec with secret env values still encrypted. */
export interface DeploymentSnapshot {
  v: 1;
  serviceName: string;
  networkName: string;
  spec: ApplicationSpec;
  /** Resolved environment: plain values, or `{ enc }` boxes decrypted only inside the worker. */
  env: Record<string, EnvValue>;
  /** Image to run; a rollback pins the digest recorded by the deployment it returns to. */
  image: string;
  /** Replicas to run (0 for stop). */
  replicas: number;
  labels: Record<string, string>;
  /** Variables a `${{project.NAME}}` or `${{environment.NAME}}` reference may use. */
  refs: { project: Record<string, EnvValue>; environment: Record<string, EnvValue> };
  /** Restart: bump Swarm's ForceUpdate counter. */
  forceUpdate: boolean;
  /**
   * The named volumes the mounts refer to, with their engine names (absent in snapshots taken before volumes were
   * Wharf-owned: those mount their sources verbatim, as they always did).
   */
  volumes?: Array<{ name: string; engineName: string; legacy: boolean }>;
  /**
   * Build from this Git source first (deploy and redeploy of an application with a source): the image is built from
   * the checkout and `image` becomes the built one. Credentials are read at run time, never frozen here. Absent for
   * image applications and for rollback/start/stop/restart/scale, which reuse an image already built.
   */
  source?: SnapshotSource;
}

export interface SnapshotSource {
  /** Absent in older snapshots: `git`. An upload source has an empty repository and ref and names its archive. */
  kind?: 'git' | 'upload';
  upload?: UploadRef;
  repository: string;
  ref: string;
  /** A commit to build exactly (a webhook's); null: the ref's tip when the build starts. */
  commit: string | null;
  buildPath: string;
  submodules: boolean;
  /** The build settings (older snapshots lack the newer fields: read through normaliseBuildSettings); secret names only. */
  build: Partial<BuildSettings> & { dockerfile: string; target: string | null; args: Record<string, string> };
}

/** What a deployment built from (shown with the deployment). */
export interface DeploymentSourceInfo {
  /** Absent on older rows: `git`. */
  kind?: 'git' | 'upload';
  /** The uploaded archive it built (upload sources; repository and ref are empty then). */
  upload?: UploadRef;
  repository: string;
  ref: string;
  commit: string | null;
  message: string | null;
  author: string | null;
  authorEmail: string | null;
  committedAt: string | null;
}

export type EnvValue = { plain: string } | { enc: string; aad: string };

@Entity('deployments')
export class DeploymentEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId: string;
  @Column({ name: 'project_id', type: 'uuid' }) projectId: string;
  @Column({ name: 'environment_id', type: 'uuid' }) environmentId: string;
  @Column({ name: 'application_id', type: 'uuid' }) applicationId: string;
  @Column('text') kind: DeploymentKind;
  @Column('text') status: DeploymentStatus;
  @Column({ type: 'jsonb' }) snapshot: DeploymentSnapshot;
  @Column({ name: 'image_digest', type: 'text', nullable: true }) imageDigest: string | null;
  @Column({ name: 'rollback_of', type: 'uuid', nullable: true }) rollbackOf: string | null;
  @Column({ type: 'jsonb', nullable: true }) source: DeploymentSourceInfo | null;
  @Column({ name: 'requested_by', type: 'jsonb' }) requestedBy: ActorRef;
  @Column({ type: 'text', nullable: true }) error: string | null;
  @Column({ name: 'queued_at', type: 'timestamptz', default: () => 'now()' }) queuedAt: Date;
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true }) startedAt: Date | null;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt: Date | null;
  @Column({ name: 'cancel_requested_at', type: 'timestamptz', nullable: true }) cancelRequestedAt: Date | null;
  @Column({ name: 'lease_owner', type: 'text', nullable: true }) leaseOwner: string | null;
  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true }) leaseExpiresAt: Date | null;
  @Column({ type: 'int', default: 0 }) attempts: number;
  @Column({ name: 'idempotency_key', type: 'text', nullable: true }) idempotencyKey: string | null;
  /** The request the Idempotency-Key was first used with (hash) and the response it got, returned for repeats. */
  @Column({ name: 'idempotency_fingerprint', type: 'text', nullable: true }) idempotencyFingerprint: string | null;
  @Column({ name: 'idempotency_response', type: 'jsonb', nullable: true }) idempotencyResponse: object | null;
  @Column({ type: 'int', default: 1 }) version: number;
}

@Entity('deployment_logs')
export class DeploymentLogEntity {
  @PrimaryColumn({ name: 'deployment_id', type: 'uuid' }) deploymentId: string;
  @PrimaryColumn({ type: 'bigint' }) seq: string;
  @Column({ type: 'timestamptz' }) time: Date;
  @Column('text') step: string;
  @Column('text') level: 'info' | 'warn' | 'error';
  @Column('text') message: string;
}

@Entity('application_runtime')
export class ApplicationRuntimeEntity {
  @PrimaryColumn({ name: 'application_id', type: 'uuid' }) applicationId: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId: string;
  @Column({ name: 'service_id', type: 'text', nullable: true }) serviceId: string | null;
  @Column('text') state: string;
  @Column({ type: 'int' }) running: number;
  @Column({ type: 'int' }) desired: number;
  @Column({ type: 'jsonb' }) tasks: unknown[];
  @Column({ type: 'jsonb' }) drift: unknown[];
  @Column({ name: 'observed_at', type: 'timestamptz' }) observedAt: Date;
}
