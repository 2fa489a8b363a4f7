import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ApplicationSpec } from '@wharf/contracts';

/** The additional data bound to an application variable's secret box (its row and key). */
export const appVariableAad = (id: string, key: string): string => `appvar:${id}:${key}`;

@Entity('applications')
export class ApplicationEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId: string;
  @Column({ name: 'project_id', type: 'uuid' }) projectId: string;
  @Column({ name: 'environment_id', type: 'uuid' }) environmentId: string;
  @Column({ name: 'server_id', type: 'uuid' }) serverId: string;
  @Column('text') name: string;
  @Column('text') slug: string;
  /** Swarm service name: `<environment-slug>-<app-slug>-<6 chars>`; fixed at creation (Swarm cannot rename). */
  @Column({ name: 'service_name', type: 'text' }) serviceName: string;
  @Column({ type: 'jsonb' }) spec: ApplicationSpec;
  @Column({ name: 'desired_state', type: 'text' }) desiredState: 'running' | 'stopped';
  @Column({ type: 'boolean', default: false }) deleting: boolean;
  /** With `deleting`: the deletion also removes the application's volumes (the watchdog finishes a stuck deletion). */
  @Column({ name: 'delete_volumes', type: 'boolean', default: false }) deleteVolumes: boolean;
  /**
   * Named volumes this application mounted before volume names were derived (migration 1764100009000): they keep their
   * verbatim engine name. Never extended; new mounts always get a derived, labelled engine volume.
   */
  @Column({ name: 'legacy_volumes', type: 'jsonb', default: () => "'[]'::jsonb" }) legacyVolumes: string[];
  /** A preview deployment of a pull request: the application it previews (see application_previews); null otherwise. */
  @Column({ name: 'preview_of', type: 'uuid', nullable: true }) previewOf?: string | null;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
  @Column({ type: 'int', default: 1 }) version: number;
}

@Entity('application_variables')
export class ApplicationVariableEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId: string;
  @Column({ name: 'project_id', type: 'uuid' }) projectId: string;
  @Column({ name: 'application_id', type: 'uuid' }) applicationId: string;
  @Column('text') key: string;
  @Column({ type: 'text', nullable: true }) value: string | null;
  @Column({ name: 'value_encrypted', type: 'text', nullable: true }) valueEncrypted: string | null;
  @Column({ type: 'boolean' }) secret: boolean;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
  @Column({ type: 'int', default: 1 }) version: number;
}
